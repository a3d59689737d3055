/**
 * The vocabulary of `physode reproduce`: what one training is, what one evaluation of it is,
 * and the row each evaluation leaves in results.csv. Plain data, no behaviour.
 */

/** The five normalisations of TABN.md, by name. */
export type { NormKind as NormName } from '../nn/registry.js';
import type { NormKind as NormName } from '../nn/registry.js';

/** The solvers the sweep uses (names as `physode train --method` takes them). */
export type MethodName = 'euler' | 'rk4' | 'dopri5';

/** The five experiments of issue 6, one per claim of TABN.md ("Claims"). */
export type ExperimentId = 'batch-size' | 'outliers' | 'time-dependence' | 'depth' | 'solvers';

/** Where a dataset for one system comes from: the `physode generate` arguments. */
export interface SystemRecipe {
  /** The name the user types (`--systems pendulum,nbody3`) and that reports show. */
  readonly name: string;
  /** `physode generate <system>` positional argument. */
  readonly generator: string;
  /** Extra generate flags, e.g. ['--preset', 'random', '--bodies', '3']. */
  readonly generateArgs: readonly string[];
}

/** One training: everything that makes its model different from another's. */
export interface TrainSpec {
  readonly system: string;
  readonly norm: NormName;
  readonly method: MethodName;
  readonly depth: number;
  readonly width: number;
  readonly batchSize: number;
  readonly steps: number;
  readonly seed: number;
}

/** One evaluation condition applied to a trained model. */
export interface EvalCondition {
  /** Evaluation batch size (`physode eval --batch-size`). */
  readonly batchSize: number;
  /** Fraction of evaluation batches holding one corrupted sample (`--outliers`); 0 = clean. */
  readonly outliers: number;
  /** Solver used at evaluation time. */
  readonly method: MethodName;
}

/** One row of results.csv in the making: an experiment's use of a training and a condition. */
export interface PlannedRun {
  /** Unique, stable across invocations: the resume key. */
  readonly key: string;
  readonly experiment: ExperimentId;
  readonly train: TrainSpec;
  readonly evaluation: EvalCondition;
}

/** How a run ended. `failed` runs are results (with a reason), not missing points. */
export type RunStatus = 'ok' | 'failed';

/** Why a run failed, classified from the child's exit code, stderr and metrics. */
export type FailureKind =
  | 'divergence'
  | 'step-underflow'
  | 'nfe-blowup'
  | 'non-finite-metric'
  | 'timeout'
  | 'crash';

/** The figures `physode eval --json` gives that the report uses (undefined when absent). */
export interface EvalMetrics {
  /** Full-horizon rollout MSE in normalised coordinates (the headline metric). */
  readonly mse?: number;
  /** Valid prediction time (time until normalised error exceeds the threshold). */
  readonly vpt?: number;
  /** Relative energy drift of the rollouts. */
  readonly energyDrift?: number;
  /** Function evaluations per rollout. */
  readonly nfe?: number;
}

/** One finished row of results.csv. */
export interface RunResult extends PlannedRun {
  readonly status: RunStatus;
  readonly failure?: FailureKind;
  /** One line saying what happened when status is failed. */
  readonly reason?: string;
  readonly metrics: EvalMetrics;
  /** NFE per training step, when train reports it. */
  readonly trainNfe?: number;
  /** Seconds the training took (wall clock, child process included). */
  readonly trainSeconds?: number;
  /** Seconds the evaluation took. */
  readonly evalSeconds?: number;
}
