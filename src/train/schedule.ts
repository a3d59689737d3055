/**
 * Learning-rate schedules, as a factor of the base rate at each step (1-based).
 * - constant: 1.
 * - cosine: linear warm-up over the first `warmup` steps, then half a cosine from 1 down to
 *   `minFactor` at the last step (Loshchilov & Hutter, "SGDR", ICLR 2017, without restarts).
 * - step: halves the rate at 50 % and 75 % of the steps.
 */
import { InvalidArgumentError } from '../util/errors.js';

export type ScheduleName = 'constant' | 'cosine' | 'step';
export const SCHEDULES: readonly ScheduleName[] = ['constant', 'cosine', 'step'];

export interface ScheduleOptions {
  readonly name: ScheduleName;
  readonly totalSteps: number;
  readonly warmup: number;
  readonly minFactor: number;
}

export function scheduleFactor(o: ScheduleOptions, step: number): number {
  if (!SCHEDULES.includes(o.name)) throw new InvalidArgumentError(`unknown schedule '${o.name}'`, `use one of: ${SCHEDULES.join(', ')}`);
  if (o.name === 'constant') return 1;
  if (o.name === 'step') return step > 0.75 * o.totalSteps ? 0.25 : step > 0.5 * o.totalSteps ? 0.5 : 1;
  if (o.warmup > 0 && step <= o.warmup) return step / o.warmup;
  const span = Math.max(1, o.totalSteps - o.warmup);
  const progress = Math.min(1, Math.max(0, (step - o.warmup) / span));
  return o.minFactor + (1 - o.minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
