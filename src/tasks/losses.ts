/**
 * Losses with their gradients with respect to the prediction, averaged as PyTorch's defaults
 * ('mean' reduction): MSE and MAE over every element; softmax cross-entropy over the batch.
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { LossValue } from './task.js';

function sameLength(prediction: Float32Array, target: ArrayLike<number>, what: string): void {
  if (prediction.length !== target.length || prediction.length === 0) {
    throw new InvalidArgumentError(`${what}: prediction has ${prediction.length} values, target ${target.length}`, 'prediction and target must have the same non-empty shape');
  }
}

/** mean((p − y)²); gradient 2(p − y)/n. */
export function mseLoss(prediction: Float32Array, target: ArrayLike<number>): LossValue {
  sameLength(prediction, target, 'MSE');
  const n = prediction.length;
  const gradient = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = prediction[i] - target[i];
    sum += d * d;
    gradient[i] = (2 * d) / n;
  }
  return { value: sum / n, gradient };
}

/** mean(|p − y|); gradient sign(p − y)/n (0 where p = y, as torch.sign). */
export function maeLoss(prediction: Float32Array, target: ArrayLike<number>): LossValue {
  sameLength(prediction, target, 'MAE');
  const n = prediction.length;
  const gradient = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = prediction[i] - target[i];
    sum += Math.abs(d);
    gradient[i] = Math.sign(d) / n;
  }
  return { value: sum / n, gradient };
}

/**
 * Softmax cross-entropy of logits [batch, classes] against integer labels [batch], mean over the
 * batch: −log softmax(p)[y]; gradient (softmax(p) − onehot(y))/batch. Log-sum-exp shifted by the
 * row maximum (no overflow).
 */
export function softmaxCrossEntropy(logits: Float32Array, labels: ArrayLike<number>, batch: number): LossValue {
  const classes = logits.length / batch;
  if (!(Number.isInteger(classes) && classes >= 1) || labels.length !== batch) {
    throw new InvalidArgumentError(`cross-entropy: ${logits.length} logits and ${labels.length} labels do not make a batch of ${batch}`);
  }
  const gradient = new Float32Array(logits.length);
  let sum = 0;
  for (let b = 0; b < batch; b++) {
    const y = labels[b];
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) throw new InvalidArgumentError(`cross-entropy: label ${y} of row ${b} is not a class in [0, ${classes})`);
    const row = b * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]);
    let z = 0;
    for (let c = 0; c < classes; c++) z += Math.exp(logits[row + c] - max);
    const logZ = max + Math.log(z);
    sum += logZ - logits[row + y];
    for (let c = 0; c < classes; c++) gradient[row + c] = (Math.exp(logits[row + c] - logZ) - (c === y ? 1 : 0)) / batch;
  }
  return { value: sum / batch, gradient };
}

/** Share of rows whose largest logit is the label's. */
export function accuracy(logits: Float32Array, labels: ArrayLike<number>, batch: number): number {
  const classes = logits.length / batch;
  let right = 0;
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[b * classes + c] > logits[b * classes + best]) best = c;
    if (best === labels[b]) right++;
  }
  return right / batch;
}
