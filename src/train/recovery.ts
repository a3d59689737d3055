/**
 * Divergence during training and what the trainer does about it: a non-finite loss or gradient, or a
 * solver failure, restores the last good checkpoint and lowers the learning rate (at most
 * `maxRecoveries` times); a training that ends with its loss far above where it started is a
 * failure too, not a result.
 */
import { PhysodeError } from '../util/errors.js';
import { pathExists } from '../util/fs.js';
import { SolverError } from '../ode/errors.js';
import type { RunPaths } from './run-folder.js';
import { loadCheckpoint } from './checkpoint.js';
import type { Optimizer } from './optimizer.js';
import type { TrainConfig } from './config.js';
import type { DynamicsModel } from './model-port.js';
import type { MetricRecord, MetricsLog } from './metrics-log.js';
import { restore, saveLast, type LoopState } from './training-state.js';

/** Training could not go on (diverged beyond the allowed recoveries), or ended diverged. Exit code non-zero. */
export class TrainingDivergedError extends PhysodeError {}

/** The solver's own failures (step size underflow, step limit, a NaN/Inf state) are divergence signals. */
export function isSolverFailure(err: unknown): boolean {
  return err instanceof SolverError;
}

/** Where the best model is, in words, for messages: it exists only once a validation went well. */
async function bestModelNote(paths: RunPaths): Promise<string> {
  return (await pathExists(paths.model)) ? `the best model so far is kept in ${paths.model}` : 'no model was saved (no validation finished with a finite error)';
}

/**
 * Divergence policy: restore the last good checkpoint, scale the learning rate down, and go on; after
 * `maxRecoveries` recoveries, stop with TrainingDivergedError. The checkpoints and model/ on disk
 * are only ever written after good steps, so nothing good is overwritten.
 */
export async function recover(paths: RunPaths, model: DynamicsModel, optimizer: Optimizer, state: LoopState, config: TrainConfig, log: MetricsLog, step: number, reason: string, onEvent?: (m: string) => void): Promise<void> {
  if (state.recoveries >= config.maxRecoveries) {
    throw new TrainingDivergedError(
      `training diverged at step ${step} (${reason}) after ${state.recoveries} recoveries with the learning rate lowered to ${config.lr * state.lrScale}`,
      `${await bestModelNote(paths)}; try a smaller --lr, --clip 1, a smaller --window, or --method dopri5 with looser --rtol`,
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

/**
 * A final logged training loss this many times the first one means the optimisation ran away (a
 * learning rate far too large) even though every step stayed finite.
 */
export const DIVERGED_LOSS_RATIO = 100;

/**
 * Whether the logged training losses ran away: the last one non-finite, or above
 * DIVERGED_LOSS_RATIO times the first. Returns the reason in words, or null.
 */
export function lossRunaway(records: readonly MetricRecord[]): string | null {
  const losses = records.filter((r) => r.kind === 'train' && typeof r.loss === 'number').map((r) => r.loss as number);
  if (losses.length < 2) return null;
  const first = losses[0];
  const last = losses[losses.length - 1];
  if (!Number.isFinite(last)) return `the final training loss is ${last}`;
  if (Number.isFinite(first) && last > DIVERGED_LOSS_RATIO * first) {
    return `the final training loss ${last.toExponential(3)} is ${(last / first).toExponential(2)} times the first (${first.toExponential(3)})`;
  }
  return null;
}

/** Refuses a finished run whose loss ran away (lossRunaway): its model is no result. */
export async function refuseRunaway(paths: RunPaths, records: readonly MetricRecord[], config: TrainConfig): Promise<void> {
  const reason = lossRunaway(records);
  if (reason === null) return;
  throw new TrainingDivergedError(`training diverged: ${reason} (learning rate ${config.lr})`, `${await bestModelNote(paths)}; train again with a smaller --lr (e.g. ${config.lr / 10}) and --clip 1`);
}
