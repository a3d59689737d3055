/**
 * The shard scheduler: runs the trajectory ranges of a list of shards on a ChunkRunner, at most
 * `workers + 1` shards open at once (memory bounded by the shard size, not the dataset size), and
 * hands each shard to `write` as soon as all its trajectories are in. Writes happen one at a time
 * in completion order; the first failure stops new work and is rethrown after the writes settle.
 */
import { PhysodeError } from '../util/errors.js';
import type { ResolvedOptions } from './options.js';
import type { TrajectoryChunk } from './trajectories.js';
import type { ChunkRunner, WorkerInit } from './pool.js';
import type { PlannedShard } from './plan.js';

export interface AssembledShard {
  readonly arrays: { t: Float64Array; y: Float64Array; params: Float64Array; energy: Float64Array; index: Int32Array; dydt?: Float64Array; yClean?: Float64Array };
  readonly maxRel: number;
}

/** Runs the shards' trajectory ranges on the runner, assembling and writing each shard once complete. */
export async function runShards(
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
