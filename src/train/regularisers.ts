/** Regularisers added to a training loss, with their gradients. */
import * as tf from '@tensorflow/tfjs-core';
import { TemporalAdaptiveBatchNorm } from '../nn/tabn.js';
import type { NeuralODE } from '../model/neural-ode.js';

/**
 * TA-BN's regulariser λ·(mean((γ−1)²) + mean(β²)) over every tabn layer of `model`: adds its
 * gradients into `grads` (keyed by tfjs variable name, as lossAndGradients returns them) and
 * returns its value.
 */
export function addTabnRegulariser(model: NeuralODE, grads: tf.NamedTensorMap, lambda: number): number {
  let value = 0;
  for (const l of model.field.hidden) {
    if (!(l.norm instanceof TemporalAdaptiveBatchNorm) || !l.norm.weight || !l.norm.bias) continue;
    const gamma = l.norm.weight;
    const beta = l.norm.bias;
    const [v, gg, gb] = tf.tidy(() => {
      const dg = tf.sub(gamma, 1);
      const val = tf.mul(tf.add(tf.mean(tf.square(dg)), tf.mean(tf.square(beta))), lambda);
      return [val, tf.mul(dg, (2 * lambda) / gamma.size), tf.mul(beta, (2 * lambda) / beta.size)];
    });
    value += v.dataSync()[0];
    v.dispose();
    for (const [variable, extra] of [[gamma, gg], [beta, gb]] as const) {
      const old = grads[variable.name];
      grads[variable.name] = old ? tf.add(old, extra) : extra.clone();
      old?.dispose();
      extra.dispose();
    }
  }
  return value;
}
