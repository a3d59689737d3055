/**
 * Whether a run's model learned the dynamics, by the rule `physode train` and `eval` apply
 * (src/train/metrics.ts: its validation MSE under LEARNED_MSE_RATIO of the mean predictor's).
 * Training validates by rolling the model out on the validation split and taking the mean squared
 * error in normalised coordinates (metrics.jsonl's `rolloutMse` records). The mean predictor's MSE
 * on the same split is in trained.json once training finished; before that, about 1 (the
 * variance of a standardised variable) stands in for it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEntry } from './catalog.js';
import { compareWithMeanPredictor, meanPredictorWarning } from '../train/metrics.js';
import { readTrainedMarker } from '../train/run-folder.js';

/** MSE of predicting the mean in normalised coordinates when the run does not record it (the variance of a standardised variable). */
export const MEAN_BASELINE_MSE = 1;

export interface RunQuality {
  /** Validation MSE of the model the server loads (the best validation), or null when none recorded. */
  readonly valMse: number | null;
  /** Step of that validation, or null. */
  readonly valStep: number | null;
  /** The last validation's MSE, or null. */
  readonly lastValMse: number | null;
  readonly baselineMse: number;
  /**
   * 'learned' (under LEARNED_MSE_RATIO of the mean predictor's MSE), 'barely-better-than-mean'
   * (better, but by less than that), 'no-better-than-mean', or 'unknown' (no validation recorded).
   */
  readonly verdict: 'learned' | 'barely-better-than-mean' | 'no-better-than-mean' | 'unknown';
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

/** A run of a continuous-depth task (src/tasks/fit.ts), which validates by its task's metric, not by rollout MSE. */
function isTaskRun(run: RunEntry): boolean {
  return (run.config as { format?: unknown } | undefined)?.format === 'physode-task-run';
}

/** What the run's records say about its model against predicting the mean. */
export async function runQuality(run: RunEntry): Promise<RunQuality> {
  const vals = await validations(run);
  const marker = await readTrainedMarker(run.dir).catch(() => null);
  const baselineMse = marker?.meanPredictorValMse ?? MEAN_BASELINE_MSE;
  if (vals.length === 0) {
    const message = isTaskRun(run)
      ? 'a next-state run: its validation is the one-step MAE (metrics.jsonl); `physode eval` compares it with predicting the mean and predicting no change'
      : 'no validation recorded yet: the model has not been measured against the data';
    return { valMse: null, valStep: null, lastValMse: null, baselineMse, verdict: 'unknown', message };
  }
  const best = vals.reduce((a, v) => (v.mse < a.mse ? v : a));
  const last = vals[vals.length - 1];
  const worse = last.step !== best.step && last.mse > best.mse ? ` (the last validation, step ${last.step}, was worse: ${fmt(last.mse)})` : '';
  const about = marker ? '' : 'about ';
  const c = compareWithMeanPredictor(best.mse, baselineMse);
  const warning = meanPredictorWarning(c, `validation MSE (step ${best.step})`);
  const verdict = c.learned ? 'learned' : c.ratio < 1 ? 'barely-better-than-mean' : 'no-better-than-mean';
  const message = warning
    ? `${warning}${worse}`
    : `validation MSE ${fmt(best.mse)} at step ${best.step} (predicting the mean scores ${about}${fmt(baselineMse)})${worse}`;
  return { valMse: best.mse, valStep: best.step, lastValMse: last.mse, baselineMse, verdict, message };
}
