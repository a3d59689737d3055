/**
 * Rollout metrics. Arrays are flat, C order: states [N, T, D], energies [N, T], times [T].
 * Errors are measured in normalised coordinates (src/train/normalise.ts), so that one threshold
 * and one MSE mean the same for every system.
 */

export interface RolloutShape {
  readonly n: number;
  readonly samples: number;
  readonly dim: number;
}

function checkLengths(pred: ArrayLike<number>, truth: ArrayLike<number>, s: RolloutShape): void {
  const size = s.n * s.samples * s.dim;
  if (pred.length !== size || truth.length !== size) {
    throw new RangeError(`rollout arrays have ${pred.length} and ${truth.length} values, expected ${size} = ${s.n} x ${s.samples} x ${s.dim}`);
  }
}

/** Mean squared error at each sample time, averaged over trajectories and components: [T]. */
export function mseByTime(pred: ArrayLike<number>, truth: ArrayLike<number>, s: RolloutShape): Float64Array {
  checkLengths(pred, truth, s);
  const out = new Float64Array(s.samples);
  for (let i = 0; i < s.n; i++) {
    for (let k = 0; k < s.samples; k++) {
      let acc = 0;
      const base = (i * s.samples + k) * s.dim;
      for (let d = 0; d < s.dim; d++) {
        const e = pred[base + d] - truth[base + d];
        acc += e * e;
      }
      out[k] += acc;
    }
  }
  for (let k = 0; k < s.samples; k++) out[k] /= s.n * s.dim;
  return out;
}

/**
 * Full-horizon rollout MSE: the mean squared error over all trajectories, components and sample
 * times after the initial one (the initial state is given to the model, not predicted).
 */
export function rolloutMse(byTime: Float64Array): number {
  if (byTime.length < 2) return Number.NaN;
  let acc = 0;
  for (let k = 1; k < byTime.length; k++) acc += byTime[k];
  return acc / (byTime.length - 1);
}

/**
 * MSE at given horizons (times after the start): the value at the first sample time at or after each
 * horizon, with that sample's time. Horizons beyond the data are left out.
 */
export function mseAtHorizons(byTime: Float64Array, t: Float64Array, horizons: readonly number[]): Array<{ t: number; mse: number }> {
  const out: Array<{ t: number; mse: number }> = [];
  for (const h of horizons) {
    const k = t.findIndex((tk) => tk - t[0] >= h - 1e-9 * Math.max(1, Math.abs(h)));
    if (k >= 0) out.push({ t: Number((t[k] - t[0]).toPrecision(6)), mse: byTime[k] });
  }
  return out;
}

/** Horizons at 10 %, 25 %, 50 % and 100 % of the span, rounded to the sample grid. */
export function defaultHorizons(t: Float64Array): number[] {
  const span = t[t.length - 1] - t[0];
  const dt = span / Math.max(1, t.length - 1);
  const picks = [0.1, 0.25, 0.5, 1].map((f) => Math.max(1, Math.round((f * span) / dt)) * dt);
  return [...new Set(picks.map((h) => Number(h.toPrecision(6))))];
}

/**
 * Valid prediction time of each trajectory: t_k - t_0 at the first sample k whose error
 * sqrt(mean_d (pred - true)^2) in normalised coordinates exceeds `threshold`; the whole span when none
 * does. (The definition used for chaotic-system forecasts, e.g. Pathak et al., Phys. Rev. Lett. 120,
 * 024102 (2018), and Vlachas et al., Neural Networks 126 (2020), with threshold 0.5 by default.)
 */
export function validPredictionTimes(pred: ArrayLike<number>, truth: ArrayLike<number>, t: Float64Array, s: RolloutShape, threshold = 0.5): Float64Array {
  checkLengths(pred, truth, s);
  const out = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    out[i] = t[s.samples - 1] - t[0];
    for (let k = 0; k < s.samples; k++) {
      let acc = 0;
      const base = (i * s.samples + k) * s.dim;
      for (let d = 0; d < s.dim; d++) {
        const e = pred[base + d] - truth[base + d];
        acc += e * e;
      }
      if (!(Math.sqrt(acc / s.dim) <= threshold)) {
        out[i] = t[k] - t[0];
        break;
      }
    }
  }
  return out;
}

/**
 * Relative energy drift of each trajectory: max over k of |E(t_k) - E_ref| / scale, where E_ref is
 * the true initial energy and scale = max(|E_ref|, floor). The floor (1e-3 times the mean |E_ref| of
 * the set, our choice) keeps trajectories whose energy is near zero (a pendulum released at 90
 * degrees) from dominating with huge ratios. energies: [N, T] of the predicted states; ref: [N].
 */
export function relativeEnergyDrift(energies: ArrayLike<number>, ref: ArrayLike<number>, samples: number): { max: Float64Array; final: Float64Array } {
  const n = ref.length;
  let meanAbs = 0;
  for (let i = 0; i < n; i++) meanAbs += Math.abs(ref[i]);
  meanAbs /= Math.max(1, n);
  const floor = Math.max(1e-3 * meanAbs, Number.MIN_VALUE);
  const max = new Float64Array(n);
  const final = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const scale = Math.max(Math.abs(ref[i]), floor);
    let m = 0;
    for (let k = 0; k < samples; k++) {
      const r = Math.abs(energies[i * samples + k] - ref[i]) / scale;
      if (!(r <= m)) m = r; // NaN propagates
    }
    max[i] = m;
    final[i] = Math.abs(energies[i * samples + samples - 1] - ref[i]) / scale;
  }
  return { max, final };
}

/**
 * Drift of a vector invariant (n-body linear momentum): max over k of |P(t_k) - P(t_0)| (Euclidean
 * norm over its components). Absolute, because the total momentum is zero in the centre-of-mass
 * frame. values: [N, T, C].
 */
export function vectorDrift(values: ArrayLike<number>, n: number, samples: number, components: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    const b0 = i * samples * components;
    for (let k = 0; k < samples; k++) {
      let acc = 0;
      for (let c = 0; c < components; c++) {
        const e = values[b0 + k * components + c] - values[b0 + c];
        acc += e * e;
      }
      const r = Math.sqrt(acc);
      if (!(r <= m)) m = r;
    }
    out[i] = m;
  }
  return out;
}

export function mean(values: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < values.length; i++) acc += values[i];
  return values.length > 0 ? acc / values.length : Number.NaN;
}

export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/**
 * The rollout MSE of the constant predictor that always answers the training mean, which is zero in
 * normalised coordinates (src/train/normalise.ts): the mean of z^2 over the samples rolloutMse counts.
 * It is about 1 on a split drawn like the training split; a model that does not beat it has learned
 * nothing about the dynamics.
 */
export function meanPredictorMse(truth: ArrayLike<number>, s: RolloutShape): number {
  return rolloutMse(mseByTime(new Float64Array(s.n * s.samples * s.dim), truth, s));
}

/**
 * The share of the mean predictor's MSE below which a model counts as having learned the dynamics:
 * it must explain at least half of the variance (R^2 = 1 - mse / meanPredictorMse >= 0.5). A model
 * at 68 % of the mean's MSE (a random three-body run whose bodies collapse in the
 * viewer) has not.
 */
export const LEARNED_MSE_RATIO = 0.5;

/** A model's rollout MSE beside the mean predictor's on the same trajectories. */
export interface MeanPredictorComparison {
  /** The model's rollout MSE (normalised). */
  readonly mse: number;
  /** The mean predictor's rollout MSE on the same trajectories. */
  readonly meanPredictorMse: number;
  /** mse / meanPredictorMse (1: no better than the mean; 0: exact). */
  readonly ratio: number;
  /** Whether the model learned the dynamics: a finite ratio below LEARNED_MSE_RATIO. */
  readonly learned: boolean;
}

export function compareWithMeanPredictor(mse: number, meanPredictor: number): MeanPredictorComparison {
  const ratio = mse / meanPredictor;
  return { mse, meanPredictorMse: meanPredictor, ratio, learned: Number.isFinite(ratio) && ratio < LEARNED_MSE_RATIO };
}

/**
 * The warning a command shows when a model did not learn the dynamics (null when it did): no
 * better than predicting the mean, or better by less than LEARNED_MSE_RATIO asks. `what` names the
 * MSE, e.g. "validation MSE".
 */
export function meanPredictorWarning(c: MeanPredictorComparison, what: string): string | null {
  if (c.learned) return null;
  const value = Number.isFinite(c.mse) ? c.mse.toPrecision(3) : String(c.mse);
  const mean = c.meanPredictorMse.toPrecision(3);
  if (!(c.ratio < 1)) return `${what} ${value} is no better than predicting the mean (${mean}): the model did not learn these dynamics`;
  return `${what} ${value} is ${(100 * c.ratio).toFixed(0)} % of the mean predictor's (${mean}): less than half of the variance explained, the model did not learn these dynamics`;
}
