/**
 * The damped, optionally driven pendulum (DATASET.md):
 * theta'' = -(g/L) sin theta - damping * theta' + drive_amplitude * cos(drive_frequency * t).
 * Energy (per unit mass, as the ideal pendulum's) is monitored, not conserved: without drive
 * dE/dt = -damping L^2 omega^2 <= 0 (REFERENCE_CASES.md, damped pendulum).
 */
import type { SystemDefinition, SystemInstance, SystemOptions, ParamSpec } from './system.js';
import { checkOptions, cleanOptions, sampleParams } from './params.js';
import { pendulumEnergy, pendulumPositions, samplePendulumState } from './pendulum.js';

export const DAMPED_PENDULUM_PARAMS: readonly ParamSpec[] = [
  { name: 'length', default: 1, range: [1, 1], description: 'rod length L (m)' },
  { name: 'gravity', default: 9.81, range: [9.81, 9.81], description: 'gravitational acceleration g (m/s^2)' },
  { name: 'damping', default: 0.3, range: [0.3, 0.3], description: 'damping coefficient (1/s)' },
  { name: 'drive_amplitude', default: 0, range: [0, 0], description: 'drive amplitude (rad/s^2)' },
  { name: 'drive_frequency', default: 0, range: [0, 0], description: 'drive angular frequency (rad/s)' },
];

export function dampedPendulumRhs(t: number, y: ArrayLike<number>, p: ArrayLike<number>, out: Float64Array): void {
  out[0] = y[1];
  out[1] = -(p[1] / p[0]) * Math.sin(y[0]) - p[2] * y[1] + p[3] * Math.cos(p[4] * t);
}

export const dampedPendulum: SystemDefinition = {
  name: 'damped-pendulum',
  description: 'pendulum with damping and optional periodic drive; energy monitored',
  presets: [],
  create(options: SystemOptions = {}): SystemInstance {
    checkOptions('damped-pendulum', options, []);
    return {
      name: 'damped-pendulum',
      options: cleanOptions(options),
      dim: 2,
      stateLabels: ['theta', 'omega'],
      paramLabels: DAMPED_PENDULUM_PARAMS.map((p) => p.name),
      params: DAMPED_PENDULUM_PARAMS,
      conservative: false,
      pointCount: 2,
      sample(rng) {
        const params = sampleParams(DAMPED_PENDULUM_PARAMS, rng);
        return { y0: samplePendulumState(rng, params), params };
      },
      rhs: dampedPendulumRhs,
      energy: pendulumEnergy,
      positions: pendulumPositions,
      energyScale: (p) => p[0] * p[1],
      defaults: { count: 256, samples: 100, tEnd: 10 },
      pointRadius: (p) => Float64Array.of(0.02 * p[0], 0.08 * p[0]),
    };
  },
};
