/**
 * `pop`: the naive port of population BN to an ODE: running statistics kept per solver-evaluation
 * index (the k-th evaluation of a solve uses the k-th pair), whatever time that evaluation had.
 * Meaningless when the time grid moves, which is why it is here (TABN.md). An index never seen
 * in training has PyTorch's initial statistics (mean 0, variance 1).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { BatchNormBase, VectorAffine, checkStateArray, momentumUpdate, updateFactor, type Affine } from './batch-norm-base.js';
import type { NormOptions, StateArray } from './normalization.js';
import type { NormDescriptor } from './registry.js';

export class PopNorm extends BatchNormBase {
  readonly kind = 'pop' as const;
  private readonly affineParams: VectorAffine;
  private means: Float32Array[] = [];
  private variances: Float32Array[] = [];
  private counts: number[] = [];
  constructor(o: NormOptions) {
    super(o);
    this.affineParams = new VectorAffine(this.numFeatures, this.affine, o.namePrefix);
  }
  parameters(): Record<string, tf.Variable> {
    return this.affineParams.parameters();
  }
  protected affineFor(): Affine {
    return this.affineParams.at();
  }
  /** How many evaluation indices have statistics. */
  indices(): number {
    return this.means.length;
  }
  private ensure(index: number): void {
    while (this.means.length <= index) {
      this.means.push(new Float32Array(this.numFeatures));
      this.variances.push(new Float32Array(this.numFeatures).fill(1));
      this.counts.push(0);
    }
  }
  statisticsAt(_t: number, index: number): { mean: Float32Array; variance: Float32Array } {
    if (index < this.means.length) return { mean: this.means[index], variance: this.variances[index] };
    return { mean: new Float32Array(this.numFeatures), variance: new Float32Array(this.numFeatures).fill(1) };
  }
  protected update(_t: number, index: number, mean: Float32Array, variance: Float32Array): void {
    this.ensure(index);
    this.counts[index] += 1;
    const m = updateFactor(this.momentum, 1, this.counts[index]);
    momentumUpdate(this.means[index], 0, mean, m);
    momentumUpdate(this.variances[index], 0, variance, m);
  }
  resetRunningStats(): void {
    this.means = [];
    this.variances = [];
    this.counts = [];
  }
  getState(): Record<string, StateArray> {
    const K = this.means.length;
    const F = this.numFeatures;
    const flat = (rows: Float32Array[]): Float32Array => {
      const out = new Float32Array(K * F);
      rows.forEach((r, i) => out.set(r, i * F));
      return out;
    };
    return {
      running_mean: { shape: [K, F], data: flat(this.means) },
      running_var: { shape: [K, F], data: flat(this.variances) },
      count: { shape: [K], data: Float32Array.from(this.counts) },
    };
  }
  setState(s: Record<string, StateArray>): void {
    const F = this.numFeatures;
    const K = s.count?.shape[0] ?? 0;
    const mean = checkStateArray('running_mean', s.running_mean, [K, F]).data;
    const variance = checkStateArray('running_var', s.running_var, [K, F]).data;
    const count = checkStateArray('count', s.count, [K]).data;
    this.means = [];
    this.variances = [];
    this.counts = [];
    for (let k = 0; k < K; k++) {
      this.means.push(mean.slice(k * F, (k + 1) * F));
      this.variances.push(variance.slice(k * F, (k + 1) * F));
      this.counts.push(count[k]);
    }
  }
  protected disposeParameters(): void {
    this.affineParams.dispose();
  }
}

export const popDescriptor: NormDescriptor = {
  name: 'pop',
  summary: 'running statistics per solver-evaluation index (naive population BN)',
  identity: false,
  evalStatistics: 'per-evaluation',
  minTrainBatch: 2,
  create: (o) => new PopNorm(o),
};
