/**
 * The training loop: windows from the training split, MSE in normalised coordinates, an optimizer
 * step, periodic full-horizon validation on the val split, checkpoints (`last` every N steps, `best`
 * by validation MSE), and exact resume. What a checkpoint holds lives in training-state.ts; what
 * happens on divergence in recovery.ts.
 *
 * Determinism: every random choice comes from one seeded Rng whose state is checkpointed with the
 * model, the optimizer moments and counters, the learning-rate scale and the running log
 * accumulators; metrics.jsonl holds no wall-clock values. The same command and seed write the same
 * metrics.jsonl, and a run interrupted and resumed writes the same file as one that was not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir } from 'node:fs/promises';
import { Rng, deriveSeed } from '../util/rng.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { version } from '../util/version.js';
import { checkStats, type NormStats } from './normalise.js';
import { prepareTrajectories, selectTrajectories, type Trajectories } from './trajectories.js';
import { sampleWindows, windowTimes } from './windows.js';
import { rolloutFigures } from './rollout-figures.js';
import { MetricsLog, readMetrics } from './metrics-log.js';
import { runPaths } from './run-folder.js';
import { loadCheckpoint, type JsonValue } from './checkpoint.js';
import { Optimizer, clipByGlobalNorm } from './optimizer.js';
import { scheduleFactor } from './schedule.js';
import { validateConfig, windowAt, type TrainConfig } from './config.js';
import type { DataSource } from './training-data.js';
import type { DynamicsModel, ModelBlueprint, ModelFactory } from './model-port.js';
import { writeTrainingPlots } from './training-plots.js';
import { checkResumable, initialLoopState, refuseExisting, restore, saveCheckpointFrom, saveLast, saveModelAtomic } from './training-state.js';
import { isSolverFailure, recover, refuseRunaway } from './recovery.js';
import { hasRunningStatistics } from '../nn/registry.js';

export { TrainingDivergedError } from './recovery.js';

export interface TrainOptions {
  readonly data: DataSource;
  readonly runDir: string;
  readonly config: TrainConfig;
  readonly factory: ModelFactory;
  /** Continue from checkpoints/last instead of starting anew. */
  readonly resume?: boolean;
  /** Backend description recorded in config.json. */
  readonly backend?: string;
  /** Stop (with a checkpoint) once this many steps are done; the run can be resumed later. */
  readonly stopAfterSteps?: number;
  /** Aborting stops after the current step, with a checkpoint. */
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  /** Notable events in words (recovery, new best), for the CLI to show. */
  readonly onEvent?: (message: string) => void;
  /** Test hook: the loss of these steps is replaced by NaN (once each), to exercise recovery. */
  readonly injectNanAtSteps?: readonly number[];
  /** Write SVG plots at the end (default true). */
  readonly plots?: boolean;
}

export interface TrainResult {
  readonly runDir: string;
  /** Steps done in total (including earlier sessions of a resumed run). */
  readonly steps: number;
  readonly completed: boolean;
  readonly bestValMse: number;
  readonly bestStep: number;
  readonly lastLoss: number;
  readonly recoveries: number;
  readonly wallSeconds: number;
  /** TA-BN grid coverage of the first normalisation layer of the final model, or null. */
  readonly gridCoverage: number | null;
}

function blueprintFor(config: TrainConfig, dim: number, ts: Float64Array, dt: number): ModelBlueprint {
  return { model: config.model, solver: config.solver, dim, span: [0, ts[ts.length - 1]], defaultStep: dt, seed: config.seed };
}

/** The JSON of config.json: the resolved configuration plus provenance. */
export function runConfigDocument(config: TrainConfig, data: DataSource, stats: NormStats, blueprint: ModelBlueprint, backend: string | undefined): Record<string, JsonValue> {
  return {
    format: 'physode-run',
    version: 1,
    physodeVersion: version,
    tfjsVersion: tf.version_core,
    nodeVersion: process.version,
    backend: backend ?? tf.getBackend() ?? 'unknown',
    dataset: { path: data.path, manifestSha256: data.checksum, system: data.systemName, stateLabels: [...data.stateLabels] },
    normalisation: { mean: [...stats.mean], std: [...stats.std] },
    span: [...blueprint.span],
    defaultStep: blueprint.defaultStep,
    dim: blueprint.dim,
    config: config as unknown as JsonValue,
  };
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const config = validateConfig(opts.config);
  const paths = runPaths(opts.runDir);
  const data = opts.data;

  const [trainBatch, valBatch] = await Promise.all([data.loadSplit('train'), data.loadSplit('val')]);
  const dim = trainBatch.y.shape[2];
  const stats = checkStats(data.stats, dim);
  const trainSet = prepareTrajectories(trainBatch, stats);
  let valSet = prepareTrajectories(valBatch, stats);
  if (valSet.n === 0) throw new InvalidArgumentError(`dataset ${data.path} has no validation trajectories`, 'generate it with a val share in --split (e.g. 0.8,0.1,0.1)');
  if (config.valTrajectories > 0 && valSet.n > config.valTrajectories) valSet = selectTrajectories(valSet, Array.from({ length: config.valTrajectories }, (_, i) => i));
  const ts = windowTimes(trainSet.t, config.window);
  const dt = ts[1] - ts[0];
  const blueprint = blueprintFor(config, dim, ts, dt);

  // Refusals first, so that a refused run leaves no folder behind.
  if (opts.resume) await checkResumable(paths, config, data.checksum);
  else await refuseExisting(paths);
  await mkdir(paths.dir, { recursive: true });
  const log = new MetricsLog(paths.metrics);
  const model = await opts.factory.create(blueprint);
  const optimizer = new Optimizer({ name: config.optimizer, weightDecay: config.weightDecay }, model.variables);
  const state = initialLoopState(config.seed);

  try {
    if (opts.resume) {
      const ckpt = await loadCheckpoint(paths.lastCheckpoint);
      restore(ckpt, model, optimizer, state);
      await log.truncateAfter(ckpt.step);
      opts.onEvent?.(`resuming from step ${ckpt.step}`);
    } else {
      await writeFileAtomic(paths.config, `${JSON.stringify(runConfigDocument(config, data, stats, blueprint, opts.backend), null, 2)}\n`);
      await writeFileAtomic(paths.metrics, '');
      await saveLast(paths, model, optimizer, state);
    }

    const injected = new Set<number>();
    const total = config.steps;
    const stopAt = Math.min(total, opts.stopAfterSteps ?? total);
    let lastVal = Number.NaN;
    while (state.step < stopAt) {
      if (opts.signal?.aborted) break;
      const step = state.step + 1;
      const lr = config.lr * state.lrScale * scheduleFactor({ name: config.schedule, totalSteps: total, warmup: config.warmup, minFactor: config.minLrFactor }, step);
      const w = windowAt(config, step);
      const stepTimes = w === ts.length ? ts : ts.subarray(0, w);
      const batch = sampleWindows(trainSet, stepTimes, config.batchSize, state.rng);
      let failure: string | null = null;
      let loss = Number.NaN;
      let nfe = 0;
      let gradNorm = Number.NaN;
      const frozen = hasRunningStats(config) && step > freezeAfter(config);
      try {
        if (frozen && step === freezeAfter(config) + 1) recalibrate(model, trainSet, ts, config, step);
        const result = model.lossAndGradients(batch.y0, batch.batchSize, stepTimes, batch.target, frozen ? 'eval' : 'train');
        loss = result.loss;
        nfe = result.nfe;
        if (opts.injectNanAtSteps?.includes(step) && !injected.has(step)) {
          injected.add(step);
          loss = Number.NaN;
        }
        if (Number.isFinite(loss)) {
          const clipped = clipByGlobalNorm(result.grads, config.clip);
          gradNorm = clipped.norm;
          if (Number.isFinite(gradNorm)) optimizer.apply(clipped.grads, lr);
          else failure = `gradient norm is ${gradNorm}`;
          tf.dispose([...clipped.grads.values()]);
        } else {
          failure = `loss is ${loss}`;
        }
        tf.dispose([...result.grads.values()]);
      } catch (err) {
        if (!isSolverFailure(err)) throw err;
        failure = `the solver failed: ${(err as Error).message}`;
      }

      if (failure !== null) {
        await recover(paths, model, optimizer, state, config, log, step, failure, opts.onEvent);
        continue;
      }

      state.step = step;
      state.lastLoss = loss;
      state.acc.loss += loss;
      state.acc.nfe += nfe;
      state.acc.gradNorm += gradNorm;
      state.acc.count += 1;
      if (step % config.logEvery === 0 || step === total) {
        const c = state.acc.count;
        await log.append({ step, kind: 'train', loss: state.acc.loss / c, nfePerStep: state.acc.nfe / c, gradNorm: state.acc.gradNorm / c, lr, window: w });
        state.acc = { loss: 0, nfe: 0, gradNorm: 0, count: 0 };
      }
      if (step % config.valEvery === 0 || step === total) {
        // Frozen statistics are part of the function being trained: not recalibrated.
        if (!(hasRunningStats(config) && step > freezeAfter(config))) recalibrate(model, trainSet, ts, config, step);
        const v = await validate(model, valSet);
        lastVal = v.mse;
        await log.append({ step, kind: 'val', rolloutMse: v.mse, validPredictionTime: v.vpt, nfePerRollout: v.nfe });
        if (Number.isFinite(v.mse) && v.mse < state.bestVal) {
          state.bestVal = v.mse;
          state.bestStep = step;
          await saveCheckpointFrom(paths.bestCheckpoint, model, optimizer, state);
          await saveModelAtomic(model, paths.model);
        }
      }
      if (step % config.checkpointEvery === 0 || step === total) await saveLast(paths, model, optimizer, state);
      opts.onProgress?.({
        unit: 'steps',
        done: step,
        total,
        fields: { loss, val: Number.isFinite(lastVal) ? lastVal : '--', 'nfe/step': nfe, lr },
      });
    }
    const completed = state.step >= total;
    // An interruption between checkpoints still leaves a checkpoint at the step reached.
    if (!completed) await saveLast(paths, model, optimizer, state);

    const wallSeconds = (performance.now() - started) / 1000;
    if (completed) {
      const records = await readMetrics(paths.metrics);
      if (opts.plots !== false) await writeTrainingPlots({ paths, records, model, bestCheckpoint: paths.bestCheckpoint, valSet, stats, physics: data.physics });
      await refuseRunaway(paths, records, config);
    }
    const result: TrainResult = {
      runDir: paths.dir,
      steps: state.step,
      completed,
      bestValMse: state.bestVal,
      bestStep: state.bestStep,
      lastLoss: state.lastLoss,
      recoveries: state.recoveries,
      wallSeconds,
      gridCoverage: model.runningStats()?.coverage ?? null,
    };
    await writeFileAtomic(paths.summary, `${JSON.stringify({ ...result, backend: opts.backend ?? tf.getBackend() }, null, 2)}\n`);
    return result;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** Normalisations with running statistics (which recalibration and freezing apply to). */
function hasRunningStats(config: TrainConfig): boolean {
  return hasRunningStatistics(config.model.norm);
}

/** The last step trained with batch statistics; later ones train through frozen running statistics. */
function freezeAfter(config: TrainConfig): number {
  return config.steps - Math.round(config.model.bnFreeze * config.steps);
}

/**
 * Precise BN before a validation (config.ts, `bnRecalibration`): running statistics recomputed from
 * `bnRecalibration` batches of full-span windows drawn from their own seeded stream (the training
 * batches stay the same with or without it; a resumed run draws the same windows).
 */
function recalibrate(model: DynamicsModel, trainSet: Trajectories, ts: Float64Array, config: TrainConfig, step: number): void {
  const K = config.model.bnRecalibration;
  if (K === 0 || !model.recalibrate || !hasRunningStats(config)) return;
  // Its own stream: the seed mixed with a constant (2^32 / golden ratio), then the step.
  const rng = new Rng(deriveSeed(config.seed ^ 0x9e3779b9, step));
  try {
    model.recalibrate(
      (function* () {
        for (let k = 0; k < K; k++) {
          const b = sampleWindows(trainSet, ts, config.batchSize, rng);
          yield { y0: b.y0, batch: b.batchSize, ts };
        }
      })(),
    );
  } catch (err) {
    // A solve the solver cannot finish leaves the average of the batches done; validation or the
    // next training step then meets the same failure and handles it.
    if (!isSolverFailure(err)) throw err;
  }
}

async function validate(model: DynamicsModel, valSet: Trajectories): Promise<{ mse: number; vpt: number; nfe: number }> {
  try {
    const v = await rolloutFigures(model, valSet);
    return { mse: v.mse, vpt: v.vpt, nfe: v.nfe };
  } catch (err) {
    // A long-horizon rollout that the solver cannot finish counts as a failed validation, not a crash.
    if (isSolverFailure(err)) return { mse: Number.NaN, vpt: Number.NaN, nfe: Number.NaN };
    throw err;
  }
}
