/**
 * `tabn`: Temporal Adaptive Batch Normalization (Zheng, Gao, Sun, Boning, Yu, Wong, NeurIPS 2024,
 * §4 and Algorithm 1), exactly as ../shared/design/TABN.md: running statistics, counts and
 * γ, β on a grid of M + 1 times over the model's span [t0, T]; training normalises with batch
 * statistics, scales with γ(t) = Σ w_j γ_j (gradients reach both neighbours) and moves each
 * neighbour's statistics with momentum·w_j (a point's first weight takes the batch statistics);
 * evaluation interpolates the running statistics at t with the same weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNormBase, checkStateArray, updateFactor, type Affine } from './batch-norm-base.js';
import type { NormOptions, StateArray } from './normalization.js';
import type { NormDescriptor } from './registry.js';
import { gridWeights, type GridWeight } from './tabn-grid.js';
import { InvalidArgumentError } from '../util/errors.js';

export class TemporalAdaptiveBatchNorm extends BatchNormBase {
  readonly kind = 'tabn' as const;
  readonly t0: number;
  readonly T: number;
  /** M: the grid has M + 1 points. */
  readonly gridIntervals: number;
  /** γ_m, β_m: [M + 1, F]. */
  readonly weight: tf.Variable<tf.Rank.R2> | null;
  readonly bias: tf.Variable<tf.Rank.R2> | null;
  private mean: Float32Array;
  private variance: Float32Array;
  private count: Float32Array;

  constructor(o: NormOptions) {
    super(o);
    if (!o.timeSpan) throw new InvalidArgumentError('tabn needs the model time span [t0, T]', 'pass timeSpan in the model config');
    const [t0, T] = o.timeSpan;
    if (!(Number.isFinite(t0) && Number.isFinite(T) && T > t0)) throw new InvalidArgumentError(`tabn time span must satisfy t0 < T, got [${t0}, ${T}]`);
    const M = o.gridIntervals ?? 100;
    if (!(Number.isInteger(M) && M >= 1)) throw new InvalidArgumentError(`tabn grid intervals M must be a positive integer, got ${M}`);
    this.t0 = t0;
    this.T = T;
    this.gridIntervals = M;
    const P = M + 1;
    const F = this.numFeatures;
    this.weight = this.affine ? tf.variable(tf.ones([P, F]) as tf.Tensor2D, true, o.namePrefix ? `${o.namePrefix}weight` : undefined) : null;
    this.bias = this.affine ? tf.variable(tf.zeros([P, F]) as tf.Tensor2D, true, o.namePrefix ? `${o.namePrefix}bias` : undefined) : null;
    this.mean = new Float32Array(P * F);
    this.variance = new Float32Array(P * F).fill(1);
    this.count = new Float32Array(P);
  }

  /** γ, β grids read once per solve (the variables do not change during a solve). */
  private affineGrid: { weight: Float32Array; bias: Float32Array } | null = null;

  beginSolve(): void {
    if (this.weight && this.bias) this.affineGrid = { weight: this.weight.dataSync() as Float32Array, bias: this.bias.dataSync() as Float32Array };
  }

  endSolve(): void {
    this.affineGrid = null;
  }

  get gridPoints(): number {
    return this.gridIntervals + 1;
  }

  weightsAt(t: number): GridWeight[] {
    return gridWeights(t, this.t0, this.T, this.gridIntervals);
  }

  parameters(): Record<string, tf.Variable> {
    return this.weight && this.bias ? { weight: this.weight, bias: this.bias } : {};
  }

  protected affineFor(t: number): Affine {
    const weight = this.weight;
    const bias = this.bias;
    if (!weight || !bias) return { gamma: null, beta: null, distribute() {} };
    const ws = this.weightsAt(t);
    const P = this.gridPoints;
    const F = this.numFeatures;
    // γ(t), β(t) interpolated on the host from values read once per solve (beginSolve).
    const grid = this.affineGrid ?? { weight: weight.dataSync() as Float32Array, bias: bias.dataSync() as Float32Array };
    const g = new Float32Array(F);
    const b = new Float32Array(F);
    for (const { index, weight: w } of ws) {
      if (w === 0) continue;
      for (let f = 0; f < F; f++) {
        g[f] += w * grid.weight[index * F + f];
        b[f] += w * grid.bias[index * F + f];
      }
    }
    return {
      gamma: g,
      beta: b,
      distribute(dGamma, dBeta, sink, prefix, scale) {
        // dγ_m += w_m dγ(t), dβ_m += w_m dβ(t), on the host.
        const gw = sink.hostAccumulator(`${prefix}weight`, [P, F]);
        const gb = sink.hostAccumulator(`${prefix}bias`, [P, F]);
        for (const { index, weight: w } of ws) {
          if (w === 0) continue;
          const o = index * F;
          for (let f = 0; f < F; f++) {
            gw[o + f] += scale * w * dGamma[f];
            gb[o + f] += scale * w * dBeta[f];
          }
        }
      },
    };
  }

  statisticsAt(t: number): { mean: Float32Array; variance: Float32Array } {
    const F = this.numFeatures;
    const mean = new Float32Array(F);
    const variance = new Float32Array(F);
    for (const { index, weight } of this.weightsAt(t)) {
      for (let f = 0; f < F; f++) {
        mean[f] += weight * this.mean[index * F + f];
        variance[f] += weight * this.variance[index * F + f];
      }
    }
    return { mean, variance };
  }

  protected update(t: number, _index: number, mean: Float32Array, variance: Float32Array): void {
    const F = this.numFeatures;
    for (const { index, weight } of this.weightsAt(t)) {
      if (weight <= 0) continue;
      const countAfter = this.count[index] + weight;
      // First weight: take the batch statistics. Momentum null (PyTorch's momentum=None, a cumulative
      // average): w / count keeps each point's statistics the w-weighted mean of the batch
      // statistics it received, Σ w_i b_i / Σ w_i (batch-norm-base.ts, updateFactor).
      const m = this.count[index] === 0 ? 1 : updateFactor(this.momentum, weight, countAfter);
      for (let f = 0; f < F; f++) {
        const k = index * F + f;
        this.mean[k] = (1 - m) * this.mean[k] + m * mean[f];
        this.variance[k] = (1 - m) * this.variance[k] + m * variance[f];
      }
      this.count[index] = countAfter;
    }
  }

  resetRunningStats(): void {
    this.mean.fill(0);
    this.variance.fill(1);
    this.count.fill(0);
  }

  /** Share of grid points that ever received weight (TABN.md: reported after training). */
  coverage(): number {
    let n = 0;
    for (const c of this.count) if (c > 0) n++;
    return n / this.count.length;
  }

  /** Grid times t*_m, for plots of running statistics against t. */
  gridTimes(): Float64Array {
    const out = new Float64Array(this.gridPoints);
    for (let m = 0; m <= this.gridIntervals; m++) out[m] = m === this.gridIntervals ? this.T : this.t0 + (m * (this.T - this.t0)) / this.gridIntervals;
    return out;
  }

  getState(): Record<string, StateArray> {
    const P = this.gridPoints;
    const F = this.numFeatures;
    return {
      running_mean: { shape: [P, F], data: this.mean.slice() },
      running_var: { shape: [P, F], data: this.variance.slice() },
      count: { shape: [P], data: this.count.slice() },
    };
  }

  setState(s: Record<string, StateArray>): void {
    const P = this.gridPoints;
    const F = this.numFeatures;
    this.mean = checkStateArray('running_mean', s.running_mean, [P, F]).data.slice();
    this.variance = checkStateArray('running_var', s.running_var, [P, F]).data.slice();
    this.count = checkStateArray('count', s.count, [P]).data.slice();
  }

  protected disposeParameters(): void {
    this.weight?.dispose();
    this.bias?.dispose();
  }
}

export const tabnDescriptor: NormDescriptor = {
  name: 'tabn',
  summary: 'TA-BN: running statistics and affine parameters on a time grid, interpolated at t',
  identity: false,
  evalStatistics: 'time-grid',
  minTrainBatch: 2,
  create: (o) => new TemporalAdaptiveBatchNorm(o),
};
