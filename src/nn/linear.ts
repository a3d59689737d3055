/**
 * A fully connected layer y = x Wᵀ + b with PyTorch's layout and initialisation:
 * weight [out, in], bias [out], both U(−1/√in, 1/√in) (torch.nn.Linear.reset_parameters).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng.js';

export class Linear {
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    /** tfjs variable name prefix (names must be unique in a process), e.g. 'm0/field.layers.0.linear.'. */
    name = '',
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    const w = new Float32Array(inFeatures * outFeatures);
    for (let i = 0; i < w.length; i++) w[i] = rng.range(-bound, bound);
    const b = new Float32Array(outFeatures);
    for (let i = 0; i < b.length; i++) b[i] = rng.range(-bound, bound);
    this.weight = tf.variable(tf.tensor2d(w, [outFeatures, inFeatures]), true, name ? `${name}weight` : undefined);
    this.bias = tf.variable(tf.tensor1d(b), true, name ? `${name}bias` : undefined);
  }

  parameters(): Record<string, tf.Variable> {
    return { weight: this.weight, bias: this.bias };
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}
