/**
 * Where a field's vector–Jacobian products put parameter gradients. The solvers create sinks
 * through the field (VectorField.gradientSink), add one into another (the adjoint's per-step
 * quadrature) and finally take the tensors; a field may bring a sink that accumulates in its own
 * way (src/model/kernel-gradient-sink.ts accumulates linear layers on the host).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface GradientSink {
  /** grads[name] += scale · value (value is not disposed). */
  add(name: string, value: tf.Tensor, scale?: number): void;
  /** The gradients so far (still owned by the sink). */
  entries(): Iterable<readonly [string, tf.Tensor]>;
  /** Hands the tensors over (the sink is empty afterwards). */
  take(): Record<string, tf.Tensor>;
  dispose(): void;
}

/** total += scale · every gradient of `part` (part keeps its own). */
export function addSink(total: GradientSink, part: GradientSink, scale = 1): void {
  for (const [name, value] of part.entries()) total.add(name, value, scale);
}

/** Gradients as tensors, summed with TF.js ops: the default sink. */
export class TensorGradientSink implements GradientSink {
  private readonly grads = new Map<string, tf.Tensor>();

  add(name: string, value: tf.Tensor, scale = 1): void {
    const old = this.grads.get(name);
    const next = tf.keep(
      old === undefined ? (scale === 1 ? value.clone() : tf.mul(value, scale)) : tf.tidy(() => tf.add(old, scale === 1 ? value : tf.mul(value, scale))),
    );
    old?.dispose();
    this.grads.set(name, next);
  }

  entries(): Iterable<readonly [string, tf.Tensor]> {
    return this.grads.entries();
  }

  get(name: string): tf.Tensor | undefined {
    return this.grads.get(name);
  }

  take(): Record<string, tf.Tensor> {
    const out = Object.fromEntries(this.grads);
    this.grads.clear();
    return out;
  }

  dispose(): void {
    for (const v of this.grads.values()) v.dispose();
    this.grads.clear();
  }
}

/** The field's own sink, or the default one. */
export function sinkFor<S extends GradientSink>(field: { gradientSink?(): S }): S | TensorGradientSink {
  return field.gradientSink ? field.gradientSink() : new TensorGradientSink();
}
