/**
 * Computes the verdicts and plots from the recorded results and writes report.md and plots/*.svg
 * into the sweep folder (atomically, each file). Can run alone on a results.csv (e.g. after a
 * sweep was stopped) because everything it needs is on disk.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { select } from './aggregate.js';
import type { NormStatistics } from './norm-statistics.js';
import { trainKey, type SweepPlan } from './plan.js';
import { batchSizePlots, depthPlots, outlierPlots, solverPlots, statisticsPlots, type Plot } from './plots.js';
import type { SweepProfile } from './profiles.js';
import { renderReport } from './report.js';
import type { ExperimentId, RunResult } from './types.js';
import {
  batchSizeVerdict, depthVerdict, outlierVerdict, overallVerdict, solverVerdict, timeDependenceVerdict, type ClaimVerdict, type Verdict,
} from './verdicts.js';

export interface ReportContext {
  readonly out: string;
  readonly plan: SweepPlan;
  readonly profile: SweepProfile;
  readonly results: readonly RunResult[];
  readonly commandLine: string;
  readonly commands: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  statsFile(trainKey: string): string;
  /** Fixed timestamp for reproducible output in tests; now otherwise. */
  readonly generatedAt?: string;
}

async function loadStatistics(ctx: ReportContext, system: string, norm: 'tabn' | 'popti'): Promise<NormStatistics[]> {
  const keys = [...new Set(select(ctx.results, { experiment: 'time-dependence', system, norm }).filter((r) => r.status === 'ok').map((r) => trainKey(r.train)))];
  const found: NormStatistics[] = [];
  for (const key of keys.sort()) {
    try {
      found.push(JSON.parse(await readFile(ctx.statsFile(key), 'utf8')) as NormStatistics);
    } catch {
      // statistics not saved for this model
    }
  }
  return found;
}

export async function writeReport(ctx: ReportContext): Promise<string> {
  const { plan, profile, results } = ctx;
  const statistics = new Map<string, { tabn: NormStatistics[]; popti: NormStatistics[] }>();
  for (const system of plan.systems) statistics.set(system, { tabn: await loadStatistics(ctx, system, 'tabn'), popti: await loadStatistics(ctx, system, 'popti') });

  const verdictOf = (id: ExperimentId, rows: readonly RunResult[], system: string): Verdict => {
    switch (id) {
      case 'batch-size': return batchSizeVerdict(rows, profile.smallEvalBatch);
      case 'outliers': return outlierVerdict(rows);
      case 'time-dependence': return timeDependenceVerdict(rows, statistics.get(system)?.tabn ?? []);
      case 'depth': return depthVerdict(rows);
      case 'solvers': return solverVerdict(rows);
    }
  };
  const plotsOf = (id: ExperimentId, rows: readonly RunResult[], system: string): Plot[] => {
    if (rows.length === 0) return [];
    switch (id) {
      case 'batch-size': return batchSizePlots(rows, system, profile.smallEvalBatch);
      case 'outliers': return outlierPlots(rows, system);
      case 'time-dependence': return statisticsPlots(statistics.get(system)?.tabn[0], statistics.get(system)?.popti[0], system);
      case 'depth': return depthPlots(rows, system);
      case 'solvers': return solverPlots(rows, system);
    }
  };

  const verdicts: ClaimVerdict[] = [];
  const plots = new Map<ExperimentId, Plot[]>();
  for (const id of plan.experiments) {
    const perSystem = plan.systems.map((system) => ({ system, verdict: verdictOf(id, select(results, { experiment: id, system }), system) }));
    verdicts.push({ experiment: id, overall: overallVerdict(perSystem), perSystem });
    plots.set(id, plan.systems.flatMap((system) => plotsOf(id, select(results, { experiment: id, system }), system)));
  }
  for (const plot of [...plots.values()].flat()) await writeFileAtomic(join(ctx.out, 'plots', plot.file), plot.svg);
  const markdown = renderReport({
    plan, profile, results, verdicts, plots, statistics,
    commandLine: ctx.commandLine, commands: ctx.commands, environment: ctx.environment,
    generatedAt: ctx.generatedAt ?? new Date().toISOString(),
  });
  const file = join(ctx.out, 'report.md');
  await writeFileAtomic(file, markdown);
  await writeFileAtomic(join(ctx.out, 'verdicts.json'), JSON.stringify(verdicts, null, 2) + '\n');
  return file;
}
