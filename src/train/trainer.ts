/**
 * The training loop: windows from the training split, MSE in normalised coordinates, an optimizer
 * step, periodic full-horizon validation on the val split, checkpoints (`last` every N steps, `best`
 * by validation MSE), recovery from divergence, and exact resume.
 *
 * Determinism: every random choice comes from one seeded Rng whose state is checkpointed with the
 * model, the optimizer moments and counters, the learning-rate scale and the running log
 * accumulators; metrics.jsonl holds no wall-clock values. The same command and seed write the same
 * metrics.jsonl, and a run interrupted and resumed writes the same file as one that was not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { pathExists } from '../util/fs.js';
import { randomBytes } from 'node:crypto';
import { Rng, deriveSeed, type RngState } from '../util/rng.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InvalidArgumentError, PhysodeError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { version } from '../util/version.js';
import { checkStats, type NormStats } from './normalise.js';
import { prepareTrajectories, selectTrajectories, type Trajectories } from './trajectories.js';
import { sampleWindows, windowTimes } from './windows.js';
import { rolloutFigures } from './rollout-figures.js';
import { MetricsLog, readMetrics, type MetricRecord } from './metrics-log.js';
import { runPaths, type RunPaths } from './run-folder.js';
import { saveCheckpoint, loadCheckpoint, hasCheckpoint, type JsonValue, type Checkpoint } from './checkpoint.js';
import { Optimizer, clipByGlobalNorm } from './optimizer.js';
import { scheduleFactor } from './schedule.js';
import { configDifferences, validateConfig, windowAt, type TrainConfig } from './config.js';
import type { DataSource } from './training-data.js';
import type { DynamicsModel, ModelBlueprint, ModelFactory } from './model-port.js';
import { writeTrainingPlots } from './training-plots.js';

/** Training could not go on (diverged beyond the allowed recoveries). Exit code non-zero. */
export class TrainingDivergedError extends PhysodeError {}

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

interface LoopState {
  step: number;
  rng: Rng;
  lrScale: number;
  recoveries: number;
  bestVal: number;
  bestStep: number;
  /** Accumulators of the current logging interval. */
  acc: { loss: number; nfe: number; gradNorm: number; count: number };
  lastLoss: number;
}

/** The solver's own failures (step size underflow, step limit) are divergence signals. */
function isSolverFailure(err: unknown): boolean {
  return err instanceof Error && /SolverError|StepSize|MaxSteps/i.test(err.name);
}


/** Saves the model into `dir` through a temporary folder and a rename, so `dir` is never half-written. */
async function saveModelAtomic(model: DynamicsModel, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${randomBytes(3).toString('hex')}`;
  const old = `${dir}.old-${randomBytes(3).toString('hex')}`;
  await rm(tmp, { recursive: true, force: true });
  await model.save(tmp);
  const had = await pathExists(dir);
  if (had) await rename(dir, old);
  await rename(tmp, dir);
  if (had) await rm(old, { recursive: true, force: true });
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

  await mkdir(paths.dir, { recursive: true });
  const log = new MetricsLog(paths.metrics);
  const model = await opts.factory.create(blueprint);
  const optimizer = new Optimizer({ name: config.optimizer, weightDecay: config.weightDecay }, model.variables);
  const state: LoopState = {
    step: 0,
    rng: new Rng(config.seed),
    lrScale: 1,
    recoveries: 0,
    bestVal: Number.POSITIVE_INFINITY,
    bestStep: -1,
    acc: { loss: 0, nfe: 0, gradNorm: 0, count: 0 },
    lastLoss: Number.NaN,
  };

  try {
    if (opts.resume) {
      await checkResumable(paths, config);
      const ckpt = await loadCheckpoint(paths.lastCheckpoint);
      restore(ckpt, model, optimizer, state);
      await log.truncateAfter(ckpt.step);
      opts.onEvent?.(`resuming from step ${ckpt.step}`);
    } else {
      await refuseExisting(paths);
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
    if (completed && opts.plots !== false) {
      await writeTrainingPlots({ paths, records: await readMetrics(paths.metrics), model, bestCheckpoint: paths.bestCheckpoint, valSet, stats, physics: data.physics });
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
  return config.model.norm === 'tabn' || config.model.norm === 'pop' || config.model.norm === 'popti';
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

async function refuseExisting(paths: RunPaths): Promise<void> {
  if (await hasCheckpoint(paths.lastCheckpoint)) {
    throw new InvalidArgumentError(`run folder ${paths.dir} already holds a run`, 'add --resume to continue it, or choose another --out');
  }
  if (await pathExists(paths.dir)) {
    const entries = (await readdir(paths.dir)).filter((e) => !e.startsWith('.'));
    if (entries.length > 0) throw new InvalidArgumentError(`run folder ${paths.dir} is not empty`, 'choose another --out (or remove the folder)');
  }
}

async function checkResumable(paths: RunPaths, config: TrainConfig): Promise<void> {
  if (!(await hasCheckpoint(paths.lastCheckpoint))) {
    throw new InvalidArgumentError(`nothing to resume in ${paths.dir} (no checkpoints/last)`, 'start the run without --resume');
  }
  const { readFile } = await import('node:fs/promises');
  let recorded: TrainConfig;
  try {
    recorded = (JSON.parse(await readFile(paths.config, 'utf8')) as { config: TrainConfig }).config;
  } catch {
    throw new InvalidArgumentError(`${paths.config} is missing or not JSON`, 'the run folder is damaged; start a new run');
  }
  const diff = configDifferences(recorded, config);
  if (diff.length > 0) {
    throw new InvalidArgumentError(`--resume with a different configuration (${diff.join(', ')})`, 'resume with the same options as the original command (see config.json)');
  }
}

function checkpointOf(model: DynamicsModel, optimizer: Optimizer, state: LoopState): Checkpoint {
  const opt = optimizer.state();
  return {
    step: state.step,
    tensors: [...model.getState(), ...opt.tensors],
    state: {
      rng: [...state.rng.state()],
      optimizerIterations: opt.iterations,
      lrScale: state.lrScale,
      recoveries: state.recoveries,
      bestVal: Number.isFinite(state.bestVal) ? state.bestVal : null,
      bestStep: state.bestStep,
      acc: { ...state.acc },
      lastLoss: Number.isFinite(state.lastLoss) ? state.lastLoss : null,
    },
  };
}

async function saveCheckpointFrom(dir: string, model: DynamicsModel, optimizer: Optimizer, state: LoopState): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveCheckpoint(dir, checkpointOf(model, optimizer, state));
}

async function saveLast(paths: RunPaths, model: DynamicsModel, optimizer: Optimizer, state: LoopState): Promise<void> {
  await saveCheckpointFrom(paths.lastCheckpoint, model, optimizer, state);
}

function restore(ckpt: Checkpoint, model: DynamicsModel, optimizer: Optimizer, state: LoopState): void {
  const s = ckpt.state as Record<string, JsonValue>;
  model.setState(ckpt.tensors.filter((t) => !t.name.startsWith('optimizer/')));
  optimizer.setState(Number(s.optimizerIterations), ckpt.tensors.filter((t) => t.name.startsWith('optimizer/')));
  state.step = ckpt.step;
  state.rng = new Rng(s.rng as unknown as RngState);
  state.lrScale = Number(s.lrScale);
  state.recoveries = Number(s.recoveries);
  state.bestVal = s.bestVal === null ? Number.POSITIVE_INFINITY : Number(s.bestVal);
  state.bestStep = Number(s.bestStep);
  const acc = s.acc as Record<string, number>;
  state.acc = { loss: acc.loss, nfe: acc.nfe, gradNorm: acc.gradNorm, count: acc.count };
  state.lastLoss = s.lastLoss === null ? Number.NaN : Number(s.lastLoss);
}

/**
 * Divergence policy: restore the last good checkpoint, scale the learning rate down, and go on; after
 * `maxRecoveries` recoveries, stop with TrainingDivergedError. The checkpoints and model/ on disk
 * are only ever written after good steps, so nothing good is overwritten.
 */
async function recover(paths: RunPaths, model: DynamicsModel, optimizer: Optimizer, state: LoopState, config: TrainConfig, log: MetricsLog, step: number, reason: string, onEvent?: (m: string) => void): Promise<void> {
  if (state.recoveries >= config.maxRecoveries) {
    throw new TrainingDivergedError(
      `training diverged at step ${step} (${reason}) after ${state.recoveries} recoveries with the learning rate lowered to ${config.lr * state.lrScale}`,
      `the best model so far is kept in ${paths.model}; try a smaller --lr, --clip 1, a smaller --window, or --method dopri5 with looser --rtol`,
    );
  }
  const recoveries = state.recoveries + 1;
  const lrScale = state.lrScale * config.recoveryLrFactor;
  const ckpt = await loadCheckpoint(paths.lastCheckpoint);
  restore(ckpt, model, optimizer, state);
  state.recoveries = recoveries;
  state.lrScale = lrScale;
  await log.truncateAfter(ckpt.step);
  await log.append({ step: ckpt.step, kind: 'event', event: 'recovery', atStep: step, reason, recoveries, lrScale });
  // Record the lowered rate at once, so a kill now does not replay the divergence with the old one.
  await saveLast(paths, model, optimizer, state);
  onEvent?.(`step ${step}: ${reason}; restored the checkpoint of step ${ckpt.step} and lowered the learning rate to ${config.lr * lrScale} (recovery ${recoveries} of at most ${config.maxRecoveries})`);
}
