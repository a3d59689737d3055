/**
 * `physode reproduce` as a library call: plan the sweep, make the datasets, run the trainings
 * two at a time (each in child processes), record every finished run in results.csv as it
 * ends (resume: recorded runs are not redone), then write report.md and the plots.
 * Reports progress through a callback; never prints.
 *
 * The output folder:
 *   sweep.json          the profile (a folder is resumed only with the same profile)
 *   data/<system>/      one dataset per system (`physode generate`)
 *   runs/<train key>/   one `physode train` run folder per distinct training
 *   runs/<key>.train.json  its outcome (ok, seconds, NFE, or failure and reason): not retrained
 *   stats/<key>.json    running statistics of the first normalised layer (tabn, popti)
 *   results.csv         one row per (experiment, training, evaluation condition)
 *   report.md, verdicts.json, plots/*.svg
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ProgressCallback } from '../util/progress.js';
import type { Executor } from './executor.js';
import { planSweep, type SweepPlan } from './plan.js';
import { runPool } from './pool.js';
import type { SweepProfile } from './profiles.js';
import { detectBackend } from './environment.js';
import { writeReport, type ReportContext } from './write-report.js';
import { ResultsStore } from './results-store.js';
import { runTrainTask, sweepPaths } from './run-task.js';
import type { ExperimentId, RunResult } from './types.js';

/** What a sweep is: its folder, profile, systems, seeds and experiments (the same for a whole sweep and its shares). */
export interface SweepSpec {
  readonly out: string;
  readonly profile: SweepProfile;
  readonly systems: readonly string[];
  readonly seeds: readonly number[];
  readonly experiments?: readonly ExperimentId[];
}

export interface ReproduceOptions extends SweepSpec {
  readonly executor: Executor;
  /** Trainings in flight at once (default 2: both cores). */
  readonly concurrency?: number;
  readonly onProgress?: ProgressCallback;
  /** The command line the user typed, for the report. */
  readonly commandLine: string;
  /** Facts for the report's environment section (backend, versions). */
  readonly environment: Readonly<Record<string, string>>;
}

export interface ReproduceSummary {
  readonly plan: SweepPlan;
  readonly results: readonly RunResult[];
  /** Runs executed by this call (the rest were already recorded). */
  readonly ranNow: number;
  readonly failed: number;
  readonly reportFile: string;
  readonly resultsFile: string;
}

/** What identifies a sweep folder: resuming with another profile would mix incomparable runs. */
interface SweepIdentity {
  readonly format: 'physode-reproduce';
  readonly version: 1;
  readonly profile: SweepProfile;
}

export async function checkIdentity(out: string, profile: SweepProfile): Promise<void> {
  const file = join(out, 'sweep.json');
  let existing: SweepIdentity | undefined;
  try {
    existing = JSON.parse(await readFile(file, 'utf8')) as SweepIdentity;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidArgumentError(`${file} is unreadable`, 'delete it or use another --out folder');
  }
  if (existing && JSON.stringify(existing.profile) !== JSON.stringify(profile)) {
    throw new InvalidArgumentError(
      `${out} holds a sweep made with the '${existing.profile?.name}' profile (or other sizes), not '${profile.name}'`,
      'use another --out folder, or the same options as the sweep being resumed',
    );
  }
  const identity: SweepIdentity = { format: 'physode-reproduce', version: 1, profile };
  if (!existing) await writeFileAtomic(file, JSON.stringify(identity, null, 2) + '\n');
}

export async function reproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const { out, profile, executor } = options;
  await mkdir(out, { recursive: true });
  await checkIdentity(out, profile);
  const plan = planSweep({ profile, systems: options.systems, seeds: options.seeds, experiments: options.experiments });
  const paths = sweepPaths(out);
  const store = await ResultsStore.open(join(out, 'results.csv'));
  const concurrency = options.concurrency ?? 2;

  const total = plan.runs.length;
  let done = plan.runs.filter((r) => store.has(r.key)).length;
  let failed = plan.runs.filter((r) => store.get(r.key)?.status === 'failed').length;
  const report = (extra: Record<string, string | number> = {}) => options.onProgress?.({ unit: 'runs', done, total, fields: { failed, ...extra } });

  report({ stage: 'datasets' });
  await runPool(plan.systems, concurrency, (system) => executor.generate(system, paths.dataDir(system)));

  const pendingTasks = plan.tasks
    .map((task) => ({ task, pending: task.runs.filter((r) => !store.has(r.key)) }))
    .filter((t) => t.pending.length > 0);
  let ranNow = 0;
  report({ stage: 'training' });
  let stopped: unknown;
  try {
    await runPool(pendingTasks, concurrency, async ({ task, pending }) => {
      const results = await runTrainTask(task, pending, executor, paths);
      await store.add(results);
      done += results.length;
      ranNow += results.length;
      failed += results.filter((r) => r.status === 'failed').length;
      report({ last: task.key });
    });
  } catch (err) {
    stopped = err;
  }

  // The report is written even when the sweep stopped early: it covers the runs recorded so far.
  const { results, reportFile } = await writeSweepReport({ out, plan, profile, store, commandLine: options.commandLine, commands: executor.describe(), environment: options.environment });
  if (stopped !== undefined) throw stopped;
  return { plan, results, ranNow, failed: results.filter((r) => r.status === 'failed').length, reportFile, resultsFile: store.file };
}

export interface SweepReportInput {
  readonly out: string;
  readonly plan: SweepPlan;
  readonly profile: SweepProfile;
  readonly store: ResultsStore;
  readonly commandLine: string;
  readonly commands: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
}

/** Writes report.md, verdicts.json and the plots from the planned runs recorded in the store. */
export async function writeSweepReport(input: SweepReportInput): Promise<{ results: RunResult[]; reportFile: string }> {
  const planned = new Set(input.plan.runs.map((r) => r.key));
  const results = input.store.all().filter((r) => planned.has(r.key));
  const context: ReportContext = {
    out: input.out,
    plan: input.plan,
    profile: input.profile,
    results,
    commandLine: input.commandLine,
    commands: input.commands,
    environment: { ...input.environment, backend: (await detectBackend(join(input.out, 'runs'))) ?? input.environment.backend ?? 'not reported' },
    statsFile: sweepPaths(input.out).statsFile,
  };
  return { results, reportFile: await writeReport(context) };
}
