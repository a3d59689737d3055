/**
 * A next-state run from a dataset folder to a run folder and back: settings (the paper's Table 3
 * backbone by default: 12 layers of width 64, the normalisation in the first 5, dopri5, RMSprop
 * 1e-3, batch 32, MAE), training with fit.ts, and evaluation of the best model on a split:
 * one-step MAE (raw and z-scored), multi-step rollouts from each window start, the two reference
 * predictors (training mean, no change), and whether the model learned (beats both).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../data/dataset.js';
import type { Split } from '../data/types.js';
import { HALFCHEETAH_WINDOW } from '../data/halfcheetah.js';
import { ContinuousDepthModel } from '../model/continuous-depth.js';
import type { NormKind } from '../nn/registry.js';
import type { ActivationName } from '../nn/activation.js';
import { CorruptFileError, InvalidArgumentError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { depthSolver, sharedFitConfig, type DepthSolverSettings, type OptimisationSettings } from './settings.js';
import { evaluateExamples, fit, type FitResult } from './fit.js';
import { NextStateExamples, nextStateTask, referenceMae, rolloutMae, windowStarts, windowTransitions, type Standardiser, type TrajectoryArray, type WindowCut } from './next-state.js';

export interface NextStateSettings extends DepthSolverSettings, OptimisationSettings {
  readonly norm: NormKind;
  /** Hidden layers carrying the normalisation (the first k). */
  readonly normLayers: number;
  readonly depth: number;
  readonly width: number;
  readonly activation: ActivationName;
  readonly gridIntervals: number;
  readonly momentum: number;
  readonly adjoint: boolean;
  readonly clip: number;
  readonly window: WindowCut;
  readonly valEvery: number;
  readonly maxRecoveries: number;
}

/**
 * The paper's HalfCheetah setting (Table 3), with two choices of ours: tolerances 1e-3 (the
 * paper's image runs; at 1e-7/1e-9 TA-BN's kinks in t drove dopri5 to ~1,800 NFE per step) and
 * the training step limit.
 */
export const NEXT_STATE_DEFAULTS: NextStateSettings = {
  norm: 'tabn',
  normLayers: 5,
  depth: 12,
  width: 64,
  activation: 'tanh',
  gridIntervals: 100,
  momentum: 0.1,
  method: 'dopri5',
  rtol: 1e-3,
  atol: 1e-4,
  solverSteps: 4,
  adjoint: false,
  trainMaxSteps: 200,
  batchSize: 32,
  epochs: 10,
  maxSteps: null,
  lr: 1e-3,
  optimizer: 'rmsprop',
  weightDecay: 0,
  clip: 0,
  seed: 0,
  window: HALFCHEETAH_WINDOW,
  valEvery: 0,
  maxRecoveries: 3,
};

export interface SplitData {
  readonly trajectories: TrajectoryArray;
  readonly scale: Standardiser;
  readonly checksum: string;
  readonly labels: readonly string[];
}

/** A split of a dataset as [n, T, D] float64, with the training statistics and the manifest's SHA-256. */
export async function loadSplitData(dataDir: string, split: Split): Promise<SplitData> {
  const ds = await openDataset(dataDir);
  const b = await ds.loadSplit(split);
  const [n, T, D] = b.y.shape as [number, number, number];
  if (n === 0) throw new InvalidArgumentError(`dataset ${dataDir} has no ${split} trajectories`, 'import it with a split that gives this share');
  const checksum = createHash('sha256').update(await readFile(join(dataDir, 'manifest.json'))).digest('hex');
  return { trajectories: { y: Float64Array.from(b.y.data.subarray(b.y.offset, b.y.offset + n * T * D)), n, T, D }, scale: { mean: ds.manifest.stats.mean, std: ds.manifest.stats.std }, checksum, labels: ds.manifest.state.labels };
}

export function modelFor(s: NextStateSettings, dim: number): ContinuousDepthModel {
  return new ContinuousDepthModel({
    inputDim: dim,
    ode: {
      depth: s.depth,
      width: s.width,
      activation: s.activation,
      norm: s.norm,
      normLayers: Math.min(s.normLayers, s.depth),
      gridIntervals: s.gridIntervals,
      momentum: s.momentum,
      solver: depthSolver(s),
      adjoint: s.adjoint,
      seed: s.seed,
    },
  });
}

export interface TrainNextStateOptions {
  readonly dataDir: string;
  readonly runDir: string;
  readonly settings: NextStateSettings;
  readonly onProgress?: ProgressCallback;
  readonly onEvent?: (m: string) => void;
  readonly signal?: AbortSignal;
}

/** Trains on the train split, validating on val; the best model goes to RUN/model. */
export async function trainNextState(o: TrainNextStateOptions): Promise<FitResult> {
  const s = o.settings;
  const [train, val] = await Promise.all([loadSplitData(o.dataDir, 'train'), loadSplitData(o.dataDir, 'val')]);
  const trainEx = new NextStateExamples(train.trajectories, windowTransitions(train.trajectories, s.window), train.scale);
  const valEx = new NextStateExamples(val.trajectories, windowTransitions(val.trajectories, s.window), train.scale);
  const model = modelFor(s, train.trajectories.D);
  try {
    return await fit({
      model,
      task: nextStateTask(train.scale),
      train: trainEx,
      val: valEx,
      config: {
        ...sharedFitConfig(s),
        clip: s.clip,
        valEvery: s.valEvery,
        select: 'mae',
        maxRecoveries: s.maxRecoveries,
      },
      runDir: o.runDir,
      describe: {
        dataset: { path: o.dataDir, manifestSha256: train.checksum, stateLabels: [...train.labels] },
        standardiser: { mean: [...train.scale.mean], std: [...train.scale.std] },
        settings: { ...s, window: { ...s.window } },
      },
      onProgress: o.onProgress,
      onEvent: o.onEvent,
      signal: o.signal,
    });
  } finally {
    model.dispose();
  }
}

/** What config.json of a next-state run records (the parts evaluation needs). */
export interface NextStateRunConfig {
  readonly format: 'physode-task-run';
  readonly task: string;
  readonly dataset: { readonly path: string; readonly manifestSha256: string };
  readonly standardiser: Standardiser;
  readonly settings: NextStateSettings;
}

export async function readTaskRunConfig(runDir: string): Promise<NextStateRunConfig | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
  } catch {
    return null;
  }
  const doc = raw as Partial<NextStateRunConfig>;
  if (doc.format !== 'physode-task-run') return null;
  if (doc.task !== 'next-state' || !doc.standardiser || !doc.settings) throw new CorruptFileError(join(runDir, 'config.json'), `a task run of task '${String(doc.task)}' without next-state settings`, 'give a run written by physode train --task next-state');
  return doc as NextStateRunConfig;
}

export interface NextStateEvaluation {
  readonly split: Split;
  readonly transitions: number;
  /** One-step metrics of the model (mae, mse z-scored; maeRaw raw units). */
  readonly oneStep: Record<string, number>;
  /** Raw-unit MAE of the reference predictors on the same transitions. */
  readonly references: { readonly meanPredictor: number; readonly persistence: number };
  /** Beats both references on one-step raw MAE. */
  readonly learned: boolean;
  /** Raw-unit MAE after 1…k autoregressive steps from each window start. */
  readonly rolloutMaeByStep: readonly number[];
  readonly batchSize: number;
  readonly nfePerBatch: number;
}

/** Evaluates RUN/model on a split of the dataset (batch size: the evaluation batches, e.g. 2 for claim 1). */
export async function evaluateNextState(runDir: string, dataDir: string, split: Split, batchSize = 256, rolloutSteps?: number): Promise<NextStateEvaluation> {
  const cfg = await readTaskRunConfig(runDir);
  if (cfg === null) throw new InvalidArgumentError(`${runDir} is not a next-state run`, 'train one with: physode train --task next-state --data DIR');
  const data = await loadSplitData(dataDir, split);
  const ex = new NextStateExamples(data.trajectories, windowTransitions(data.trajectories, cfg.settings.window), cfg.standardiser);
  const model = await ContinuousDepthModel.load(join(runDir, 'model'));
  try {
    const m = evaluateExamples(model, nextStateTask(cfg.standardiser), ex, batchSize);
    const { nfe, ...oneStep } = m;
    const references = referenceMae(ex);
    const steps = rolloutSteps ?? cfg.settings.window.length;
    const roll = rolloutMae(ex, windowStarts(data.trajectories, cfg.settings.window), steps, (x, b) => model.predict(x, b));
    return {
      split,
      transitions: ex.count,
      oneStep,
      references,
      learned: oneStep.maeRaw < references.meanPredictor && oneStep.maeRaw < references.persistence,
      rolloutMaeByStep: roll.maeByStep,
      batchSize,
      nfePerBatch: nfe / Math.ceil(ex.count / batchSize),
    };
  } finally {
    model.dispose();
  }
}

/** Writes RUN/eval-<split>.json. */
export async function writeNextStateEvaluation(runDir: string, e: NextStateEvaluation): Promise<void> {
  await writeFileAtomic(join(runDir, `eval-${e.split}.json`), `${JSON.stringify({ task: 'next-state', ...e }, null, 2)}\n`);
}
