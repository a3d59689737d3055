/**
 * The ideal pendulum: theta'' = -(g / L) sin theta.
 * Layout fixed by DATASET.md: state (theta, omega), parameters (length, gravity);
 * energy per unit mass 0.5 L^2 omega^2 - g L cos theta (conserved).
 */
import type { SystemDefinition, SystemInstance, SystemOptions, ParamSpec } from './system.js';
import type { Rng } from '../src/util/rng.js';
import { checkOptions, cleanOptions, sampleParams } from './params.js';

export const PENDULUM_PARAMS: readonly ParamSpec[] = [
  { name: 'length', default: 1, range: [1, 1], description: 'rod length L (m)' },
  { name: 'gravity', default: 9.81, range: [9.81, 9.81], description: 'gravitational acceleration g (m/s^2)' },
];

/** Largest initial angle drawn by the sampler (rad); initial speed is drawn in +-sqrt(g/L). */
const MAX_THETA0 = Math.PI / 2;

export function pendulumRhs(_t: number, y: ArrayLike<number>, p: ArrayLike<number>, out: Float64Array): void {
  out[0] = y[1];
  out[1] = -(p[1] / p[0]) * Math.sin(y[0]);
}

export function pendulumEnergy(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const L = p[0];
  return 0.5 * L * L * y[1] * y[1] - p[1] * L * Math.cos(y[0]);
}

/** Pivot at the origin, bob at (L sin theta, -L cos theta, 0). */
export function pendulumPositions(y: ArrayLike<number>, p: ArrayLike<number>): Float64Array {
  const L = p[0];
  return Float64Array.of(0, 0, 0, L * Math.sin(y[0]), -L * Math.cos(y[0]), 0);
}

/** Draws parameters, then theta0 in [-pi/2, pi/2] and omega0 in [-1, 1] sqrt(g/L). */
export function samplePendulumState(rng: Rng, params: Float64Array): Float64Array {
  const theta = rng.range(-MAX_THETA0, MAX_THETA0);
  const omega = rng.range(-1, 1) * Math.sqrt(params[1] / params[0]);
  return Float64Array.of(theta, omega);
}

export const pendulum: SystemDefinition = {
  name: 'pendulum',
  description: 'ideal pendulum, state (theta, omega), parameters length and gravity',
  presets: [],
  create(options: SystemOptions = {}): SystemInstance {
    checkOptions('pendulum', options, []);
    return {
      name: 'pendulum',
      options: cleanOptions(options),
      dim: 2,
      stateLabels: ['theta', 'omega'],
      paramLabels: PENDULUM_PARAMS.map((p) => p.name),
      params: PENDULUM_PARAMS,
      conservative: true,
      pointCount: 2,
      sample(rng) {
        const params = sampleParams(PENDULUM_PARAMS, rng);
        return { y0: samplePendulumState(rng, params), params };
      },
      rhs: pendulumRhs,
      energy: pendulumEnergy,
      positions: pendulumPositions,
      energyScale: (p) => p[0] * p[1],
      defaults: { count: 256, samples: 100, tEnd: 10 },
      pointRadius: (p) => Float64Array.of(0.02 * p[0], 0.08 * p[0]),
    };
  },
};
