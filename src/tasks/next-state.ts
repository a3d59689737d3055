/**
 * The next-state (autoregressive) task, the TA-BN paper's Table 3: the continuous-depth model maps
 * the current observation to the next one, x(t) → x(t + 1) (the ODE's time is depth, not physical
 * time). Trajectories are cut as the literature does (Hasani et al.'s loader: windows of `length`
 * rows starting every `stride` rows, start s < T − length − 1); the examples are the transitions
 * inside the windows, each once per epoch. States are z-scored with the training split's mean
 * and std; the loss is the MAE in those units, and the metrics give it in raw units too.
 */
import { InvalidArgumentError } from '../util/errors.js';
import { maeLoss } from './losses.js';
import type { Task } from './task.js';
import type { Examples } from './fit.js';

export interface WindowCut {
  /** Rows per window (the literature's 32). */
  readonly length: number;
  /** Rows between window starts (the literature's 10). */
  readonly stride: number;
}

/** Trajectories [n, T, D], row-major float64 (a split of a dataset). */
export interface TrajectoryArray {
  readonly y: Float64Array;
  readonly n: number;
  readonly T: number;
  readonly D: number;
}

/** Window starts (trajectory, row) in order: s = 0, stride, … while s < T − length − 1. */
export function windowStarts(tr: TrajectoryArray, cut: WindowCut): [number, number][] {
  if (!(Number.isInteger(cut.length) && cut.length >= 1 && Number.isInteger(cut.stride) && cut.stride >= 1)) {
    throw new InvalidArgumentError(`window length and stride must be positive integers, got ${cut.length} and ${cut.stride}`);
  }
  if (tr.T - cut.length - 1 <= 0) throw new InvalidArgumentError(`trajectories of ${tr.T} rows are too short for windows of ${cut.length}`, 'choose a shorter --seq-len');
  const out: [number, number][] = [];
  for (let i = 0; i < tr.n; i++) for (let s = 0; s < tr.T - cut.length - 1; s += cut.stride) out.push([i, s]);
  return out;
}

/**
 * The transitions (trajectory, row t: x(t) → x(t + 1)) inside the windows, each once, ordered by
 * trajectory then row. A window at s holds the transitions t = s … s + length − 1.
 */
export function windowTransitions(tr: TrajectoryArray, cut: WindowCut): [number, number][] {
  const seen = new Set<number>();
  const out: [number, number][] = [];
  for (const [i, s] of windowStarts(tr, cut)) {
    for (let t = s; t < s + cut.length; t++) {
      const key = i * tr.T + t;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push([i, t]);
    }
  }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Per-component z-scoring (std below 1e-12 counts as 1: a constant component stays put). */
export interface Standardiser {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export function safeStd(std: readonly number[]): number[] {
  return std.map((s) => (s > 1e-12 ? s : 1));
}

/** Next-state examples: z-scored x(t) as inputs and x(t + 1) as targets, gathered by transition. */
export class NextStateExamples implements Examples<Float32Array> {
  readonly count: number;
  readonly inputDim: number;
  private readonly std: number[];

  constructor(
    readonly data: TrajectoryArray,
    readonly transitions: readonly [number, number][],
    readonly scale: Standardiser,
  ) {
    this.count = transitions.length;
    this.inputDim = data.D;
    this.std = safeStd(scale.std);
  }

  /** Row (i, t) of the trajectories, z-scored, into out at offset. */
  private put(out: Float32Array, at: number, i: number, t: number): void {
    const { y, T, D } = this.data;
    const base = (i * T + t) * D;
    for (let d = 0; d < D; d++) out[at + d] = (y[base + d] - this.scale.mean[d]) / this.std[d];
  }

  gather(indices: readonly number[]): { x: Float32Array; target: Float32Array } {
    const D = this.data.D;
    const x = new Float32Array(indices.length * D);
    const target = new Float32Array(indices.length * D);
    indices.forEach((k, r) => {
      const [i, t] = this.transitions[k];
      this.put(x, r * D, i, t);
      this.put(target, r * D, i, t + 1);
    });
    return { x, target };
  }
}

/** The task: MAE in z-scored units as the loss; metrics MAE and MSE z-scored and MAE in raw units. */
export function nextStateTask(scale: Standardiser): Task<Float32Array> {
  const std = safeStd(scale.std);
  const D = std.length;
  return {
    name: 'next-state',
    outputDim: D,
    loss: (prediction, target) => maeLoss(prediction, target),
    metrics: (prediction, target) => {
      let abs = 0, sq = 0, raw = 0;
      for (let k = 0; k < prediction.length; k++) {
        const d = prediction[k] - target[k];
        abs += Math.abs(d);
        sq += d * d;
        raw += Math.abs(d) * std[k % D];
      }
      const n = prediction.length;
      return { mae: abs / n, mse: sq / n, maeRaw: raw / n };
    },
  };
}

/** MAE (raw units) of two reference predictors on the same transitions: the training mean, and "no change" x(t + 1) = x(t). */
export function referenceMae(ex: NextStateExamples): { meanPredictor: number; persistence: number } {
  const { y, T, D } = ex.data;
  let mean = 0, still = 0;
  for (const [i, t] of ex.transitions) {
    for (let d = 0; d < D; d++) {
      const next = y[(i * T + t + 1) * D + d];
      mean += Math.abs(next - ex.scale.mean[d]);
      still += Math.abs(next - y[(i * T + t) * D + d]);
    }
  }
  const n = ex.transitions.length * D;
  return { meanPredictor: mean / n, persistence: still / n };
}

/**
 * Multi-step rollouts: from each window start, `steps` applications of the model (predict: z-scored
 * states [batch, D] → the next ones), against the trajectory. Returns the raw-unit MAE after each
 * step (averaged over windows and components) and the NFE spent.
 */
export function rolloutMae(ex: NextStateExamples, starts: readonly [number, number][], steps: number, predict: (x: Float32Array, batch: number) => { prediction: Float32Array; nfe: number }): { maeByStep: number[]; nfe: number } {
  const { y, T, D } = ex.data;
  const std = safeStd(ex.scale.std);
  const B = starts.length;
  let x: Float32Array = new Float32Array(B * D);
  starts.forEach(([i, s], r) => {
    for (let d = 0; d < D; d++) x[r * D + d] = (y[(i * T + s) * D + d] - ex.scale.mean[d]) / std[d];
  });
  const maeByStep: number[] = [];
  let nfe = 0;
  for (let k = 1; k <= steps; k++) {
    const p = predict(x, B);
    nfe += p.nfe;
    x = p.prediction;
    let sum = 0;
    starts.forEach(([i, s], r) => {
      const row = (i * T + s + k) * D;
      for (let d = 0; d < D; d++) sum += Math.abs(x[r * D + d] * std[d] + ex.scale.mean[d] - y[row + d]);
    });
    maeByStep.push(sum / (B * D));
  }
  return { maeByStep, nfe };
}
