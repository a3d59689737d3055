/**
 * The run's plots as SVG documents (src/plot/line-chart.ts): pure functions from figures to text.
 */
import { renderLineChart, type Series } from '../plot/line-chart.js';
import type { MetricRecord } from './metrics-log.js';
import type { RunningStats } from './model-port.js';

function pick(records: readonly MetricRecord[], kind: string, key: string): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (const r of records) {
    if (r.kind !== kind) continue;
    const v = r[key];
    x.push(r.step);
    y.push(typeof v === 'number' ? v : Number.NaN);
  }
  return { x, y };
}

/** Training loss and validation rollout MSE against step (log scale). */
export function lossPlot(records: readonly MetricRecord[]): string {
  const train = pick(records, 'train', 'loss');
  const val = pick(records, 'val', 'rolloutMse');
  return renderLineChart({
    title: 'Loss',
    xLabel: 'step',
    yLabel: 'MSE (normalised)',
    logY: true,
    series: [
      { name: 'train window MSE', ...train },
      { name: 'val full-horizon MSE', ...val },
    ],
  });
}

/** Validation valid prediction time against step. */
export function validationPlot(records: readonly MetricRecord[]): string {
  return renderLineChart({
    title: 'Validation: valid prediction time (threshold 0.5)',
    xLabel: 'step',
    yLabel: 'valid prediction time',
    series: [{ name: 'val VPT (mean)', ...pick(records, 'val', 'validPredictionTime') }],
  });
}

/** Rollout MSE against time, one line per labelled curve. */
export function rolloutErrorPlot(t: Float64Array, curves: ReadonlyArray<{ name: string; byTime: Float64Array }>, title = 'Rollout error against time'): string {
  const rel = Array.from(t, (v) => v - t[0]);
  return renderLineChart({
    title,
    xLabel: 't',
    yLabel: 'MSE (normalised)',
    logY: true,
    series: curves.map((c) => ({ name: c.name, x: rel, y: Array.from(c.byTime) })),
  });
}

/** True (solid) and predicted (dashed) energy against time for a few trajectories. */
export function energyPlot(t: Float64Array, trajectories: ReadonlyArray<{ label: string; truth: Float64Array; predicted: Float64Array }>): string {
  const rel = Array.from(t, (v) => v - t[0]);
  const series: Series[] = [];
  const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f'];
  trajectories.forEach((tr, i) => {
    const color = palette[i % palette.length];
    series.push({ name: `${tr.label} true`, x: rel, y: Array.from(tr.truth), color });
    series.push({ name: `${tr.label} model`, x: rel, y: Array.from(tr.predicted), color, dashed: true });
  });
  return renderLineChart({ title: 'Energy against time', xLabel: 't', yLabel: 'energy', series });
}

/**
 * TA-BN running mean or variance against t for the first few features of one layer. Grid points
 * that never received weight (count 0) still hold their initial values and are left out.
 */
export function runningStatsPlot(stats: RunningStats, which: 'mean' | 'variance', features = 6): string {
  const values = which === 'mean' ? stats.mean : stats.variance;
  const m = stats.t.length;
  const reached = Array.from({ length: m }, (_, k) => k).filter((k) => !stats.count || stats.count[k] > 0);
  const series: Series[] = [];
  for (let f = 0; f < Math.min(features, stats.features); f++) {
    series.push({ name: `feature ${f}`, x: reached.map((k) => stats.t[k]), y: reached.map((k) => values[k * stats.features + f]) });
  }
  const coverage = stats.coverage !== undefined ? `, grid coverage ${(100 * stats.coverage).toFixed(0)} %` : '';
  return renderLineChart({
    title: `TA-BN running ${which} against t (${stats.layer}${coverage})`,
    xLabel: 't',
    yLabel: `running ${which}`,
    logY: which === 'variance',
    series,
  });
}
