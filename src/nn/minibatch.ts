/** `minibatch`: batch statistics in training and in evaluation; no running statistics (TABN.md). */
import type * as tf from '@tensorflow/tfjs-core';
import { BatchNormBase, VectorAffine, type Affine } from './batch-norm-base.js';
import type { NormOptions, StateArray } from './normalization.js';
import type { NormDescriptor } from './registry.js';

export class MinibatchNorm extends BatchNormBase {
  readonly kind = 'minibatch' as const;
  private readonly affineParams: VectorAffine;
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
  statisticsAt(): null {
    return null;
  }
  protected update(): void {}
  resetRunningStats(): void {}
  getState(): Record<string, StateArray> {
    return {};
  }
  setState(): void {}
  protected disposeParameters(): void {
    this.affineParams.dispose();
  }
}

export const minibatchDescriptor: NormDescriptor = {
  name: 'minibatch',
  summary: 'batch statistics in training and in evaluation (no running statistics)',
  identity: false,
  evalStatistics: 'batch',
  minTrainBatch: 2,
  create: (o) => new MinibatchNorm(o),
};
