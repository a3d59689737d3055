/**
 * The arithmetic shared by every batch normalisation, with its derivative written out
 * (Ioffe & Szegedy, "Batch Normalization", ICML 2015, §3, backward pass):
 * train: x̂ = (x − μ_B) / √(σ²_B + eps) with the biased batch variance, out = γ x̂ + β;
 *        dx = (γ / √(σ²_B + eps)) · (g − mean(g) − x̂ · mean(g x̂)).
 * eval:  out = γ (x − μ) / √(σ² + eps) + β with given μ, σ²; dx = g γ / √(σ² + eps).
 * Call these inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';

const onesRows = new Map<number, tf.Tensor2D>();

/**
 * Σ over the batch (axis 0) of x [B, F] as a product with a ones row: TF.js's wasm Sum/Mean over
 * a non-innermost axis transpose first, and tf.moments adds a Cast; one matMul is cheaper.
 */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  const B = x.shape[0];
  let ones = onesRows.get(B);
  if (!ones || ones.isDisposed) {
    ones = tf.keep(tf.ones([1, B]) as tf.Tensor2D);
    onesRows.set(B, ones);
  }
  return tf.reshape(tf.matMul(ones, x), [-1]) as tf.Tensor1D;
}

export type BatchNormTrainForward = {
  readonly out: tf.Tensor2D;
  readonly mean: tf.Tensor1D;
  /** Biased batch variance. */
  readonly variance: tf.Tensor1D;
  readonly xhat: tf.Tensor2D;
  /** γ / √(σ²_B + eps), [F]. */
  readonly scale: tf.Tensor1D;
};

export function batchNormTrain(x: tf.Tensor2D, gamma: tf.Tensor1D | null, beta: tf.Tensor1D | null, eps: number): BatchNormTrainForward {
  const n = x.shape[0];
  const mean = tf.div(columnSum(x), n) as tf.Tensor1D;
  const xc = tf.sub(x, mean) as tf.Tensor2D;
  const variance = tf.div(columnSum(tf.square(xc) as tf.Tensor2D), n) as tf.Tensor1D;
  const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
  const xhat = tf.mul(xc, rstd) as tf.Tensor2D;
  let out: tf.Tensor2D = xhat;
  if (gamma) out = tf.mul(out, gamma);
  if (beta) out = tf.add(out, beta);
  const scale = gamma ? (tf.mul(rstd, gamma) as tf.Tensor1D) : rstd;
  return { out, mean, variance, xhat, scale };
}

/** Returns dx, dγ = Σ g x̂, dβ = Σ g. */
export function batchNormTrainBackward(g: tf.Tensor2D, xhat: tf.Tensor2D, scale: tf.Tensor1D): { dx: tf.Tensor2D; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const n = g.shape[0];
  const dBeta = columnSum(g);
  const dGamma = columnSum(tf.mul(g, xhat) as tf.Tensor2D);
  const dx = tf.mul(tf.sub(tf.sub(g, tf.div(dBeta, n)), tf.mul(xhat, tf.div(dGamma, n))), scale) as tf.Tensor2D;
  return { dx, dGamma, dBeta };
}

export function batchNormEval(
  x: tf.Tensor2D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
): { out: tf.Tensor2D; xhat: tf.Tensor2D; scale: tf.Tensor1D } {
  const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
  const xhat = tf.mul(tf.sub(x, mean), rstd) as tf.Tensor2D;
  let out: tf.Tensor2D = xhat;
  if (gamma) out = tf.mul(out, gamma);
  if (beta) out = tf.add(out, beta);
  const scale = gamma ? (tf.mul(rstd, gamma) as tf.Tensor1D) : rstd;
  return { out, xhat, scale };
}

export function batchNormEvalBackward(g: tf.Tensor2D, xhat: tf.Tensor2D, scale: tf.Tensor1D): { dx: tf.Tensor2D; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  return { dx: tf.mul(g, scale) as tf.Tensor2D, dGamma: columnSum(tf.mul(g, xhat) as tf.Tensor2D), dBeta: columnSum(g) };
}
