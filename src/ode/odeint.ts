/**
 * One entry point in the spirit of torchdiffeq's `odeint(func, y0, t, rtol, atol, method)`:
 * `odeint` solves (no gradients); `odeintWithGradients` solves and returns a `backward` that maps
 * cotangents of the outputs to gradients of y0 and of the field's parameters, by the gradient
 * method the options name (gradient-method.ts: backpropagation through the solver by default, or
 * the adjoint method with `adjoint: true`), with one signature.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { VectorField } from './field.js';
import { sinkFor, type GradientSink } from './gradient-sink.js';
import { checkTimes, resolveOptions, type OdeOptions } from './options.js';
import { InvalidArgumentError } from '../util/errors.js';
import { ForwardSystem, solve, stackOutputs } from './forward.js';
import type { GradientMethod } from './gradient-method.js';
import { backprop } from './backprop.js';
import { adjoint } from './adjoint.js';

export interface SolveStats {
  /** Function evaluations of the forward solve. */
  readonly nfe: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Function evaluations of the backward pass (adjoint: its backward solve; backprop: the VJPs). */
  readonly nfeBackward?: number;
}

export interface OdeSolution {
  /** States at the requested times, [T, B, D]; the caller owns it. */
  readonly ys: tf.Tensor3D;
  readonly stats: SolveStats;
}

export interface Gradients {
  /** dL/dy0, [B, D]. */
  readonly y0: tf.Tensor2D;
  /** dL/dθ by parameter name. */
  readonly params: Record<string, tf.Tensor>;
  readonly stats: SolveStats;
}

export interface DifferentiableSolution extends OdeSolution {
  /**
   * Given dL/dys ([T, B, D]), returns dL/dy0 and dL/dθ. Call at most once; it releases what the
   * forward solve recorded. The caller owns the returned tensors (and still owns `ys`).
   */
  backward(gradYs: tf.Tensor3D): Gradients;
  /** Releases the recording without a backward pass (idempotent). */
  dispose(): void;
}

function checkInputs(field: VectorField<GradientSink>, y0: tf.Tensor2D, ts: readonly number[]): void {
  checkTimes(ts);
  if (y0.rank !== 2 || y0.shape[1] !== field.dim) {
    throw new InvalidArgumentError(`y0 must have shape [batch, ${field.dim}], got [${y0.shape.join(', ')}]`);
  }
}

/** Solves y' = field(t, y) and returns y at every time of `ts` (no gradients recorded). */
export function odeint(field: VectorField<GradientSink>, y0: tf.Tensor2D, ts: readonly number[], options: OdeOptions = {}): OdeSolution {
  checkInputs(field, y0, ts);
  const o = resolveOptions(options);
  const r = solve(field, new ForwardSystem(field, o.mode), y0, ts, o);
  return { ys: stackOutputs(r), stats: { nfe: r.nfe, accepted: r.accepted, rejected: r.rejected } };
}

/**
 * Solves like `odeint` and prepares gradients. Backpropagation records every accepted stage
 * (memory grows with the number of steps); the adjoint method (options.adjoint) keeps only the
 * outputs and solves backwards, without touching normalisation statistics.
 */
export function odeintWithGradients(field: VectorField<GradientSink>, y0: tf.Tensor2D, ts: readonly number[], options: OdeOptions = {}): DifferentiableSolution {
  checkInputs(field, y0, ts);
  const o = resolveOptions(options);
  const method: GradientMethod = o.adjoint ? adjoint : backprop;
  const recorded = method.solve(field, y0, ts, o);
  let used = false;
  return {
    ys: recorded.ys,
    stats: recorded.stats,
    backward(gradYs) {
      if (used) throw new InvalidArgumentError('backward() was already called (or dispose()) for this solve');
      used = true;
      if (gradYs.shape[0] !== ts.length || gradYs.shape[1] !== y0.shape[0] || gradYs.shape[2] !== y0.shape[1]) {
        recorded.dispose();
        throw new InvalidArgumentError(`gradYs must have shape [${ts.length}, ${y0.shape[0]}, ${y0.shape[1]}], got [${gradYs.shape.join(', ')}]`);
      }
      const sink = sinkFor(field);
      try {
        const g = recorded.backward(gradYs, sink);
        return { y0: g.y0, params: sink.take(), stats: { ...recorded.stats, nfeBackward: g.nfe } };
      } finally {
        recorded.dispose();
        sink.dispose();
      }
    },
    dispose() {
      used = true;
      recorded.dispose();
    },
  };
}
