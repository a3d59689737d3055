/**
 * The training loop for tasks: epochs of shuffled mini-batches (one seeded Rng), the optimizers of
 * src/train/optimizer.ts with optional clipping, validation by the task's metrics after every
 * epoch (and every `valEvery` steps), the best model by `select` kept in the run folder's model/,
 * metrics.jsonl (src/train/metrics-log.ts; no wall-clock values), config.json and summary.json.
 *
 * Failures: a non-finite loss or gradient, or a solver failure (src/train/recovery.ts:
 * isSolverFailure — step underflow, the step limit that bounds backpropagation's memory, a
 * non-finite state) restores the last good weights and optimizer state and lowers the learning
 * rate; after `maxRecoveries` the run stops with TrainingDivergedError, whose message reports the
 * solver's figures (NFE, t, h) and where the best model is.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../util/rng.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { version } from '../util/version.js';
import type { ContinuousDepthModel } from '../model/continuous-depth.js';
import { SolverError } from '../ode/errors.js';
import { Optimizer, clipByGlobalNorm, type OptimizerName, type TrainableVariable } from '../train/optimizer.js';
import { MetricsLog } from '../train/metrics-log.js';
import { isSolverFailure, TrainingDivergedError } from '../train/recovery.js';
import type { NamedTensor, JsonValue } from '../train/checkpoint.js';
import { saveModelAtomic } from '../train/training-state.js';
import type { Task } from './task.js';

/** A set of examples a task trains or evaluates on. */
export interface Examples<Target> {
  readonly count: number;
  readonly inputDim: number;
  /** Inputs [indices.length, inputDim] and their targets. */
  gather(indices: readonly number[]): { x: Float32Array; target: Target };
}

export interface FitConfig {
  readonly epochs: number;
  /** Stop after this many steps in all (default: epochs × batches per epoch). */
  readonly maxSteps?: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly weightDecay: number;
  /** Global gradient-norm clip (0: none). */
  readonly clip: number;
  readonly seed: number;
  /** Validate every this many steps besides each epoch's end (0: epochs only). */
  readonly valEvery: number;
  readonly logEvery: number;
  /** The metric that chooses the best model (lower is better unless `higherIsBetter`). */
  readonly select: string;
  readonly higherIsBetter?: boolean;
  readonly maxRecoveries: number;
  readonly recoveryLrFactor: number;
  /** Step limit of each training solve: bounds the memory backpropagation records (undefined: solver default). */
  readonly trainMaxSteps?: number;
  /** Batch size of validation predictions. */
  readonly evalBatchSize: number;
}

export const FIT_DEFAULTS: FitConfig = {
  epochs: 10,
  batchSize: 32,
  optimizer: 'rmsprop',
  lr: 1e-3,
  weightDecay: 0,
  clip: 0,
  seed: 0,
  valEvery: 0,
  logEvery: 10,
  select: 'mae',
  maxRecoveries: 3,
  recoveryLrFactor: 0.5,
  evalBatchSize: 256,
};

export interface FitOptions<Target> {
  readonly model: ContinuousDepthModel;
  readonly task: Task<Target>;
  readonly train: Examples<Target>;
  readonly val: Examples<Target>;
  readonly config: FitConfig;
  /** The run folder (created; must not hold a run). */
  readonly runDir: string;
  /** Extra facts for config.json (dataset path and checksum, task settings...). */
  readonly describe?: Record<string, JsonValue>;
  readonly onProgress?: ProgressCallback;
  readonly onEvent?: (message: string) => void;
  readonly signal?: AbortSignal;
}

export interface FitResult {
  readonly runDir: string;
  readonly steps: number;
  readonly epochs: number;
  readonly completed: boolean;
  readonly best: Record<string, number>;
  readonly bestStep: number;
  readonly lastLoss: number;
  readonly recoveries: number;
  readonly nfePerStep: number;
  readonly wallSeconds: number;
}

/** The task's metrics over every example, weighted by batch size (metrics are batch means). */
export function evaluateExamples<Target>(model: ContinuousDepthModel, task: Task<Target>, ex: Examples<Target>, batchSize: number): Record<string, number> & { nfe: number } {
  const sums: Record<string, number> = {};
  let nfe = 0;
  for (let at = 0; at < ex.count; at += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, ex.count - at) }, (_, k) => at + k);
    const { x, target } = ex.gather(idx);
    const p = model.predict(x, idx.length);
    nfe += p.nfe;
    for (const [k, v] of Object.entries(task.metrics(p.prediction, target, idx.length))) sums[k] = (sums[k] ?? 0) + v * idx.length;
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) out[k] = v / ex.count;
  return { ...out, nfe };
}

/** Model weights and buffers plus optimizer moments, in memory (the recovery point). */
interface Snapshot {
  readonly model: ReturnType<ContinuousDepthModel['getState']>;
  readonly optimizer: { iterations: number; tensors: NamedTensor[] };
}

function snapshot(model: ContinuousDepthModel, optimizer: Optimizer): Snapshot {
  const opt = optimizer.state();
  return { model: model.getState(), optimizer: { iterations: opt.iterations, tensors: opt.tensors.map((t) => ({ ...t, data: t.data.slice() })) } };
}

/** The failure in words, with the solver's figures when the solver stopped. */
function failureText(err: unknown): string {
  if (err instanceof SolverError) {
    const what = err.reason === 'max-steps' ? 'step limit reached (the field turned stiff)' : err.reason === 'step-underflow' ? 'step size underflow (the field turned stiff)' : 'non-finite state';
    return `solver stopped: ${what} at depth t=${err.t.toPrecision(4)}, h=${err.h.toExponential(2)}, NFE ${err.nfe}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function fit<Target>(o: FitOptions<Target>): Promise<FitResult> {
  const started = performance.now();
  const c = o.config;
  if (!(Number.isInteger(c.batchSize) && c.batchSize >= 2)) throw new InvalidArgumentError(`batch size must be an integer >= 2, got ${c.batchSize}`, 'batch statistics need 2 rows');
  if (!(Number.isInteger(c.epochs) && c.epochs >= 1)) throw new InvalidArgumentError(`epochs must be a positive integer, got ${c.epochs}`);
  if (o.train.count < c.batchSize) throw new InvalidArgumentError(`${o.train.count} training examples, fewer than one batch of ${c.batchSize}`);
  if (o.val.count === 0) throw new InvalidArgumentError('no validation examples', 'the dataset needs a val split');
  const { model, task } = o;
  await mkdir(o.runDir, { recursive: true });
  const log = new MetricsLog(join(o.runDir, 'metrics.jsonl'));
  await writeFileAtomic(log.path, '');
  const perEpoch = Math.floor(o.train.count / c.batchSize);
  const total = Math.min(c.maxSteps ?? Infinity, perEpoch * c.epochs);
  await writeFileAtomic(
    join(o.runDir, 'config.json'),
    `${JSON.stringify({ format: 'physode-task-run', version: 1, physodeVersion: version, task: task.name, fit: { ...c, totalSteps: total, batchesPerEpoch: perEpoch }, model: { kind: 'continuous-depth', ...model.config }, ...o.describe }, null, 2)}\n`,
  );
  const variables: TrainableVariable[] = Object.entries(model.variables()).map(([name, variable]) => ({ name, variable }));
  const optimizer = new Optimizer({ name: c.optimizer, weightDecay: c.weightDecay }, variables);
  const rng = new Rng(c.seed);
  const better = (a: number, b: number) => (c.higherIsBetter ? a > b : a < b);
  let best: Record<string, number> = {};
  let bestStep = -1;
  let step = 0;
  let epoch = 0;
  let lrScale = 1;
  let recoveries = 0;
  let lastLoss = Number.NaN;
  let nfeSum = 0;
  let acc = { loss: 0, nfe: 0, count: 0 };
  let good = snapshot(model, optimizer);
  let lastVal: number | string = '--';

  const validate = async (): Promise<void> => {
    const m = evaluateExamples(model, task, o.val, c.evalBatchSize);
    await log.append({ step, kind: 'val', epoch, ...m });
    lastVal = m[c.select];
    if (Number.isFinite(m[c.select]) && (bestStep < 0 || better(m[c.select], best[c.select]))) {
      best = m;
      bestStep = step;
      await saveModelAtomic(model, join(o.runDir, 'model'));
      o.onEvent?.(`step ${step}: new best validation ${c.select} ${m[c.select].toPrecision(4)}`);
    }
    good = snapshot(model, optimizer);
  };

  try {
    outer: while (step < total) {
      epoch += 1;
      const order = rng.shuffle(Array.from({ length: o.train.count }, (_, i) => i));
      for (let b = 0; b < perEpoch && step < total; b++) {
        if (o.signal?.aborted) break outer;
        const idx = order.slice(b * c.batchSize, (b + 1) * c.batchSize);
        const { x, target } = o.train.gather(idx);
        let failure: unknown = null;
        try {
          const r = model.lossAndGradients(x, idx.length, (p) => task.loss(p, target, idx.length), { maxSteps: c.trainMaxSteps });
          try {
            if (!Number.isFinite(r.loss)) failure = new Error(`loss is ${r.loss}`);
            else {
              const clipped = clipByGlobalNorm(r.grads, c.clip);
              if (Number.isFinite(clipped.norm)) optimizer.apply(clipped.grads, c.lr * lrScale);
              else failure = new Error(`gradient norm is ${clipped.norm}`);
              tf.dispose([...clipped.grads.values()]);
            }
            lastLoss = r.loss;
            acc.loss += r.loss;
            acc.nfe += r.nfe;
            acc.count += 1;
            nfeSum += r.nfe;
          } finally {
            tf.dispose([...r.grads.values()]);
          }
        } catch (err) {
          if (!isSolverFailure(err)) throw err;
          failure = err;
        }
        if (failure !== null) {
          const what = failureText(failure);
          if (recoveries >= c.maxRecoveries) {
            const kept = bestStep >= 0 ? `the best model (validation ${c.select} ${best[c.select].toPrecision(4)} at step ${bestStep}) is kept in ${join(o.runDir, 'model')}` : 'no model was saved (no validation finished)';
            await log.append({ step, kind: 'event', event: 'stopped', reason: what });
            throw new TrainingDivergedError(`training stopped at step ${step + 1}: ${what}; ${recoveries} recoveries did not help`, `${kept}; try a looser --rtol/--atol, a fixed-step --method rk4, fewer --norm-layers, or a smaller --lr`);
          }
          recoveries += 1;
          lrScale *= c.recoveryLrFactor;
          model.setState(good.model);
          optimizer.setState(good.optimizer.iterations, good.optimizer.tensors);
          await log.append({ step, kind: 'event', event: 'recovery', reason: what, recoveries, lrScale });
          o.onEvent?.(`step ${step + 1}: ${what}; restored the last good weights, learning rate ×${lrScale} (recovery ${recoveries} of ${c.maxRecoveries})`);
          continue;
        }
        step += 1;
        if (step % c.logEvery === 0 || step === total) {
          await log.append({ step, kind: 'train', epoch, loss: acc.loss / acc.count, nfePerStep: acc.nfe / acc.count, lr: c.lr * lrScale });
          acc = { loss: 0, nfe: 0, count: 0 };
        }
        if ((c.valEvery > 0 && step % c.valEvery === 0) || b === perEpoch - 1 || step === total) await validate();
        o.onProgress?.({ unit: 'steps', done: step, total, fields: { epoch, loss: lastLoss, val: lastVal, 'nfe/step': acc.count ? acc.nfe / acc.count : nfeSum / step } });
      }
    }
    const result: FitResult = {
      runDir: o.runDir,
      steps: step,
      epochs: epoch,
      completed: step >= total,
      best,
      bestStep,
      lastLoss,
      recoveries,
      nfePerStep: step > 0 ? nfeSum / step : Number.NaN,
      wallSeconds: (performance.now() - started) / 1000,
    };
    await writeFileAtomic(join(o.runDir, 'summary.json'), `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    return result;
  } finally {
    optimizer.dispose();
  }
}
