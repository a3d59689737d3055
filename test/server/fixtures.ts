/**
 * Test fixtures for the server: small datasets written straight in the DATASET.md format
 * (manifest.json + .npz shards of .npy arrays, checksums included), independently of the
 * dataset writer, and run folders. Trajectories are integrated here with classical RK4 on the
 * system's own right-hand side (fine substeps), which is all a fixture needs.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { getSystem } from '../../systems/index.js';
import type { SystemOptions } from '../../systems/system.js';
import { Rng, deriveSeed } from '../../src/util/rng.js';
import ndarray from 'ndarray';
import type { Manifest, ShardEntry, Split, TrajectoryBatch } from '../../src/data/types.js';
import type { DataSource } from '../../src/train/training-data.js';
import { initBackend } from '../../src/backend/backend.js';
import { train } from '../../src/train/trainer.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';
import { defaultModelFactory } from '../../src/train/default-factory.js';
import { importTrajectories } from '../../src/data/import.js';
import { NEXT_STATE_DEFAULTS, trainNextState } from '../../src/tasks/next-state-run.js';

export interface NpyArray {
  readonly dtype: '<f8' | '<i4';
  readonly shape: readonly number[];
  readonly data: Float64Array | Int32Array;
}

/** One .npy file (format version 1.0, numpy's NEP 1). */
export function npy(a: NpyArray): Buffer {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${a.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)]);
}

/** A zip archive of stored (uncompressed) entries (PKWARE APPNOTE 4.3). */
function zipStored(files: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** Classical RK4 from y0 over the sample times, `substeps` steps between samples. */
function integrate(rhs: (t: number, y: ArrayLike<number>, p: ArrayLike<number>, out: Float64Array) => void, y0: Float64Array, params: Float64Array, t: Float64Array, substeps: number): Float64Array {
  const D = y0.length;
  const out = new Float64Array(t.length * D);
  const y = Float64Array.from(y0);
  const k1 = new Float64Array(D), k2 = new Float64Array(D), k3 = new Float64Array(D), k4 = new Float64Array(D), tmp = new Float64Array(D);
  out.set(y, 0);
  for (let i = 1; i < t.length; i++) {
    const h = (t[i] - t[i - 1]) / substeps;
    let s = t[i - 1];
    for (let k = 0; k < substeps; k++, s += h) {
      rhs(s, y, params, k1);
      for (let j = 0; j < D; j++) tmp[j] = y[j] + 0.5 * h * k1[j];
      rhs(s + h / 2, tmp, params, k2);
      for (let j = 0; j < D; j++) tmp[j] = y[j] + 0.5 * h * k2[j];
      rhs(s + h / 2, tmp, params, k3);
      for (let j = 0; j < D; j++) tmp[j] = y[j] + h * k3[j];
      rhs(s + h, tmp, params, k4);
      for (let j = 0; j < D; j++) y[j] += (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    }
    out.set(y, i * D);
  }
  return out;
}

export interface FixtureDatasetOptions {
  readonly system: string;
  readonly options?: SystemOptions;
  /** Trajectories per split, in split order train, val, test. */
  readonly perSplit?: readonly [number, number, number];
  readonly samples?: number;
  readonly tEnd?: number;
  readonly seed?: number;
}

export interface FixtureDataset {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Every trajectory's states [T, D], by global index. */
  readonly states: Float64Array[];
  readonly params: Float64Array[];
  readonly t: Float64Array;
}

/** Writes a dataset folder `dir` in the DATASET.md format and returns what it holds. */
export async function writeFixtureDataset(dir: string, o: FixtureDatasetOptions): Promise<FixtureDataset> {
  const system = getSystem(o.system).create(o.options ?? {});
  const perSplit = o.perSplit ?? [3, 1, 2];
  const T = o.samples ?? 101;
  const tEnd = o.tEnd ?? 5;
  const seed = o.seed ?? 7;
  const D = system.dim;
  const P = system.paramLabels.length;
  const t = Float64Array.from({ length: T }, (_, i) => (tEnd * i) / (T - 1));
  await mkdir(dir, { recursive: true });
  const states: Float64Array[] = [];
  const params: Float64Array[] = [];
  const shards: ShardEntry[] = [];
  const splits: Split[] = ['train', 'val', 'test'];
  let index = 0;
  for (let s = 0; s < 3; s++) {
    const n = perSplit[s];
    if (n === 0) continue;
    const y = new Float64Array(n * T * D);
    const p = new Float64Array(n * P);
    const energy = new Float64Array(n * T);
    const idx = new Int32Array(n);
    for (let k = 0; k < n; k++, index++) {
      const ic = system.sample(new Rng(deriveSeed(seed, index)));
      const traj = integrate(system.rhs.bind(system), ic.y0, ic.params, t, 20);
      states.push(traj);
      params.push(Float64Array.from(ic.params));
      y.set(traj, k * T * D);
      p.set(ic.params, k * P);
      for (let i = 0; i < T; i++) energy[k * T + i] = system.energy(traj.subarray(i * D, (i + 1) * D), ic.params);
      idx[k] = index;
    }
    const file = `shard-${String(shards.length).padStart(5, '0')}.npz`;
    const bytes = zipStored({
      't.npy': npy({ dtype: '<f8', shape: [T], data: t }),
      'y.npy': npy({ dtype: '<f8', shape: [n, T, D], data: y }),
      'params.npy': npy({ dtype: '<f8', shape: [n, P], data: p }),
      'energy.npy': npy({ dtype: '<f8', shape: [n, T], data: energy }),
      'index.npy': npy({ dtype: '<i4', shape: [n], data: idx }),
    });
    await writeFile(join(dir, file), bytes);
    shards.push({ file, count: n, indexRange: [index - n, index], split: splits[s], sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  const trainCount = perSplit[0];
  const mean = new Array<number>(D).fill(0);
  const std = new Array<number>(D).fill(0);
  for (let k = 0; k < trainCount; k++) for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) mean[j] += states[k][i * D + j] / (trainCount * T);
  for (let k = 0; k < trainCount; k++) for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) std[j] += (states[k][i * D + j] - mean[j]) ** 2 / (trainCount * T);
  const count = index;
  const manifest: Manifest = {
    format: 'physode-dataset',
    version: 1,
    system: {
      name: system.name,
      options: Object.fromEntries(Object.entries(system.options).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>,
      paramLabels: [...system.paramLabels],
      params: system.params.map((s) => ({ name: s.name, default: s.default, range: [s.range[0], s.range[1]] as const })),
      conservative: system.conservative,
    },
    state: { dim: D, labels: [...system.stateLabels], ...(system.layout ? { layout: system.layout } : {}) },
    times: { start: 0, end: tEnd, count: T },
    generator: {
      integrator: 'rk4 (test fixture)',
      integratorVersion: '0',
      rtol: 0,
      atol: 0,
      seed,
      seedDerivation: 'deriveSeed(seed, globalIndex) (src/util/rng.ts)',
      physodeVersion: '0.1.0',
      noise: 0,
      derivatives: false,
      count,
      shardSize: Math.max(...perSplit),
      split: [perSplit[0] / count, perSplit[1] / count, perSplit[2] / count],
    },
    shards,
    stats: { mean, std: std.map(Math.sqrt), maxRelEnergyError: 0 },
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, manifest, states, params, t };
}

/** A run folder as src/train writes it (config.json, metrics.jsonl), without a model. */
export async function writeFixtureRun(dir: string, datasetDir: string, finalLoss = 0.0123): Promise<void> {
  await mkdir(dir, { recursive: true });
  const config = {
    format: 'physode-run',
    version: 1,
    backend: 'cpu',
    dataset: { path: datasetDir, manifestSha256: '0'.repeat(64), system: 'pendulum' },
    config: { model: { norm: 'tabn', depth: 2, width: 16 }, solver: { method: 'rk4' }, steps: 10, seed: 0 },
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(join(dir, 'metrics.jsonl'), `${JSON.stringify({ step: 5, loss: 0.5 })}\n${JSON.stringify({ step: 10, loss: finalLoss })}\n`);
}

/** A DataSource over the fixture's arrays (what src/train needs), without the dataset reader. */
export function fixtureSource(f: FixtureDataset): DataSource {
  const D = f.manifest.state.dim;
  const T = f.t.length;
  const P = f.manifest.system.paramLabels.length;
  return {
    path: f.dir,
    checksum: '0'.repeat(64),
    systemName: f.manifest.system.name,
    stateLabels: f.manifest.state.labels,
    stats: { mean: f.manifest.stats.mean, std: f.manifest.stats.std },
    async loadSplit(split: Split): Promise<TrajectoryBatch> {
      const shard = f.manifest.shards.find((s) => s.split === split);
      const indices = shard ? Array.from({ length: shard.count }, (_, k) => shard.indexRange[0] + k) : [];
      const y = new Float64Array(indices.length * T * D);
      const params = new Float64Array(indices.length * P);
      const energy = new Float64Array(indices.length * T);
      indices.forEach((g, k) => {
        y.set(f.states[g], k * T * D);
        params.set(f.params[g], k * P);
      });
      return {
        t: f.t,
        y: ndarray(y, [indices.length, T, D]),
        params: ndarray(params, [indices.length, P]),
        energy: ndarray(energy, [indices.length, T]),
        index: Int32Array.from(indices),
      };
    },
  };
}

/** Trains a tiny TA-BN run (10 steps, a few seconds) on a fixture dataset, with src/train. */
export async function trainTinyRun(data: FixtureDataset, runDir: string): Promise<void> {
  await initBackend('cpu');
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    model: { ...DEFAULT_CONFIG.model, norm: 'tabn', width: 16, depth: 1, gridIntervals: 10 },
    batchSize: 4,
    window: 8,
    steps: 10,
    warmup: 2,
    logEvery: 5,
    valEvery: 5,
    checkpointEvery: 5,
  };
  await train({ data: fixtureSource(data), runDir, config, factory: await defaultModelFactory(), plots: false, backend: 'cpu' });
}

/** Rows, components and row interval of the imported fixture's traces. */
export const IMPORTED_SAMPLES = 12;
export const IMPORTED_DIM = 5;
export const IMPORTED_DT = 0.5;
/** Component amplitudes: the largest spreads are components 1, 3, 2 (labels b, d, c) in that order. */
const IMPORTED_AMPLITUDE = [0.1, 5, 1, 3, 0.5];

export interface ImportedFixture {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Trajectories [T, D] by dataset index (file order). */
  readonly traces: Float64Array[];
}

/**
 * A dataset of no registered system: six sine traces written as .npy files into `srcDir` and
 * imported (src/data/import.ts, system name 'toy-traces') into `dir`: train 0-3, val 4, test 5.
 */
export async function writeImportedFixture(srcDir: string, dir: string): Promise<ImportedFixture> {
  const T = IMPORTED_SAMPLES;
  const D = IMPORTED_DIM;
  await mkdir(srcDir, { recursive: true });
  const traces: Float64Array[] = [];
  for (let f = 0; f < 6; f++) {
    const y = new Float64Array(T * D);
    for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) y[i * D + j] = IMPORTED_AMPLITUDE[j] * Math.sin(0.3 * i + f + j) + 0.01 * j;
    traces.push(y);
    await writeFile(join(srcDir, `trace_${f}.npy`), npy({ dtype: '<f8', shape: [T, D], data: y }));
  }
  const imported = await importTrajectories({ source: srcDir, out: dir, name: 'toy-traces', ranges: { train: [0, 4], val: [4, 5], test: [5, 6] }, sampleInterval: IMPORTED_DT, labels: ['a', 'b', 'c', 'd', 'e'] });
  return { dir, manifest: imported.manifest, traces };
}

/** A tiny next-state run (src/tasks, 2 optimisation steps of a depth-2 width-8 TA-BN model) on `dataDir`. */
export async function trainTinyNextStateRun(dataDir: string, runDir: string): Promise<void> {
  await initBackend('auto');
  await trainNextState({
    dataDir,
    runDir,
    settings: { ...NEXT_STATE_DEFAULTS, depth: 2, normLayers: 1, width: 8, method: 'rk4', solverSteps: 2, epochs: 1, maxSteps: 2, batchSize: 8, window: { length: 6, stride: 3 } },
  });
}
