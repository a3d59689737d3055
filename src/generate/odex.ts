/**
 * Ground-truth integration with odex: E. Hairer and G. Wanner's GBS extrapolation code ODEX
 * (Hairer, Nørsett & Wanner, "Solving Ordinary Differential Equations I", 2nd ed., Springer 1993,
 * sec. II.9), ported to JavaScript by C. Smith (npm `odex`, 3.0.0-rc.4).
 *
 * Facts of the installed odex 3.0.0-rc.4 this relies on (node_modules/odex/src/odex.ts):
 * - `new Solver(f, n, options)`; with `rawFunction: true`, f(x, y, yp) writes into yp (no allocation).
 * - `maxSteps` defaults to 10000 and the solver throws 'maximum allowed steps exceeded' past it:
 *   the caller sets it from the span and the throw becomes an IntegrationError.
 * - dense output is on by default; `interpolationFormulaDegree` (IWORK(7), MUDIF in ODEX.F, 1..6,
 *   default 4) sets the interpolant's degree mu = 2 kappa - MUDIF + 1: a smaller value is a
 *   higher degree. Measured here (Kepler e = 0.6, 10 orbits, 1,000 samples, rtol = atol = 1e-12): max
 *   position error 3.8e-8 (MUDIF 1), 1.3e-9 (2), 2.4e-9 (3), 4.6e-9 (4), 1.2e-11 (5, 1.7x the work of 3),
 *   6.6e-12 (6, 6x the work): the interpolation error estimator only bites at MUDIF 5 and 6. Default 5.
 * - `solutionSegments(x0, y0, xEnd)` yields one segment per accepted step; its f(c, t) interpolates
 *   component c anywhere in [x0, x1].
 */
import { Solver, type Options } from 'odex';
import { IntegrationError, type RightHandSide } from './integrator.js';

export interface OdexOptions {
  readonly rtol: number;
  readonly atol: number;
  readonly maxSteps: number;
  /** odex's MUDIF (1..6): interpolant degree 2 kappa - MUDIF + 1. Default 5 (see above). */
  readonly interpolationDegree?: number;
  /** Further odex options (expert use: stepSizeSequence, maxExtrapolationColumns...). */
  readonly odex?: Partial<Options>;
}

export interface OdexResult {
  /** States at the sample times, row-major [T, D]. */
  readonly y: Float64Array;
  readonly steps: number;
  readonly evaluations: number;
}

export const DEFAULT_INTERPOLATION_DEGREE = 5;
/** Upper bound of evaluations in one ODEX step: 9 extrapolation columns of 2, 6, ..., 34 substeps plus dense output. */
const EVALUATIONS_PER_STEP = 200;

/** Integrates y' = f(t, y) from times[0] (where y = y0) and samples the state at every (increasing) time. */
export function integrateOdex(f: RightHandSide, y0: Float64Array, times: Float64Array, options: OdexOptions): OdexResult {
  const dim = y0.length;
  const count = times.length;
  const out = new Float64Array(count * dim);
  if (count === 0) return { y: out, steps: 0, evaluations: 0 };
  out.set(y0, 0);
  const t0 = times[0];
  const tEnd = times[count - 1];
  if (count === 1 || tEnd === t0) {
    for (let k = 1; k < count; k++) out.set(y0, k * dim);
    return { y: out, steps: 0, evaluations: 0 };
  }
  const scratch = new Float64Array(dim);
  let evaluations = 0;
  const { maxSteps } = options;
  const maxEvaluations = EVALUATIONS_PER_STEP * maxSteps;
  const rhs = (x: number, y: number[], yp: number[]): void => {
    f(x, y, scratch);
    for (let i = 0; i < dim; i++) yp[i] = scratch[i];
    // A second guard besides odex's maxSteps, which some of its loops do not count.
    if (++evaluations > maxEvaluations) {
      throw new IntegrationError(`odex exceeded ${maxEvaluations} right-hand-side evaluations before t = ${tEnd}`, 'loosen --rtol/--atol or shorten --t-end; the motion may be singular');
    }
  };
  const solver = new Solver(rhs, dim, {
    rawFunction: true,
    relativeTolerance: options.rtol,
    absoluteTolerance: options.atol,
    maxSteps,
    denseOutput: true,
    interpolationFormulaDegree: options.interpolationDegree ?? DEFAULT_INTERPOLATION_DEGREE,
    ...options.odex,
  });
  let next = 1;
  const sampleUpTo = (limit: number, dense: (c: number, x: number) => number): void => {
    while (next < count && times[next] <= limit) {
      const t = times[next];
      const row = next * dim;
      for (let c = 0; c < dim; c++) out[row + c] = dense(c, t);
      next++;
    }
  };
  // Iterate odex's solution segments towards a far end (t0 + 2 span) and stop at the first segment
  // that passes tEnd: odex 3.0.0-rc.4's forced final step (the `last` branch of solutionSegments) can
  // produce a NaN step size with dense output, which then loops forever (observed on the pendulum).
  let steps = 0;
  try {
    for (const segment of solver.solutionSegments(t0, Array.from(y0), t0 + 2 * (tEnd - t0))) {
      steps++;
      if (!Number.isFinite(segment.x1)) throw new IntegrationError(`odex produced a non-finite step at t = ${segment.x0}`);
      sampleUpTo(segment.x1, segment.f);
      if (next >= count) break;
    }
  } catch (err) {
    if (err instanceof IntegrationError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/maximum allowed steps/.test(message)) {
      throw new IntegrationError(
        `odex hit its step limit (${maxSteps} steps) before t = ${tEnd}`,
        'loosen --rtol/--atol, shorten --t-end, or add softening (nbody); the motion may be singular',
      );
    }
    throw new IntegrationError(`odex failed: ${message}`);
  }
  return { y: out, steps, evaluations };
}
