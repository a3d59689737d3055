/**
 * The training configuration: every choice a run depends on, resolved (defaults filled in) and
 * validated in one place. config.json records it in full; `--resume` checks that the resumed run
 * asks for the same thing.
 *
 * The defaults train a good pendulum model in a few minutes on two CPU cores (README, "Train").
 */
import { InvalidArgumentError } from '../util/errors.js';
import { OPTIMIZERS, type OptimizerName } from './optimizer.js';
import { SCHEDULES, type ScheduleName } from './schedule.js';

export type NormName = 'tabn' | 'minibatch' | 'popti' | 'pop' | 'none';
export const NORMS: readonly NormName[] = ['tabn', 'minibatch', 'popti', 'pop', 'none'];

export interface ModelSpec {
  readonly norm: NormName;
  readonly depth: number;
  readonly width: number;
  readonly activation: string;
  /**
   * TA-BN grid intervals M. TABN.md's model default is the paper's 100 (CIFAR-10 ablation); training
   * here defaults to one interval per sample interval of the window (M = W - 1), which puts a grid
   * point on every fixed solver step: with M = 100 and a 10-sample window, rk4 reaches only 35 % of
   * the grid and the end point, which every time past the window uses (clamping), is trained by one
   * stage evaluation per step. Measured on the default pendulum set: test rollout MSE 0.060 with
   * M = 9 against 0.14 with M = 100 (one seed each; README, "Training defaults").
   */
  readonly gridSize: number;
  /**
   * Running-statistics momentum of the normalisations (PyTorch's `momentum`; its default is 0.1).
   * Long rollouts are sensitive to the noise that a fast average leaves in the running statistics,
   * so training defaults to a slower one (measured: README, "Training defaults").
   */
  readonly bnMomentum: number;
}

export interface SolverSpec {
  readonly method: string;
  readonly rtol: number;
  readonly atol: number;
  /** Fixed step size for fixed-step methods; null: one step per sample interval. */
  readonly step: number | null;
  readonly adjoint: boolean;
}

export interface TrainConfig {
  readonly model: ModelSpec;
  readonly solver: SolverSpec;
  /**
   * Windows per step. Batch normalisation trains with batch statistics and evaluates with running
   * ones; the gap between the two fields shrinks like 1/B (the biased batch variance against the
   * unbiased running one, and the mean of 1/std_B against 1/std), and full-horizon rollouts turn that
   * small field error into phase drift. Measured with TA-BN on the default pendulum set (one seed
   * each, 1200 steps, W = 10, M = 9): test rollout MSE 0.060 at B = 128, 0.014 at B = 256, 0.029 at
   * B = 512 (800 steps); the defaults (B = 256, 2000 steps) gave 0.0133. `--norm none` reaches 0.0037
   * at B = 128 in 1200 steps. Hence a large default batch of short windows.
   */
  readonly batchSize: number;
  /** Window length W in samples (the final one when a curriculum is on). */
  readonly window: number;
  /**
   * Horizon curriculum: windows hold this length until `curriculumStart` of the steps, then grow
   * linearly to `window` by `curriculumEnd` (null: always `window`). Short windows first keep early
   * training stable; long ones later teach the long-horizon (phase) accuracy that full rollouts need.
   * The model's time span (TA-BN's grid) is that of the final window throughout.
   */
  readonly initialWindow: number | null;
  readonly curriculumStart: number;
  readonly curriculumEnd: number;
  /** Total optimisation steps. */
  readonly steps: number;
  /** The --epochs asked for (steps were derived from it), or null. */
  readonly epochs: number | null;
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly weightDecay: number;
  readonly schedule: ScheduleName;
  /** Linear warm-up steps of the cosine schedule. */
  readonly warmup: number;
  /** Final learning rate of the cosine schedule as a fraction of `lr`. */
  readonly minLrFactor: number;
  /** Global gradient-norm clip; 0 disables. */
  readonly clip: number;
  readonly seed: number;
  /** Steps between logged training records, validations and `last` checkpoints. */
  readonly logEvery: number;
  readonly valEvery: number;
  readonly checkpointEvery: number;
  /** Validation uses at most this many val trajectories (all when 0). */
  readonly valTrajectories: number;
  /** Recovery from divergence: how many times, and the factor applied to the learning rate each time. */
  readonly maxRecoveries: number;
  readonly recoveryLrFactor: number;
}

export const DEFAULT_CONFIG: TrainConfig = {
  model: { norm: 'tabn', depth: 2, width: 64, activation: 'tanh', gridSize: 9, bnMomentum: 0.1 },
  solver: { method: 'rk4', rtol: 1e-5, atol: 1e-6, step: null, adjoint: false },
  batchSize: 256,
  window: 10,
  initialWindow: null,
  curriculumStart: 0,
  curriculumEnd: 0.5,
  steps: 2000,
  epochs: null,
  optimizer: 'adam',
  lr: 3e-3,
  weightDecay: 0,
  schedule: 'cosine',
  warmup: 50,
  minLrFactor: 0.02,
  clip: 1,
  seed: 0,
  logEvery: 10,
  valEvery: 50,
  checkpointEvery: 100,
  valTrajectories: 0,
  maxRecoveries: 3,
  recoveryLrFactor: 0.5,
};

/** The window length at a step (1-based) under the horizon curriculum. */
export function windowAt(c: Pick<TrainConfig, 'window' | 'initialWindow' | 'curriculumStart' | 'curriculumEnd' | 'steps'>, step: number): number {
  if (c.initialWindow === null || c.initialWindow >= c.window) return c.window;
  const from = Math.round(c.curriculumStart * c.steps);
  const span = Math.max(1, Math.round(c.curriculumEnd * c.steps) - from);
  const progress = Math.min(1, Math.max(0, (step - 1 - from) / span));
  return Math.round(c.initialWindow + (c.window - c.initialWindow) * progress);
}

/** Steps per epoch: windows covering each training sample once on average, ceil(N T / (B W)). */
export function stepsPerEpoch(trainTrajectories: number, samples: number, batchSize: number, window: number): number {
  return Math.max(1, Math.ceil((trainTrajectories * samples) / (batchSize * window)));
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`--${name} must be a positive integer, got ${v}`);
}

function positive(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`--${name} must be a positive number, got ${v}`);
}

function nonNegative(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`--${name} must be zero or positive, got ${v}`);
}

/** Validates a configuration (the CLI's and the library's inputs alike). */
export function validateConfig(c: TrainConfig): TrainConfig {
  if (!NORMS.includes(c.model.norm)) throw new InvalidArgumentError(`unknown normalisation '${c.model.norm}'`, `use one of: ${NORMS.join(', ')}`);
  positiveInt('depth', c.model.depth);
  positiveInt('width', c.model.width);
  positiveInt('grid-size', c.model.gridSize);
  if (!(c.model.bnMomentum > 0 && c.model.bnMomentum <= 1)) throw new InvalidArgumentError(`--bn-momentum must be in (0, 1], got ${c.model.bnMomentum}`);
  positive('rtol', c.solver.rtol);
  positive('atol', c.solver.atol);
  if (c.solver.step !== null) positive('step', c.solver.step);
  positiveInt('batch-size', c.batchSize);
  if (c.batchSize < 2 && (c.model.norm === 'minibatch' || c.model.norm === 'tabn' || c.model.norm === 'pop' || c.model.norm === 'popti')) {
    throw new InvalidArgumentError(`--batch-size ${c.batchSize} cannot train batch normalisation ('${c.model.norm}'): the batch variance of one sample is zero`, 'use --batch-size 2 or more (32 is the default)');
  }
  if (!Number.isInteger(c.window) || c.window < 2) throw new InvalidArgumentError(`--window must be an integer of at least 2, got ${c.window}`);
  if (c.initialWindow !== null && (!Number.isInteger(c.initialWindow) || c.initialWindow < 2 || c.initialWindow > c.window)) {
    throw new InvalidArgumentError(`--initial-window must be an integer from 2 to --window (${c.window}), got ${c.initialWindow}`);
  }
  if (!(c.curriculumStart >= 0 && c.curriculumEnd > c.curriculumStart && c.curriculumEnd <= 1)) {
    throw new InvalidArgumentError(`the curriculum must run within the steps: 0 <= --curriculum-start (${c.curriculumStart}) < --curriculum-end (${c.curriculumEnd}) <= 1`);
  }
  positiveInt('steps', c.steps);
  if (!OPTIMIZERS.includes(c.optimizer)) throw new InvalidArgumentError(`unknown optimizer '${c.optimizer}'`, `use one of: ${OPTIMIZERS.join(', ')}`);
  positive('lr', c.lr);
  nonNegative('weight-decay', c.weightDecay);
  if (!SCHEDULES.includes(c.schedule)) throw new InvalidArgumentError(`unknown schedule '${c.schedule}'`, `use one of: ${SCHEDULES.join(', ')}`);
  if (!Number.isInteger(c.warmup) || c.warmup < 0) throw new InvalidArgumentError(`--warmup must be a non-negative integer, got ${c.warmup}`);
  if (!(c.minLrFactor >= 0 && c.minLrFactor <= 1)) throw new InvalidArgumentError(`the minimum learning-rate factor must be in [0, 1], got ${c.minLrFactor}`);
  nonNegative('clip', c.clip);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) throw new InvalidArgumentError(`--seed must be an integer in [0, 2^32), got ${c.seed}`);
  positiveInt('log-every', c.logEvery);
  positiveInt('val-every', c.valEvery);
  positiveInt('checkpoint-every', c.checkpointEvery);
  if (!Number.isInteger(c.valTrajectories) || c.valTrajectories < 0) throw new InvalidArgumentError(`--val-trajectories must be a non-negative integer, got ${c.valTrajectories}`);
  if (!Number.isInteger(c.maxRecoveries) || c.maxRecoveries < 0) throw new InvalidArgumentError(`--max-recoveries must be a non-negative integer, got ${c.maxRecoveries}`);
  if (!(c.recoveryLrFactor > 0 && c.recoveryLrFactor < 1)) throw new InvalidArgumentError(`the recovery learning-rate factor must be in (0, 1), got ${c.recoveryLrFactor}`);
  return c;
}

/**
 * The parts of two configurations that must agree for `--resume` (everything that changes the
 * numbers). Returns the differing keys.
 */
export function configDifferences(a: TrainConfig, b: TrainConfig): string[] {
  const flat = (c: TrainConfig): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (v: unknown, p: string): void => {
      if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
      else out[p] = JSON.stringify(v);
    };
    walk(c, '');
    return out;
  };
  const fa = flat(a);
  const fb = flat(b);
  return [...new Set([...Object.keys(fa), ...Object.keys(fb)])].filter((k) => fa[k] !== fb[k]);
}
