/**
 * What a training checkpoint holds and how it is written and read back: the loop's state (step, the
 * seeded Rng, learning-rate scale, recoveries, best validation, log accumulators) next to the model
 * and optimizer tensors. Also the checks before a run starts (an empty folder) or resumes (the same
 * configuration and dataset as recorded in config.json), and the atomic save of model/.
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { withCurrentModelNames } from './run-config.js';
import { randomBytes } from 'node:crypto';
import { pathExists } from '../util/fs.js';
import { Rng, type RngState } from '../util/rng.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { RunPaths } from './run-folder.js';
import { saveCheckpoint, hasCheckpoint, type JsonValue, type Checkpoint } from './checkpoint.js';
import type { Optimizer } from './optimizer.js';
import { configDifferences, type TrainConfig } from './config.js';
import type { DynamicsModel } from './model-port.js';

/** The training loop's state besides the model and optimizer tensors. */
export interface LoopState {
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

/** The state of a run at step 0. */
export function initialLoopState(seed: number): LoopState {
  return {
    step: 0,
    rng: new Rng(seed),
    lrScale: 1,
    recoveries: 0,
    bestVal: Number.POSITIVE_INFINITY,
    bestStep: -1,
    acc: { loss: 0, nfe: 0, gradNorm: 0, count: 0 },
    lastLoss: Number.NaN,
  };
}

export function checkpointOf(model: DynamicsModel, optimizer: Optimizer, state: LoopState): Checkpoint {
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

export async function saveCheckpointFrom(dir: string, model: DynamicsModel, optimizer: Optimizer, state: LoopState): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveCheckpoint(dir, checkpointOf(model, optimizer, state));
}

export async function saveLast(paths: RunPaths, model: DynamicsModel, optimizer: Optimizer, state: LoopState): Promise<void> {
  await saveCheckpointFrom(paths.lastCheckpoint, model, optimizer, state);
}

/** Puts a checkpoint back into the model, the optimizer and the loop state. */
export function restore(ckpt: Checkpoint, model: DynamicsModel, optimizer: Optimizer, state: LoopState): void {
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

/** Saves the model into `dir` through a temporary folder and a rename, so `dir` is never half-written. */
export async function saveModelAtomic(model: Pick<DynamicsModel, 'save'>, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${randomBytes(3).toString('hex')}`;
  const old = `${dir}.old-${randomBytes(3).toString('hex')}`;
  await rm(tmp, { recursive: true, force: true });
  await model.save(tmp);
  const had = await pathExists(dir);
  if (had) await rename(dir, old);
  await rename(tmp, dir);
  if (had) await rm(old, { recursive: true, force: true });
}

/** A new run needs an empty (or absent) run folder. */
export async function refuseExisting(paths: RunPaths): Promise<void> {
  if (await hasCheckpoint(paths.lastCheckpoint)) {
    throw new InvalidArgumentError(`run folder ${paths.dir} already holds a run`, 'add --resume to continue it, or choose another --out');
  }
  if (await pathExists(paths.dir)) {
    const entries = (await readdir(paths.dir)).filter((e) => !e.startsWith('.'));
    if (entries.length > 0) throw new InvalidArgumentError(`run folder ${paths.dir} is not empty`, 'choose another --out (or remove the folder)');
  }
}

/**
 * A resumed run continues only with what it started with: a checkpoint to resume from, the same
 * configuration, and the same dataset (the manifest's SHA-256 recorded in config.json).
 */
export async function checkResumable(paths: RunPaths, config: TrainConfig, datasetSha256: string): Promise<void> {
  if (!(await hasCheckpoint(paths.lastCheckpoint))) {
    throw new InvalidArgumentError(`nothing to resume in ${paths.dir} (no checkpoints/last)`, 'start the run without --resume');
  }
  let recorded: { config: TrainConfig; dataset?: { manifestSha256?: unknown; path?: unknown } };
  try {
    recorded = JSON.parse(await readFile(paths.config, 'utf8')) as typeof recorded;
  } catch {
    throw new InvalidArgumentError(`${paths.config} is missing or not JSON`, 'the run folder is damaged; start a new run');
  }
  const diff = configDifferences(withCurrentModelNames(recorded.config), config);
  if (diff.length > 0) {
    throw new InvalidArgumentError(`--resume with a different configuration (${diff.join(', ')})`, 'resume with the same options as the original command (see config.json)');
  }
  const trainedOn = recorded.dataset?.manifestSha256;
  if (trainedOn !== datasetSha256) {
    const where = typeof recorded.dataset?.path === 'string' ? ` (${recorded.dataset.path})` : '';
    throw new InvalidArgumentError(
      `--resume with a different dataset: the run was trained on another one${where}, whose manifest checksum ${String(trainedOn).slice(0, 12)}... differs from ${datasetSha256.slice(0, 12)}...`,
      'resume with the dataset the run started on, or start a new run on this dataset: drop --resume and choose another --out',
    );
  }
}
