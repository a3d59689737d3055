/**
 * What training, evaluation and prediction need from a dynamics model, in one small interface.
 * src/train/neural-ode-port.ts implements it with the project's NeuralODE (src/model/); tests may
 * implement it with a tiny model to exercise the loop fast.
 * All states here are in normalised coordinates, flat and C-ordered.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './checkpoint.js';
import type { ModelSpec, SolverSpec } from './config.js';
import type { TrainableVariable } from './optimizer.js';

export interface StepResult {
  /** Mean squared error over the window (normalised coordinates). */
  readonly loss: number;
  /** Gradients keyed by variable name; the caller disposes them. */
  readonly grads: Map<string, tf.Tensor>;
  /** Vector-field evaluations of the forward solve. */
  readonly nfe: number;
}

export interface Prediction {
  /** States [B, T, D] at the requested times. */
  readonly states: Float32Array;
  readonly nfe: number;
}

/** TA-BN's running statistics of one normalisation layer on its time grid. */
export interface RunningStats {
  readonly layer: string;
  /** Grid times [M + 1]. */
  readonly t: Float64Array;
  /** Running mean and variance [M + 1, F], C order. */
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly features: number;
  /** Weight each grid point received [M + 1] (0: never reached; its statistics are the initial ones). */
  readonly count?: Float32Array;
  /** Share of grid points that ever received weight (TABN.md: reported after training). */
  readonly coverage?: number;
}

/** Solver options for a prediction, overriding the ones the model was built with. */
export interface SolverOverride {
  readonly method?: string;
  readonly rtol?: number;
  readonly atol?: number;
  readonly step?: number | null;
  /** Adaptive methods: the step limit of each solve. */
  readonly maxSteps?: number;
}

export interface DynamicsModel {
  readonly variables: readonly TrainableVariable[];
  /**
   * Loss and gradients for a batch of windows. Normalisation mode 'train' (default): batch
   * statistics, running statistics updated; 'eval': through the running statistics, left unchanged
   * (frozen BN, config.ts `bnFreeze`).
   */
  lossAndGradients(y0: Float32Array, batch: number, ts: Float64Array, target: Float32Array, mode?: 'train' | 'eval'): StepResult;
  /** Eval mode: states from y0 at times ts (integration starts at ts[0]). */
  predict(y0: Float32Array, batch: number, ts: Float64Array, solver?: SolverOverride): Promise<Prediction>;
  /**
   * Optional: "precise BN" (Wu & Johnson 2021): running statistics reset and recomputed with the
   * current weights as the cumulative average of training-mode forward solves (no gradients) of
   * these windows, [B, D] initial states each over `ts`. Returns the NFE spent.
   */
  recalibrate?(batches: Iterable<{ readonly y0: Float32Array; readonly batch: number; readonly ts: Float64Array }>): number;
  /** Weights and normalisation state, for checkpoints. */
  getState(): NamedTensor[];
  setState(tensors: readonly NamedTensor[]): void;
  /** Saves the model in its own format (the run's model/ folder). */
  save(dir: string): Promise<void>;
  /** Running statistics of the first normalisation layer with a time grid (TA-BN), or null. */
  runningStats(): RunningStats | null;
  dispose(): void;
}

export interface ModelBlueprint {
  readonly model: ModelSpec;
  readonly solver: SolverSpec;
  readonly dim: number;
  /** The integration span the model is built for (TA-BN's grid spans it). */
  readonly span: readonly [number, number];
  /** Fixed step size used when solver.step is null (the data's sample interval). */
  readonly defaultStep: number;
  readonly seed: number;
}

export interface ModelFactory {
  create(blueprint: ModelBlueprint): Promise<DynamicsModel>;
  /** Loads a model saved by DynamicsModel.save. */
  load(dir: string): Promise<DynamicsModel>;
}
