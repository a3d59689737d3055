/**
 * A run's rollout from a true trajectory's initial state: the model's prediction over the first
 * `horizon` sample times, its error against the truth and the energy of both. Results are cached
 * in memory by (run, dataset, index, horizon), and identical requests in flight share one
 * computation.
 */
import type { OpenedDataset, FullTrajectory } from './trajectory.js';
import { positionsOf, systemSummary } from './trajectory.js';
import type { Predictor } from './predictor.js';
import type { RunEntry } from './catalog.js';
import { HttpError, badRequest } from './http-error.js';
import { pickRows, sampleIndices, type Downsample } from './downsample.js';
import { ByteCache } from './byte-cache.js';

export interface Rollout {
  readonly run: string;
  readonly dataset: string;
  readonly index: number;
  readonly horizon: number;
  readonly t: Float64Array;
  /** Predicted states [H, D]. */
  readonly predicted: Float64Array;
  /** Predicted points [H, P, 3]. */
  readonly predictedPositions: Float64Array;
  /** Null when the dataset has no energy (phase-space stand-in). */
  readonly trueEnergy: Float64Array | null;
  readonly predictedEnergy: Float64Array | null;
  /** Root mean square over components of (predicted - true) / std (std from the manifest's stats) [H]. */
  readonly error: Float64Array;
  /** Distance between predicted and true position of each point [H, P]. */
  readonly pointError: Float64Array;
  /** Mean over samples and components of ((predicted - true) / std)^2. */
  readonly mse: number;
  /** The same for predicting the dataset mean at every sample: what a model must beat. */
  readonly meanBaselineMse: number;
  readonly computeMs: number;
}

/** Per-component centre for the mean baseline: the manifest's mean, 0 where missing. */
function centres(ds: OpenedDataset): Float64Array {
  const mean = ds.entry.manifest.stats?.mean ?? [];
  return Float64Array.from({ length: ds.system.dim }, (_, j) => (Number.isFinite(mean[j]) ? mean[j] : 0));
}

/** Per-component scale for the normalised error: the manifest's std, 1 where it is 0 or missing. */
function scales(ds: OpenedDataset): Float64Array {
  const D = ds.system.dim;
  const std = ds.entry.manifest.stats?.std ?? [];
  const out = new Float64Array(D);
  for (let j = 0; j < D; j++) out[j] = Number.isFinite(std[j]) && std[j] > 0 ? std[j] : 1;
  return out;
}

/** Computes a rollout of `run` from `traj`'s first state over its first `horizon` samples. */
export async function computeRollout(
  predict: Predictor,
  run: RunEntry,
  ds: OpenedDataset,
  traj: FullTrajectory,
  horizon: number,
): Promise<Rollout> {
  const D = ds.system.dim;
  const T = traj.t.length;
  if (horizon > T) throw badRequest(`horizon ${horizon} exceeds trajectory ${traj.index} of '${ds.entry.name}', which has ${T} samples`);
  const t = traj.t.slice(0, horizon);
  const started = performance.now();
  const predicted = await predict({ runDir: run.dir, runVersion: run.mtimeMs, y0: traj.y.slice(0, D), batch: 1, dim: D, t });
  if (predicted.length !== horizon * D) {
    throw new HttpError(500, `the model returned ${predicted.length} values, expected ${horizon} x ${D}`);
  }
  const computeMs = performance.now() - started;
  const P = ds.system.pointCount;
  const predictedPositions = positionsOf(ds.system, predicted, D, traj.params);
  const scale = scales(ds);
  const centre = centres(ds);
  let squared = 0;
  let baseline = 0;
  const error = new Float64Array(horizon);
  const pointError = new Float64Array(horizon * P);
  const energyOf = ds.system.energy;
  const predictedEnergy = energyOf ? new Float64Array(horizon) : null;
  for (let i = 0; i < horizon; i++) {
    let sum = 0;
    for (let j = 0; j < D; j++) {
      const d = (predicted[i * D + j] - traj.y[i * D + j]) / scale[j];
      sum += d * d;
      baseline += ((centre[j] - traj.y[i * D + j]) / scale[j]) ** 2;
    }
    squared += sum;
    error[i] = Math.sqrt(sum / D);
    for (let p = 0; p < P; p++) {
      const o = (i * P + p) * 3;
      pointError[i * P + p] = Math.hypot(
        predictedPositions[o] - traj.positions[o],
        predictedPositions[o + 1] - traj.positions[o + 1],
        predictedPositions[o + 2] - traj.positions[o + 2],
      );
    }
    if (predictedEnergy && energyOf) predictedEnergy[i] = energyOf(predicted.subarray(i * D, (i + 1) * D), traj.params);
  }
  return {
    run: run.id,
    dataset: ds.entry.name,
    index: traj.index,
    horizon,
    t,
    predicted,
    predictedPositions,
    trueEnergy: traj.energy ? traj.energy.slice(0, horizon) : null,
    predictedEnergy,
    error,
    pointError,
    mse: squared / (horizon * D),
    meanBaselineMse: baseline / (horizon * D),
    computeMs,
  };
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** JSON body of `GET /api/runs/:id/rollout`. */
export function rolloutPayload(ds: OpenedDataset, r: Rollout, down: Downsample, cached: boolean) {
  const D = ds.system.dim;
  const P = ds.system.pointCount;
  const keep = sampleIndices(r.horizon, down);
  return {
    run: r.run,
    dataset: r.dataset,
    index: r.index,
    horizon: r.horizon,
    system: systemSummary(ds),
    dim: D,
    pointCount: P,
    samples: keep.length,
    cached,
    computeMs: Math.round(r.computeMs),
    errorDefinition: 'RMS over state components of (predicted - true) / std, std from the manifest stats',
    mse: finiteOrNull(r.mse),
    meanBaselineMse: finiteOrNull(r.meanBaselineMse),
    t: pickRows(r.t, 1, keep),
    predicted: pickRows(r.predicted, D, keep),
    predictedPositions: pickRows(r.predictedPositions, P * 3, keep),
    trueEnergy: r.trueEnergy ? pickRows(r.trueEnergy, 1, keep) : null,
    predictedEnergy: r.predictedEnergy ? pickRows(r.predictedEnergy, 1, keep) : null,
    error: pickRows(r.error, 1, keep),
    pointError: pickRows(r.pointError, P, keep),
  };
}

/** Bytes a rollout holds (its arrays), for the byte-bounded cache. */
export function rolloutBytes(r: Rollout): number {
  return r.t.byteLength + r.predicted.byteLength + r.predictedPositions.byteLength + (r.trueEnergy?.byteLength ?? 0) + (r.predictedEnergy?.byteLength ?? 0) + r.error.byteLength + r.pointError.byteLength;
}

/** Default byte budget of the rollout cache. */
export const ROLLOUT_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Cache of rollouts bounded by bytes (least recently used evicted), with in-flight sharing and a
 * bound on distinct rollouts waiting for the model: past it, requests get 503 at once.
 */
export class RolloutCache {
  private readonly cache: ByteCache<Rollout>;
  constructor(
    budgetBytes = ROLLOUT_CACHE_BYTES,
    private readonly maxInflight = 128,
  ) {
    this.cache = new ByteCache(budgetBytes, rolloutBytes);
  }

  /** Bytes held by cached rollouts. */
  get bytes(): number {
    return this.cache.bytes;
  }

  /** The cached rollout for `key`, or the result of `compute` (shared by concurrent callers). */
  async get(key: string, compute: () => Promise<Rollout>): Promise<{ rollout: Rollout; cached: boolean }> {
    const hit = this.cache.peek(key);
    if (hit) return { rollout: hit, cached: true };
    if (!this.cache.running(key) && this.cache.pending >= this.maxInflight) {
      throw new HttpError(503, `the server is busy with ${this.cache.pending} rollouts; retry in a moment`);
    }
    return { rollout: await this.cache.get(key, compute), cached: false };
  }
}
