/**
 * The normalisation contract (see ../shared/design/TABN.md): `none`, `minibatch`, `popti`, `pop`,
 * `tabn`, one interface, PyTorch's BatchNorm vocabulary (numFeatures, eps, momentum, affine;
 * parameters `weight`/`bias`, buffers `running_mean`/`running_var`). Running statistics are
 * explicit state: readable and settable as named Float32Arrays, saved with the model.
 *
 * A normalisation works on a layer's pre-normalisation values z [rows, F] on the host (the field's
 * WebAssembly kernels hold them): `forward` returns a per-feature scale and shift, out = z·scale +
 * shift, which the caller folds into its activation; `backward` returns dL/dz. Which
 * normalisations exist, and what each one needs, is in registry.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelInput, KernelOutput, PinnedArray } from '../kernels/host-kernels.js';
import type { NormKind } from './registry.js';

export type NormMode = 'train' | 'eval';

export interface NormOptions {
  readonly numFeatures: number;
  /** Default 1e-5 (PyTorch). */
  readonly eps?: number;
  /**
   * Default 0.1 (PyTorch): running = (1 − momentum) running + momentum batch. null: a cumulative
   * moving average, running = the (weight-)averaged batch statistics since the last reset
   * (PyTorch's BatchNorm `momentum=None`).
   */
  readonly momentum?: number | null;
  /** Learnable γ and β (default true). */
  readonly affine?: boolean;
  /** TA-BN only: the integration span [t0, T] of the model, and M (default 100). */
  readonly timeSpan?: readonly [number, number];
  readonly gridIntervals?: number;
  /** tfjs variable name prefix for γ, β (names must be unique in a process). */
  readonly namePrefix?: string;
}

/** A named buffer: row-major data with its shape. */
export interface StateArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface NormRequest {
  readonly t: number;
  /** Evaluation index within the solve (used by `pop`). */
  readonly index: number;
  readonly mode: NormMode;
  /** Stage running-statistics updates (training-mode forward solves only). */
  readonly updateStats: boolean;
  /** Keep what backward() needs. */
  readonly record: boolean;
}

/** Where γ's and β's gradients go: float64 host arrays by parameter name, added into the model's gradients later. */
export interface HostGradientAccumulator {
  hostAccumulator(name: string, shape: readonly number[]): Float64Array;
}

export interface NormTape {
  dispose(): void;
}

/** out = z·scale + shift, per feature; `tape` when the request had record: true. */
export interface NormForward {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
  readonly tape?: NormTape;
}

export interface Normalization {
  readonly kind: NormKind;
  readonly numFeatures: number;
  readonly eps: number;
  /**
   * Running-statistics momentum; null: cumulative moving average (PyTorch `momentum=None`).
   * Mutable, like PyTorch's attribute: recalibration (src/train) switches it to null.
   */
  momentum: number | null;
  /** Learnable parameters by PyTorch name ('weight' = γ, 'bias' = β); empty when not affine. */
  parameters(): Record<string, tf.Variable>;
  /** Scale and shift for z [rows, F] (batch statistics in training mode), staging statistics updates when asked. */
  forward(z: KernelInput, rows: number, request: NormRequest): NormForward;
  /**
   * dL/dz from gIn = dL/dout ([rows, F]); adds scale·dL/dγ, dL/dβ into the sink under
   * `${prefix}weight`, `${prefix}bias`. With `sigmoidOut` s, gIn is first multiplied by s(1 − s)
   * (a sigmoid's derivative, in the same pass). Writes into `out` when given (a JavaScript or
   * resident array), else into a new array.
   */
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut?: KernelInput, out?: Float32Array): Float32Array;
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut: KernelInput | undefined, out: PinnedArray): PinnedArray;
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut?: KernelInput, out?: KernelOutput): KernelOutput;
  /** γ(t), β(t) for an evaluation at (t, index); null when not affine. */
  affineAt(t: number, index: number): { readonly gamma: Float32Array | null; readonly beta: Float32Array | null };
  /** The statistics evaluation mode uses at (t, index); null: batch statistics (or none, for the identity). */
  statisticsAt(t: number, index: number): { readonly mean: Float32Array; readonly variance: Float32Array } | null;
  /** Optional: called around a solve, during which parameters do not change. */
  beginSolve?(): void;
  endSolve?(): void;
  /**
   * Running statistics back to their initial values (mean 0, variance 1, counts 0), like PyTorch's
   * `reset_running_stats()`; with `momentum` null the next updates average from scratch.
   */
  resetRunningStats(): void;
  /** Apply / drop the running-statistics updates staged since the last commit or discard. */
  commitStaged(): void;
  discardStaged(): void;
  /** Buffers (running statistics, counts) by name. */
  getState(): Record<string, StateArray>;
  setState(state: Record<string, StateArray>): void;
  dispose(): void;
}
