/**
 * Activations with explicit derivatives (for the vector field's hand-written VJP).
 * tanh is computed as 2·sigmoid(2x) − 1: the same function, but TF.js's wasm Tanh kernel is
 * scalar while Sigmoid is vectorised (measured: ~350 µs against ~25 µs for a 128×128 tensor).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../util/errors.js';

export type ActivationName = 'tanh' | 'softplus' | 'silu';
export const ACTIVATIONS: readonly ActivationName[] = ['tanh', 'softplus', 'silu'];

export function checkActivation(name: string): ActivationName {
  if ((ACTIVATIONS as readonly string[]).includes(name)) return name as ActivationName;
  throw new InvalidArgumentError(`unknown activation '${name}'`, `use one of: ${ACTIVATIONS.join(', ')}`);
}

/** Saved values for the derivative: tanh keeps its output, softplus its input, silu both x and sigmoid(x). */
export interface ActivationSaved {
  readonly a: tf.Tensor2D;
  readonly b?: tf.Tensor2D;
}

/** Returns the activation and what its derivative needs; call inside tf.tidy. */
export function activationForward(name: ActivationName, x: tf.Tensor2D): { out: tf.Tensor2D; saved: ActivationSaved } {
  switch (name) {
    case 'tanh': {
      const out = tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1) as tf.Tensor2D;
      return { out, saved: { a: out } };
    }
    case 'softplus':
      return { out: tf.softplus(x) as tf.Tensor2D, saved: { a: x } };
    case 'silu': {
      const s = tf.sigmoid(x) as tf.Tensor2D;
      return { out: tf.mul(x, s) as tf.Tensor2D, saved: { a: x, b: s } };
    }
  }
}

/** Plain evaluation (no saved values). */
export function activate(name: ActivationName, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => activationForward(name, x).out);
}

/** g · act'(x); call inside tf.tidy. */
export function activationBackward(name: ActivationName, saved: ActivationSaved, g: tf.Tensor2D): tf.Tensor2D {
  switch (name) {
    case 'tanh': // 1 − tanh²
      return tf.mul(g, tf.sub(1, tf.square(saved.a))) as tf.Tensor2D;
    case 'softplus': // sigmoid(x)
      return tf.mul(g, tf.sigmoid(saved.a)) as tf.Tensor2D;
    case 'silu': {
      // s (1 + x (1 − s))
      const s = saved.b!;
      return tf.mul(g, tf.mul(s, tf.add(1, tf.mul(saved.a, tf.sub(1, s))))) as tf.Tensor2D;
    }
  }
}
