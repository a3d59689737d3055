/**
 * The normalisation contract (see ../shared/design/TABN.md): `none`, `minibatch`, `popti`, `pop`,
 * `tabn`, one interface, PyTorch's BatchNorm vocabulary (numFeatures, eps, momentum, affine;
 * parameters `weight`/`bias`, buffers `running_mean`/`running_var`). Running statistics are
 * explicit state: readable and settable as named Float32Arrays, saved with the model.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FieldMode, GradientSink } from '../ode/field.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { Collective } from '../parallel/collective.js';

export type NormKind = 'none' | 'minibatch' | 'popti' | 'pop' | 'tabn';
export const NORM_KINDS: readonly NormKind[] = ['none', 'minibatch', 'popti', 'pop', 'tabn'];

export function checkNormKind(name: string): NormKind {
  if ((NORM_KINDS as readonly string[]).includes(name)) return name as NormKind;
  throw new InvalidArgumentError(`unknown normalisation '${name}'`, `use one of: ${NORM_KINDS.join(', ')}`);
}

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
  readonly mode: FieldMode;
  /** Stage running-statistics updates (training-mode forward solves only). */
  readonly updateStats: boolean;
  /** Keep what backward() needs. */
  readonly record: boolean;
  /** Data-parallel replicas: batch statistics are taken over all of them (null or absent: this batch alone). */
  readonly collective?: Collective | null;
}

export interface NormTape {
  dispose(): void;
}

export interface Normalization {
  readonly kind: NormKind;
  readonly numFeatures: number;
  /** Learnable parameters by PyTorch name ('weight' = γ, 'bias' = β); empty when not affine. */
  parameters(): Record<string, tf.Variable>;
  forward(x: tf.Tensor2D, request: NormRequest): { out: tf.Tensor2D; tape?: NormTape };
  /** dL/dx from dL/dout; adds scale·dL/dθ into sink under `${prefix}${name}`. */
  backward(tape: NormTape, g: tf.Tensor2D, sink: GradientSink | null, prefix: string, scale: number): tf.Tensor2D;
  /** Plain application at time t (no statistics update, nothing recorded). */
  apply(x: tf.Tensor2D, t: number, mode: FieldMode, index?: number): tf.Tensor2D;
  /** Optional: called around a solve, during which parameters do not change. */
  beginSolve?(): void;
  endSolve?(): void;
  /**
   * Optional: running statistics back to their initial values (mean 0, variance 1, counts 0), like
   * PyTorch's `reset_running_stats()`; with `momentum` null the next updates average from scratch.
   */
  resetRunningStats?(): void;
  /** Apply / drop the running-statistics updates staged since the last commit or discard. */
  commitStaged(): void;
  discardStaged(): void;
  /** Buffers (running statistics, counts) by name. */
  getState(): Record<string, StateArray>;
  setState(state: Record<string, StateArray>): void;
  dispose(): void;
}
