/**
 * Test references for the normalisations: the op-by-op TF.js batch norm (reference-batch-norm.ts)
 * applied with a normalisation's own γ(t), β(t) and evaluation statistics, and the TF.js
 * activations. Independent of the WebAssembly kernels that src/nn and src/model run.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization, NormMode } from '../../src/nn/normalization.js';
import type { ActivationName } from '../../src/nn/activation.js';
import { batchNormEval, batchNormTrain } from './reference-batch-norm.js';

/** The normalisation of x at (t, index) in `mode`, op by op (nothing staged, nothing recorded). */
export function referenceApply(n: Normalization, x: tf.Tensor2D, t: number, mode: NormMode, index = 0): tf.Tensor2D {
  if (n.kind === 'none') return x.clone();
  return tf.tidy(() => {
    const { gamma, beta } = n.affineAt(t, index);
    const g = gamma ? tf.tensor1d(gamma) : null;
    const b = beta ? tf.tensor1d(beta) : null;
    const running = mode === 'eval' ? n.statisticsAt(t, index) : null;
    if (running === null) {
      if (mode === 'train' && x.shape[0] < 2) throw new Error(`${n.kind} normalisation needs a batch of at least 2 in training mode`);
      return batchNormTrain(x, g, b, n.eps).out;
    }
    return batchNormEval(x, tf.tensor1d(running.mean), tf.tensor1d(running.variance), g, b, n.eps).out;
  });
}

/** A training-mode forward through the normalisation's own path that stages and commits its statistics update. */
export function trainStep(n: Normalization, rows: number[][], t: number, index: number): void {
  const flat = Float32Array.from(rows.flat());
  n.forward(flat, rows.length, { t, index, mode: 'train', updateStats: true, record: false });
  n.commitStaged();
}

/** The normalisation's own output z·scale + shift for rows z (its forward, as the field applies it). */
export function ownApply(n: Normalization, rows: Float32Array, count: number, t: number, mode: NormMode, index = 0): Float32Array {
  const { scale, shift } = n.forward(rows, count, { t, index, mode, updateStats: false, record: false });
  const F = n.numFeatures;
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rows[i] * scale[i % F] + shift[i % F];
  return out;
}

/** The activation of a tensor (tanh as 2·sigmoid(2x) − 1, as the kernels compute it). */
export function activate(name: ActivationName, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    switch (name) {
      case 'tanh':
        return tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1) as tf.Tensor2D;
      case 'softplus':
        return tf.softplus(x) as tf.Tensor2D;
      case 'silu':
        return tf.mul(x, tf.sigmoid(x)) as tf.Tensor2D;
    }
  });
}

/** ownApply on a tensor (the implementation under test, through its interface). */
export function applyNorm(n: Normalization, x: tf.Tensor2D, t: number, mode: NormMode, index = 0): tf.Tensor2D {
  return tf.tensor2d(ownApply(n, x.dataSync() as Float32Array, x.shape[0], t, mode, index), x.shape);
}

/** A forward through the normalisation's interface on a tensor, staging updates as the request says. */
export function forwardNorm(n: Normalization, x: tf.Tensor2D, request: { t: number; index: number; mode: NormMode; updateStats: boolean; record: boolean }): void {
  n.forward(x.dataSync() as Float32Array, x.shape[0], request);
}
