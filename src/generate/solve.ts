/**
 * Ground truth of one trajectory: a system's right-hand side integrated in float64 by one of two
 * high-order codes of Hairer and Wanner, sampled at the requested times by dense output.
 * - `odex` (default): GBS extrapolation (./odex.ts), the design's ground-truth solver.
 * - `dop853`: Dormand–Prince 8(5,3) with compensated summation (./dop853.ts), for long runs with
 *   close encounters, where it holds the energy better (the Pythagorean preset uses it).
 */
import type { InitialCondition, IntegratorName, SystemInstance } from '../../systems/system.js';
import { dop853 } from './dop853.js';
import { IntegrationError } from './integrator.js';
import { integrateOdex, DEFAULT_INTERPOLATION_DEGREE } from './odex.js';

export { IntegrationError, DEFAULT_INTERPOLATION_DEGREE };

export type { IntegratorName };
export const INTEGRATORS: readonly IntegratorName[] = ['odex', 'dop853'];

export interface SolveOptions {
  readonly rtol: number;
  readonly atol: number;
  /** Default: odex. */
  readonly integrator?: IntegratorName;
  /** Step limit; default: 20,000 + 20,000 per unit of time spanned. */
  readonly maxSteps?: number;
  /** odex only: its MUDIF (1..6), interpolant degree 2 kappa - MUDIF + 1. Default 5. */
  readonly interpolationDegree?: number;
}

export interface SolveResult {
  /** States at the sample times, row-major [T, D]. */
  readonly y: Float64Array;
  readonly steps: number;
  readonly evaluations: number;
}

const MAX_STEPS_BASE = 20_000;
const MAX_STEPS_PER_UNIT_TIME = 20_000;

/** Integrates from times[0] (the initial condition's time) and samples the state at every time. */
export function solveTrajectory(
  system: SystemInstance,
  ic: InitialCondition,
  times: Float64Array,
  options: SolveOptions,
): SolveResult {
  const params = ic.params;
  const rhs = system.rhs;
  const f = (t: number, y: ArrayLike<number>, dydt: Float64Array): void => rhs(t, y, params, dydt);
  const span = times.length > 0 ? Math.abs(times[times.length - 1] - times[0]) : 0;
  const maxSteps = options.maxSteps ?? Math.ceil(MAX_STEPS_BASE + MAX_STEPS_PER_UNIT_TIME * span);
  const y0 = Float64Array.from(ic.y0);
  const { rtol, atol } = options;
  const result = (options.integrator ?? 'odex') === 'dop853'
    ? dop853(f, y0, times, { rtol, atol, maxSteps })
    : integrateOdex(f, y0, times, { rtol, atol, maxSteps, interpolationDegree: options.interpolationDegree });
  const { y } = result;
  const dim = system.dim;
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) {
      throw new IntegrationError(`the solution became non-finite at t = ${times[Math.floor(i / dim)]}`, 'the motion may be singular (collision); add softening or loosen the sampling ranges');
    }
  }
  return { y, steps: result.steps, evaluations: result.evaluations };
}
