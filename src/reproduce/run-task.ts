/**
 * Runs one training task of the plan: train once (unless a recorded outcome says it already
 * ran), evaluate each condition its pending rows need once, read normalisation statistics when
 * the time-dependence experiment wants them, and turn it all into rows for results.csv.
 * A failed training makes every row that depends on it a failure with the training's reason.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { EvalOutcome, Executor, TrainOutcome } from './executor.js';
import { conditionKey, type TrainTask } from './plan.js';
import type { NormStatistics } from './norm-statistics.js';
import type { PlannedRun, RunResult } from './types.js';

/** Where a sweep keeps its files, all under `--out`. */
export interface SweepPaths {
  readonly out: string;
  dataDir(system: string): string;
  runDir(trainKey: string): string;
  trainRecord(trainKey: string): string;
  statsFile(trainKey: string): string;
}

export function sweepPaths(out: string): SweepPaths {
  return {
    out,
    dataDir: (system) => join(out, 'data', system),
    runDir: (key) => join(out, 'runs', key),
    trainRecord: (key) => join(out, 'runs', `${key}.train.json`),
    statsFile: (key) => join(out, 'stats', `${key}.json`),
  };
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Norms whose statistics the time-dependence experiment plots. */
const STATS_NORMS = new Set(['tabn', 'popti']);

export async function runTrainTask(task: TrainTask, pending: readonly PlannedRun[], executor: Executor, paths: SweepPaths): Promise<RunResult[]> {
  const dataDir = paths.dataDir(task.train.system);
  const runDir = paths.runDir(task.key);
  let trained = await readJson<TrainOutcome>(paths.trainRecord(task.key));
  if (!trained) {
    trained = await executor.train(task.train, dataDir, runDir);
    await writeFileAtomic(paths.trainRecord(task.key), JSON.stringify(trained, null, 2));
  }
  if (trained.ok && STATS_NORMS.has(task.train.norm) && pending.some((r) => r.experiment === 'time-dependence')) {
    const existing = await readJson<NormStatistics>(paths.statsFile(task.key));
    if (!existing) {
      const stats = await executor.normStatistics(runDir).catch(() => undefined);
      if (stats) await writeFileAtomic(paths.statsFile(task.key), JSON.stringify(stats));
    }
  }
  const evaluations = new Map<string, EvalOutcome>();
  const results: RunResult[] = [];
  for (const run of pending) {
    const base = { ...run, trainNfe: trained.ok ? trained.nfe : undefined, trainSeconds: round(trained.seconds) };
    if (!trained.ok) {
      results.push({ ...base, status: 'failed', failure: trained.failure, reason: trained.reason, metrics: {} });
      continue;
    }
    const ck = conditionKey(run.evaluation);
    let evaluated = evaluations.get(ck);
    if (!evaluated) {
      evaluated = await executor.evaluate(runDir, dataDir, run.evaluation);
      evaluations.set(ck, evaluated);
    }
    results.push(
      evaluated.ok
        ? { ...base, status: 'ok', metrics: evaluated.metrics, evalSeconds: round(evaluated.seconds) }
        : { ...base, status: 'failed', failure: evaluated.failure, reason: evaluated.reason, metrics: {}, evalSeconds: round(evaluated.seconds) },
    );
  }
  return results;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
