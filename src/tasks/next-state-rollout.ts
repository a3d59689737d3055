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
import { safeStd } from './next-state.js';
import { loadSplitData, readTaskRunConfig } from './next-state-run.js';

export async function nextStateRollouts(runDir: string, dataDir: string, split: Split, positions: readonly number[], horizon: number, out: string): Promise<{ count: number; samples: number; dim: number }> {
  const cfg = await readTaskRunConfig(runDir);
  if (cfg === null) throw new InvalidArgumentError(`${runDir} is not a next-state run`);
  const data = await loadSplitData(dataDir, split);
  const { y, n, T, D } = data.trajectories;
  const bad = positions.filter((p) => p >= n);
  if (bad.length > 0) throw new InvalidArgumentError(`--indices ${bad.join(',')} out of range: the ${split} split holds ${n} trajectories`, `use positions 0 to ${n - 1}`);
  const H = Math.min(horizon, T - 1);
  const K = positions.length;
  const { mean } = cfg.standardiser;
  const std = safeStd(cfg.standardiser.std);
  const yTrue = new Float64Array(K * (H + 1) * D);
  const yPred = new Float64Array(K * (H + 1) * D);
  positions.forEach((p, k) => yTrue.set(y.subarray(p * T * D, (p * T + H + 1) * D), k * (H + 1) * D));
  const model = await ContinuousDepthModel.load(join(runDir, 'model'));
  try {
    let x: Float32Array = new Float32Array(K * D);
    positions.forEach((p, k) => {
      for (let d = 0; d < D; d++) {
        x[k * D + d] = (y[p * T * D + d] - mean[d]) / std[d];
        yPred[k * (H + 1) * D + d] = y[p * T * D + d];
      }
    });
    for (let h = 1; h <= H; h++) {
      x = model.predict(x, K).prediction;
      for (let k = 0; k < K; k++) for (let d = 0; d < D; d++) yPred[(k * (H + 1) + h) * D + d] = x[k * D + d] * std[d] + mean[d];
    }
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
