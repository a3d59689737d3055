/**
 * rollouts.npz: true and predicted trajectories of chosen samples, for the viewer and for Python
 * (`numpy.load("rollouts.npz")`). Keys (float64 unless said):
 *   t [T]               times (from the data's start; past the data's end when --horizon asks)
 *   y_true [K, T, D]    ground truth (NaN past the end of the data)
 *   y_pred [K, T, D]    the model's prediction from the same initial state
 *   energy_true [K, T], energy_pred [K, T]   energies (NaN when the system is unknown)
 *   params [K, P]       per-trajectory parameters
 *   index [K] int32     global trajectory indices (dataset numbering)
 *   position [K] int32  position within the split
 */
import ndarray from 'ndarray';
import { encodeNpz } from '../data/npz.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InvalidArgumentError } from '../util/errors.js';
import { predictTrajectories, type LoadedRun } from './predict.js';
import type { SolverOverride } from './model-port.js';
import type { PhysicsProbe } from './training-data.js';
import { selectTrajectories, type Trajectories } from './trajectories.js';
import { energiesOf } from './training-plots.js';

export interface RolloutRequest {
  /** Positions in the split. */
  readonly positions: readonly number[];
  /** Time span from the first sample; default: the data's span. May exceed it. */
  readonly horizon?: number;
  readonly solver?: SolverOverride;
  readonly physics?: PhysicsProbe;
}

export interface RolloutArrays {
  readonly t: Float64Array;
  readonly yTrue: Float64Array;
  readonly yPred: Float64Array;
  readonly energyTrue: Float64Array;
  readonly energyPred: Float64Array;
  readonly count: number;
  readonly samples: number;
  readonly dim: number;
  readonly selected: Trajectories;
}

/** Times at the data's sample interval from t0 up to t0 + horizon. */
export function horizonTimes(t: Float64Array, horizon: number | undefined): Float64Array {
  if (horizon === undefined) return Float64Array.from(t);
  if (!(horizon > 0)) throw new InvalidArgumentError(`--horizon must be a positive time, got ${horizon}`);
  const dt = (t[t.length - 1] - t[0]) / (t.length - 1);
  const count = Math.floor(horizon / dt + 1e-9) + 1;
  return Float64Array.from({ length: count }, (_, k) => (k < t.length ? t[k] : t[0] + k * dt));
}

export async function computeRollouts(run: LoadedRun, data: Trajectories, req: RolloutRequest): Promise<RolloutArrays> {
  const sel = selectTrajectories(data, req.positions);
  const { n: K, dim: D, samples: T0 } = sel;
  const t = horizonTimes(sel.t, req.horizon);
  const T = t.length;
  const y0 = new Float64Array(K * D);
  for (let i = 0; i < K; i++) for (let d = 0; d < D; d++) y0[i * D + d] = sel.y[i * T0 * D + d];
  const pred = await predictTrajectories(run, ndarray(y0, [K, D]), t, req.solver);
  const yPred = pred.data;
  const yTrue = new Float64Array(K * T * D).fill(Number.NaN);
  const energyTrue = new Float64Array(K * T).fill(Number.NaN);
  const shared = Math.min(T, T0);
  for (let i = 0; i < K; i++) {
    yTrue.set(sel.y.subarray(i * T0 * D, (i * T0 + shared) * D), i * T * D);
    energyTrue.set(sel.energy.subarray(i * T0, i * T0 + shared), i * T);
  }
  const energyPred = req.physics ? energiesOf(req.physics, yPred, sel.params, K, T, D, sel.paramCount) : new Float64Array(K * T).fill(Number.NaN);
  return { t, yTrue, yPred, energyTrue, energyPred, count: K, samples: T, dim: D, selected: sel };
}

export async function writeRolloutsNpz(path: string, r: RolloutArrays, positions: readonly number[]): Promise<void> {
  const { count: K, samples: T, dim: D, selected } = r;
  const bytes = encodeNpz({
    t: { dtype: 'float64', shape: [T], data: r.t },
    y_true: { dtype: 'float64', shape: [K, T, D], data: r.yTrue },
    y_pred: { dtype: 'float64', shape: [K, T, D], data: r.yPred },
    energy_true: { dtype: 'float64', shape: [K, T], data: r.energyTrue },
    energy_pred: { dtype: 'float64', shape: [K, T], data: r.energyPred },
    params: { dtype: 'float64', shape: [K, selected.paramCount], data: selected.params },
    index: { dtype: 'int32', shape: [K], data: selected.index },
    position: { dtype: 'int32', shape: [K], data: Int32Array.from(positions) },
  });
  await writeFileAtomic(path, bytes);
}
