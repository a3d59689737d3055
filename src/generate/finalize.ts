/**
 * The manifest of a dataset from its shard entries, and the finalizer of a sharded generation:
 * once every share has written its shards, check each planned shard on disk (listed ones by
 * checksum, the others decoded against the plan) and write the complete manifest. The result is
 * the manifest a single machine writes with the same options, byte for byte.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { PhysodeError } from '../util/errors.js';
import type { Manifest, ShardEntry, ShardSummary } from '../data/types.js';
import { MANIFEST_FILE } from '../data/manifest.js';
import { combine, stdOf } from '../data/stats.js';
import { resolveOptions, type GenerateOptions } from './options.js';
import { skeleton, type Skeleton } from './identity.js';
import { planShards, type PlannedShard } from './plan.js';
import { finishedShards, prepareFolder, shardEnergyError } from './resume.js';
import { inShare } from './share.js';
import type { GenerateResult } from './generate.js';

/** Normalisation statistics over the train shards (all shards when there are none), worst energy error over all. */
export function finalStats(shards: readonly ShardEntry[], dim: number): Manifest['stats'] {
  const empty: ShardSummary = { samples: 0, mean: new Array(dim).fill(0), m2: new Array(dim).fill(0), maxRelEnergyError: 0 };
  const ordered = [...shards].sort((a, b) => a.indexRange[0] - b.indexRange[0]);
  const train = ordered.some((s) => s.split === 'train') ? ordered.filter((s) => s.split === 'train') : ordered;
  const t = train.reduce((acc, s) => combine(acc, s.summary ?? empty), empty);
  const maxRel = ordered.reduce((m, s) => Math.max(m, s.summary?.maxRelEnergyError ?? 0), 0);
  return { mean: t.mean, std: stdOf(t), maxRelEnergyError: maxRel };
}

/** Writes manifest.json listing the planned shards found in `done`, in plan order. */
export async function writeManifest(dir: string, skel: Skeleton, plan: readonly PlannedShard[], done: ReadonlyMap<string, ShardEntry>, complete: boolean): Promise<Manifest> {
  const shards = plan.filter((p) => done.has(p.file)).map((p) => done.get(p.file)!);
  const manifest: Manifest = { ...skel, complete, shards, stats: finalStats(shards, skel.state.dim) };
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export interface FinalizeOptions {
  /** The array size the shards were computed with, to name the shares whose shards are missing. */
  readonly shardCount?: number;
}

/** Checks every shard of the plan and writes the complete manifest; names the missing shards otherwise. */
export async function finalizeDataset(options: GenerateOptions, finalize: FinalizeOptions = {}): Promise<GenerateResult> {
  const r = resolveOptions(options);
  const skel = skeleton(r);
  const plan = planShards(r.count, r.split, r.shardSize);
  const previous = await prepareFolder(r.out, skel, false, 'finalize');
  const done = await finishedShards(r.out, plan, skel, previous, (e, p, n) => shardEnergyError(r, e, p, n));
  const missing = plan.filter((p) => !done.has(p.file));
  if (missing.length > 0) {
    const names = missing.slice(0, 4).map((p) => p.file).join(', ') + (missing.length > 4 ? ', ...' : '');
    const count = finalize.shardCount;
    const shares = count ? [...new Set(missing.map((p) => plan.findIndex((q) => q.file === p.file)).map((i) => [...Array(count).keys()].find((s) => inShare(i, { index: s, count }))!))].sort((a, b) => a - b) : [];
    throw new PhysodeError(
      `${missing.length} of ${plan.length} shards are missing or damaged in ${r.out} (${names}); the manifest was not written`,
      count ? `rerun --shard-index ${shares.join(', ')} of --shard-count ${count}, then --finalize again` : 'rerun the shares that own them (same command with their --shard-index), then --finalize again',
    );
  }
  const manifest = await writeManifest(r.out, skel, plan, done, true);
  return { dir: r.out, manifest, generatedShards: 0, reusedShards: done.size };
}
