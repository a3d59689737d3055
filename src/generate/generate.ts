/**
 * generateDataset: ground truth for a whole dataset, sharded, on worker threads, resumable.
 * Shards are computed in index order with at most `workers + 1` open at once, so memory is bounded
 * by the shard size, not the dataset size. Each finished shard is written atomically and recorded
 * in manifest.json (complete: false) at once; a rerun of the same command keeps the shards that
 * match and computes the rest. Same options and seed: same bytes, whatever the worker count.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { pathExists } from '../util/fs.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CorruptFileError, InvalidArgumentError, PhysodeError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { version as physodeVersion } from '../util/version.js';
import type { Manifest, ShardEntry, ShardSummary, Split } from '../data/types.js';
import { MANIFEST_FILE, parseManifest, sampleTimes, shardExpectations } from '../data/manifest.js';
import { decodeShard, encodeShard, sha256Hex } from '../data/shard.js';
import { combine, stdOf, summarize } from '../data/stats.js';
import { resolveOptions, type GenerateOptions, type ResolvedOptions } from './options.js';
import { SEED_DERIVATION, type TrajectoryChunk } from './trajectories.js';
import type { IntegratorName } from './solve.js';
import { inThreadRunner, workerPoolRunner, type ChunkRunner, type WorkerInit } from './pool.js';

export type { GenerateOptions } from './options.js';

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

interface PlannedShard {
  readonly file: string;
  readonly start: number;
  readonly end: number;
  readonly split: Split;
}

const ODEX_VERSION: string = (createRequire(import.meta.url)('odex/package.json') as { version: string }).version;
/** The manifest's record of the ground-truth integrator. */
const INTEGRATOR_DESCRIPTIONS: Readonly<Record<IntegratorName, { integrator: string; integratorVersion: string }>> = {
  odex: { integrator: 'odex (Hairer-Wanner GBS extrapolation, dense output)', integratorVersion: ODEX_VERSION },
  dop853: { integrator: 'dop853 (Dormand-Prince 8(5,3), Hairer-Wanner step control, 7th-order dense output, compensated summation)', integratorVersion: `physode ${physodeVersion}` },
};
const SHARD_PATTERN = /^shard-\d{5,}\.npz$/;

/** Shards in index order: train, then val, then test, each split cut into shards of shardSize. */
export function planShards(count: number, split: readonly [number, number, number], shardSize: number): PlannedShard[] {
  const nTrain = Math.round(count * split[0]);
  const nVal = Math.min(count - nTrain, Math.round(count * split[1]));
  const ranges: Array<[Split, number, number]> = [['train', 0, nTrain], ['val', nTrain, nTrain + nVal], ['test', nTrain + nVal, count]];
  const shards: PlannedShard[] = [];
  for (const [name, from, to] of ranges) {
    for (let s = from; s < to; s += shardSize) {
      shards.push({ file: `shard-${String(shards.length).padStart(5, '0')}.npz`, start: s, end: Math.min(to, s + shardSize), split: name });
    }
  }
  return shards;
}

/** The manifest minus shards and stats: what identifies a dataset (compared on resume). */
function skeleton(r: ResolvedOptions): Omit<Manifest, 'shards' | 'stats'> {
  const s = r.instance;
  return {
    format: 'physode-dataset',
    version: 1,
    complete: false,
    system: {
      name: s.name,
      options: s.options as Record<string, string | number | boolean>,
      paramLabels: s.paramLabels,
      params: s.params.map((p) => ({ name: p.name, default: p.default, range: p.range })),
      conservative: s.conservative,
    },
    state: { dim: s.dim, labels: s.stateLabels, ...(s.layout ? { layout: s.layout } : {}) },
    times: { start: 0, end: r.tEnd, count: r.samples },
    generator: {
      ...INTEGRATOR_DESCRIPTIONS[r.integrator],
      rtol: r.rtol,
      atol: r.atol,
      seed: r.seed,
      seedDerivation: SEED_DERIVATION,
      physodeVersion,
      noise: r.noise,
      derivatives: r.derivatives,
      count: r.count,
      shardSize: r.shardSize,
      split: r.split,
      ...(r.integrator === 'odex' ? { interpolationDegree: r.interpolationDegree } : {}),
    } as Manifest['generator'],
  };
}

function identity(m: Omit<Manifest, 'shards' | 'stats'> & Partial<Pick<Manifest, 'shards' | 'stats'>>): string {
  const { complete: _c, shards: _s, stats: _t, generator, ...rest } = m;
  const { physodeVersion: _v, ...gen } = generator;
  return canonicalJson({ ...rest, generator: gen });
}

/** JSON with object keys sorted, so that key order (e.g. after validation) does not matter. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function finalStats(shards: readonly ShardEntry[], dim: number): Manifest['stats'] {
  const empty: ShardSummary = { samples: 0, mean: new Array(dim).fill(0), m2: new Array(dim).fill(0), maxRelEnergyError: 0 };
  const ordered = [...shards].sort((a, b) => a.indexRange[0] - b.indexRange[0]);
  const train = ordered.some((s) => s.split === 'train') ? ordered.filter((s) => s.split === 'train') : ordered;
  const t = train.reduce((acc, s) => combine(acc, s.summary ?? empty), empty);
  const maxRel = ordered.reduce((m, s) => Math.max(m, s.summary?.maxRelEnergyError ?? 0), 0);
  return { mean: t.mean, std: stdOf(t), maxRelEnergyError: maxRel };
}


/** Prepares the output folder: resume a matching dataset, refuse a different one unless force. */
async function prepareFolder(dir: string, skel: Omit<Manifest, 'shards' | 'stats'>, force: boolean): Promise<Manifest | undefined> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  // Temporary files of an interrupted atomic write are never part of a dataset.
  for (const e of entries) if (e.startsWith('.') && e.endsWith('.tmp')) await rm(join(dir, e), { force: true });
  const ours = entries.filter((e) => SHARD_PATTERN.test(e) || e === MANIFEST_FILE);
  const others = entries.filter((e) => !ours.includes(e) && !(e.startsWith('.') && e.endsWith('.tmp')));
  let previous: Manifest | undefined;
  let problem: string | undefined;
  if (entries.includes(MANIFEST_FILE)) {
    try {
      previous = parseManifest(JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')), MANIFEST_FILE);
      if (identity(previous) !== identity(skel)) {
        problem = `holds a different dataset (${previous.system.name} ${JSON.stringify(previous.system.options)}, ${previous.generator.count} trajectories, seed ${previous.generator.seed})`;
      }
    } catch (err) {
      problem = `holds a damaged manifest.json (${err instanceof Error ? err.message : String(err)})`;
    }
  } else if (ours.length > 0 || others.length > 0) {
    problem = `is not empty and holds no physode manifest (${[...ours, ...others].slice(0, 3).join(', ')}${ours.length + others.length > 3 ? ', ...' : ''})`;
  }
  if (problem) {
    if (!force) throw new InvalidArgumentError(`output folder ${dir} ${problem}`, 'choose another --out, or add --force to replace it');
    for (const e of ours) await rm(join(dir, e), { force: true });
    return undefined;
  }
  return previous;
}

/** Shards of the plan that are already on disk and intact (listed in the old manifest, or complete files). */
async function finishedShards(
  dir: string,
  plan: readonly PlannedShard[],
  skel: Omit<Manifest, 'shards' | 'stats'>,
  previous: Manifest | undefined,
  energyError: (energy: Float64Array, params: Float64Array, n: number) => number,
): Promise<Map<string, ShardEntry>> {
  const done = new Map<string, ShardEntry>();
  const probe = { ...skel, shards: [], stats: { mean: [], std: [], maxRelEnergyError: 0 } } as Manifest;
  for (const p of plan) {
    const path = join(dir, p.file);
    if (!(await pathExists(path))) continue;
    const listed = previous?.shards.find((s) => s.file === p.file);
    const entry: ShardEntry = { file: p.file, count: p.end - p.start, indexRange: [p.start, p.end], split: p.split, sha256: '' };
    try {
      const bytes = await readFile(path);
      const sha = sha256Hex(bytes);
      if (listed && listed.sha256 === sha && listed.summary) {
        done.set(p.file, listed);
        continue;
      }
      // A complete shard written just before an interruption, not yet in the manifest: check and adopt it.
      const a = decodeShard(bytes, p.file, shardExpectations(probe, entry));
      const maxRel = energyError(a.energy, a.params, entry.count);
      done.set(p.file, { ...entry, sha256: sha, summary: summarize(a.y, skel.state.dim, maxRel) });
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      await rm(path, { force: true }); // damaged: recompute
    }
  }
  return done;
}

export async function generateDataset(options: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerateResult> {
  const r = resolveOptions(options);
  const dir = r.out;
  const skel = skeleton(r);
  const plan = planShards(r.count, r.split, r.shardSize);
  const previous = await prepareFolder(dir, skel, r.force);
  const done = await finishedShards(dir, plan, skel, previous, (e, p, n) => shardEnergyError(r, e, p, n));
  const reusedShards = done.size;
  const writeManifest = async (complete: boolean): Promise<Manifest> => {
    const shards = plan.filter((p) => done.has(p.file)).map((p) => done.get(p.file)!);
    const manifest: Manifest = { ...skel, complete, shards, stats: finalStats(shards, r.instance.dim) };
    await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  };
  const missing = plan.filter((p) => !done.has(p.file));
  let doneCount = plan.filter((p) => done.has(p.file)).reduce((a, p) => a + p.end - p.start, 0);
  let worst = finalStats([...done.values()], r.instance.dim).maxRelEnergyError;
  const report = (): void => hooks.onProgress?.({ unit: 'trajectories', done: doneCount, total: r.count, fields: { 'max |dE/E|': worst } });
  report();
  if (missing.length > 0) {
    await writeManifest(false);
    const missingTrajectories = missing.reduce((a, p) => a + p.end - p.start, 0);
    const workers = Math.max(1, Math.min(r.workers, missingTrajectories));
    const init: WorkerInit = {
      system: r.instance.name,
      options: r.systemOptions,
      times: Array.from(sampleTimes(skel.times)),
      settings: { seed: r.seed, integrator: r.integrator, rtol: r.rtol, atol: r.atol, noise: r.noise, derivatives: r.derivatives, maxSteps: r.maxSteps, interpolationDegree: r.interpolationDegree },
    };
    const runner = workers === 1 ? inThreadRunner(init) : workerPoolRunner(init, workers);
    try {
      await runShards(r, runner, missing, init, async (p, chunk) => {
        const bytes = encodeShard(chunk.arrays, { n: p.end - p.start, T: r.samples, D: r.instance.dim, P: r.instance.paramLabels.length });
        await writeFileAtomic(join(dir, p.file), bytes);
        const summary = summarize(chunk.arrays.y, r.instance.dim, chunk.maxRel);
        done.set(p.file, { file: p.file, count: p.end - p.start, indexRange: [p.start, p.end], split: p.split, sha256: sha256Hex(bytes), summary });
        await writeManifest(false);
      }, (n, maxRel) => {
        doneCount += n;
        worst = Math.max(worst, maxRel);
        report();
      }, hooks.signal);
    } finally {
      await runner.close();
    }
  }
  const manifest = await writeManifest(true);
  return { dir, manifest, generatedShards: missing.length, reusedShards };
}

function shardEnergyError(r: ResolvedOptions, energy: Float64Array, params: Float64Array, n: number): number {
  const T = r.samples, P = r.instance.paramLabels.length;
  let worst = 0;
  for (let j = 0; j < n; j++) {
    const scale = r.instance.energyScale?.(params.subarray(j * P, (j + 1) * P)) ?? 0;
    const e0 = energy[j * T];
    for (let k = 1; k < T; k++) worst = Math.max(worst, Math.abs(energy[j * T + k] - e0) / Math.max(Math.abs(e0), scale));
  }
  return worst;
}

interface AssembledShard {
  readonly arrays: { t: Float64Array; y: Float64Array; params: Float64Array; energy: Float64Array; index: Int32Array; dydt?: Float64Array; yClean?: Float64Array };
  readonly maxRel: number;
}

/** Runs the missing shards' trajectory ranges on the runner, assembling and writing shards in order. */
async function runShards(
  r: ResolvedOptions,
  runner: ChunkRunner,
  missing: readonly PlannedShard[],
  init: WorkerInit,
  write: (p: PlannedShard, shard: AssembledShard) => Promise<void>,
  progress: (n: number, maxRel: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const T = r.samples, D = r.instance.dim, P = r.instance.paramLabels.length;
  const total = missing.reduce((a, p) => a + p.end - p.start, 0);
  // Enough ranges per worker to balance the load, few enough to keep messages cheap.
  const chunk = Math.max(1, Math.min(256, Math.ceil(total / (runner.workers * 8))));
  const maxOpen = runner.workers + 1;
  const times = Float64Array.from(init.times);
  type Open = { p: PlannedShard; remaining: number; next: number; a: AssembledShard['arrays']; maxRel: number };
  const open: Open[] = [];
  let shardAt = 0;
  let failure: Error | undefined;
  const waiters: Array<() => void> = [];
  const wakeAll = (): void => waiters.splice(0).forEach((f) => f());
  const writes: Promise<void>[] = [];

  const take = async (): Promise<{ o: Open; start: number; end: number } | undefined> => {
    for (;;) {
      if (failure) return undefined;
      const o = open.find((x) => x.next < x.p.end);
      if (o) {
        const start = o.next;
        o.next = Math.min(o.p.end, start + chunk);
        return { o, start, end: o.next };
      }
      if (shardAt >= missing.length) return undefined;
      if (open.length < maxOpen) {
        const p = missing[shardAt++];
        const n = p.end - p.start;
        open.push({
          p, remaining: n, next: p.start, maxRel: 0,
          a: {
            t: times, y: new Float64Array(n * T * D), params: new Float64Array(n * P), energy: new Float64Array(n * T), index: new Int32Array(n),
            dydt: r.derivatives ? new Float64Array(n * T * D) : undefined, yClean: r.noise > 0 ? new Float64Array(n * T * D) : undefined,
          },
        });
        continue;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  const place = (o: Open, c: TrajectoryChunk): void => {
    const j = c.start - o.p.start;
    o.a.y.set(c.y, j * T * D);
    o.a.params.set(c.params, j * P);
    o.a.energy.set(c.energy, j * T);
    o.a.index.set(c.index, j);
    if (o.a.dydt && c.dydt) o.a.dydt.set(c.dydt, j * T * D);
    if (o.a.yClean && c.yClean) o.a.yClean.set(c.yClean, j * T * D);
    let m = 0;
    for (const v of c.maxRelEnergyError) m = Math.max(m, v);
    o.maxRel = Math.max(o.maxRel, m);
    o.remaining -= c.count;
    progress(c.count, m);
  };

  // Shard files and manifest updates are written one at a time, in completion order.
  let chain: Promise<void> = Promise.resolve();
  const slot = async (): Promise<void> => {
    for (;;) {
      if (signal?.aborted) failure ??= new PhysodeError('generation interrupted', 'rerun the same command to resume: finished shards are kept');
      const job = await take();
      if (!job) return;
      let c: TrajectoryChunk;
      try {
        c = await runner.run(job.start, job.end);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        wakeAll();
        return;
      }
      place(job.o, c);
      if (job.o.remaining === 0) {
        const o = job.o;
        const w = (chain = chain.then(() => write(o.p, { arrays: o.a, maxRel: o.maxRel }))).then(() => {
          open.splice(open.indexOf(o), 1);
          wakeAll();
        });
        writes.push(w.catch((err) => {
          failure ??= err instanceof Error ? err : new Error(String(err));
          wakeAll();
        }));
      }
    }
  };
  await Promise.all(Array.from({ length: runner.workers }, slot));
  await Promise.all(writes);
  if (failure) throw failure;
}
