/**
 * What an output folder already holds: a matching dataset to resume (or finalize), a different
 * one to refuse, and which planned shards are on disk and intact. Intact shards not yet listed in
 * the manifest (written by another share, or just before an interruption) are decoded, checked
 * against the plan and adopted; damaged ones are deleted so that they are recomputed.
 */
import { join } from 'node:path';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { pathExists } from '../util/fs.js';
import { CorruptFileError, InvalidArgumentError } from '../util/errors.js';
import type { Manifest, ShardEntry } from '../data/types.js';
import { MANIFEST_FILE, parseManifest, shardExpectations } from '../data/manifest.js';
import { decodeShard, sha256Hex } from '../data/shard.js';
import { summarize } from '../data/stats.js';
import { identity, type Skeleton } from './identity.js';
import { SHARD_PATTERN, type PlannedShard } from './plan.js';
import { relativeEnergyError } from './trajectories.js';
import type { ResolvedOptions } from './options.js';

/**
 * whole: one process owns the folder (stray temporary files are from an interrupted run).
 * share: other processes may be writing other shards into it at the same time (leave temporary
 * files alone). finalize: every share has finished (temporary files are leftovers).
 */
export type FolderMode = 'whole' | 'share' | 'finalize';

function isTemporary(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** Prepares the output folder: resume a matching dataset, refuse a different one unless force. */
export async function prepareFolder(dir: string, skel: Skeleton, force: boolean, mode: FolderMode = 'whole'): Promise<Manifest | undefined> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  // Temporary files of an interrupted atomic write are never part of a dataset.
  if (mode !== 'share') for (const e of entries) if (isTemporary(e)) await rm(join(dir, e), { force: true });
  const ours = entries.filter((e) => SHARD_PATTERN.test(e) || e === MANIFEST_FILE);
  const others = entries.filter((e) => !ours.includes(e) && !isTemporary(e));
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
  } else if (mode === 'finalize') {
    problem = 'holds no shards to finalize';
  }
  if (problem) {
    if (!force || mode === 'finalize') {
      const hint = mode === 'finalize' ? 'finalize with the same options as the sharded runs, in the folder they wrote' : 'choose another --out, or add --force to replace it';
      throw new InvalidArgumentError(`output folder ${dir} ${problem}`, hint);
    }
    for (const e of ours) await rm(join(dir, e), { force: true });
    return undefined;
  }
  return previous;
}

/** Largest relative energy error of the trajectories in a shard's arrays. */
export function shardEnergyError(r: ResolvedOptions, energy: Float64Array, params: Float64Array, n: number): number {
  const T = r.samples, P = r.instance.paramLabels.length;
  let worst = 0;
  for (let j = 0; j < n; j++) {
    const scale = r.instance.energyScale?.(params.subarray(j * P, (j + 1) * P)) ?? 0;
    const e0 = energy[j * T];
    for (let k = 1; k < T; k++) worst = Math.max(worst, relativeEnergyError(energy[j * T + k], e0, scale));
  }
  return worst;
}

/** Shards of `plan` that are already on disk and intact (listed in the old manifest, or complete files). */
export async function finishedShards(
  dir: string,
  plan: readonly PlannedShard[],
  skel: Skeleton,
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
