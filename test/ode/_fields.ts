/** Small vector fields with known solutions, for solver tests (not a test file itself). */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalRequest, FieldOutput, FieldTape, VectorField } from '../../src/ode/field.js';
import type { GradientSink } from '../../src/ode/gradient-sink.js';

/** y' = A y with a constant matrix A (row-major, D×D); the VJP is cᵀA and dL/dA = Σ c yᵀ. */
export class LinearField implements VectorField {
  readonly dim: number;
  readonly a: tf.Variable<tf.Rank.R2>;
  evaluations: EvalRequest[] = [];
  constructor(matrix: number[][]) {
    this.dim = matrix.length;
    this.a = tf.variable(tf.tensor2d(matrix), true);
  }
  evaluate(y: tf.Tensor2D, req: EvalRequest): FieldOutput {
    this.evaluations.push(req);
    const dy = tf.matMul(y, this.a, false, true) as tf.Tensor2D;
    if (!req.record) return { dy };
    const kept = y.clone();
    return { dy, tape: { dispose: () => kept.dispose(), y: kept } as FieldTape & { y: tf.Tensor2D } };
  }
  vjp(tape: FieldTape, c: tf.Tensor2D, sink: GradientSink | null, scale: number): tf.Tensor2D {
    const y = (tape as FieldTape & { y: tf.Tensor2D }).y;
    if (sink) {
      const g = tf.matMul(c, y, true, false);
      sink.add('a', g, scale);
      g.dispose();
    }
    return tf.matMul(c, this.a) as tf.Tensor2D;
  }
  dispose(): void {
    this.a.dispose();
  }
}

/** y' = -y (D = 1). */
export const decay = (): LinearField => new LinearField([[-1]]);
/** Harmonic oscillator x' = v, v' = -x (D = 2). */
export const oscillator = (): LinearField => new LinearField([[0, 1], [-1, 0]]);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
