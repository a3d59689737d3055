/**
 * `popti`: batch statistics in training; one running mean/variance pair, updated at every
 * evaluation of accepted steps; evaluation uses that single pair. What ordinary BN inside an
 * ODE function does (TABN.md). Initial running statistics 0 and 1, as in PyTorch.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { BatchNormBase, VectorAffine, checkStateArray, momentumUpdate, updateFactor, type Affine } from './batch-norm-base.js';
import type { NormOptions, StateArray } from './normalization.js';
import type { NormDescriptor } from './registry.js';

export class PopTiNorm extends BatchNormBase {
  readonly kind = 'popti' as const;
  private readonly affineParams: VectorAffine;
  private mean: Float32Array;
  private variance: Float32Array;
  private count = new Float32Array(1);
  constructor(o: NormOptions) {
    super(o);
    this.affineParams = new VectorAffine(this.numFeatures, this.affine, o.namePrefix);
    this.mean = new Float32Array(this.numFeatures);
    this.variance = new Float32Array(this.numFeatures).fill(1);
  }
  parameters(): Record<string, tf.Variable> {
    return this.affineParams.parameters();
  }
  protected affineFor(): Affine {
    return this.affineParams.at();
  }
  statisticsAt(): { mean: Float32Array; variance: Float32Array } {
    return { mean: this.mean, variance: this.variance };
  }
  protected update(_t: number, _i: number, mean: Float32Array, variance: Float32Array): void {
    this.count[0] += 1;
    const m = updateFactor(this.momentum, 1, this.count[0]);
    momentumUpdate(this.mean, 0, mean, m);
    momentumUpdate(this.variance, 0, variance, m);
  }
  resetRunningStats(): void {
    this.mean.fill(0);
    this.variance.fill(1);
    this.count.fill(0);
  }
  getState(): Record<string, StateArray> {
    const F = this.numFeatures;
    return {
      running_mean: { shape: [F], data: this.mean.slice() },
      running_var: { shape: [F], data: this.variance.slice() },
      num_batches_tracked: { shape: [1], data: this.count.slice() },
    };
  }
  setState(s: Record<string, StateArray>): void {
    const F = this.numFeatures;
    this.mean = checkStateArray('running_mean', s.running_mean, [F]).data.slice();
    this.variance = checkStateArray('running_var', s.running_var, [F]).data.slice();
    this.count = checkStateArray('num_batches_tracked', s.num_batches_tracked, [1]).data.slice();
  }
  protected disposeParameters(): void {
    this.affineParams.dispose();
  }
}

export const poptiDescriptor: NormDescriptor = {
  name: 'popti',
  summary: 'one running mean/variance for all times (ordinary BN inside the field)',
  identity: false,
  evalStatistics: 'single',
  minTrainBatch: 2,
  create: (o) => new PopTiNorm(o),
};
