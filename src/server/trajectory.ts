/**
 * One true trajectory of a listed dataset, in flat row-major arrays (the shape the viewer wants),
 * and its JSON payload. Only the trajectory's rows are read from its shard.
 */
import { join } from 'node:path';
import { shardExpectations } from '../data/manifest.js';
import { systemFromManifest } from '../../systems/index.js';
import { isRegisteredSystem, type DatasetEntry } from './catalog.js';
import { phaseSpaceSystem, registeredView, type ViewSystem } from './phase-space.js';
import { HttpError, badRequest } from './http-error.js';
import { ShardProblem, readRows, verifiedLayout } from './shard-rows.js';
import { pickRows, sampleIndices, type Downsample } from './downsample.js';

/** A trajectory at full resolution: T samples of D states, P points. */
export interface FullTrajectory {
  readonly index: number;
  readonly split: string;
  readonly t: Float64Array;
  /** States [T, D], row-major. */
  readonly y: Float64Array;
  readonly params: Float64Array;
  /** Energies [T]; null for a dataset without energy (phase-space stand-in). */
  readonly energy: Float64Array | null;
  /** 3D points [T, P, 3], row-major. */
  readonly positions: Float64Array;
}

export interface OpenedDataset {
  readonly entry: DatasetEntry;
  readonly system: ViewSystem;
}

/** One entry per listed dataset folder (replaced when its manifest changes): bounded by the listing. */
const systems = new Map<string, { mtimeMs: number; system: ViewSystem }>();

/**
 * The system behind a listing entry, built once per manifest version: the registered system the
 * manifest names, else the phase-space stand-in (phase-space.ts).
 */
export function openListed(entry: DatasetEntry): OpenedDataset {
  let known = systems.get(entry.dir);
  if (!known || known.mtimeMs !== entry.mtimeMs) {
    const m = entry.manifest;
    known = { mtimeMs: entry.mtimeMs, system: isRegisteredSystem(m) ? registeredView(systemFromManifest(m)) : phaseSpaceSystem(m) };
    systems.set(entry.dir, known);
  }
  return { entry, system: known.system };
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
export function positionsOf(system: ViewSystem, y: Float64Array, dim: number, params: Float64Array): Float64Array {
  const count = y.length / dim;
  const width = system.pointCount * 3;
  const out = new Float64Array(count * width);
  for (let i = 0; i < count; i++) out.set(system.positions(y.subarray(i * dim, (i + 1) * dim), params), i * width);
  return out;
}

/** Bytes a trajectory holds (its arrays), for byte-bounded caches. */
export function trajectoryBytes(t: FullTrajectory): number {
  return t.t.byteLength + t.y.byteLength + t.params.byteLength + (t.energy?.byteLength ?? 0) + t.positions.byteLength;
}

/** Throws a 422 naming the first non-finite value of `values` (rows of `width`). */
function checkFinite(values: Float64Array, width: number, what: string, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new HttpError(422, `${where}: ${what} holds ${values[i]} at sample ${Math.floor(i / width)}, component ${i % width} (regenerate the dataset)`);
    }
  }
}

/**
 * Loads trajectory `index` at full resolution by reading only its rows of the shard (the shard is
 * verified once per file version, see shard-rows.ts).
 */
export async function loadFull(ds: OpenedDataset, index: number): Promise<FullTrajectory> {
  const { entry, system } = ds;
  checkIndex(entry, index);
  const m = entry.manifest;
  const shard = m.shards.find((s) => index >= s.indexRange[0] && index < s.indexRange[1]);
  if (!shard) throw badRequest(`trajectory ${index} is in no shard of dataset '${entry.name}'`);
  const path = join(entry.dir, shard.file);
  const name = `${entry.name}/${shard.file}`;
  const row = index - shard.indexRange[0];
  try {
    const layout = await verifiedLayout(path, name, shard.sha256, shardExpectations(m, shard));
    // One open file, four positioned reads: the times (1-D, whole) and this trajectory's rows.
    const [t, y, params, energy] = await readRows(path, layout, ['t', 'y', 'params', 'energy'], row, 1, name);
    const where = `trajectory ${index} of dataset '${entry.name}' (${shard.file})`;
    const D = m.state.dim;
    checkFinite(y, D, 'the state', where);
    checkFinite(params, params.length || 1, 'the parameters', where);
    checkFinite(t, 1, 'the times', where);
    return { index, split: shard.split, t, y, params, energy: system.energy ? energy : null, positions: positionsOf(system, y, D, params) };
  } catch (err) {
    if (err instanceof ShardProblem) throw new HttpError(409, `dataset '${entry.name}' cannot be served: ${err.message} (regenerate the dataset with physode generate)`);
    throw err;
  }
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
    /** Whether energies are served (false for the phase-space stand-in: energy fields are null). */
    hasEnergy: s.energy !== null,
    /** For a dataset of no registered system: the state components drawn as x, y, z (each divided by its training std); else null. */
    phaseSpace: s.phaseSpace ? { components: [...s.phaseSpace.components], labels: [...s.phaseSpace.labels], scaledBy: 'training std' } : null,
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
    /** Energies [samples], or null when the dataset has none. */
    energy: traj.energy ? pickRows(traj.energy, 1, keep) : null,
    /** Points [samples, pointCount, 3], row-major. */
    positions: pickRows(traj.positions, ds.system.pointCount * 3, keep),
  };
}
