/**
 * Autoregressive rollouts of a next-state run for chosen trajectories of a split, written as
 * rollouts.npz (numpy): t [H+1] (row numbers), y_true [K, H+1, D], y_pred [K, H+1, D] (row 0 is
 * the true start), index [K] (dataset numbering), position [K] (within the split).
 */
import { join } from 'node:path';
import { encodeNpz } from '../data/npz.js';
import type { Split } from '../data/types.js';
import { ContinuousDepthModel } from '../model/continuous-depth.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InvalidArgumentError } from '../util/errors.js';
import { safeStd, type Standardiser } from './next-state.js';
import { loadSplitData, readTaskRunConfig } from './next-state-run.js';

/** One step of a next-state model on a batch of standardised states [B, D] (row-major). */
export type NextStateStep = (x: Float32Array, batch: number) => Float32Array;

/**
 * Autoregressive rollouts of `batch` trajectories from their starts y0 [B, D] (physical units):
 * [B, steps + 1, D], row 0 each start itself, row h the model's step applied h times (in the
 * standardised coordinates of `standardiser`, std floored by safeStd).
 */
export function rolloutNextState(step: NextStateStep, standardiser: Standardiser, y0: Float64Array, batch: number, steps: number): Float64Array {
  const D = y0.length / batch;
  const { mean } = standardiser;
  const std = safeStd(standardiser.std);
  const out = new Float64Array(batch * (steps + 1) * D);
  let x: Float32Array = new Float32Array(batch * D);
  for (let k = 0; k < batch; k++) {
    for (let d = 0; d < D; d++) {
      x[k * D + d] = (y0[k * D + d] - mean[d]) / std[d];
      out[k * (steps + 1) * D + d] = y0[k * D + d];
    }
  }
  for (let h = 1; h <= steps; h++) {
    x = step(x, batch);
    for (let k = 0; k < batch; k++) for (let d = 0; d < D; d++) out[(k * (steps + 1) + h) * D + d] = x[k * D + d] * std[d] + mean[d];
  }
  return out;
}

export async function nextStateRollouts(runDir: string, dataDir: string, split: Split, positions: readonly number[], horizon: number, out: string): Promise<{ count: number; samples: number; dim: number }> {
  const cfg = await readTaskRunConfig(runDir);
  if (cfg === null) throw new InvalidArgumentError(`${runDir} is not a next-state run`);
  const data = await loadSplitData(dataDir, split);
  const { y, n, T, D } = data.trajectories;
  const bad = positions.filter((p) => p >= n);
  if (bad.length > 0) throw new InvalidArgumentError(`--indices ${bad.join(',')} out of range: the ${split} split holds ${n} trajectories`, `use positions 0 to ${n - 1}`);
  const H = Math.min(horizon, T - 1);
  const K = positions.length;
  const yTrue = new Float64Array(K * (H + 1) * D);
  const yPred = new Float64Array(K * (H + 1) * D);
  positions.forEach((p, k) => yTrue.set(y.subarray(p * T * D, (p * T + H + 1) * D), k * (H + 1) * D));
  const starts = new Float64Array(K * D);
  positions.forEach((p, k) => starts.set(y.subarray(p * T * D, p * T * D + D), k * D));
  const model = await ContinuousDepthModel.load(join(runDir, 'model'));
  try {
    yPred.set(rolloutNextState((x, b) => model.predict(x, b).prediction, cfg.standardiser, starts, K, H));
  } finally {
    model.dispose();
  }
  const bytes = encodeNpz({
    t: { dtype: 'float64', shape: [H + 1], data: Float64Array.from({ length: H + 1 }, (_, i) => i) },
    y_true: { dtype: 'float64', shape: [K, H + 1, D], data: yTrue },
    y_pred: { dtype: 'float64', shape: [K, H + 1, D], data: yPred },
    position: { dtype: 'int32', shape: [K], data: Int32Array.from(positions) },
  });
  await writeFileAtomic(out, bytes);
  return { count: K, samples: H + 1, dim: D };
}
