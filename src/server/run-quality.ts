/**
 * Whether a run's model beats the simplest forecast. Training validates by rolling the model out on
 * the validation split and taking the mean squared error in normalised coordinates (each state
 * component minus the training mean, divided by the training std: metrics.jsonl's `rolloutMse`
 * records, summary.json's `bestValMse`). Predicting the mean at every sample scores about 1 there,
 * so a validation MSE of 1 or more means the model is no better than predicting the mean.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEntry } from './catalog.js';

/** MSE of predicting the mean, in normalised coordinates (the variance of a standardised variable). */
export const MEAN_BASELINE_MSE = 1;

export interface RunQuality {
  /** Validation MSE of the model the server loads (the best validation), or null when none recorded. */
  readonly valMse: number | null;
  /** Step of that validation, or null. */
  readonly valStep: number | null;
  /** The last validation's MSE, or null. */
  readonly lastValMse: number | null;
  readonly baselineMse: number;
  /** 'no-better-than-mean', 'better-than-mean', or 'unknown' (no validation recorded). */
  readonly verdict: 'no-better-than-mean' | 'better-than-mean' | 'unknown';
  /** One sentence for the viewer. */
  readonly message: string;
}

interface ValRecord {
  readonly step: number;
  readonly mse: number;
}

/** The `kind: 'val'` records of metrics.jsonl with a finite `rolloutMse` (torn lines skipped). */
async function validations(run: RunEntry): Promise<ValRecord[]> {
  let text: string;
  try {
    text = await readFile(join(run.dir, 'metrics.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: ValRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"val"')) continue;
    try {
      const r = JSON.parse(line) as { kind?: unknown; step?: unknown; rolloutMse?: unknown };
      if (r.kind === 'val' && typeof r.step === 'number' && typeof r.rolloutMse === 'number' && Number.isFinite(r.rolloutMse)) out.push({ step: r.step, mse: r.rolloutMse });
    } catch {
      // a torn line
    }
  }
  return out;
}

const fmt = (x: number): string => (x < 0.01 ? x.toExponential(1) : x.toPrecision(2));

/** What the run's records say about its model against predicting the mean. */
export async function runQuality(run: RunEntry): Promise<RunQuality> {
  const vals = await validations(run);
  if (vals.length === 0) {
    return { valMse: null, valStep: null, lastValMse: null, baselineMse: MEAN_BASELINE_MSE, verdict: 'unknown', message: 'no validation recorded yet: the model has not been measured against the data' };
  }
  const best = vals.reduce((a, v) => (v.mse < a.mse ? v : a));
  const last = vals[vals.length - 1];
  const worse = last.step !== best.step && last.mse > best.mse ? ` (the last validation, step ${last.step}, was worse: ${fmt(last.mse)})` : '';
  if (best.mse >= MEAN_BASELINE_MSE) {
    return {
      valMse: best.mse,
      valStep: best.step,
      lastValMse: last.mse,
      baselineMse: MEAN_BASELINE_MSE,
      verdict: 'no-better-than-mean',
      message: `this model is no better than predicting the mean: validation MSE ${fmt(best.mse)} at step ${best.step}, predicting the mean scores about ${MEAN_BASELINE_MSE}${worse}`,
    };
  }
  return {
    valMse: best.mse,
    valStep: best.step,
    lastValMse: last.mse,
    baselineMse: MEAN_BASELINE_MSE,
    verdict: 'better-than-mean',
    message: `validation MSE ${fmt(best.mse)} at step ${best.step} (predicting the mean scores about ${MEAN_BASELINE_MSE})${worse}`,
  };
}
