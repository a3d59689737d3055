/**
 * Opening a dataset folder (DATASET.md): the manifest is validated on open; shards are checked
 * against their SHA-256 and the manifest's layout on every read. Errors name the file and the fault.
 */
import { basename, dirname, join } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { CorruptFileError, InvalidArgumentError } from '../util/errors.js';
import type { Manifest, ShardEntry, Split, TrajectoryBatch } from './types.js';
import { SPLITS } from './types.js';
import { MANIFEST_FILE, readManifest, sampleTimes, shardExpectations } from './manifest.js';
import { readShardFile, decodeShard, sha256Hex, toBatch, type ShardArrays } from './shard.js';

export interface ShardVerdict {
  readonly file: string;
  readonly ok: boolean;
  readonly problem?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly shards: readonly ShardVerdict[];
}

export interface Dataset {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Shards of one split, concatenated in index order. */
  loadSplit(split: Split): Promise<TrajectoryBatch>;
  /** One trajectory by its global index (N = 1). */
  loadTrajectory(globalIndex: number): Promise<TrajectoryBatch>;
  /** One shard's arrays (checked). */
  loadShard(entry: ShardEntry): Promise<TrajectoryBatch>;
  /** Reads every shard and checks checksum, shapes and indices; never throws for a bad shard. */
  verify(): Promise<VerifyReport>;
}

export async function openDataset(dir: string): Promise<Dataset> {
  const info = await stat(dir).catch(() => null);
  if (info !== null && !info.isDirectory()) {
    const parent = basename(dir) === MANIFEST_FILE ? `: ${dirname(dir)}` : '';
    throw new InvalidArgumentError(`${dir} is a file, not a dataset folder`, `give the folder that holds manifest.json${parent}`);
  }
  const manifest = await readManifest(join(dir, MANIFEST_FILE), join(dir, MANIFEST_FILE));
  if (manifest.complete === false) {
    throw new CorruptFileError(join(dir, MANIFEST_FILE), 'the generation of this dataset did not finish', 'rerun the same physode generate command: it resumes and completes the missing shards');
  }
  const T = manifest.times.count, D = manifest.state.dim, P = manifest.system.paramLabels.length;
  const read = (s: ShardEntry): Promise<ShardArrays> => readShardFile(join(dir, s.file), join(dir, s.file), shardExpectations(manifest, s), s.sha256);

  const concat = (parts: ShardArrays[], n: number): TrajectoryBatch => {
    const y = new Float64Array(n * T * D), params = new Float64Array(n * P), energy = new Float64Array(n * T), index = new Int32Array(n);
    const dydt = manifest.generator.derivatives ? new Float64Array(n * T * D) : undefined;
    const yClean = manifest.generator.noise > 0 ? new Float64Array(n * T * D) : undefined;
    let at = 0;
    for (const a of parts) {
      const k = a.index.length;
      y.set(a.y, at * T * D);
      params.set(a.params, at * P);
      energy.set(a.energy, at * T);
      index.set(a.index, at);
      if (dydt && a.dydt) dydt.set(a.dydt, at * T * D);
      if (yClean && a.yClean) yClean.set(a.yClean, at * T * D);
      at += k;
    }
    return toBatch({ t: sampleTimesOf(parts), y, params, energy, index, dydt, yClean }, { n, T, D, P });
  };
  const sampleTimesOf = (parts: ShardArrays[]): Float64Array => parts[0]?.t ?? sampleTimes(manifest.times);

  return {
    dir,
    manifest,
    async loadSplit(split) {
      if (!SPLITS.includes(split)) throw new InvalidArgumentError(`unknown split '${split}'`, `splits: ${SPLITS.join(', ')}`);
      const entries = manifest.shards.filter((s) => s.split === split).sort((a, b) => a.indexRange[0] - b.indexRange[0]);
      const parts: ShardArrays[] = [];
      for (const s of entries) parts.push(await read(s));
      return concat(parts, entries.reduce((a, s) => a + s.count, 0));
    },
    async loadTrajectory(globalIndex) {
      const s = manifest.shards.find((e) => globalIndex >= e.indexRange[0] && globalIndex < e.indexRange[1]);
      if (!Number.isInteger(globalIndex) || !s) {
        throw new InvalidArgumentError(`no trajectory ${globalIndex} in ${dir}`, `indices run from 0 to ${manifest.generator.count - 1}`);
      }
      const a = await read(s);
      const j = globalIndex - s.indexRange[0];
      const slice = (x: Float64Array, w: number): Float64Array => x.slice(j * w, (j + 1) * w);
      return toBatch(
        {
          t: a.t,
          y: slice(a.y, T * D),
          params: slice(a.params, P),
          energy: slice(a.energy, T),
          index: Int32Array.of(globalIndex),
          dydt: a.dydt ? slice(a.dydt, T * D) : undefined,
          yClean: a.yClean ? slice(a.yClean, T * D) : undefined,
        },
        { n: 1, T, D, P },
      );
    },
    async loadShard(entry) {
      return toBatch(await read(entry), { n: entry.count, T, D, P });
    },
    async verify() {
      const shards: ShardVerdict[] = [];
      for (const s of manifest.shards) {
        try {
          await read(s);
          shards.push({ file: s.file, ok: true });
        } catch (err) {
          if (!(err instanceof CorruptFileError)) throw err;
          shards.push({ file: s.file, ok: false, problem: err.message });
        }
      }
      return { ok: shards.every((s) => s.ok), shards };
    },
  };
}

/** Checks one shard file's bytes against a manifest entry without throwing (used by resume). */
export async function shardMatches(dir: string, manifest: Manifest, entry: ShardEntry): Promise<boolean> {
  try {
    const bytes = await readFile(join(dir, entry.file));
    if (sha256Hex(bytes) !== entry.sha256) return false;
    decodeShard(bytes, entry.file, shardExpectations(manifest, entry));
    return true;
  } catch {
    return false;
  }
}
