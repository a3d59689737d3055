/**
 * report.md as text: a summary of verdicts, then per experiment the claim, what was done, the
 * verdict with its figures, one table per system (mean ± std over seeds, failures counted) and
 * the plots; then every failure with its reason, and how to reproduce the report exactly.
 */
import { cellOf, distinct, pairedRatios, select, type Cell } from './aggregate.js';
import { EXPERIMENTS } from './experiments.js';
import { relativeVariation, type NormStatistics } from './norm-statistics.js';
import type { SweepPlan } from './plan.js';
import type { Plot } from './plots.js';
import type { SweepProfile } from './profiles.js';
import { fmt, fmtSummary } from './stats.js';
import { CLEARLY_BETTER, DEGRADES, LEARNED, UNAFFECTED, VARIES, median, type ClaimVerdict } from './verdicts.js';
import type { ExperimentId, RunResult } from './types.js';

export interface ReportInput {
  readonly plan: SweepPlan;
  readonly profile: SweepProfile;
  readonly results: readonly RunResult[];
  readonly verdicts: readonly ClaimVerdict[];
  /** Plots by experiment (files relative to the report, under plots/). */
  readonly plots: ReadonlyMap<ExperimentId, readonly Plot[]>;
  /** TA-BN and popti statistics per system (first seed's model), for the time-dependence table. */
  readonly statistics: ReadonlyMap<string, { tabn: NormStatistics[]; popti: NormStatistics[] }>;
  readonly commandLine: string;
  readonly commands: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly generatedAt: string;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** "mean ± std" of the finished runs, with the failures beside it. */
function mseText(c: Cell): string {
  if (c.runs.length === 0) return '–';
  if (c.ok.length === 0) return `failed (${c.failureNote})`;
  return c.failureNote ? `${fmtSummary(c.mse)}; ${c.failureNote}` : fmtSummary(c.mse);
}

function ratioText(ratios: readonly number[]): string {
  return ratios.length === 0 ? '–' : `${fmt(median(ratios))} (n=${ratios.length})`;
}

function batchSizeTables(rows: readonly RunResult[], small: number): string {
  const out: string[][] = [];
  for (const norm of distinct(rows, (r) => r.train.norm)) {
    for (const b of distinct(rows, (r) => r.train.batchSize)) {
      const mine = select(rows, { norm, trainBatch: b });
      const atTrain = cellOf(select(mine, { atTrainBatch: true }));
      const atSmall = cellOf(select(mine, { evalBatch: small }));
      const ratios = b === small ? [] : pairedRatios(mine, (r) => r.evaluation.batchSize === small, (r) => r.evaluation.batchSize === b);
      out.push([norm, String(b), mseText(atTrain), mseText(atSmall), ratioText(ratios), fmtSummary(atTrain.nfe)]);
    }
  }
  return table(['norm', 'train batch', 'MSE @ train batch', `MSE @ batch ${small}`, `ratio ${small}/train (median)`, 'NFE/rollout'], out);
}

function outlierTables(rows: readonly RunResult[]): string {
  const out: string[][] = [];
  for (const norm of distinct(rows, (r) => r.train.norm)) {
    const mine = select(rows, { norm });
    const ratios = pairedRatios(mine, (r) => r.evaluation.outliers > 0, (r) => r.evaluation.outliers === 0);
    out.push([norm, mseText(cellOf(select(mine, { outliers: 0 }))), mseText(cellOf(mine.filter((r) => r.evaluation.outliers > 0))), ratioText(ratios)]);
  }
  return table(['norm', 'MSE clean', 'MSE with outliers (clean samples)', 'ratio outliers/clean (median)'], out);
}

function timeTables(rows: readonly RunResult[], stats: { tabn: NormStatistics[]; popti: NormStatistics[] } | undefined): string {
  const out: string[][] = [];
  for (const norm of distinct(rows, (r) => r.train.norm)) {
    for (const method of distinct(rows, (r) => r.train.method)) {
      const c = cellOf(select(rows, { norm, method }));
      if (c.runs.length === 0) continue;
      out.push([norm, method, mseText(c), fmtSummary(c.nfe)]);
    }
  }
  const lines = [table(['norm', 'solver', 'test rollout MSE', 'NFE/rollout'], out)];
  const popMoving = cellOf(select(rows, { norm: 'pop', method: 'dopri5' }));
  const popFixed = cellOf(select(rows, { norm: 'pop', method: 'rk4' }));
  if (popMoving.mse.n > 0 && popFixed.mse.n > 0) {
    lines.push('', `\`pop\` (statistics keyed by evaluation index) with dopri5, whose time grid moves, against rk4, whose grid is fixed: MSE ratio dopri5/rk4 ${fmt(popMoving.mse.mean / popFixed.mse.mean)}.`);
  }
  if (stats && stats.tabn.length > 0) {
    const s = stats.tabn[0];
    const coverage = s.count ? `${fmt((s.count.filter((c) => c > 0).length / s.count.length) * 100)}% of ${s.count.length} grid points received weight` : 'grid coverage not saved';
    lines.push('', `TA-BN statistics (layer \`${s.layer}\`, ${s.mean[0]?.length ?? 0} features): relative variation of the running mean over t per seed: ${stats.tabn.map((x) => fmt(relativeVariation(x))).join(', ')}; ${coverage}.`);
    if (stats.popti.length > 0) lines.push(`popti keeps one pair per feature (layer \`${stats.popti[0].layer}\`): mean ${stats.popti[0].mean[0].slice(0, 4).map(fmt).join(', ')}…, variance ${stats.popti[0].variance[0].slice(0, 4).map(fmt).join(', ')}…`);
  } else {
    lines.push('', 'No TA-BN statistics could be read from the saved models (no running mean/variance tensors found in their .safetensors files).');
  }
  return lines.join('\n');
}

function depthTables(rows: readonly RunResult[]): string {
  const depths = distinct(rows, (r) => r.train.depth);
  const out = distinct(rows, (r) => r.train.norm).map((norm) => [norm, ...depths.map((depth) => mseText(cellOf(select(rows, { norm, depth }))))]);
  const nfe = distinct(rows, (r) => r.train.norm).map((norm) => [norm, ...depths.map((depth) => fmtSummary(cellOf(select(rows, { norm, depth })).nfe))]);
  return [table(['norm \\ depth', ...depths.map(String)], out), '', 'NFE per test rollout:', '', table(['norm \\ depth', ...depths.map(String)], nfe)].join('\n');
}

function solverTables(rows: readonly RunResult[]): string {
  const methods = distinct(rows, (r) => r.train.method);
  const norms = distinct(rows, (r) => r.train.norm);
  const mse = norms.map((norm) => [norm, ...methods.map((method) => mseText(cellOf(select(rows, { norm, method }))))]);
  const cost = norms.map((norm) => [norm, ...methods.map((method) => {
    const c = cellOf(select(rows, { norm, method }));
    return `${fmtSummary(c.nfe)} NFE, ${fmtSummary(c.trainSeconds)} s`;
  })]);
  return [table(['norm \\ solver', ...methods], mse), '', 'Cost: NFE per test rollout and training wall time:', '', table(['norm \\ solver', ...methods], cost)].join('\n');
}

function experimentTables(id: ExperimentId, rows: readonly RunResult[], system: string, input: ReportInput): string {
  switch (id) {
    case 'batch-size': return batchSizeTables(rows, input.profile.smallEvalBatch);
    case 'outliers': return outlierTables(rows);
    case 'time-dependence': return timeTables(rows, input.statistics.get(system));
    case 'depth': return depthTables(rows);
    case 'solvers': return solverTables(rows);
  }
}

export function renderReport(input: ReportInput): string {
  const { plan, profile, results } = input;
  const lines: string[] = [];
  const failed = results.filter((r) => r.status === 'failed');
  lines.push('# Reproducing TA-BN\'s claims on physical systems', '');
  lines.push(`Generated ${input.generatedAt} by \`${input.commandLine}\`. Profile **${profile.name}**: ${profile.steps} training steps per run, width ${profile.width}, systems ${plan.systems.join(', ')}, seeds ${plan.seeds.join(', ')}. ${results.length} of ${plan.runs.length} planned runs recorded, ${failed.length} of them failures (failures are results: see each table and the list at the end).`, '');
  if (profile.name !== 'full') lines.push(`> This is a **${profile.name}** sweep: tiny datasets and few training steps. Its verdicts say what these numbers show, not what the full sweep would show.`, '');
  lines.push('Source of the claims: Zheng et al., "Improving Neural ODE Training with Temporal Adaptive Batch Normalization", NeurIPS 2024 (TABN.md, "Claims"). The headline metric is the full-horizon test rollout MSE in normalised coordinates (`physode eval --json`); lower is better.', '');
  lines.push('## Summary', '');
  lines.push(table(['claim', 'experiment', 'verdict', 'per system'], input.verdicts.map((v) => {
    const def = EXPERIMENTS.find((e) => e.id === v.experiment)!;
    return [`${def.claim.number}. ${def.claim.text}`, def.title, `**${v.overall.verdict}**`, v.perSystem.map((p) => `${p.system}: ${p.verdict.verdict}`).join('; ')];
  })), '');
  for (const v of input.verdicts) {
    const def = EXPERIMENTS.find((e) => e.id === v.experiment)!;
    lines.push(`## ${def.claim.number}. ${def.title}`, '');
    lines.push(`**Claim.** ${def.claim.text}`, '', `**Method.** ${def.method}`, '');
    lines.push(`**Verdict: ${v.overall.verdict}.** ${v.overall.because}`, '');
    for (const p of v.perSystem) lines.push(`- ${p.system}: **${p.verdict.verdict}**: ${p.verdict.because}`);
    lines.push('');
    for (const system of plan.systems) {
      const rows = select(results, { experiment: v.experiment, system });
      lines.push(`### ${def.title}: ${system}`, '');
      lines.push(rows.length > 0 ? experimentTables(v.experiment, rows, system, input) : 'No runs recorded.', '');
      for (const plot of (input.plots.get(v.experiment) ?? []).filter((p) => p.system === system)) {
        lines.push(`![${plot.file}](plots/${plot.file})`, '', `*${plot.caption}*`, '');
      }
    }
  }
  lines.push('## Failures', '');
  lines.push(failed.length === 0 ? 'None.' : table(['run', 'kind', 'reason'], failed.map((r) => [r.key, r.failure ?? 'crash', r.reason ?? ''])), '');
  lines.push('## How this report was made', '');
  lines.push('Command:', '', '```', input.commandLine, '```', '');
  lines.push('Each run is a child process of the physode CLI, two at a time; the commands, with this profile\'s sizes (one dataset per system, one training per distinct configuration, one evaluation per condition):', '', '```', ...input.commands, '```', '');
  lines.push(`Seeds: ${plan.seeds.join(', ')} (the training seed; datasets are generated with seed 1). Every run, finished or failed, is a row of \`results.csv\`.`, '');
  lines.push('Verdict thresholds (ours; the paper gives none): a median paired MSE ratio (same model, stressed / reference evaluation) of at least ' +
    `${DEGRADES} counts as degradation and at most ${UNAFFECTED} as unaffected; one configuration is clearly better than another when its MSE is smaller by a factor ${CLEARLY_BETTER}; TA-BN's statistics vary with t when the relative variation of the running mean (the covered grid points averaged in 5 bins along t; std of the bin averages / sqrt(mean running variance), averaged over features) reaches ${VARIES}; a model has learned the dynamics when its normalised rollout MSE is below ${LEARNED} (predicting the mean scores about 1), and comparisons between models none of which learned are inconclusive. Per-system verdicts combine into "inconclusive" when they disagree.`, '');
  lines.push('Environment:', '', table(['what', 'version or value'], Object.entries(input.environment)), '');
  lines.push('Profile (every size this sweep used):', '', '```json', JSON.stringify(profile, null, 2), '```', '');
  return lines.join('\n');
}
