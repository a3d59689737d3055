/** Messages between data-parallel-model.ts (main thread) and replica-worker.ts. */
import type { NamedTensor } from '../train/checkpoint.js';

/** One replica's shard of a training step. */
export interface ReplicaJob {
  /** The main model's weights and normalisation state. */
  readonly state: readonly NamedTensor[];
  /** Shard rows of the batch: y0 [rows, D], target [rows, W, D] (as DynamicsModel takes them). */
  readonly y0: Float32Array;
  readonly batch: number;
  readonly ts: Float64Array;
  readonly target: Float32Array;
  readonly mode: 'train' | 'eval';
  /** rows / batch rows: the replica's share of the loss. */
  readonly lossScale: number;
}

export interface ReplicaError {
  readonly name: string;
  readonly message: string;
  readonly hint?: string;
  /** Present for SolverError, which training treats as divergence: rebuilt on the main thread. */
  readonly solver?: { reason: 'step-underflow' | 'max-steps' | 'non-finite'; t: number; h: number; nfe: number };
}

export type ReplicaReply =
  | {
      readonly ok: true;
      /** This replica's share of the loss (already scaled). */
      readonly loss: number;
      readonly nfe: number;
      readonly grads: readonly { name: string; shape: readonly number[]; data: Float32Array }[];
      /** Normalisation buffers after the step (rank 0 only). */
      readonly buffers: readonly NamedTensor[];
    }
  | { readonly ok: false; readonly error: ReplicaError };
