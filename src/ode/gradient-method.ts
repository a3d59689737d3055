/**
 * How gradients of a solve are obtained, as an object (torchdiffeq's `odeint` / `odeint_adjoint`
 * pair behind one signature): backpropagation through the solver's steps (backprop.ts) or the
 * adjoint method (adjoint.ts). A method runs the forward solve and returns what its backward pass
 * needs; `odeintWithGradients` (odeint.ts) is the same for both.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { VectorField } from './field.js';
import type { GradientSink } from './gradient-sink.js';
import type { ResolvedOptions } from './options.js';
import type { SolveStats } from './odeint.js';

export interface RecordedSolve {
  /** States at the requested times, [T, B, D]; the caller owns it. */
  readonly ys: tf.Tensor3D;
  readonly stats: SolveStats;
  /** dL/dy0 from dL/dys ([T, B, D], checked by the caller); adds dL/dθ into sink. Called at most once. */
  backward(gradYs: tf.Tensor3D, sink: GradientSink): { y0: tf.Tensor2D; nfe: number };
  /** Releases what the forward solve kept (idempotent; also after backward). */
  dispose(): void;
}

export interface GradientMethod {
  readonly name: 'backprop' | 'adjoint';
  solve(field: VectorField<GradientSink>, y0: tf.Tensor2D, ts: readonly number[], o: ResolvedOptions): RecordedSolve;
}
