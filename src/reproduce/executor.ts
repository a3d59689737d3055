/**
 * What the sweep needs done, behind one interface: make a dataset, train a model, evaluate it,
 * read its normalisation statistics. The real implementation drives the physode CLI in child
 * processes (cli-executor.ts); tests substitute a fake that returns chosen numbers.
 */
import type { Failure } from './failure.js';
import type { EvalCondition, EvalMetrics, TrainSpec } from './types.js';
import type { NormStatistics } from './norm-statistics.js';

export type TrainOutcome =
  | { readonly ok: true; readonly seconds: number; readonly nfe?: number; readonly backend?: string }
  | ({ readonly ok: false; readonly seconds: number } & Failure);

export type EvalOutcome =
  | { readonly ok: true; readonly seconds: number; readonly metrics: EvalMetrics }
  | ({ readonly ok: false; readonly seconds: number } & Failure);

export interface Executor {
  /** Creates the dataset of `system` in `dataDir` (a no-op when it is already complete). */
  generate(system: string, dataDir: string): Promise<void>;
  train(spec: TrainSpec, dataDir: string, runDir: string): Promise<TrainOutcome>;
  evaluate(runDir: string, dataDir: string, condition: EvalCondition): Promise<EvalOutcome>;
  /** Running statistics of the first normalised layer, or undefined if the model has none. */
  normStatistics(runDir: string): Promise<NormStatistics | undefined>;
  /** The exact command lines this executor would run, for the report (generic forms). */
  describe(): readonly string[];
}
