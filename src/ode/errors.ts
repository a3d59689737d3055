import type * as tf from '@tensorflow/tfjs-core';
import { PhysodeError } from '../util/errors.js';

/** Where the solver stopped, and what it had computed by then. */
export interface PartialSolution {
  /** The requested times reached so far. */
  readonly ts: readonly number[];
  /** States at those times, [ts.length, B, D]; the receiver owns (and disposes) it. */
  readonly ys: tf.Tensor3D;
}

/**
 * The step size underflowed (below minStep) or the step limit (maxSteps) was reached.
 * Carries where: t, the step size h, the number of function evaluations, and a hint.
 */
export class SolverError extends PhysodeError {
  readonly t: number;
  readonly h: number;
  readonly nfe: number;
  readonly reason: 'step-underflow' | 'max-steps' | 'non-finite';
  /** Present when the caller asked for it (returnPartial: true). */
  readonly partial?: PartialSolution;
  constructor(
    reason: 'step-underflow' | 'max-steps' | 'non-finite',
    where: { t: number; h: number; nfe: number },
    hint: string,
    partial?: PartialSolution,
  ) {
    const what =
      reason === 'step-underflow' ? 'step size underflow' : reason === 'max-steps' ? 'step limit reached' : 'non-finite state';
    super(`ODE solver stopped: ${what} at t=${where.t.toPrecision(6)} (h=${where.h.toExponential(3)}, nfe=${where.nfe})`, hint);
    this.t = where.t;
    this.h = where.h;
    this.nfe = where.nfe;
    this.reason = reason;
    this.partial = partial;
  }
}
