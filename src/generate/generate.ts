/**
 * generateDataset: ground truth for a whole dataset, sharded, on worker threads, resumable.
 * Each finished shard is written atomically and recorded in manifest.json (complete: false) at
 * once; a rerun of the same command keeps the shards that match and computes the rest. Same
 * options and seed: same bytes, whatever the worker count.
 *
 * generateShare: the same computation for a subset of the shards (one task of a job array, or one
 * queue job), with other processes writing other shards into the same folder; it writes shards
 * only, and finalizeDataset (finalize.ts) writes the manifest once every shard is there.
 */
import { join } from 'node:path';
import type { Manifest, ShardEntry } from '../data/types.js';
import { sampleTimes } from '../data/manifest.js';
import { encodeShard, sha256Hex } from '../data/shard.js';
import { summarize } from '../data/stats.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { resolveOptions, type GenerateOptions, type ResolvedOptions } from './options.js';
import { skeleton, type Skeleton } from './identity.js';
import { planShards, trajectoriesIn, type PlannedShard } from './plan.js';
import { finishedShards, prepareFolder, shardEnergyError, type FolderMode } from './resume.js';
import { finalStats, writeManifest } from './finalize.js';
import { runShards } from './scheduler.js';
import { inShare, type Share } from './share.js';
import { inThreadRunner, workerPoolRunner, type WorkerInit } from './pool.js';
import type { RunnerCache } from './runner-cache.js';

export type { GenerateOptions } from './options.js';
export { planShards } from './plan.js';

export interface GenerateHooks {
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

export interface GenerateResult {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Shards computed by this call, and shards kept from an earlier (interrupted) run. */
  readonly generatedShards: number;
  readonly reusedShards: number;
}

export interface ShareHooks extends GenerateHooks {
  /** Compute on worker threads even with one worker, keeping this thread's event loop free (queue workers). */
  readonly offMainThread?: boolean;
  /** Threads kept between calls (long-running processes); one thread is borrowed per call. */
  readonly runners?: RunnerCache;
}

export interface ShareResult {
  readonly dir: string;
  /** Shards in the whole plan. */
  readonly plannedShards: number;
  /** This share's shards, all on disk now, in plan order. */
  readonly shards: readonly ShardEntry[];
  readonly generatedShards: number;
  readonly reusedShards: number;
}

/** Which shards of the plan a call computes: a job-array share, or explicit plan positions. */
export type ShardSelection = Share | { readonly positions: readonly number[] };

export async function generateDataset(options: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerateResult> {
  const r = resolveOptions(options);
  const skel = skeleton(r);
  const plan = planShards(r.count, r.split, r.shardSize);
  const { done, missing } = await survey(r, skel, plan, plan, 'whole');
  if (missing.length > 0) await writeManifest(r.out, skel, plan, done, false);
  await computeShards(r, skel, r.count, missing, done, hooks, false, () => writeManifest(r.out, skel, plan, done, false).then(() => undefined));
  const manifest = await writeManifest(r.out, skel, plan, done, true);
  return { dir: r.out, manifest, generatedShards: missing.length, reusedShards: done.size - missing.length };
}

export async function generateShare(options: GenerateOptions, selection: ShardSelection, hooks: ShareHooks = {}): Promise<ShareResult> {
  const r = resolveOptions(options);
  const skel = skeleton(r);
  const plan = planShards(r.count, r.split, r.shardSize);
  const mine = select(plan, selection);
  const { previous, done, missing } = await survey(r, skel, plan, mine, 'share');
  // Identifies the folder's dataset for the other shares and for the finalizer; same bytes from every share.
  if (!previous) await writeManifest(r.out, skel, plan, new Map(), false);
  await computeShards(r, skel, trajectoriesIn(mine), missing, done, hooks, hooks.offMainThread ?? false, async () => undefined, hooks.runners);
  return { dir: r.out, plannedShards: plan.length, shards: mine.map((p) => done.get(p.file)!), generatedShards: missing.length, reusedShards: mine.length - missing.length };
}

function select(plan: readonly PlannedShard[], selection: ShardSelection): PlannedShard[] {
  if ('positions' in selection) {
    for (const i of selection.positions) {
      if (!Number.isInteger(i) || i < 0 || i >= plan.length) throw new InvalidArgumentError(`shard ${i} is not in the plan (${plan.length} shards)`, 'shard positions run from 0 to the shard count - 1');
    }
    return plan.filter((p) => selection.positions.includes(p.index));
  }
  return plan.filter((p) => inShare(p.index, selection));
}

async function survey(r: ResolvedOptions, skel: Skeleton, plan: readonly PlannedShard[], wanted: readonly PlannedShard[], mode: FolderMode) {
  const previous = await prepareFolder(r.out, skel, r.force, mode);
  const done = await finishedShards(r.out, wanted, skel, previous, (e, p, n) => shardEnergyError(r, e, p, n));
  const missing = wanted.filter((p) => !done.has(p.file));
  return { previous, done, missing, plan };
}

/** Computes `missing` (of `total` trajectories wanted) and writes each shard atomically, recording its entry in `done` and calling `written`. */
async function computeShards(
  r: ResolvedOptions,
  skel: Skeleton,
  total: number,
  missing: readonly PlannedShard[],
  done: Map<string, ShardEntry>,
  hooks: GenerateHooks,
  offMainThread: boolean,
  written: () => Promise<void>,
  runners?: RunnerCache,
): Promise<void> {
  let doneCount = total - trajectoriesIn(missing);
  let worst = finalStats([...done.values()], r.instance.dim).maxRelEnergyError;
  const report = (): void => hooks.onProgress?.({ unit: 'trajectories', done: doneCount, total, fields: { 'max |dE/E|': worst } });
  report();
  if (missing.length === 0) return;
  const workers = Math.max(1, Math.min(r.workers, trajectoriesIn(missing)));
  const init: WorkerInit = {
    system: r.instance.name,
    options: r.systemOptions,
    times: Array.from(sampleTimes(skel.times)),
    settings: { seed: r.seed, integrator: r.integrator, rtol: r.rtol, atol: r.atol, noise: r.noise, derivatives: r.derivatives, maxSteps: r.maxSteps, interpolationDegree: r.interpolationDegree },
  };
  const runner = runners ? runners.acquire(init) : workers === 1 && !offMainThread ? inThreadRunner(init) : workerPoolRunner(init, workers);
  let failed = false;
  try {
    await runShards(r, runner, missing, init, async (p, chunk) => {
      const bytes = encodeShard(chunk.arrays, { n: p.end - p.start, T: r.samples, D: r.instance.dim, P: r.instance.paramLabels.length });
      await writeFileAtomic(join(r.out, p.file), bytes);
      const summary = summarize(chunk.arrays.y, r.instance.dim, chunk.maxRel);
      done.set(p.file, { file: p.file, count: p.end - p.start, indexRange: [p.start, p.end], split: p.split, sha256: sha256Hex(bytes), summary });
      await written();
    }, (n, maxRel) => {
      doneCount += n;
      worst = Math.max(worst, maxRel);
      report();
    }, hooks.signal);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (runners) await runners.release(runner, failed);
    else await runner.close();
  }
}
