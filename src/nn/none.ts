/** `none`: the identity (the plain Neural ODE). Fields skip it (its descriptor says identity); its methods are still exact. */
import type * as tf from '@tensorflow/tfjs-core';
import type { HostGradientAccumulator, NormForward, NormOptions, NormTape, Normalization, StateArray } from './normalization.js';
import type { NormDescriptor } from './registry.js';
import { batchNormSigmoidBackward, type KernelInput, type KernelOutput, type PinnedArray } from '../kernels/host-kernels.js';

const EMPTY_TAPE: NormTape = { dispose() {} };

export class NoNormalization implements Normalization {
  readonly kind = 'none' as const;
  readonly eps = 0;
  momentum: number | null = null;
  constructor(readonly numFeatures: number) {}
  parameters(): Record<string, tf.Variable> {
    return {};
  }
  forward(_z: KernelInput, _rows: number, request: { record: boolean }): NormForward {
    const F = this.numFeatures;
    return { scale: new Float32Array(F).fill(1), shift: new Float32Array(F), tape: request.record ? EMPTY_TAPE : undefined };
  }
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut?: KernelInput, out?: Float32Array): Float32Array;
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut: KernelInput | undefined, out: PinnedArray): PinnedArray;
  backward(_tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, _sink: HostGradientAccumulator | null, _prefix: string, _scale: number, sigmoidOut?: KernelInput, out?: KernelOutput): KernelOutput {
    const F = this.numFeatures;
    // dz = g (after the sigmoid's derivative when given): coefficients A = 1, C = D = 0.
    const identity = { a: new Float32Array(F).fill(1), c: new Float32Array(F), d: new Float32Array(F) };
    return batchNormSigmoidBackward(gIn, sigmoidOut ?? null, z, rows, F, () => identity, out).dz;
  }
  affineAt(): { gamma: null; beta: null } {
    return { gamma: null, beta: null };
  }
  statisticsAt(): null {
    return null;
  }
  resetRunningStats(): void {}
  commitStaged(): void {}
  discardStaged(): void {}
  getState(): Record<string, StateArray> {
    return {};
  }
  setState(): void {}
  dispose(): void {}
}

export const noneDescriptor: NormDescriptor = {
  name: 'none',
  summary: 'no normalisation (the plain Neural ODE)',
  identity: true,
  evalStatistics: 'none',
  minTrainBatch: 1,
  create: (o: NormOptions) => new NoNormalization(o.numFeatures),
};
