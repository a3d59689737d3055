/**
 * Turns experiments × systems × seeds into the list of trainings to run, each with the rows
 * (experiment, evaluation condition) it produces. Trainings shared by several experiments
 * (e.g. the default-batch `tabn` model serves batch size, outliers and solvers) run once.
 */
import { EXPERIMENTS, type ExperimentDefinition } from './experiments.js';
import type { SweepProfile } from './profiles.js';
import type { EvalCondition, ExperimentId, PlannedRun, TrainSpec } from './types.js';

/** Folder name of a training inside `<out>/runs/`, unique per spec. */
export function trainKey(t: TrainSpec): string {
  return `${t.system}_${t.norm}_${t.method}_d${t.depth}_w${t.width}_b${t.batchSize}_n${t.steps}_s${t.seed}`;
}

export function conditionKey(c: EvalCondition): string {
  return `b${c.batchSize}_o${c.outliers}_${c.method}`;
}

export function runKey(experiment: ExperimentId, train: TrainSpec, evaluation: EvalCondition): string {
  return `${experiment}/${trainKey(train)}/${conditionKey(evaluation)}`;
}

/** One training and every row that depends on it: the unit a worker runs. */
export interface TrainTask {
  readonly key: string;
  readonly train: TrainSpec;
  /** Distinct evaluation conditions (each run once, shared by the rows that need it). */
  readonly conditions: readonly EvalCondition[];
  readonly runs: readonly PlannedRun[];
}

export interface SweepPlan {
  readonly systems: readonly string[];
  readonly seeds: readonly number[];
  readonly experiments: readonly ExperimentId[];
  readonly tasks: readonly TrainTask[];
  /** All rows, in plan order. */
  readonly runs: readonly PlannedRun[];
}

export interface PlanOptions {
  readonly profile: SweepProfile;
  readonly systems: readonly string[];
  readonly seeds: readonly number[];
  /** Defaults to all five. */
  readonly experiments?: readonly ExperimentId[];
}

export function planSweep(options: PlanOptions): SweepPlan {
  const chosen: readonly ExperimentDefinition[] = options.experiments
    ? EXPERIMENTS.filter((e) => options.experiments!.includes(e.id))
    : EXPERIMENTS;
  const tasks = new Map<string, { train: TrainSpec; conditions: Map<string, EvalCondition>; runs: PlannedRun[] }>();
  const runs: PlannedRun[] = [];
  const seen = new Set<string>();
  for (const system of options.systems) {
    for (const seed of options.seeds) {
      for (const experiment of chosen) {
        for (const cell of experiment.cells(options.profile, system, seed)) {
          const tk = trainKey(cell.train);
          let task = tasks.get(tk);
          if (!task) {
            task = { train: cell.train, conditions: new Map(), runs: [] };
            tasks.set(tk, task);
          }
          for (const evaluation of cell.evaluations) {
            const key = runKey(experiment.id, cell.train, evaluation);
            if (seen.has(key)) continue;
            seen.add(key);
            task.conditions.set(conditionKey(evaluation), evaluation);
            const run: PlannedRun = { key, experiment: experiment.id, train: cell.train, evaluation };
            task.runs.push(run);
            runs.push(run);
          }
        }
      }
    }
  }
  return {
    systems: options.systems,
    seeds: options.seeds,
    experiments: chosen.map((e) => e.id),
    tasks: [...tasks.entries()].map(([key, t]) => ({ key, train: t.train, conditions: [...t.conditions.values()], runs: t.runs })),
    runs,
  };
}
