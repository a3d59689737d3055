/**
 * The sweep split across machines. `reproduceShare` runs some of the plan's trainings (one share
 * of a job array, or the trainings named by queue jobs) and records each finished training in
 * its own file (task-records.ts); the datasets are made once, under a lock, by whichever process
 * needs them first. `mergeShares` folds every record into results.csv and writes the report, or
 * says which trainings are still missing. Same plan, same runs, same numbers as one machine.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, PhysodeError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import type { Share } from '../generate/share.js';
import type { Executor } from './executor.js';
import { withFolderLock } from './folder-lock.js';
import { planSweep, type SweepPlan, type TrainTask } from './plan.js';
import { runPool } from './pool.js';
import { ResultsStore } from './results-store.js';
import { runTrainTask, sweepPaths } from './run-task.js';
import { keyInShare, shareOfKey } from './share.js';
import { checkIdentity, writeSweepReport, type SweepSpec } from './sweep.js';

export type { SweepSpec } from './sweep.js';
import { readTaskRecord, writeTaskRecord } from './task-records.js';
import type { RunResult } from './types.js';

/** A job-array share, or trainings by key (queue jobs). */
export type TaskSelection = Share | { readonly tasks: readonly string[] };

export interface ShareOptions extends SweepSpec {
  readonly selection: TaskSelection;
  readonly executor: Executor;
  readonly concurrency?: number;
  readonly onProgress?: ProgressCallback;
}

export interface ShareSummary {
  readonly plan: SweepPlan;
  /** The trainings this call was given, and those it ran now (the others were already recorded). */
  readonly tasks: readonly string[];
  readonly ranNow: number;
  readonly results: readonly RunResult[];
}

function planOf(spec: SweepSpec): SweepPlan {
  return planSweep({ profile: spec.profile, systems: spec.systems, seeds: spec.seeds, experiments: spec.experiments });
}

function selectTasks(plan: SweepPlan, selection: TaskSelection): TrainTask[] {
  if ('tasks' in selection) {
    const byKey = new Map(plan.tasks.map((t) => [t.key, t]));
    return selection.tasks.map((k) => {
      const t = byKey.get(k);
      if (!t) throw new InvalidArgumentError(`training '${k}' is not in this sweep's plan`, 'the job was made for other sweep options; resubmit with the options of this sweep');
      return t;
    });
  }
  return plan.tasks.filter((t) => keyInShare(t.key, selection));
}

/** Makes a dataset unless it is complete, one process at a time across every share. */
async function ensureDataset(executor: Executor, system: string, dataDir: string): Promise<void> {
  const complete = async () => {
    try {
      return (JSON.parse(await readFile(join(dataDir, 'manifest.json'), 'utf8')) as { complete?: boolean }).complete === true;
    } catch {
      return false;
    }
  };
  if (await complete()) return;
  await withFolderLock(`${dataDir}.lock`, async () => {
    if (!(await complete())) await executor.generate(system, dataDir);
  });
}

export async function reproduceShare(options: ShareOptions): Promise<ShareSummary> {
  const { out, executor } = options;
  await mkdir(out, { recursive: true });
  await checkIdentity(out, options.profile);
  const plan = planOf(options);
  const paths = sweepPaths(out);
  const recorded = await ResultsStore.open(join(out, 'results.csv'));
  const mine = selectTasks(plan, options.selection);
  const work: Array<{ task: TrainTask; pending: TrainTask['runs'] }> = [];
  const results: RunResult[] = [];
  for (const task of mine) {
    const record = await readTaskRecord(out, task.key);
    const pending = task.runs.filter((r) => !recorded.has(r.key) && !record?.some((x) => x.key === r.key));
    results.push(...(record ?? []), ...task.runs.filter((r) => recorded.has(r.key)).map((r) => recorded.get(r.key)!));
    if (pending.length > 0) work.push({ task, pending });
  }
  const total = mine.reduce((a, t) => a + t.runs.length, 0);
  let done = total - work.reduce((a, w) => a + w.pending.length, 0);
  options.onProgress?.({ unit: 'runs', done, total, fields: { stage: 'datasets' } });
  const systems = [...new Set(work.map((w) => w.task.train.system))];
  const concurrency = options.concurrency ?? 2;
  await runPool(systems, concurrency, (system) => ensureDataset(executor, system, paths.dataDir(system)));
  await runPool(work, concurrency, async ({ task, pending }) => {
    const earlier = (await readTaskRecord(out, task.key)) ?? [];
    const fresh = await runTrainTask(task, pending, executor, paths);
    await writeTaskRecord(out, task.key, [...earlier, ...fresh]);
    results.push(...fresh);
    done += fresh.length;
    options.onProgress?.({ unit: 'runs', done, total, fields: { last: task.key } });
  });
  return { plan, tasks: mine.map((t) => t.key), ranNow: work.length, results };
}

export interface MergeOptions extends SweepSpec {
  readonly commandLine: string;
  /** The command lines the runs used, for the report. */
  readonly commands: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** The job array's size, to name the shares whose trainings are missing. */
  readonly shardCount?: number;
}

export interface MergeSummary {
  readonly plan: SweepPlan;
  readonly results: readonly RunResult[];
  readonly failed: number;
  readonly reportFile: string;
  readonly resultsFile: string;
}

/** Trainings of the plan with a run neither in results.csv nor in a task record. */
export async function pendingTasks(spec: SweepSpec): Promise<TrainTask[]> {
  const plan = planOf(spec);
  const store = await ResultsStore.open(join(spec.out, 'results.csv'));
  const pending: TrainTask[] = [];
  for (const task of plan.tasks) {
    const record = new Set(((await readTaskRecord(spec.out, task.key)) ?? []).map((r) => r.key));
    if (task.runs.some((r) => !store.has(r.key) && !record.has(r.key))) pending.push(task);
  }
  return pending;
}

export async function mergeShares(options: MergeOptions): Promise<MergeSummary> {
  const { out } = options;
  await checkIdentity(out, options.profile);
  const plan = planOf(options);
  const store = await ResultsStore.open(join(out, 'results.csv'));
  const planned = new Set(plan.runs.map((r) => r.key));
  const found: RunResult[] = [];
  for (const task of plan.tasks) found.push(...((await readTaskRecord(out, task.key)) ?? []).filter((r) => planned.has(r.key)));
  if (found.length > 0) await store.add(found);
  const missingTasks = plan.tasks.filter((t) => t.runs.some((r) => !store.has(r.key)));
  if (missingTasks.length > 0) {
    const missingRuns = plan.runs.filter((r) => !store.has(r.key)).length;
    const shares = options.shardCount ? [...new Set(missingTasks.map((t) => shareOfKey(t.key, options.shardCount!)))].sort((a, b) => a - b) : [];
    throw new PhysodeError(
      `${missingRuns} of ${plan.runs.length} runs have no result yet (${missingTasks.length} training(s), e.g. ${missingTasks[0].key}); the report was not written`,
      shares.length ? `rerun --shard-index ${shares.join(', ')} of --shard-count ${options.shardCount}, then merge again` : 'rerun the shares (or queue jobs) that own them, then merge again',
    );
  }
  const { results, reportFile } = await writeSweepReport({ out, plan, profile: options.profile, store, commandLine: options.commandLine, commands: options.commands, environment: options.environment });
  return { plan, results, failed: results.filter((r) => r.status === 'failed').length, reportFile, resultsFile: store.file };
}
