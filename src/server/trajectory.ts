/**
 * One true trajectory of a listed dataset, in flat row-major arrays (the shape the viewer wants),
 * and its JSON payload. Datasets are opened once per manifest version and kept open.
 */
import type { Dataset } from '../data/dataset.js';
import { systemFromManifest } from '../../systems/index.js';
import type { SystemInstance } from '../../systems/system.js';
import type { DatasetEntry } from './catalog.js';
import { badRequest } from './http-error.js';
import { pickRows, sampleIndices, type Downsample } from './downsample.js';

/** A trajectory at full resolution: T samples of D states, P points. */
export interface FullTrajectory {
  readonly index: number;
  readonly split: string;
  readonly t: Float64Array;
  /** States [T, D], row-major. */
  readonly y: Float64Array;
  readonly params: Float64Array;
  /** Energies [T]. */
  readonly energy: Float64Array;
  /** 3D points [T, P, 3], row-major. */
  readonly positions: Float64Array;
}

export interface OpenedDataset {
  readonly entry: DatasetEntry;
  readonly dataset: Dataset;
  readonly system: SystemInstance;
}

const opened = new Map<string, { mtimeMs: number; value: Promise<OpenedDataset> }>();

/** The dataset behind a listing entry, opened (and validated) once per manifest version. */
export function openListed(entry: DatasetEntry): Promise<OpenedDataset> {
  const cached = opened.get(entry.dir);
  if (cached && cached.mtimeMs === entry.mtimeMs) return cached.value;
  const value = (async () => {
    // Loaded on first use, so that the page and the listings work without touching the data layer.
    const { openDataset } = await import('../data/dataset.js');
    const dataset = await openDataset(entry.dir);
    return { entry, dataset, system: systemFromManifest(dataset.manifest) };
  })();
  value.catch(() => opened.delete(entry.dir));
  opened.set(entry.dir, { mtimeMs: entry.mtimeMs, value });
  return value;
}

/** Split holding global index `index`, from the manifest's shard table. */
export function splitOf(entry: DatasetEntry, index: number): string {
  const shard = entry.manifest.shards.find((s) => index >= s.indexRange[0] && index < s.indexRange[1]);
  return shard ? shard.split : 'unknown';
}

/** Throws a 400 unless `index` is a trajectory of the dataset. */
export function checkIndex(entry: DatasetEntry, index: number): void {
  const count = entry.manifest.generator.count;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw badRequest(`trajectory index ${index} is out of range: dataset '${entry.name}' has trajectories 0..${count - 1}`);
  }
}

/** 3D points of every state row: [T, P, 3] for states [T, D]. */
export function positionsOf(system: SystemInstance, y: Float64Array, dim: number, params: Float64Array): Float64Array {
  const count = y.length / dim;
  const width = system.pointCount * 3;
  const out = new Float64Array(count * width);
  for (let i = 0; i < count; i++) out.set(system.positions(y.subarray(i * dim, (i + 1) * dim), params), i * width);
  return out;
}

/** Loads trajectory `index` at full resolution. */
export async function loadFull(ds: OpenedDataset, index: number): Promise<FullTrajectory> {
  checkIndex(ds.entry, index);
  const batch = await ds.dataset.loadTrajectory(index);
  const [, T, D] = batch.y.shape;
  const y = new Float64Array(T * D);
  for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) y[i * D + j] = batch.y.get(0, i, j);
  const P = batch.params.shape[1];
  const params = new Float64Array(P);
  for (let j = 0; j < P; j++) params[j] = batch.params.get(0, j);
  const energy = new Float64Array(T);
  for (let i = 0; i < T; i++) energy[i] = batch.energy.get(0, i);
  return {
    index,
    split: splitOf(ds.entry, index),
    t: Float64Array.from(batch.t),
    y,
    params,
    energy,
    positions: positionsOf(ds.system, y, D, params),
  };
}

/** The system facts the viewer needs to build its scene. */
export function systemSummary(ds: OpenedDataset) {
  const s = ds.system;
  return {
    name: s.name,
    options: s.options,
    stateLabels: s.stateLabels,
    paramLabels: s.paramLabels,
    pointCount: s.pointCount,
    conservative: s.conservative,
    layout: s.layout ?? null,
  };
}

/** JSON body of `GET /api/datasets/:name/trajectories/:index`. */
export function trajectoryPayload(ds: OpenedDataset, traj: FullTrajectory, down: Downsample) {
  const dim = ds.system.dim;
  const total = traj.t.length;
  const keep = sampleIndices(total, down);
  return {
    dataset: ds.entry.name,
    index: traj.index,
    split: traj.split,
    system: systemSummary(ds),
    params: Array.from(traj.params),
    /** The system's radius hint per point (n-body: grows with mass), or null. */
    pointRadius: ds.system.pointRadius ? Array.from(ds.system.pointRadius(traj.params)) : null,
    dim,
    pointCount: ds.system.pointCount,
    totalSamples: total,
    samples: keep.length,
    t: pickRows(traj.t, 1, keep),
    /** States [samples, dim], row-major. */
    states: pickRows(traj.y, dim, keep),
    energy: pickRows(traj.energy, 1, keep),
    /** Points [samples, pointCount, 3], row-major. */
    positions: pickRows(traj.positions, ds.system.pointCount * 3, keep),
  };
}
