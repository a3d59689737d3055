import type * as tf from '@tensorflow/tfjs-core';
import { PhysodeError } from '../util/errors.js';

/** Where the solver stopped, and what it had computed by then. */
export interface PartialSolution {
  /** The requested times reached so far. */
  readonly ts: readonly number[];
  /** States at those times, [ts.length, B, D]; the receiver owns (and disposes) it. */
  readonly ys: tf.Tensor3D;
}

/** Why a solve stopped: the step size fell below minStep, maxSteps was reached, or the state or its error became NaN/Inf. */
export type SolverStopReason = 'step-underflow' | 'max-steps' | 'non-finite';

/**
 * The solver could not go on (see SolverStopReason). Carries where: t, the step size h, the
 * number of function evaluations, and a hint.
 */
export class SolverError extends PhysodeError {
  readonly t: number;
  readonly h: number;
  readonly nfe: number;
  readonly reason: SolverStopReason;
  /** Present when the caller asked for it (returnPartial: true). */
  readonly partial?: PartialSolution;
  constructor(
    reason: SolverStopReason,
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
