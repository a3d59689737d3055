/**
 * The settings every continuous-depth task shares: how the ODE over depth [0, 1] is solved and
 * how the model is optimised. Each task's settings extend these with its own.
 */
import type { SolverConfig } from '../model/config.js';
import { isAdaptive } from '../ode/tableau.js';
import { tableauFor, type MethodName } from '../ode/tableaux/index.js';
import type { OptimizerName } from '../train/optimizer.js';
import { FIT_DEFAULTS, type FitConfig } from './fit.js';

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

/** The solver of the model's ODE: tolerances for an adaptive method, a step count for a fixed one. */
export function depthSolver(s: DepthSolverSettings): Partial<SolverConfig> & { method: MethodName } {
  return isAdaptive(tableauFor(s.method)) ? { method: s.method, rtol: s.rtol, atol: s.atol } : { method: s.method, steps: s.solverSteps };
}

/** The training loop's configuration from the shared settings; a task adds what is its own (metric, clipping, ...). */
export function sharedFitConfig(s: DepthSolverSettings & OptimisationSettings): FitConfig {
  return {
    ...FIT_DEFAULTS,
    epochs: s.epochs,
    maxSteps: s.maxSteps ?? undefined,
    batchSize: s.batchSize,
    optimizer: s.optimizer,
    lr: s.lr,
    weightDecay: s.weightDecay,
    seed: s.seed,
    trainMaxSteps: isAdaptive(tableauFor(s.method)) ? s.trainMaxSteps : undefined,
  };
}
