/**
 * Training windows: W consecutive samples of a training trajectory. The model integrates from the
 * window's first state over the window's times shifted to start at 0, so TA-BN's time grid spans
 * [0, (W - 1) dt] whatever the window's place in the trajectory (TABN.md, "Grid").
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { Trajectories } from './trajectories.js';

export interface WindowBatch {
  readonly batchSize: number;
  readonly window: number;
  readonly dim: number;
  /** Initial states [B, D], normalised. */
  readonly y0: Float32Array;
  /** True states [B, W, D], normalised; sample 0 equals y0. */
  readonly target: Float32Array;
  /** Integration times [W], starting at 0. */
  readonly ts: Float64Array;
  /** Which trajectory (position in the split) and which start sample each window came from. */
  readonly trajectories: Int32Array;
  readonly starts: Int32Array;
}

/** Relative tolerance on equal spacing of the sample times. */
const SPACING_RTOL = 1e-6;

/**
 * The integration times of a window, t[k] - t[0] for k < W. Windows share these times only when the
 * samples are evenly spaced, which this checks (the dataset format samples a uniform grid).
 */
export function windowTimes(t: Float64Array, window: number): Float64Array {
  if (!Number.isInteger(window) || window < 2) {
    throw new InvalidArgumentError(`--window must be an integer of at least 2, got ${window}`, 'a window of 10 to 20 samples suits the pendulum');
  }
  if (window > t.length) {
    throw new InvalidArgumentError(`--window ${window} is longer than the ${t.length} samples of each trajectory`, `use --window ${Math.min(20, t.length)} or less`);
  }
  const dt = (t[t.length - 1] - t[0]) / (t.length - 1);
  for (let k = 1; k < t.length; k++) {
    if (Math.abs(t[k] - t[k - 1] - dt) > SPACING_RTOL * Math.abs(dt)) {
      throw new InvalidArgumentError('the dataset\'s sample times are not evenly spaced, so windows would need different time grids', 'generate the dataset with evenly spaced samples (the default)');
    }
  }
  const ts = new Float64Array(window);
  for (let k = 0; k < window; k++) ts[k] = t[k] - t[0];
  return ts;
}

/**
 * Draws `batchSize` windows. Trajectories are drawn without replacement within a batch (a seeded
 * permutation of the N trajectories, repeated when B > N), which keeps each batch's state
 * distribution close to the population's: batch normalisation's statistics are then less noisy
 * than with independent draws (the finite-population correction (N - B) / (N - 1) on the variance
 * of the batch mean). Each window's start is uniform among the T - W + 1 possible ones. All draws
 * come from `rng` in a fixed order, so a seeded run repeats.
 */
export function sampleWindows(tr: Trajectories, ts: Float64Array, batchSize: number, rng: Rng): WindowBatch {
  const W = ts.length;
  const { samples: T, dim: D } = tr;
  if (tr.n === 0) throw new InvalidArgumentError('the training split holds no trajectories', 'generate a dataset with a larger count or split');
  const y0 = new Float32Array(batchSize * D);
  const target = new Float32Array(batchSize * W * D);
  const trajectories = new Int32Array(batchSize);
  const starts = new Int32Array(batchSize);
  let order: number[] = [];
  for (let b = 0; b < batchSize; b++) {
    if (b % tr.n === 0) order = partialShuffle(tr.n, Math.min(tr.n, batchSize - b), rng);
    const i = order[b % tr.n];
    const s = rng.int(T - W + 1);
    trajectories[b] = i;
    starts[b] = s;
    const base = (i * T + s) * D;
    for (let d = 0; d < D; d++) y0[b * D + d] = tr.z[base + d];
    for (let k = 0; k < W * D; k++) target[b * W * D + k] = tr.z[base + k];
  }
  return { batchSize, window: W, dim: D, y0, target, ts, trajectories, starts };
}

/** The first k entries of a uniformly random permutation of 0..n-1 (Fisher–Yates, stopped early). */
function partialShuffle(n: number, k: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}
