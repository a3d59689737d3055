/**
 * Image classification with a continuous-depth model, the TA-BN paper's Table 1 setting: the
 * state is the image (784 pixels) or a linear lift of it, the ODE over depth [0, 1] runs the MLP
 * field (the paper's: two linear layers as wide as the state, the normalisation after the first),
 * a linear head gives one logit per class; softmax cross-entropy is the loss, accuracy the metric.
 *
 * Evaluation (`evaluateClassifier`) cuts the test set into batches of a chosen size in a fixed
 * order, optionally with one corrupted sample per batch (claim 2: scored on the clean samples
 * only), and keeps each sample's predicted class so that reports can show the misclassified ones.
 */
import type { ContinuousDepthConfigInput, ContinuousDepthModel } from '../model/continuous-depth.js';
import type { NormKind } from '../nn/registry.js';
import type { ActivationName } from '../nn/activation.js';
import type { SolverConfig } from '../model/config.js';
import { InvalidArgumentError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { accuracy, softmaxCrossEntropy } from './losses.js';
import type { Task } from './task.js';
import type { Examples } from './fit.js';

/** Images as rows of floats and their class labels. */
export interface LabelledImages {
  /** [count, pixels], row-major. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** Cross-entropy on the logits; metrics accuracy and the loss itself. */
export function classificationTask(classes: number): Task<Uint8Array> {
  if (!(Number.isInteger(classes) && classes >= 2)) throw new InvalidArgumentError(`a classifier needs at least 2 classes, got ${classes}`);
  return {
    name: 'classification',
    outputDim: classes,
    loss: (logits, labels, batch) => softmaxCrossEntropy(logits, labels, batch),
    metrics: (logits, labels, batch) => ({ accuracy: accuracy(logits, labels, batch), loss: softmaxCrossEntropy(logits, labels, batch).value }),
  };
}

/** A split of images as the training loop's examples. */
export class ImageExamples implements Examples<Uint8Array> {
  readonly count: number;
  readonly inputDim: number;
  constructor(private readonly data: LabelledImages) {
    this.count = data.count;
    this.inputDim = data.count > 0 ? data.images.length / data.count : 0;
    if (!Number.isInteger(this.inputDim) || data.labels.length !== data.count) {
      throw new InvalidArgumentError(`${data.images.length} pixel values and ${data.labels.length} labels do not make ${data.count} images`);
    }
  }

  gather(indices: readonly number[]): { x: Float32Array; target: Uint8Array } {
    const d = this.inputDim;
    const x = new Float32Array(indices.length * d);
    const target = new Uint8Array(indices.length);
    indices.forEach((j, i) => {
      x.set(this.data.images.subarray(j * d, (j + 1) * d), i * d);
      target[i] = this.data.labels[j];
    });
    return { x, target };
  }
}

export interface ClassifierSettings {
  readonly inputDim: number;
  readonly classes: number;
  /** The ODE's state: the image itself ('none') or a linear lift to `stateDim`. */
  readonly lift: 'none' | 'linear';
  readonly stateDim?: number;
  /** Hidden layers of the field (the paper's: 1, i.e. two linear layers) and their width (default: the state's). */
  readonly depth: number;
  readonly width?: number;
  readonly activation: ActivationName;
  readonly norm: NormKind;
  readonly gridIntervals: number;
  readonly solver: Partial<SolverConfig> & { method: SolverConfig['method'] };
  readonly seed: number;
}

/** The continuous-depth model of a classifier: optional lift, the field's ODE over [0, 1], a linear head to the logits. */
export function classifierConfig(s: ClassifierSettings): ContinuousDepthConfigInput {
  const stateDim = s.lift === 'linear' ? (s.stateDim ?? s.inputDim) : s.inputDim;
  return {
    inputDim: s.inputDim,
    lift: s.lift,
    stateDim,
    head: 'linear',
    outputDim: s.classes,
    ode: {
      depth: s.depth,
      width: s.width ?? stateDim,
      activation: s.activation,
      norm: s.norm,
      gridIntervals: s.gridIntervals,
      solver: s.solver,
      seed: s.seed,
    },
  };
}

export interface ClassifierEvaluation {
  /** Share of the scored samples classified right. */
  readonly accuracy: number;
  /** Mean cross-entropy over the scored samples. */
  readonly loss: number;
  /** Scored samples (with outliers: the clean ones). */
  readonly scored: number;
  /** The predicted class of every test sample, in order (with outliers: of the clean ones). */
  readonly predicted: Uint8Array;
  readonly nfe: number;
  readonly batches: number;
}

export interface EvaluateOptions {
  readonly batchSize: number;
  /**
   * One corrupted sample per batch: `batchSize − 1` clean samples and one outlier (pure noise of
   * this standard deviation, in the normalised pixel units: 10 is far outside any image's range).
   * Only the clean samples are scored. 0 (default): clean batches.
   */
  readonly outlierScale?: number;
  readonly seed?: number;
  /** Score only the first n samples (default: all). */
  readonly limit?: number;
}

/**
 * Accuracy of `model` on `data` in evaluation mode, batch by batch in order. For a normalisation
 * whose evaluation mode is batch independent (none, popti, tabn) the predictions do not depend on
 * the batch size; for `minibatch` they do.
 */
export function evaluateClassifier(model: ContinuousDepthModel, data: LabelledImages, o: EvaluateOptions): ClassifierEvaluation {
  const ex = new ImageExamples(data);
  const n = Math.min(o.limit ?? data.count, data.count);
  const outliers = (o.outlierScale ?? 0) > 0;
  const clean = outliers ? o.batchSize - 1 : o.batchSize;
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new InvalidArgumentError(`test batch size must be a positive integer, got ${o.batchSize}`);
  if (clean < 1) throw new InvalidArgumentError(`a test batch of ${o.batchSize} has no room for a clean sample beside the outlier`, 'use a test batch size of at least 2 with outliers');
  const rng = new Rng(o.seed ?? 0);
  const d = ex.inputDim;
  const predicted = new Uint8Array(n);
  let right = 0;
  let lossSum = 0;
  let nfe = 0;
  let batches = 0;
  for (let at = 0; at < n; at += clean) {
    const idx = Array.from({ length: Math.min(clean, n - at) }, (_, k) => at + k);
    const { x, target } = ex.gather(idx);
    let input = x;
    let rows = idx.length;
    if (outliers) {
      input = new Float32Array((rows + 1) * d);
      input.set(x);
      for (let p = rows * d; p < input.length; p++) input[p] = o.outlierScale! * rng.normal();
      rows += 1;
    }
    const out = model.predict(input, rows);
    nfe += out.nfe;
    batches += 1;
    const classes = out.prediction.length / rows;
    // Score the clean rows (the first idx.length) only.
    const logits = out.prediction.subarray(0, idx.length * classes);
    lossSum += softmaxCrossEntropy(logits, target, idx.length).value * idx.length;
    for (let i = 0; i < idx.length; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      predicted[at + i] = best;
      if (best === target[i]) right++;
    }
  }
  return { accuracy: n > 0 ? right / n : Number.NaN, loss: n > 0 ? lossSum / n : Number.NaN, scored: n, predicted, nfe, batches };
}
