/**
 * Trajectories as training and evaluation need them: a dense, C-ordered copy of a split in
 * normalised coordinates, with the sample times and the physical states and parameters alongside.
 */
import type { TrajectoryBatch } from '../data/types.js';
import type { NdArray } from 'ndarray';
import { InvalidArgumentError } from '../util/errors.js';
import { normaliseStates, type NormStats } from './normalise.js';

export interface Trajectories {
  /** Number of trajectories N, samples T, state dimension D, parameters P. */
  readonly n: number;
  readonly samples: number;
  readonly dim: number;
  readonly paramCount: number;
  /** Sample times [T]. */
  readonly t: Float64Array;
  /** Physical states [N*T*D], C order. */
  readonly y: Float64Array;
  /** Normalised states [N*T*D], C order. */
  readonly z: Float64Array;
  /** Parameters [N*P]. */
  readonly params: Float64Array;
  /** Ground-truth energies [N*T]. */
  readonly energy: Float64Array;
  /** Global trajectory indices [N]. */
  readonly index: Int32Array;
}

/** Copies a strided ndarray into a dense C-ordered Float64Array. */
export function denseCopy(a: NdArray<Float64Array>): Float64Array {
  const out = new Float64Array(a.size);
  const shape = a.shape;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < out.length; k++) {
    let off = a.offset;
    for (let r = 0; r < rank; r++) off += idx[r] * a.stride[r];
    out[k] = a.data[off];
    for (let r = rank - 1; r >= 0; r--) {
      if (++idx[r] < shape[r]) break;
      idx[r] = 0;
    }
  }
  return out;
}

export function prepareTrajectories(batch: TrajectoryBatch, stats: NormStats): Trajectories {
  const [n, samples, dim] = batch.y.shape;
  if (batch.t.length !== samples) {
    throw new InvalidArgumentError(`trajectory batch has ${batch.t.length} times but ${samples} samples per trajectory`, 'the dataset is inconsistent: regenerate it');
  }
  const y = denseCopy(batch.y);
  const paramCount = batch.params.shape[1] ?? 0;
  return {
    n,
    samples,
    dim,
    paramCount,
    t: Float64Array.from(batch.t),
    y,
    z: normaliseStates(y, stats),
    params: n * paramCount > 0 ? denseCopy(batch.params) : new Float64Array(0),
    energy: denseCopy(batch.energy),
    index: Int32Array.from(batch.index),
  };
}

/** Picks a subset of trajectories (by position) as a new Trajectories. */
export function selectTrajectories(tr: Trajectories, positions: readonly number[]): Trajectories {
  const { samples: T, dim: D, paramCount: P } = tr;
  const n = positions.length;
  const y = new Float64Array(n * T * D);
  const z = new Float64Array(n * T * D);
  const params = new Float64Array(n * P);
  const energy = new Float64Array(n * T);
  const index = new Int32Array(n);
  positions.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= tr.n) {
      throw new InvalidArgumentError(`trajectory ${p} does not exist`, `use positions from 0 to ${tr.n - 1}`);
    }
    y.set(tr.y.subarray(p * T * D, (p + 1) * T * D), i * T * D);
    z.set(tr.z.subarray(p * T * D, (p + 1) * T * D), i * T * D);
    params.set(tr.params.subarray(p * P, (p + 1) * P), i * P);
    energy.set(tr.energy.subarray(p * T, (p + 1) * T), i * T);
    index[i] = tr.index[p];
  });
  return { n, samples: T, dim: D, paramCount: P, t: tr.t, y, z, params, energy, index };
}

/** Keeps the first `count` samples of every trajectory (a shorter horizon). */
export function truncateHorizon(tr: Trajectories, count: number): Trajectories {
  if (count >= tr.samples) return tr;
  if (count < 2) throw new InvalidArgumentError(`a horizon of ${count} samples is too short`, 'use a horizon covering at least two samples');
  const { n, samples: T, dim: D } = tr;
  const y = new Float64Array(n * count * D);
  const z = new Float64Array(n * count * D);
  const energy = new Float64Array(n * count);
  for (let i = 0; i < n; i++) {
    y.set(tr.y.subarray(i * T * D, i * T * D + count * D), i * count * D);
    z.set(tr.z.subarray(i * T * D, i * T * D + count * D), i * count * D);
    energy.set(tr.energy.subarray(i * T, i * T + count), i * count);
  }
  return { ...tr, samples: count, t: tr.t.slice(0, count), y, z, energy };
}
