/**
 * The training configuration: every choice a run depends on, resolved (defaults filled in) and
 * validated in one place. config.json records it in full; `--resume` checks that the resumed run
 * asks for the same thing.
 *
 * The defaults train a good pendulum model in a few minutes on two CPU cores (README, "Train").
 */
import { InvalidArgumentError } from '../util/errors.js';
import { NORM_KINDS, normDescriptor, type NormKind } from '../nn/registry.js';
import { OPTIMIZERS, type OptimizerName } from './optimizer.js';
import { SCHEDULES, type ScheduleName } from './schedule.js';

export type NormName = NormKind;
export const NORMS: readonly NormName[] = NORM_KINDS;

export interface ModelSpec {
  readonly norm: NormName;
  readonly depth: number;
  readonly width: number;
  readonly activation: string;
  /**
   * TA-BN grid intervals M over the window's span. TABN.md's model default is the paper's 100
   * (CIFAR-10 ablation); training here defaults to M = 1. A full-horizon rollout runs almost
   * entirely past the window, where TA-BN clamps to the end point (TABN.md), so the end point's γ, β
   * and statistics decide it; only evaluations in the last grid interval train them, with weight
   * (t − t*_(M−1)) / h. With M = 1 every evaluation after t0 does. Measured on the default pendulum
   * set (one seed each, 2000 steps, W = 10; README, "Training defaults"): test rollout MSE 0.0133 at
   * M = 9, 0.0102 at M = 3, 0.0099 at M = 1 (with precise BN); M = 100 was worse than M = 9
   * (0.14 against 0.060 at 1200 steps). Replacing the end point's values by its neighbour's (M = 9)
   * moved the test MSE from 0.011 to 0.038, and training through frozen statistics, which works at
   * M = 1, ruined M = 3 and M = 9 (0.09): the end point is too weakly tied to the loss there.
   */
  readonly gridIntervals: number;
  /**
   * Running-statistics momentum of the normalisations (PyTorch's `momentum`; its default is 0.1).
   * Long rollouts are sensitive to the noise that a fast average leaves in the running statistics;
   * `bnRecalibration` replaces the average by a precise one before every validation (0.02 instead of
   * 0.1 did not help: README, "Training defaults").
   */
  readonly momentum: number;
  /**
   * "Precise BN" (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", arXiv:2105.07576, 2021, §3):
   * before every validation (so also at the end, and in every saved model) the running statistics
   * are recomputed with the current weights as the cumulative average (PyTorch momentum=None) of
   * this many training-mode forward solves of `batchSize` windows, without gradients. 0: keep the
   * moving average. Measured on the default pendulum set: README, "Training defaults".
   */
  readonly bnRecalibration: number;
  /**
   * Share of the steps, at the end, trained through frozen running statistics ("FrozenBN"; Wu &
   * Johnson 2021, §5.2: population statistics in training remove the train/test inconsistency):
   * at the switch the statistics are recalibrated (precise BN), then the steps train the very
   * function that evaluation uses. 0: batch statistics throughout (the paper's training).
   */
  readonly bnFreeze: number;
}

export interface SolverSpec {
  readonly method: string;
  readonly rtol: number;
  readonly atol: number;
  /** Fixed step size for fixed-step methods; null: one step per sample interval. */
  readonly step: number | null;
  readonly adjoint: boolean;
  /**
   * Adaptive methods: the step limit of each training solve (null: the solver's default, 10,000).
   * A solve past it is a divergence signal (recovery, then failure): it bounds the cost of a field
   * that turns stiff during training.
   */
  readonly maxSteps?: number | null;
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
   * at B = 128 in 1200 steps. Hence a large default batch of short windows. The gap itself: on the
   * same windows the model of that run had window MSE 6.0e-3 with batch statistics and 1.4e-3 with
   * its running ones; `bnFreeze` trains the last steps through the latter (window MSE 1.5e-4), and
   * with M = 1 and precise BN the last half frozen gave 0.0047, 0.0037, 0.0066 (seeds 0, 1, 2); the last
   * quarter gave 0.0040, 0.0043, 0.026 (seed 2 left its batch-statistics phase in a poor state).
   * M = 9 with a frozen quarter gave 0.036 (best checkpoint, from before the freeze, 0.014).
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
  model: { norm: 'tabn', depth: 2, width: 64, activation: 'tanh', gridIntervals: 1, momentum: 0.1, bnRecalibration: 32, bnFreeze: 0.5 },
  solver: { method: 'rk4', rtol: 1e-5, atol: 1e-6, step: null, maxSteps: null, adjoint: false },
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
  positiveInt('grid-intervals', c.model.gridIntervals);
  if (!(c.model.momentum > 0 && c.model.momentum <= 1)) throw new InvalidArgumentError(`--momentum must be in (0, 1], got ${c.model.momentum}`);
  if (!Number.isInteger(c.model.bnRecalibration) || c.model.bnRecalibration < 0) throw new InvalidArgumentError(`--bn-recalibration must be a non-negative integer (batches), got ${c.model.bnRecalibration}`);
  if (!(c.model.bnFreeze >= 0 && c.model.bnFreeze < 1)) throw new InvalidArgumentError(`--bn-freeze must be a fraction in [0, 1), got ${c.model.bnFreeze}`);
  positive('rtol', c.solver.rtol);
  positive('atol', c.solver.atol);
  if (c.solver.step !== null) positive('step', c.solver.step);
  if (c.solver.maxSteps != null && !(Number.isInteger(c.solver.maxSteps) && c.solver.maxSteps > 0)) {
    throw new InvalidArgumentError(`--max-steps must be a positive integer, got ${c.solver.maxSteps}`, 'e.g. --max-steps 500');
  }
  positiveInt('batch-size', c.batchSize);
  if (c.batchSize < normDescriptor(c.model.norm).minTrainBatch) {
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
