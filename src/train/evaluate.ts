/**
 * Evaluation of a trained run on a split: full-horizon rollouts in eval mode, batch by batch, with the
 * paper's stress conditions (TA-BN, NeurIPS 2024, section 5): the evaluation batch size (minibatch BN
 * depends on it, TA-BN does not) and outliers (one corrupted sample in a fraction of the batches;
 * metrics on the clean samples only). Another solver than training's may be given.
 */
import { InvalidArgumentError } from '../util/errors.js';
import { NORM_KINDS, normDescriptor, type NormKind } from '../nn/registry.js';
import { Rng } from '../util/rng.js';
import { checkStats, denormaliseStates } from './normalise.js';
import { compareWithMeanPredictor, defaultHorizons, mean, meanPredictorMse, median, mseAtHorizons, mseByTime, relativeEnergyDrift, rolloutMse, validPredictionTimes, vectorDrift, type MeanPredictorComparison } from './metrics.js';
import type { LoadedRun } from './predict.js';
import type { SolverOverride } from './model-port.js';
import type { DataSource, PhysicsProbe } from './training-data.js';
import { prepareTrajectories, selectTrajectories, type Trajectories } from './trajectories.js';
import { energiesOf } from './training-plots.js';

export interface EvalOptions {
  /** Trajectories per evaluation batch; 0 or absent: the whole split in one batch. */
  readonly batchSize?: number;
  /** Fraction of batches that get one corrupted sample (0..1). */
  readonly outliers?: number;
  readonly outlierSeed?: number;
  /** Size of the corruption, in normalised units (default 10: far outside the data). */
  readonly outlierScale?: number;
  readonly solver?: SolverOverride;
  /** Valid-prediction-time threshold on the normalised RMS error (default 0.5). */
  readonly threshold?: number;
  readonly physics?: PhysicsProbe;
}

export interface EvalResult {
  readonly trajectories: number;
  readonly batchSize: number;
  readonly batches: number;
  /** Full-horizon MSE in normalised coordinates over the clean samples. */
  readonly rolloutMse: number;
  /**
   * rolloutMse beside the mean predictor's on the same clean samples (metrics.ts): `learned` is
   * false when the model is no better, or barely better, than always answering the training mean.
   */
  readonly baseline: MeanPredictorComparison;
  readonly mseAtHorizons: ReadonlyArray<{ readonly t: number; readonly mse: number }>;
  readonly validPredictionTime: number;
  readonly validPredictionTimeMedian: number;
  readonly threshold: number;
  /** Mean over trajectories of max_t |E(t) - E0| / |E0| of the predicted states (null without a system). */
  readonly energyDrift: number | null;
  readonly energyDriftFinal: number | null;
  /** The same for the ground truth (the dataset's own accuracy), for reference. */
  readonly energyDriftTruth: number | null;
  /** n-body: mean over trajectories of max_t |P(t) - P(0)| of the predictions (null otherwise). */
  readonly momentumDrift: number | null;
  readonly nfePerRollout: number;
  readonly wallSeconds: number;
  readonly outliers: { readonly fraction: number; readonly corruptedBatches: number; readonly excludedSamples: number };
  readonly norm: string;
  readonly solver: { readonly method: string; readonly rtol: number; readonly atol: number };
  /** MSE by sample time [T] over the clean samples (for plots). */
  readonly byTime: Float64Array;
  /** Predicted normalised states [N, T, D] (corrupted samples included as predicted). */
  readonly predicted: Float32Array;
  /** Which samples were corrupted (position in the split). */
  readonly corrupted: readonly number[];
}

const isNormKind = (n: string): n is NormKind => (NORM_KINDS as readonly string[]).includes(n);

/** Refuses evaluation settings that cannot be meaningful for this model, with the reason. */
export function checkEvalSettings(norm: string, batchSize: number, outliers: number): void {
  if (isNormKind(norm) && normDescriptor(norm).evalStatistics === 'batch' && batchSize === 1) {
    throw new InvalidArgumentError(
      "--batch-size 1 cannot evaluate a 'minibatch' model: minibatch BN normalises with the statistics of the evaluation batch, and one sample has zero batch variance",
      "use --batch-size 2 or more (the paper's small-batch test), or evaluate a model trained with --norm tabn, which uses running statistics",
    );
  }
  if (!(outliers >= 0 && outliers <= 1)) throw new InvalidArgumentError(`--outliers must be a fraction in [0, 1], got ${outliers}`);
  if (outliers > 0 && batchSize === 1) {
    throw new InvalidArgumentError('--outliers needs batches of at least 2 samples: the corrupted one is left out of the metrics', 'use --batch-size 2 or more');
  }
}

export async function evaluateRun(run: LoadedRun, data: Trajectories, opts: EvalOptions = {}): Promise<EvalResult> {
  const started = performance.now();
  const { n, samples: T, dim: D } = data;
  if (D !== run.dim) throw new InvalidArgumentError(`the data has ${D} state components, the run's model ${run.dim}`, 'evaluate on a dataset of the system the run was trained on');
  if (n === 0) throw new InvalidArgumentError('the split holds no trajectories', 'choose another --split');
  const norm = run.config.config.model.norm;
  const batchSize = opts.batchSize && opts.batchSize > 0 ? Math.min(opts.batchSize, n) : n;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`--batch-size must be a positive integer, got ${opts.batchSize}`);
  const fraction = opts.outliers ?? 0;
  checkEvalSettings(norm, batchSize, fraction);
  const threshold = opts.threshold ?? 0.5;

  // Batches in split order; a lone remainder sample joins the previous batch (a batch of one would
  // be a different experiment).
  const bounds: Array<[number, number]> = [];
  for (let s = 0; s < n; s += batchSize) bounds.push([s, Math.min(n, s + batchSize)]);
  if (bounds.length > 1 && bounds[bounds.length - 1][1] - bounds[bounds.length - 1][0] === 1 && batchSize > 1) {
    const last = bounds.pop()!;
    bounds[bounds.length - 1][1] = last[1];
  }

  const rng = new Rng(opts.outlierSeed ?? 0);
  const corruptCount = Math.round(fraction * bounds.length);
  const order = rng.shuffle(bounds.map((_, i) => i));
  const corruptedBatches = new Set(order.slice(0, corruptCount));
  const scale = opts.outlierScale ?? 10;

  const ts = Float64Array.from(data.t, (v) => v - data.t[0]);
  const predicted = new Float32Array(n * T * D);
  const corrupted: number[] = [];
  let nfe = 0;
  for (let b = 0; b < bounds.length; b++) {
    const [s, e] = bounds[b];
    const size = e - s;
    const z0 = new Float32Array(size * D);
    for (let i = 0; i < size; i++) for (let d = 0; d < D; d++) z0[i * D + d] = data.z[(s + i) * T * D + d];
    if (corruptedBatches.has(b)) {
      const victim = rng.int(size);
      for (let d = 0; d < D; d++) z0[victim * D + d] = scale * rng.normal();
      corrupted.push(s + victim);
    }
    const out = await run.model.predict(z0, size, ts, opts.solver);
    predicted.set(out.states, s * T * D);
    nfe += out.nfe;
  }

  const clean = Array.from({ length: n }, (_, i) => i).filter((i) => !corrupted.includes(i));
  const cleanData = corrupted.length > 0 ? selectTrajectories(data, clean) : data;
  const cleanPred = corrupted.length > 0 ? pickRows(predicted, clean, T * D) : predicted;
  const shape = { n: cleanData.n, samples: T, dim: D };
  const byTime = mseByTime(cleanPred, cleanData.z, shape);
  const vpts = validPredictionTimes(cleanPred, cleanData.z, data.t, shape, threshold);

  let energyDrift: number | null = null;
  let energyDriftFinal: number | null = null;
  let energyDriftTruth: number | null = null;
  let momentumDrift: number | null = null;
  if (opts.physics) {
    const phys = denormaliseStates(cleanPred, run.stats);
    const e = energiesOf(opts.physics, phys, cleanData.params, cleanData.n, T, D, cleanData.paramCount);
    const ref = Float64Array.from({ length: cleanData.n }, (_, i) => cleanData.energy[i * T]);
    const drift = relativeEnergyDrift(e, ref, T);
    energyDrift = mean(drift.max);
    energyDriftFinal = mean(drift.final);
    energyDriftTruth = mean(relativeEnergyDrift(cleanData.energy, ref, T).max);
    const invariants = opts.physics.invariants;
    if (invariants) {
      const probe = invariants(phys.subarray(0, D), cleanData.params.subarray(0, cleanData.paramCount));
      const keys = Object.keys(probe).filter((k) => /^(p[xyz]|momentum[_-]?[xyz]?|P[xyz])$/.test(k)).sort();
      if (keys.length > 0) {
        const values = new Float64Array(cleanData.n * T * keys.length);
        for (let i = 0; i < cleanData.n; i++) {
          const p = cleanData.params.subarray(i * cleanData.paramCount, (i + 1) * cleanData.paramCount);
          for (let k = 0; k < T; k++) {
            const inv = invariants(phys.subarray((i * T + k) * D, (i * T + k + 1) * D), p);
            keys.forEach((key, c) => (values[(i * T + k) * keys.length + c] = inv[key]));
          }
        }
        momentumDrift = mean(vectorDrift(values, cleanData.n, T, keys.length));
      }
    }
  }
  const solverCfg = run.config.config.solver;
  const mse = rolloutMse(byTime);
  return {
    trajectories: n,
    batchSize,
    batches: bounds.length,
    rolloutMse: mse,
    baseline: compareWithMeanPredictor(mse, meanPredictorMse(cleanData.z, shape)),
    mseAtHorizons: mseAtHorizons(byTime, data.t, defaultHorizons(data.t)),
    validPredictionTime: mean(vpts),
    validPredictionTimeMedian: median(vpts),
    threshold,
    energyDrift,
    energyDriftFinal,
    energyDriftTruth,
    momentumDrift,
    nfePerRollout: nfe / bounds.length,
    wallSeconds: (performance.now() - started) / 1000,
    outliers: { fraction, corruptedBatches: corrupted.length, excludedSamples: corrupted.length },
    norm,
    solver: { method: opts.solver?.method ?? solverCfg.method, rtol: opts.solver?.rtol ?? solverCfg.rtol, atol: opts.solver?.atol ?? solverCfg.atol },
    byTime,
    predicted,
    corrupted,
  };
}

/**
 * The mean predictor's rollout MSE on the trajectories that training validates on: the val split's
 * first `limit` trajectories (0: all), in the dataset's normalised coordinates (metrics.ts).
 */
export async function valMeanPredictorMse(data: DataSource, limit = 0): Promise<number> {
  const batch = await data.loadSplit('val');
  let val = prepareTrajectories(batch, checkStats(data.stats, batch.y.shape[2]));
  if (limit > 0 && val.n > limit) val = selectTrajectories(val, Array.from({ length: limit }, (_, i) => i));
  return meanPredictorMse(val.z, { n: val.n, samples: val.samples, dim: val.dim });
}

function pickRows(values: Float32Array, rows: readonly number[], width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(values.subarray(r * width, (r + 1) * width), i * width));
  return out;
}
