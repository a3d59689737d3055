/**
 * Groups results.csv rows into the cells of a report table and summarises each over seeds:
 * rollout MSE (mean and spread of the finished runs), failures (count and kinds), NFE and
 * wall time. Failed runs are counted, never dropped.
 */
import { trainKey } from './plan.js';
import { summarize, type Summary } from './stats.js';
import type { ExperimentId, MethodName, NormName, RunResult } from './types.js';

export interface Cell {
  readonly runs: readonly RunResult[];
  readonly ok: readonly RunResult[];
  readonly failed: readonly RunResult[];
  readonly mse: Summary;
  readonly nfe: Summary;
  readonly trainSeconds: Summary;
  /** e.g. "1/3 failed (divergence)", or "" when none failed. */
  readonly failureNote: string;
}

export function cellOf(runs: readonly RunResult[]): Cell {
  const ok = runs.filter((r) => r.status === 'ok');
  const failed = runs.filter((r) => r.status === 'failed');
  const kinds = [...new Set(failed.map((r) => r.failure ?? 'crash'))];
  return {
    runs,
    ok,
    failed,
    mse: summarize(ok.map((r) => r.metrics.mse ?? NaN)),
    nfe: summarize(ok.map((r) => r.metrics.nfe ?? NaN)),
    trainSeconds: summarize(runs.map((r) => r.trainSeconds ?? NaN)),
    failureNote: failed.length > 0 ? `${failed.length}/${runs.length} failed (${kinds.join(', ')})` : '',
  };
}

export interface Selector {
  readonly experiment?: ExperimentId;
  readonly system?: string;
  readonly norm?: NormName;
  readonly method?: MethodName;
  readonly depth?: number;
  readonly trainBatch?: number;
  readonly evalBatch?: number;
  readonly outliers?: number;
  /** true: only rows evaluated at their training batch size; false: only the others. */
  readonly atTrainBatch?: boolean;
}

export function select(results: readonly RunResult[], s: Selector): RunResult[] {
  return results.filter(
    (r) =>
      (s.experiment === undefined || r.experiment === s.experiment) &&
      (s.system === undefined || r.train.system === s.system) &&
      (s.norm === undefined || r.train.norm === s.norm) &&
      (s.method === undefined || r.train.method === s.method) &&
      (s.depth === undefined || r.train.depth === s.depth) &&
      (s.trainBatch === undefined || r.train.batchSize === s.trainBatch) &&
      (s.evalBatch === undefined || r.evaluation.batchSize === s.evalBatch) &&
      (s.outliers === undefined || r.evaluation.outliers === s.outliers) &&
      (s.atTrainBatch === undefined || (r.evaluation.batchSize === r.train.batchSize) === s.atTrainBatch),
  );
}

/** The order normalisations and solvers appear in, in every table and plot. */
const ORDER: readonly string[] = ['tabn', 'minibatch', 'popti', 'pop', 'none', 'euler', 'rk4', 'dopri5'];

/** Distinct values of a field: numbers ascending, names in ORDER (unknown names last). */
export function distinct<T extends string | number>(results: readonly RunResult[], field: (r: RunResult) => T): T[] {
  const values = [...new Set(results.map(field))];
  if (typeof values[0] === 'number') return (values as number[]).sort((a, b) => a - b) as T[];
  const rank = (v: T) => (ORDER.includes(v as string) ? ORDER.indexOf(v as string) : ORDER.length);
  return values.sort((a, b) => rank(a) - rank(b));
}

/**
 * Paired ratios: for each trained model, MSE under the stressed condition divided by MSE under
 * the reference condition (same model, so seed-to-seed noise cancels). A stressed evaluation
 * that failed while the reference worked counts as an infinite ratio (the worst degradation).
 */
export function pairedRatios(rows: readonly RunResult[], stressed: (r: RunResult) => boolean, reference: (r: RunResult) => boolean): number[] {
  const byModel = new Map<string, { s?: RunResult; r?: RunResult }>();
  for (const row of rows) {
    const k = trainKey(row.train);
    const e = byModel.get(k) ?? {};
    if (stressed(row)) e.s = row;
    else if (reference(row)) e.r = row;
    byModel.set(k, e);
  }
  const ratios: number[] = [];
  for (const { s, r } of byModel.values()) {
    if (!s || !r || r.status !== 'ok' || !(r.metrics.mse! > 0)) continue;
    if (s.status !== 'ok') ratios.push(Infinity);
    else ratios.push(s.metrics.mse! / r.metrics.mse!);
  }
  return ratios;
}
