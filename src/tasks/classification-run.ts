/**
 * A classification run from an image dataset (src/data/image-dataset.ts) to a run folder: the
 * paper's MNIST setting by default (state = the image, field of two linear layers as wide as the
 * state with the normalisation after the first, tanh, linear head, AdamW 1e-3, batch 256, dopri5
 * at tolerance 1e-3, M = 100), training with fit.ts, then the evaluation that TA-BN's claims need,
 * written to RUN/eval.json: test accuracy at several test batch sizes (claim 1), with one outlier
 * per test batch (claim 2), some misclassified images, and TA-BN's running statistics against t
 * (the paper's Figure 3, right).
 */
import { join } from 'node:path';
import type { ImageDataset } from '../data/image-dataset.js';
import { ContinuousDepthModel } from '../model/continuous-depth.js';
import type { NormKind } from '../nn/registry.js';
import type { ActivationName } from '../nn/activation.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ProgressCallback } from '../util/progress.js';
import { depthSolver, sharedFitConfig, type DepthSolverSettings, type OptimisationSettings } from './settings.js';
import { fit, type FitResult } from './fit.js';
import { ImageExamples, classificationTask, classifierConfig, evaluateClassifier, type ClassifierEvaluation, type LabelledImages } from './classification.js';

export interface ClassificationSettings extends DepthSolverSettings, OptimisationSettings {
  readonly norm: NormKind;
  readonly lift: 'none' | 'linear';
  /** State width with a linear lift (default: the image's pixels). */
  readonly stateDim: number | null;
  readonly depth: number;
  /** Hidden width (null: the state's). */
  readonly width: number | null;
  readonly activation: ActivationName;
  readonly gridIntervals: number;
  /** Test batch sizes to evaluate at (the training batch size is always among them). */
  readonly evalBatchSizes: readonly number[];
  /** Outlier standard deviation for the outlier evaluation (0: none). */
  readonly outlierScale: number;
  /** Misclassified test images kept in eval.json (pixels and labels), for the report's page. */
  readonly keepMisclassified: number;
}

/** The paper's MNIST settings (Table 1), except where a field says otherwise. */
export const CLASSIFICATION_DEFAULTS: ClassificationSettings = {
  norm: 'tabn',
  lift: 'none',
  stateDim: null,
  depth: 1,
  width: null,
  activation: 'tanh',
  gridIntervals: 100,
  method: 'dopri5',
  rtol: 1e-3,
  atol: 1e-3,
  solverSteps: 4,
  trainMaxSteps: 100,
  batchSize: 256,
  epochs: 1,
  maxSteps: null,
  lr: 1e-3,
  optimizer: 'adamw',
  weightDecay: 0.01,
  seed: 0,
  evalBatchSizes: [2, 256],
  // A sensor-fault image far outside the data (standardised pixels lie in about [−0.8, 2.1]); at
  // std 10 one such image in a batch of 256 moved minibatch's accuracy by under 0.4 pt.
  outlierScale: 100,
  keepMisclassified: 24,
};

export function classifierFor(s: ClassificationSettings, inputDim: number, classes: number): ContinuousDepthModel {
  return new ContinuousDepthModel(
    classifierConfig({
      inputDim,
      classes,
      lift: s.lift,
      stateDim: s.stateDim ?? undefined,
      depth: s.depth,
      width: s.width ?? undefined,
      activation: s.activation,
      norm: s.norm,
      gridIntervals: s.gridIntervals,
      solver: depthSolver(s),
      seed: s.seed,
    }),
  );
}

/** TA-BN's running statistics of one layer against t, on the grid points that received weight. */
export interface TabnTrace {
  readonly layer: string;
  readonly times: number[];
  /** Mean over features of the running mean and of the running variance, per grid point. */
  readonly meanOfMeans: number[];
  readonly meanOfVariances: number[];
  /** A few features' running mean and variance, per grid point. */
  readonly features: { readonly index: number; readonly mean: number[]; readonly variance: number[] }[];
  readonly coverage: number;
}

export interface MisclassifiedImage {
  readonly index: number;
  readonly label: number;
  readonly predicted: number;
  /** Pixels 0–255, row-major. */
  readonly pixels: number[];
}

export interface ClassificationEval {
  readonly format: 'physode-classification-eval';
  readonly settings: ClassificationSettings;
  readonly dataset: { readonly name: string; readonly dir: string; readonly train: number; readonly val: number; readonly test: number; readonly height: number; readonly width: number; readonly classes: readonly string[] };
  readonly fit: FitResult;
  /** By test batch size: accuracy, loss, NFE per batch. */
  readonly test: Record<string, { readonly accuracy: number; readonly loss: number; readonly nfePerBatch: number; readonly scored: number }>;
  /** One outlier per test batch at the training batch size: accuracy on the clean samples. */
  readonly outliers: { readonly batchSize: number; readonly scale: number; readonly accuracy: number; readonly scored: number } | null;
  /** Test samples whose predicted class differs between the smallest test batch size and the training one. */
  readonly predictionsChanged: number;
  readonly misclassified: MisclassifiedImage[];
  readonly tabn: TabnTrace[];
  readonly seconds: { readonly train: number; readonly eval: number };
}

function tabnTraces(model: ContinuousDepthModel, featureCount = 6): TabnTrace[] {
  return model.tabnStatistics().map((s) => {
    const points = s.times.length;
    const used = Array.from({ length: points }, (_, g) => g).filter((g) => s.count[g] > 0);
    const avg = (a: Float32Array, g: number) => {
      let sum = 0;
      for (let f = 0; f < s.features; f++) sum += a[g * s.features + f];
      return sum / s.features;
    };
    const step = Math.max(1, Math.floor(s.features / featureCount));
    const features = Array.from({ length: Math.min(featureCount, s.features) }, (_, k) => k * step).map((f) => ({
      index: f,
      mean: used.map((g) => s.mean[g * s.features + f]),
      variance: used.map((g) => s.variance[g * s.features + f]),
    }));
    return { layer: s.layer, times: used.map((g) => s.times[g]), meanOfMeans: used.map((g) => avg(s.mean, g)), meanOfVariances: used.map((g) => avg(s.variance, g)), features, coverage: s.coverage };
  });
}

/** Pixels 0–255 of image i of a normalised split. */
function rawPixels(data: LabelledImages, i: number, pixels: number, norm: ImageDataset['normalisation']): number[] {
  return Array.from(data.images.subarray(i * pixels, (i + 1) * pixels), (v) => Math.max(0, Math.min(255, Math.round((v * norm.std + norm.mean) * 255))));
}

export interface RunClassificationOptions {
  readonly dataset: ImageDataset;
  readonly runDir: string;
  readonly settings: ClassificationSettings;
  readonly onProgress?: ProgressCallback;
  readonly onEvent?: (message: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * Trains (best model by validation accuracy in RUN/model), evaluates on the test split, writes
 * RUN/eval.json. Resolves to null when `signal` stopped the training (nothing is evaluated).
 */
export async function runClassification(o: RunClassificationOptions): Promise<ClassificationEval | null> {
  const s = o.settings;
  const d = o.dataset;
  const classes = d.classes.length;
  const task = classificationTask(classes);
  const model = classifierFor(s, d.pixels, classes);
  try {
    const t0 = performance.now();
    const result = await fit({
      model,
      task,
      train: new ImageExamples(d.train),
      val: new ImageExamples(d.val),
      config: {
        ...sharedFitConfig(s),
        select: 'accuracy',
        higherIsBetter: true,
        evalBatchSize: s.batchSize,
        logEvery: 5,
      },
      runDir: o.runDir,
      describe: { dataset: { name: d.name, dir: d.dir, normalisation: d.normalisation }, classification: { ...s } },
      onProgress: o.onProgress,
      onEvent: o.onEvent,
      signal: o.signal,
    });
    const t1 = performance.now();
    if (o.signal?.aborted) return null;
    // The best model by validation accuracy is what the test scores.
    const best = await ContinuousDepthModel.load(join(o.runDir, 'model')).catch(() => null);
    const scoredModel = best ?? model;
    try {
      const sizes = [...new Set([...s.evalBatchSizes, s.batchSize])].sort((a, b) => a - b);
      const evals = new Map<number, ClassifierEvaluation>();
      for (const b of sizes) evals.set(b, evaluateClassifier(scoredModel, d.test, { batchSize: b }));
      const test: ClassificationEval['test'] = {};
      for (const [b, e] of evals) test[String(b)] = { accuracy: e.accuracy, loss: e.loss, nfePerBatch: e.nfe / e.batches, scored: e.scored };
      const atTrain = evals.get(s.batchSize)!;
      const smallest = evals.get(sizes[0])!;
      let changed = 0;
      for (let i = 0; i < atTrain.predicted.length; i++) if (atTrain.predicted[i] !== smallest.predicted[i]) changed++;
      const outlierEval = s.outlierScale > 0 ? evaluateClassifier(scoredModel, d.test, { batchSize: s.batchSize, outlierScale: s.outlierScale, seed: s.seed }) : null;
      const misclassified: MisclassifiedImage[] = [];
      for (let i = 0; i < atTrain.predicted.length && misclassified.length < s.keepMisclassified; i++) {
        if (atTrain.predicted[i] !== d.test.labels[i]) misclassified.push({ index: i, label: d.test.labels[i], predicted: atTrain.predicted[i], pixels: rawPixels(d.test, i, d.pixels, d.normalisation) });
      }
      const doc: ClassificationEval = {
        format: 'physode-classification-eval',
        settings: s,
        dataset: { name: d.name, dir: d.dir, train: d.train.count, val: d.val.count, test: d.test.count, height: d.height, width: d.width, classes: d.classes },
        fit: result,
        test,
        outliers: outlierEval ? { batchSize: s.batchSize, scale: s.outlierScale, accuracy: outlierEval.accuracy, scored: outlierEval.scored } : null,
        predictionsChanged: changed,
        misclassified,
        tabn: tabnTraces(scoredModel),
        seconds: { train: (t1 - t0) / 1000, eval: (performance.now() - t1) / 1000 },
      };
      await writeFileAtomic(join(o.runDir, 'eval.json'), `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
      return doc;
    } finally {
      if (best) best.dispose();
    }
  } finally {
    model.dispose();
  }
}
