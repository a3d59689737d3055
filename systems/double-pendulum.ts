/**
 * The planar double pendulum: two point masses on massless rods, angles from the downward vertical.
 * Layout fixed by DATASET.md: state (theta1, theta2, omega1, omega2),
 * parameters (mass1, mass2, length1, length2, gravity).
 * Equations of motion: the standard Lagrangian result, e.g. E. Neumann, "Double Pendulum",
 * myPhysicsLab (https://www.myphysicslab.com/pendulum/double-pendulum-en.html).
 * Energy: T = m1 L1^2 w1^2 / 2 + m2 (L1^2 w1^2 + L2^2 w2^2 + 2 L1 L2 w1 w2 cos(t1 - t2)) / 2,
 * V = -(m1 + m2) g L1 cos t1 - m2 g L2 cos t2.
 */
import type { SystemDefinition, SystemInstance, SystemOptions, ParamSpec } from './system.js';
import { checkOptions, cleanOptions, sampleParams } from './params.js';

export const DOUBLE_PENDULUM_PARAMS: readonly ParamSpec[] = [
  { name: 'mass1', default: 1, range: [1, 1], description: 'upper bob mass' },
  { name: 'mass2', default: 1, range: [1, 1], description: 'lower bob mass' },
  { name: 'length1', default: 1, range: [1, 1], description: 'upper rod length (m)' },
  { name: 'length2', default: 1, range: [1, 1], description: 'lower rod length (m)' },
  { name: 'gravity', default: 9.81, range: [9.81, 9.81], description: 'gravitational acceleration (m/s^2)' },
];

export function doublePendulumRhs(_t: number, y: ArrayLike<number>, p: ArrayLike<number>, out: Float64Array): void {
  const t1 = y[0], t2 = y[1], w1 = y[2], w2 = y[3];
  const m1 = p[0], m2 = p[1], L1 = p[2], L2 = p[3], g = p[4];
  const d = t1 - t2;
  const sd = Math.sin(d), cd = Math.cos(d);
  const den = 2 * m1 + m2 - m2 * Math.cos(2 * d);
  out[0] = w1;
  out[1] = w2;
  out[2] = (-g * (2 * m1 + m2) * Math.sin(t1) - m2 * g * Math.sin(t1 - 2 * t2) - 2 * sd * m2 * (w2 * w2 * L2 + w1 * w1 * L1 * cd)) / (L1 * den);
  out[3] = (2 * sd * (w1 * w1 * L1 * (m1 + m2) + g * (m1 + m2) * Math.cos(t1) + w2 * w2 * L2 * m2 * cd)) / (L2 * den);
}

export function doublePendulumEnergy(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const t1 = y[0], t2 = y[1], w1 = y[2], w2 = y[3];
  const m1 = p[0], m2 = p[1], L1 = p[2], L2 = p[3], g = p[4];
  const kinetic = 0.5 * m1 * L1 * L1 * w1 * w1 + 0.5 * m2 * (L1 * L1 * w1 * w1 + L2 * L2 * w2 * w2 + 2 * L1 * L2 * w1 * w2 * Math.cos(t1 - t2));
  const potential = -(m1 + m2) * g * L1 * Math.cos(t1) - m2 * g * L2 * Math.cos(t2);
  return kinetic + potential;
}

/** Pivot, upper bob, lower bob. */
export function doublePendulumPositions(y: ArrayLike<number>, p: ArrayLike<number>): Float64Array {
  const x1 = p[2] * Math.sin(y[0]), y1 = -p[2] * Math.cos(y[0]);
  return Float64Array.of(0, 0, 0, x1, y1, 0, x1 + p[3] * Math.sin(y[1]), y1 - p[3] * Math.cos(y[1]), 0);
}

export const doublePendulum: SystemDefinition = {
  name: 'double-pendulum',
  description: 'planar double pendulum, state (theta1, theta2, omega1, omega2)',
  presets: [],
  create(options: SystemOptions = {}): SystemInstance {
    checkOptions('double-pendulum', options, []);
    return {
      name: 'double-pendulum',
      options: cleanOptions(options),
      dim: 4,
      stateLabels: ['theta1', 'theta2', 'omega1', 'omega2'],
      paramLabels: DOUBLE_PENDULUM_PARAMS.map((p) => p.name),
      params: DOUBLE_PENDULUM_PARAMS,
      conservative: true,
      pointCount: 3,
      sample(rng) {
        const params = sampleParams(DOUBLE_PENDULUM_PARAMS, rng);
        // Angles in [-pi/2, pi/2], angular speeds in [-1, 1] rad/s: mostly regular, partly chaotic motion.
        const y0 = Float64Array.of(rng.range(-Math.PI / 2, Math.PI / 2), rng.range(-Math.PI / 2, Math.PI / 2), rng.range(-1, 1), rng.range(-1, 1));
        return { y0, params };
      },
      rhs: doublePendulumRhs,
      energy: doublePendulumEnergy,
      positions: doublePendulumPositions,
      energyScale: (p) => (p[0] + p[1]) * p[4] * p[2] + p[1] * p[4] * p[3],
      defaults: { count: 256, samples: 200, tEnd: 10 },
      pointRadius: (p) => Float64Array.of(0.02 * p[2], 0.08 * Math.cbrt(p[0]), 0.08 * Math.cbrt(p[1])),
    };
  },
};
