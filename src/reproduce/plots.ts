/**
 * The report's figures as SVG text: test metric against batch size, depth and solver (mean ±
 * standard deviation over seeds, failures marked), TA-BN's running statistics against t beside
 * popti's single pair, and the cost figures (NFE, wall time).
 */
import { PALETTE, renderLineChart, type Series } from '../plot/line-chart.js';
import { cellOf, distinct, select } from './aggregate.js';
import { renderCategoryChart, type CategoryPoint, type CategorySeries } from './category-chart.js';
import type { NormStatistics } from './norm-statistics.js';
import type { Summary } from './stats.js';
import type { NormName, RunResult } from './types.js';

export interface Plot {
  /** File name inside the report's plots/ folder. */
  readonly file: string;
  /** The system it shows. */
  readonly system: string;
  readonly caption: string;
  readonly svg: string;
}

type Metric = (cell: ReturnType<typeof cellOf>) => Summary;
const MSE: Metric = (c) => c.mse;
const NFE: Metric = (c) => c.nfe;
const SECONDS: Metric = (c) => c.trainSeconds;

function point(runs: readonly RunResult[], metric: Metric): CategoryPoint | undefined {
  if (runs.length === 0) return undefined;
  const cell = cellOf(runs);
  const s = metric(cell);
  const failed = cell.failed.length * 2 > cell.runs.length || s.n === 0;
  return { mean: s.mean, spread: s.std, failed };
}

/** One colour per normalisation, the same in every plot. */
const NORM_COLORS: Readonly<Record<NormName, string>> = { tabn: PALETTE[0], minibatch: PALETTE[1], popti: PALETTE[2], pop: PALETTE[5], none: PALETTE[3] };

function categorySeries<C extends string | number>(rows: readonly RunResult[], norms: readonly NormName[], categories: readonly C[], pick: (rows: readonly RunResult[], norm: NormName, c: C) => RunResult[], metric: Metric, label = (n: NormName) => n as string): CategorySeries[] {
  return norms.map((norm) => ({ name: label(norm), color: NORM_COLORS[norm], points: categories.map((c) => point(pick(rows, norm, c), metric)) }));
}

export function batchSizePlots(rows: readonly RunResult[], system: string, smallEvalBatch: number): Plot[] {
  const norms = distinct(rows, (r) => r.train.norm);
  const batches = distinct(rows, (r) => r.train.batchSize);
  const atTrain = categorySeries(rows, norms, batches, (rs, norm, b) => select(rs, { norm, trainBatch: b, atTrainBatch: true }), MSE, (n) => `${n} @ train batch`);
  const atSmall = categorySeries(rows, norms, batches, (rs, norm, b) => select(rs, { norm, trainBatch: b, evalBatch: smallEvalBatch }), MSE, (n) => `${n} @ batch ${smallEvalBatch}`)
    .map((s) => ({ ...s, dashed: true }));
  return [{
    file: `batch-size-${system}.svg`,
    system,
    caption: `${system}: test rollout MSE against training batch size, evaluated at the training batch size (filled) and at batch size ${smallEvalBatch} (hollow, dashed); mean ± std over seeds; × = failed`,
    svg: renderCategoryChart({ title: `${system}: MSE vs batch size`, xLabel: 'training batch size', yLabel: 'test rollout MSE', categories: batches.map(String), series: [...atTrain, ...atSmall], logY: true, width: 820 }),
  }];
}

export function outlierPlots(rows: readonly RunResult[], system: string): Plot[] {
  const norms = distinct(rows, (r) => r.train.norm);
  const conditions = distinct(rows, (r) => r.evaluation.outliers);
  const series = conditions.map((o) => ({ name: o === 0 ? 'clean' : `outliers in ${o * 100}% of batches`, points: norms.map((norm) => point(select(rows, { norm, outliers: o }), MSE)) }));
  return [{
    file: `outliers-${system}.svg`,
    system,
    caption: `${system}: test rollout MSE on clean samples, with and without one corrupted sample per affected batch`,
    svg: renderCategoryChart({ title: `${system}: outliers`, xLabel: 'normalisation', yLabel: 'test rollout MSE (clean samples)', categories: norms, series, logY: true }),
  }];
}

export function depthPlots(rows: readonly RunResult[], system: string): Plot[] {
  const norms = distinct(rows, (r) => r.train.norm);
  const depths = distinct(rows, (r) => r.train.depth);
  const pick = (rs: readonly RunResult[], norm: NormName, depth: number) => select(rs, { norm, depth });
  return [
    {
      file: `depth-${system}.svg`,
      system,
      caption: `${system}: test rollout MSE against backbone depth (× = most seeds failed)`,
      svg: renderCategoryChart({ title: `${system}: MSE vs depth`, xLabel: 'hidden layers', yLabel: 'test rollout MSE', categories: depths.map(String), series: categorySeries(rows, norms, depths, pick, MSE), logY: true }),
    },
    {
      file: `depth-nfe-${system}.svg`,
      system,
      caption: `${system}: function evaluations per test rollout against depth`,
      svg: renderCategoryChart({ title: `${system}: NFE vs depth`, xLabel: 'hidden layers', yLabel: 'NFE per rollout', categories: depths.map(String), series: categorySeries(rows, norms, depths, pick, NFE), logY: true }),
    },
  ];
}

export function solverPlots(rows: readonly RunResult[], system: string): Plot[] {
  const norms = distinct(rows, (r) => r.train.norm);
  const methods = distinct(rows, (r) => r.train.method);
  const pick = (rs: readonly RunResult[], norm: NormName, method: string) => rs.filter((r) => r.train.norm === norm && r.train.method === method);
  return [
    {
      file: `solvers-${system}.svg`,
      system,
      caption: `${system}: test rollout MSE per solver and normalisation`,
      svg: renderCategoryChart({ title: `${system}: MSE per solver`, xLabel: 'solver', yLabel: 'test rollout MSE', categories: methods, series: categorySeries(rows, norms, methods, pick, MSE), logY: true }),
    },
    {
      file: `solvers-nfe-${system}.svg`,
      system,
      caption: `${system}: function evaluations per test rollout, per solver`,
      svg: renderCategoryChart({ title: `${system}: NFE per solver`, xLabel: 'solver', yLabel: 'NFE per rollout', categories: methods, series: categorySeries(rows, norms, methods, pick, NFE), logY: true }),
    },
    {
      file: `solvers-time-${system}.svg`,
      system,
      caption: `${system}: wall time of a training run (child process included; the machine was shared, so timings are noisy)`,
      svg: renderCategoryChart({ title: `${system}: training wall time`, xLabel: 'solver', yLabel: 'seconds', categories: methods, series: categorySeries(rows, norms, methods, pick, SECONDS), logY: false }),
    },
  ];
}

/** Times of the statistics' rows: the saved grid, else grid indices scaled to [0, 1]. */
function gridTimes(stats: NormStatistics): number[] {
  if (stats.t) return [...stats.t];
  const m = stats.mean.length - 1;
  return stats.mean.map((_, g) => (m > 0 ? g / m : 0));
}

/** TA-BN's running mean and variance against t (first features), popti's pair dashed. */
export function statisticsPlots(tabn: NormStatistics | undefined, popti: NormStatistics | undefined, system: string, features = 4): Plot[] {
  if (!tabn) return [];
  const t = gridTimes(tabn);
  const covered = t.map((_, g) => !tabn.count || tabn.count[g] > 0);
  const nf = Math.min(features, tabn.mean[0]?.length ?? 0);
  const make = (which: 'mean' | 'variance'): Series[] => {
    const series: Series[] = [];
    for (let f = 0; f < nf; f++) {
      series.push({ name: `tabn feature ${f}`, color: PALETTE[f % PALETTE.length], x: t, y: tabn[which].map((row, g) => (covered[g] ? row[f] : NaN)) });
    }
    if (popti) {
      for (let f = 0; f < Math.min(nf, popti.mean[0]?.length ?? 0); f++) {
        const v = popti[which][0][f];
        series.push({ name: `popti feature ${f}`, x: [t[0], t[t.length - 1]], y: [v, v], dashed: true, color: PALETTE[f % PALETTE.length] });
      }
    }
    return series;
  };
  const xLabel = tabn.t ? 't' : 't / T (grid index; grid times not saved)';
  return [
    { file: `tabn-mean-${system}.svg`, system, caption: `${system}: TA-BN running mean of the first normalised layer (${tabn.layer}) against t; popti's single value dashed`, svg: renderLineChart({ title: `${system}: running mean vs t`, xLabel, yLabel: 'running mean', series: make('mean') }) },
    { file: `tabn-var-${system}.svg`, system, caption: `${system}: TA-BN running variance against t; popti's single value dashed`, svg: renderLineChart({ title: `${system}: running variance vs t`, xLabel, yLabel: 'running variance', series: make('variance'), logY: true }) },
  ];
}
