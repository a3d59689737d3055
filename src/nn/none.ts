/** `none`: the identity (the plain Neural ODE). */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization, NormTape, StateArray } from './normalization.js';

const EMPTY_TAPE: NormTape = { dispose() {} };

export class NoNormalization implements Normalization {
  readonly kind = 'none' as const;
  constructor(readonly numFeatures: number) {}
  parameters(): Record<string, tf.Variable> {
    return {};
  }
  forward(x: tf.Tensor2D, request: { record: boolean }): { out: tf.Tensor2D; tape?: NormTape } {
    return { out: x.clone(), tape: request.record ? EMPTY_TAPE : undefined };
  }
  backward(_tape: NormTape, g: tf.Tensor2D): tf.Tensor2D {
    return g.clone();
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return x.clone();
  }
  commitStaged(): void {}
  discardStaged(): void {}
  getState(): Record<string, StateArray> {
    return {};
  }
  setState(): void {}
  dispose(): void {}
}
