/**
 * One shard file (DATASET.md): the npz keys t, y, params, energy, index, and optional dydt, y_clean,
 * with their shapes checked on read. Conversion between the file and a TrajectoryBatch.
 */
import ndarray from 'ndarray';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CorruptFileError } from '../util/errors.js';
import { decodeNpz, encodeNpz, type NpyArray } from './npz.js';
import type { TrajectoryBatch } from './types.js';

export interface ShardArrays {
  readonly t: Float64Array;
  readonly y: Float64Array;
  readonly params: Float64Array;
  readonly energy: Float64Array;
  readonly index: Int32Array;
  readonly dydt?: Float64Array;
  readonly yClean?: Float64Array;
}

export interface ShardShape {
  /** Trajectories N, samples T, state dimension D, parameters P. */
  readonly n: number;
  readonly T: number;
  readonly D: number;
  readonly P: number;
}

export function encodeShard(a: ShardArrays, s: ShardShape): Uint8Array {
  const f64 = (shape: number[], data: Float64Array): NpyArray => ({ dtype: 'float64', shape, data });
  const entries: Record<string, NpyArray> = {
    t: f64([s.T], a.t),
    y: f64([s.n, s.T, s.D], a.y),
    params: f64([s.n, s.P], a.params),
    energy: f64([s.n, s.T], a.energy),
    index: { dtype: 'int32', shape: [s.n], data: a.index },
  };
  if (a.dydt) entries.dydt = f64([s.n, s.T, s.D], a.dydt);
  if (a.yClean) entries.y_clean = f64([s.n, s.T, s.D], a.yClean);
  return encodeNpz(entries);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ShardExpectations extends ShardShape {
  readonly firstIndex: number;
  readonly derivatives: boolean;
  readonly noise: boolean;
}

/** Decodes a shard's bytes and checks every array's dtype and shape against the manifest's layout. */
export function decodeShard(bytes: Uint8Array, file: string, e: ShardExpectations): ShardArrays {
  const arrays = decodeNpz(bytes, file);
  const hint = 'regenerate the dataset (rerun physode generate with the same options) or restore the file';
  const take = (key: string, shape: number[], dtype: NpyArray['dtype']): NpyArray['data'] => {
    const a = arrays[key];
    if (!a) throw new CorruptFileError(file, `missing array '${key}'`, hint);
    if (a.dtype !== dtype) throw new CorruptFileError(file, `array '${key}' has dtype ${a.dtype}, expected ${dtype}`, hint);
    if (a.shape.length !== shape.length || a.shape.some((v, i) => v !== shape[i])) {
      throw new CorruptFileError(file, `array '${key}' has shape [${a.shape.join(', ')}], expected [${shape.join(', ')}]`, hint);
    }
    return a.data;
  };
  const { n, T, D, P } = e;
  const out: ShardArrays = {
    t: take('t', [T], 'float64') as Float64Array,
    y: take('y', [n, T, D], 'float64') as Float64Array,
    params: take('params', [n, P], 'float64') as Float64Array,
    energy: take('energy', [n, T], 'float64') as Float64Array,
    index: take('index', [n], 'int32') as Int32Array,
    dydt: e.derivatives ? (take('dydt', [n, T, D], 'float64') as Float64Array) : undefined,
    yClean: e.noise ? (take('y_clean', [n, T, D], 'float64') as Float64Array) : undefined,
  };
  for (let i = 0; i < n; i++) {
    if (out.index[i] !== e.firstIndex + i) {
      throw new CorruptFileError(file, `index[${i}] is ${out.index[i]}, expected ${e.firstIndex + i}`, hint);
    }
  }
  checkFinite(out, e, file, hint);
  return out;
}

/**
 * Every stored value must be finite: a NaN or infinity in a shard whose checksum matches was written
 * so (or the file was replaced with its checksum), and training on it would only report a NaN loss.
 * Names the array, the trajectory (dataset index) and the sample of the first such value.
 */
export function checkFinite(a: ShardArrays, e: ShardExpectations, file: string, hint: string): void {
  const { T, D, P } = e;
  for (let k = 0; k < a.t.length; k++) {
    if (!Number.isFinite(a.t[k])) throw new CorruptFileError(file, `array 't' holds ${a.t[k]} at sample ${k}: values must be finite`, hint);
  }
  // [key, values, values per trajectory, values per sample]
  const arrays: Array<[string, Float64Array | undefined, number, number]> = [
    ['y', a.y, T * D, D],
    ['params', a.params, P, 0],
    ['energy', a.energy, T, 1],
    ['dydt', a.dydt, T * D, D],
    ['y_clean', a.yClean, T * D, D],
  ];
  for (const [key, x, perTrajectory, perSample] of arrays) {
    if (!x) continue;
    for (let i = 0; i < x.length; i++) {
      // x - x is 0 for a finite x and NaN for NaN and infinities.
      if (x[i] - x[i] === 0) continue;
      const trajectory = e.firstIndex + Math.floor(i / perTrajectory);
      const within = i % perTrajectory;
      const place = perSample === 0 ? `parameter ${within}` : perSample === 1 ? `sample ${within}` : `sample ${Math.floor(within / perSample)}, component ${within % perSample}`;
      throw new CorruptFileError(file, `array '${key}' holds ${x[i]} at trajectory ${trajectory}, ${place}: values must be finite`, hint);
    }
  }
}

/** Reads a shard file, optionally checking its SHA-256 first. */
export async function readShardFile(path: string, file: string, e: ShardExpectations, sha256?: string): Promise<ShardArrays> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CorruptFileError(file, 'missing', 'rerun the physode generate command that made this dataset to restore it');
    }
    throw new CorruptFileError(file, `cannot be read (${code === 'EISDIR' ? 'a folder stands where the shard file should be' : (code ?? (err as Error).message)})`, 'rerun the physode generate command that made this dataset to restore it');
  }
  if (sha256 !== undefined) {
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new CorruptFileError(file, `checksum mismatch (SHA-256 ${actual.slice(0, 12)}..., manifest says ${sha256.slice(0, 12)}...): the file was altered or truncated`, 'rerun the physode generate command that made this dataset to rewrite it');
    }
  }
  return decodeShard(bytes, file, e);
}

/** Views shard arrays as a TrajectoryBatch (ndarray views, no copies). */
export function toBatch(a: ShardArrays, s: ShardShape): TrajectoryBatch {
  return {
    t: a.t,
    y: ndarray(a.y, [s.n, s.T, s.D]),
    params: ndarray(a.params, [s.n, s.P]),
    energy: ndarray(a.energy, [s.n, s.T]),
    index: a.index,
    dydt: a.dydt ? ndarray(a.dydt, [s.n, s.T, s.D]) : undefined,
    yClean: a.yClean ? ndarray(a.yClean, [s.n, s.T, s.D]) : undefined,
  };
}
