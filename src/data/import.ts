/**
 * External trajectories as a physode dataset: a folder of `.npy` files (or `.npz` files, one array
 * each or a named key), one trajectory [T, D] per file, sorted by file name, becomes manifest.json
 * and shards like a generated dataset (DATASET.md), so that every command reads it. The split is
 * given by file ranges (the literature's fixed split) or fractions; files in no range are left
 * out. Trajectories are numbered 0… in file order among those kept; each shard holds one
 * contiguous run of one split. An imported dataset has no parameters and no energy (zeros, and
 * `conservative: false`); its sample times are k · sampleInterval.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { CorruptFileError, InvalidArgumentError } from '../util/errors.js';
import { pathExists } from '../util/fs.js';
import { version } from '../util/version.js';
import { decodeNpy, decodeNpz, type NpyArray } from './npz.js';
import { encodeShard, sha256Hex } from './shard.js';
import { combine, stdOf, summarize } from './stats.js';
import { MANIFEST_FILE } from './manifest.js';
import type { Manifest, ShardEntry, ShardSummary, Split } from './types.js';

/** File index ranges [from, to) per split, in sorted-file order. */
export type FileRanges = Partial<Record<Split, readonly [number, number]>>;

export interface ImportOptions {
  /** Folder of .npy / .npz files. */
  readonly source: string;
  readonly out: string;
  /** System name recorded in the manifest (default 'imported'). */
  readonly name?: string;
  /** Split by file ranges, or fractions [train, val, test] of the files in order (default 0.8, 0.1, 0.1). */
  readonly ranges?: FileRanges;
  readonly fractions?: readonly [number, number, number];
  /** Time between rows (default 1). */
  readonly sampleInterval?: number;
  /** State labels (default x0…x{D-1}). */
  readonly labels?: readonly string[];
  /** The array to take from .npz files (default: the file's only array). */
  readonly key?: string;
  /** Words recorded in manifest.system.options (source, license...). */
  readonly provenance?: Readonly<Record<string, string>>;
  /** Replace a dataset already in `out`. */
  readonly force?: boolean;
}

export interface ImportResult {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Files imported per split, by name. */
  readonly files: Readonly<Record<Split, readonly string[]>>;
  /** Files of the source folder left out (in no split range). */
  readonly unused: readonly string[];
}

const isArrayFile = (f: string) => f.endsWith('.npy') || f.endsWith('.npz');

/** The trajectory of one file as float64 [T, D] (float32 and int32 widen exactly). */
export async function readTrajectoryFile(path: string, key?: string): Promise<{ rows: number; dim: number; data: Float64Array }> {
  const bytes = new Uint8Array(await readFile(path));
  let a: NpyArray;
  if (path.endsWith('.npz')) {
    const arrays = decodeNpz(bytes, path);
    const keys = Object.keys(arrays);
    const k = key ?? (keys.length === 1 ? keys[0] : undefined);
    if (k === undefined || !arrays[k]) throw new InvalidArgumentError(`${path} holds arrays ${keys.join(', ')}; which one is the trajectory?`, key ? `it has no '${key}'` : 'name it with --key');
    a = arrays[k];
  } else {
    a = decodeNpy(bytes, path);
  }
  if (a.shape.length !== 2 || a.shape[0] < 2 || a.shape[1] < 1) {
    throw new CorruptFileError(path, `holds an array of shape (${a.shape.join(', ')}); a trajectory is (T, D) with T >= 2`, 'one trajectory per file, rows are time steps');
  }
  const data = a.data instanceof Float64Array ? a.data : Float64Array.from(a.data);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new CorruptFileError(path, `value ${data[i]} at row ${Math.floor(i / a.shape[1])}, column ${i % a.shape[1]} is not finite`, 'clean the trajectory before importing it');
  }
  return { rows: a.shape[0], dim: a.shape[1], data };
}

/** The split of each sorted file (null: left out). */
export function assignSplits(fileCount: number, ranges?: FileRanges, fractions?: readonly [number, number, number]): (Split | null)[] {
  const out: (Split | null)[] = new Array(fileCount).fill(null);
  if (ranges) {
    for (const [split, r] of Object.entries(ranges) as [Split, readonly [number, number]][]) {
      const [from, to] = r;
      if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to > from && to <= fileCount)) {
        throw new InvalidArgumentError(`${split} range ${from}-${to} does not fit the ${fileCount} files`, 'ranges are file positions [from, to) in sorted order, e.g. --val 0-5');
      }
      for (let i = from; i < to; i++) {
        if (out[i] !== null) throw new InvalidArgumentError(`file ${i} is in both the ${out[i]} and the ${split} range`, 'split ranges must not overlap');
        out[i] = split;
      }
    }
    if (!out.includes('train')) throw new InvalidArgumentError('no training files', 'give a --train range');
    return out;
  }
  const [a, b, c] = fractions ?? [0.8, 0.1, 0.1];
  if (![a, b, c].every((x) => Number.isFinite(x) && x >= 0) || Math.abs(a + b + c - 1) > 1e-9 || a <= 0) {
    throw new InvalidArgumentError(`split fractions ${a},${b},${c} must be non-negative, sum to 1, with a training share`);
  }
  const nTrain = Math.round(a * fileCount);
  const nVal = Math.round(b * fileCount);
  for (let i = 0; i < fileCount; i++) out[i] = i < nTrain ? 'train' : i < nTrain + nVal ? 'val' : 'test';
  return out;
}

/** Imports the folder (see the file comment). Writes shards, then the manifest last (the commit point). */
export async function importTrajectories(o: ImportOptions): Promise<ImportResult> {
  let names: string[];
  try {
    names = (await readdir(o.source)).filter(isArrayFile).sort();
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the folder ${o.source} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'give a folder of .npy or .npz trajectory files');
  }
  if (names.length === 0) throw new InvalidArgumentError(`${o.source} holds no .npy or .npz files`, 'give a folder of .npy or .npz trajectory files');
  const splits = assignSplits(names.length, o.ranges, o.fractions);
  const interval = o.sampleInterval ?? 1;
  if (!(Number.isFinite(interval) && interval > 0)) throw new InvalidArgumentError(`sample interval must be positive, got ${interval}`);
  if (!o.force && (await pathExists(join(o.out, MANIFEST_FILE)))) {
    throw new InvalidArgumentError(`${o.out} already holds a dataset`, 'add --force to replace it, or choose another --out');
  }

  const kept = names.map((f, i) => ({ file: f, split: splits[i] })).filter((e): e is { file: string; split: Split } => e.split !== null);
  const first = await readTrajectoryFile(join(o.source, kept[0].file), o.key);
  const T = first.rows, D = first.dim;
  const labels = o.labels ?? Array.from({ length: D }, (_, d) => `x${d}`);
  if (labels.length !== D) throw new InvalidArgumentError(`${labels.length} state labels for ${D} columns`, `give ${D} labels`);

  // Contiguous runs of one split become one shard each.
  const runs: { split: Split; from: number; to: number }[] = [];
  kept.forEach((e, i) => {
    const last = runs[runs.length - 1];
    if (last && last.split === e.split) last.to = i + 1;
    else runs.push({ split: e.split, from: i, to: i + 1 });
  });
  if (o.force) for (const f of (await readdir(o.out).catch(() => [] as string[])).filter((f) => /^shard-\d{5}\.npz$/.test(f) || f === MANIFEST_FILE)) await rm(join(o.out, f), { force: true });

  const t = Float64Array.from({ length: T }, (_, k) => k * interval);
  const shards: ShardEntry[] = [];
  for (const [s, run] of runs.entries()) {
    const n = run.to - run.from;
    const y = new Float64Array(n * T * D);
    for (let j = 0; j < n; j++) {
      const file = kept[run.from + j].file;
      const a = j === 0 && run.from === 0 ? first : await readTrajectoryFile(join(o.source, file), o.key);
      if (a.rows !== T || a.dim !== D) throw new CorruptFileError(join(o.source, file), `has shape (${a.rows}, ${a.dim}), the first file (${kept[0].file}) (${T}, ${D})`, 'every trajectory must have the same number of rows and columns');
      y.set(a.data, j * T * D);
    }
    const bytes = encodeShard(
      { t, y, params: new Float64Array(0), energy: new Float64Array(n * T), index: Int32Array.from({ length: n }, (_, j) => run.from + j) },
      { n, T, D, P: 0 },
    );
    const file = `shard-${String(s).padStart(5, '0')}.npz`;
    await writeFileAtomic(join(o.out, file), bytes);
    shards.push({ file, count: n, indexRange: [run.from, run.to], split: run.split, sha256: sha256Hex(bytes), summary: summarize(y, D, 0) });
  }
  const empty: ShardSummary = { samples: 0, mean: new Array(D).fill(0), m2: new Array(D).fill(0), maxRelEnergyError: 0 };
  const train = shards.filter((s) => s.split === 'train').reduce((acc, s) => combine(acc, s.summary ?? empty), empty);
  const N = kept.length;
  const share = (sp: Split) => kept.filter((e) => e.split === sp).length / N;
  const manifest: Manifest = {
    format: 'physode-dataset',
    version: 1,
    complete: true,
    system: { name: o.name ?? 'imported', options: { ...o.provenance, imported: 'trajectories from .npy/.npz files, one per file, sorted by name' }, paramLabels: [], params: [], conservative: false },
    state: { dim: D, labels: [...labels] },
    times: { start: 0, end: (T - 1) * interval, count: T },
    generator: {
      integrator: 'imported',
      integratorVersion: 'none',
      rtol: 0,
      atol: 0,
      seed: 0,
      seedDerivation: 'none: recorded trajectories, numbered in file order',
      physodeVersion: version,
      noise: 0,
      derivatives: false,
      count: N,
      shardSize: Math.max(...runs.map((r) => r.to - r.from)),
      split: [share('train'), share('val'), share('test')],
    },
    shards,
    stats: { mean: train.mean, std: stdOf(train), maxRelEnergyError: 0 },
  };
  await writeFileAtomic(join(o.out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  const files = { train: [] as string[], val: [] as string[], test: [] as string[] };
  for (const e of kept) files[e.split].push(e.file);
  return { dir: o.out, manifest, files, unused: names.filter((_, i) => splits[i] === null) };
}
