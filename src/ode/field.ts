/**
 * The vector field contract between solvers and models. A field can be evaluated, and, for
 * gradients, it can record what it needs and apply its vector–Jacobian product, adding parameter
 * gradients into a sink of its own making. Solvers only see this interface.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GradientSink } from './gradient-sink.js';

export type FieldMode = 'train' | 'eval';

/** One evaluation request from the solver. */
export interface EvalRequest {
  /** Time of the evaluation (the same for the whole batch). */
  readonly t: number;
  /** 0-based evaluation index within this solve (the solver's NFE counter before the call). */
  readonly index: number;
  readonly mode: FieldMode;
  /**
   * True only in training-mode forward solves: the field may stage running-statistics updates,
   * which the solver then commits (the evaluation belongs to an accepted step) or discards.
   */
  readonly updateStats: boolean;
  /** True when the solver will later ask for the vector–Jacobian product of this evaluation. */
  readonly record: boolean;
}

/** What a recorded evaluation kept for its vector–Jacobian product. */
export interface FieldTape {
  dispose(): void;
}

export interface FieldOutput {
  /** dy/dt, [B, D]. */
  readonly dy: tf.Tensor2D;
  /** Present when the request had record: true. */
  readonly tape?: FieldTape;
}

export interface VectorField<Sink extends GradientSink = GradientSink> {
  /** State dimension D. */
  readonly dim: number;
  /** Called once before a solve (e.g. to prepare weights once) and after it. */
  beginSolve?(): void;
  endSolve?(): void;
  evaluate(y: tf.Tensor2D, request: EvalRequest): FieldOutput;
  /** A new, empty sink for this field's parameter gradients (default: a TensorGradientSink). */
  gradientSink?(): Sink;
  /**
   * Vector–Jacobian product of a recorded evaluation: returns cotangentᵀ ∂f/∂y ([B, D]) and adds
   * `paramScale` · cotangentᵀ ∂f/∂θ into `sink` (skipped when sink is null). Does not dispose the tape.
   */
  vjp(tape: FieldTape, cotangent: tf.Tensor2D, sink: Sink | null, paramScale: number): tf.Tensor2D;
  /** Commit / drop the running-statistics updates staged since the last commit or discard. */
  commitStaged?(): void;
  discardStaged?(): void;
}
