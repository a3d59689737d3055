/**
 * The settings every continuous-depth task shares: how the ODE over depth [0, 1] is solved and
 * how the model is optimised. Each task's settings extend these with its own.
 */
import type { MethodName } from '../ode/tableaux/index.js';
import type { OptimizerName } from '../train/optimizer.js';

export interface DepthSolverSettings {
  readonly method: MethodName;
  readonly rtol: number;
  readonly atol: number;
  /** Fixed-step methods: steps over the depth [0, 1]. */
  readonly solverSteps: number;
  /**
   * Adaptive methods: step limit of each training solve. Backpropagation records every accepted
   * step, so this bounds a training step's memory; a solve past it fails the step (recovery).
   */
  readonly trainMaxSteps: number;
}

export interface OptimisationSettings {
  readonly batchSize: number;
  readonly epochs: number;
  /** Cap on the optimisation steps in all (null: epochs × batches). */
  readonly maxSteps: number | null;
  readonly lr: number;
  readonly optimizer: OptimizerName;
  readonly weightDecay: number;
  readonly seed: number;
}
