/** Full-horizon rollouts of a set of trajectories in eval mode, scored in normalised coordinates. */
import { mseByTime, rolloutMse, validPredictionTimes, mean } from './metrics.js';
import type { DynamicsModel, SolverOverride } from './model-port.js';
import type { Trajectories } from './trajectories.js';

export interface ValidationFigures {
  readonly mse: number;
  readonly vpt: number;
  readonly nfe: number;
  readonly byTime: Float64Array;
  readonly predicted: Float32Array;
}

export async function rolloutFigures(model: DynamicsModel, tr: Trajectories, solver?: SolverOverride, threshold = 0.5): Promise<ValidationFigures> {
  const { n, samples: T, dim: D } = tr;
  const y0 = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) y0[i * D + d] = tr.z[i * T * D + d];
  const ts = Float64Array.from(tr.t, (v) => v - tr.t[0]);
  const { states, nfe } = await model.predict(y0, n, ts, solver);
  const byTime = mseByTime(states, tr.z, { n, samples: T, dim: D });
  const vpt = mean(validPredictionTimes(states, tr.z, tr.t, { n, samples: T, dim: D }, threshold));
  return { mse: rolloutMse(byTime), vpt, nfe, byTime, predicted: states };
}

