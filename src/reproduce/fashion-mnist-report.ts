/**
 * The Fashion-MNIST report: accuracy tables (mean ± std over seeds) at the training batch size, at
 * batch size 2 and with one outlier per test batch, per solver; the paper's MNIST figures beside
 * ours; an honest verdict per claim; SVG plots (accuracy against the test batch size per
 * normalisation, TA-BN's running statistics against t, misclassified test images); results.csv.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { renderLineChart, PALETTE, type Series } from '../plot/line-chart.js';
import { escapeXml } from '../plot/svg.js';
import { toCsv } from './csv.js';
import { fmtSummary, summarize, type Summary } from './stats.js';
import type { ClassificationEvalDoc } from './fashion-mnist-eval.js';
import { solverLabel, type FashionNorm, type FashionProfile, type FashionRunOutcome, type FashionSolver } from './fashion-mnist.js';

/**
 * The paper's Table 1 (MNIST, "unmixed" MLP field of two 784-wide linear layers, dopri5 at
 * tolerance 1e-3, AdamW 1e-3, training batch 256, M = 100): test accuracy.
 */
export const PAPER_MNIST: Record<FashionNorm, number> = { none: 0.989, minibatch: 0.962, popti: 0.973, tabn: 0.988 };

export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

export interface FashionVerdict {
  readonly claim: string;
  readonly verdict: Verdict;
  readonly evidence: string;
}

const pct = (s: Summary): string => (s.n === 0 ? '–' : s.n === 1 ? `${(100 * s.mean).toFixed(2)}` : `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`);
const pts = (x: number): string => `${(100 * x).toFixed(2)} pt`;

interface Group {
  readonly solver: FashionSolver;
  readonly norm: FashionNorm;
  readonly docs: ClassificationEvalDoc[];
}

function groups(outcomes: readonly FashionRunOutcome[], profile: FashionProfile): Group[] {
  return profile.solvers.flatMap((plan) =>
    profile.norms.map((norm) => ({
      solver: plan.solver,
      norm,
      docs: outcomes.filter((o) => o.eval && o.spec.norm === norm && o.spec.solver.method === plan.solver.method).map((o) => o.eval!),
    })),
  );
}

const accAt = (docs: readonly ClassificationEvalDoc[], size: number | 'train'): Summary =>
  summarize(docs.map((d) => d.test[String(size === 'train' ? d.settings.batchSize : size)]?.accuracy ?? Number.NaN));
const outlierAcc = (docs: readonly ClassificationEvalDoc[]): Summary => summarize(docs.map((d) => d.outliers?.accuracy ?? Number.NaN));
/** Per seed: accuracy at the training batch size minus accuracy under `other`. */
const drops = (docs: readonly ClassificationEvalDoc[], other: (d: ClassificationEvalDoc) => number | undefined): Summary =>
  summarize(docs.map((d) => d.test[String(d.settings.batchSize)].accuracy - (other(d) ?? Number.NaN)));

/** Claims 1 and 2: the clean-batch accuracy minus the accuracy at batch 2 / with an outlier. */
function batchClaim(main: Group[], which: 'batch 2' | 'outlier'): FashionVerdict {
  const get = (d: ClassificationEvalDoc) => (which === 'batch 2' ? d.test['2']?.accuracy : d.outliers?.accuracy);
  const by = (n: FashionNorm) => drops(main.find((g) => g.norm === n)?.docs ?? [], get);
  const mb = by('minibatch');
  const tabn = by('tabn');
  const popti = by('popti');
  const claim = which === 'batch 2' ? 'Claim 1 (small test batches): at test batch size 2 `minibatch` degrades; `tabn` does not.' : 'Claim 2 (outliers): one corrupted sample per test batch hurts `minibatch`; `tabn` is unaffected.';
  if (mb.n === 0 || tabn.n === 0) return { claim, verdict: 'inconclusive', evidence: 'runs missing (see Failures).' };
  const seeds = Math.min(mb.n, tabn.n);
  const evidence = `accuracy lost against clean batches of the training size (mean ± std over ${seeds} seed${seeds === 1 ? '' : 's'}): minibatch ${pts(mb.mean)} ± ${pts(mb.std)}, popti ${pts(popti.mean)}, tabn ${pts(tabn.mean)} ± ${pts(tabn.std)}.`;
  const tabnUnaffected = Math.abs(tabn.mean) <= 0.001 && tabn.max - tabn.min <= 0.002;
  const mbHurt = mb.mean > Math.max(0.01, 2 * mb.std);
  if (tabnUnaffected && mbHurt) return { claim, verdict: 'holds', evidence };
  if (!tabnUnaffected || mb.mean <= 0.002) return { claim, verdict: 'does not hold', evidence: `${evidence} ${tabnUnaffected ? '`minibatch` did not degrade measurably.' : '`tabn` changed.'}` };
  return { claim, verdict: 'inconclusive', evidence: `${evidence} minibatch's loss is within twice its spread over seeds or under 1 pt.` };
}

/** The headline of Table 1: TA-BN matches no normalisation and beats Pop-TI and mini-batch BN. */
function rankingClaim(main: Group[], label: string): FashionVerdict {
  const m = (n: FashionNorm) => accAt(main.find((g) => g.norm === n)?.docs ?? [], 'train');
  const [none, mb, popti, tabn] = (['none', 'minibatch', 'popti', 'tabn'] as const).map(m);
  const claim = `Table 1's ranking (${label}): \`tabn\` ≈ \`none\` > \`popti\` > \`minibatch\` (paper: 98.8 ≈ 98.9 > 97.3 > 96.2 % on MNIST).`;
  if ([none, mb, popti, tabn].some((s) => s.n === 0)) return { claim, verdict: 'inconclusive', evidence: 'runs missing (see Failures).' };
  const evidence = `test accuracy at the training batch size: none ${pct(none)}, minibatch ${pct(mb)}, popti ${pct(popti)}, tabn ${pct(tabn)} %.`;
  const spread = Math.max(none.std, mb.std, popti.std, tabn.std);
  const beats = (a: Summary, b: Summary) => a.mean - b.mean > Math.max(spread, 0.002);
  const matches = Math.abs(tabn.mean - none.mean) <= Math.max(2 * spread, 0.005);
  if (matches && beats(tabn, popti) && beats(tabn, mb)) return { claim, verdict: 'holds', evidence };
  if (beats(popti, tabn) || beats(mb, tabn) || beats(none, tabn)) return { claim, verdict: 'does not hold', evidence: `${evidence} Another normalisation is ahead of tabn by more than the seeds' spread (${pts(spread)}).` };
  return { claim, verdict: 'inconclusive', evidence: `${evidence} The gaps are within the seeds' spread (${pts(spread)}).` };
}

/** Claim 5: the ranking of tabn against popti and minibatch holds with every solver. */
function solverClaim(all: Group[], profile: FashionProfile): FashionVerdict {
  const claim = 'Claim 5 (solver independence, Table 4): the ranking holds with Euler and dopri5.';
  const parts: string[] = [];
  let ahead = 0;
  let behind = 0;
  let counted = 0;
  for (const plan of profile.solvers) {
    const m = (n: FashionNorm) => accAt(all.find((g) => g.norm === n && g.solver.method === plan.solver.method)?.docs ?? [], 'train');
    const [mb, popti, tabn] = (['minibatch', 'popti', 'tabn'] as const).map(m);
    if ([mb, popti, tabn].some((s) => s.n === 0)) continue;
    counted++;
    const spread = Math.max(mb.std, popti.std, tabn.std, 0.002);
    if (tabn.mean - Math.max(mb.mean, popti.mean) > spread) ahead++;
    if (Math.max(mb.mean, popti.mean) - tabn.mean > spread) behind++;
    parts.push(`${solverLabel(plan.solver)}: minibatch ${pct(mb)}, popti ${pct(popti)}, tabn ${pct(tabn)} %`);
  }
  const evidence = `${parts.join('; ')}.`;
  if (counted < 2) return { claim, verdict: 'inconclusive', evidence: `${evidence} Fewer than two solvers have complete runs.` };
  if (ahead === counted) return { claim, verdict: 'holds', evidence };
  if (behind > 0) return { claim, verdict: 'does not hold', evidence: `${evidence} tabn is behind with ${behind} solver(s) by more than the seeds' spread.` };
  return { claim, verdict: 'inconclusive', evidence: `${evidence} tabn is not ahead of both by more than the seeds' spread with every solver.` };
}

/** Grid points a run must cover for claim 3 (a 2-step Euler solve visits only t = 0 and 0.5). */
const MIN_TRACE_POINTS = 9;

/** Moving average over `2w + 1` neighbouring grid points (fewer at the ends). */
function smooth(v: readonly number[], w: number): number[] {
  return v.map((_, i) => {
    const part = v.slice(Math.max(0, i - w), i + w + 1);
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
}

/**
 * Claim 3 / Figure 3 (right): TA-BN's running statistics vary with t. Measured on the
 * feature-averaged running variance of runs covering at least MIN_TRACE_POINTS grid points,
 * smoothed over 9 neighbouring points first: in a short run each grid point averages few batches
 * (the first sets it), and the smoothing keeps that sampling noise from counting as a trend.
 */
function timeClaim(all: Group[]): FashionVerdict {
  const claim = "Claim 3 (Figure 3, right): TA-BN's running statistics vary with t.";
  const traces = all
    .filter((g) => g.norm === 'tabn')
    .flatMap((g) => g.docs)
    .flatMap((d) => d.tabn.slice(0, 1).map((t) => ({ t, method: d.settings.method })))
    .filter(({ t }) => t.times.length >= MIN_TRACE_POINTS);
  const rel = traces.map(({ t }) => {
    const v = smooth(t.meanOfVariances, 4);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return (Math.max(...v) - Math.min(...v)) / mean;
  });
  const s = summarize(rel);
  if (s.n === 0) return { claim, verdict: 'inconclusive', evidence: `no tabn run covered ${MIN_TRACE_POINTS} or more grid points (a fixed-step solver visits only its own evaluation times).` };
  const methods = [...new Set(traces.map((x) => x.method))].join(', ');
  const points = summarize(traces.map(({ t }) => t.times.length));
  const evidence = `in the ${s.n} tabn runs that covered ${MIN_TRACE_POINTS}+ grid points (${methods}; ${Math.round(points.min)}–${Math.round(points.max)} of the grid's points), the feature-averaged running variance, smoothed over 9 neighbouring grid points, spans ${(100 * s.min).toFixed(0)}–${(100 * s.max).toFixed(0)} % of its mean over t (the plots show it per grid point, unsmoothed).`;
  return { claim, verdict: s.min > 0.1 ? 'holds' : s.max < 0.02 ? 'does not hold' : 'inconclusive', evidence };
}

function accuracyVsBatchChart(main: Group[]): string {
  const series: Series[] = main
    .filter((g) => g.docs.length > 0)
    .map((g, i) => {
      const sizes = Object.keys(g.docs[0].test).map(Number).sort((a, b) => a - b);
      return { name: g.norm, x: sizes.map((b) => Math.log2(b)), y: sizes.map((b) => accAt(g.docs, b).mean), color: PALETTE[i % PALETTE.length] };
    });
  return renderLineChart({ title: 'Test accuracy against the test batch size (mean over seeds)', xLabel: 'log2(test batch size)', yLabel: 'accuracy', series });
}

/** The tabn run whose statistics cover the most grid points (an adaptive solver visits many t). */
function richestTabn(all: Group[]): ClassificationEvalDoc | undefined {
  const docs = all.filter((g) => g.norm === 'tabn').flatMap((g) => g.docs);
  return docs.sort((a, b) => (b.tabn[0]?.times.length ?? 0) - (a.tabn[0]?.times.length ?? 0))[0];
}

function tabnCharts(all: Group[]): { mean: string; variance: string } | null {
  const doc = richestTabn(all);
  const t = doc?.tabn[0];
  if (!doc || !t || t.times.length < 2) return null;
  const feat = (which: 'mean' | 'variance'): Series[] => [
    ...t.features.map((f, i) => ({ name: `feature ${f.index}`, x: t.times, y: f[which], color: PALETTE[(i + 1) % PALETTE.length] })),
    { name: 'mean over features', x: t.times, y: which === 'mean' ? t.meanOfMeans : t.meanOfVariances, color: PALETTE[0], dashed: true },
  ];
  const title = (w: string) => `TA-BN running ${w} against t (${t.layer}, seed ${doc.settings.seed}, ${doc.settings.method})`;
  return {
    mean: renderLineChart({ title: title('mean'), xLabel: 't (depth)', yLabel: 'running mean', series: feat('mean') }),
    variance: renderLineChart({ title: title('variance'), xLabel: 't (depth)', yLabel: 'running variance', series: feat('variance') }),
  };
}

/** Misclassified test images as a grid of 28 × 28 grey pixels with "true → predicted" under each. */
function misclassifiedSvg(doc: ClassificationEvalDoc, count = 24): string {
  const items = doc.misclassified.slice(0, count);
  const { height: h, width: w, classes } = doc.dataset;
  const scale = 3;
  const cellW = Math.max(w * scale, 96) + 12;
  const cellH = h * scale + 34;
  const perRow = 6;
  const rows = Math.ceil(items.length / perRow);
  const parts: string[] = [];
  items.forEach((m, k) => {
    const x0 = (k % perRow) * cellW + 6;
    const y0 = Math.floor(k / perRow) * cellH + 30;
    const px: string[] = [];
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const v = m.pixels[r * w + c];
        if (v > 0) px.push(`<rect x="${x0 + c * scale}" y="${y0 + r * scale}" width="${scale}" height="${scale}" fill="rgb(${v},${v},${v})"/>`);
      }
    }
    parts.push(`<rect x="${x0}" y="${y0}" width="${w * scale}" height="${h * scale}" fill="black"/>${px.join('')}`);
    parts.push(`<text x="${x0}" y="${y0 + h * scale + 13}" font-size="10">#${m.index} ${escapeXml(classes[m.label])}</text>`);
    parts.push(`<text x="${x0}" y="${y0 + h * scale + 25}" font-size="10" fill="#c0392b">→ ${escapeXml(classes[m.predicted])}</text>`);
  });
  const width = perRow * cellW + 12;
  const height = rows * cellH + 36;
  const title = `Misclassified test images (${doc.settings.norm}, ${doc.settings.method}, seed ${doc.settings.seed}): true class, then → predicted`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="6" y="18" font-size="12">${escapeXml(title)}</text>${parts.join('')}</svg>\n`;
}

export interface FashionReportInput {
  readonly out: string;
  readonly profile: FashionProfile;
  readonly outcomes: readonly FashionRunOutcome[];
  readonly commandLine: string;
  readonly environment: Record<string, string>;
}

export async function writeFashionReport(i: FashionReportInput): Promise<{ reportFile: string; resultsFile: string; verdicts: FashionVerdict[] }> {
  const all = groups(i.outcomes, i.profile);
  const mainSolver = i.profile.solvers[0].solver;
  const main = all.filter((g) => g.solver.method === mainSolver.method);
  const verdicts = [rankingClaim(main, solverLabel(mainSolver)), batchClaim(main, 'batch 2'), batchClaim(main, 'outlier'), timeClaim(all), solverClaim(all, i.profile)];
  const plots = join(i.out, 'plots');
  await writeFileAtomic(join(plots, 'accuracy-vs-batch-size.svg'), accuracyVsBatchChart(main));
  const tabn = tabnCharts(all);
  if (tabn) {
    await writeFileAtomic(join(plots, 'tabn-running-mean.svg'), tabn.mean);
    await writeFileAtomic(join(plots, 'tabn-running-variance.svg'), tabn.variance);
  }
  const wrongDoc = main.find((g) => g.norm === 'tabn')?.docs[0] ?? main.find((g) => g.docs.length > 0)?.docs[0];
  if (wrongDoc) await writeFileAtomic(join(plots, 'misclassified.svg'), misclassifiedSvg(wrongDoc));

  const any = i.outcomes.find((o) => o.eval)?.eval;
  const L: string[] = [];
  L.push('# TA-BN on Fashion-MNIST: continuous-depth image classification', '');
  L.push(`Command: \`${i.commandLine}\` (profile **${i.profile.name}**). Environment: ${Object.entries(i.environment).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  L.push('## Setup', '');
  if (any) {
    const steps = i.profile.solvers.map((p) => `${solverLabel(p.solver)}: ${p.maxSteps} steps of batch ${i.profile.batchSize} = ${((p.maxSteps * i.profile.batchSize) / any.dataset.train).toFixed(2)} epochs of the ${any.dataset.train} training images, ${p.seeds.length} seed(s), ${p.testLimit} test images, test batch sizes ${p.evalBatchSizes.join(', ')}`);
    L.push(
      `- Data: ${any.dataset.name} (${any.dataset.height}×${any.dataset.width} grey images, ${any.dataset.classes.length} classes), ${any.dataset.train} training images, ${any.dataset.val} validation images (held out of the training file by a fixed seeded draw; the best step by validation accuracy is scored), pixels standardised with the training split's mean and std.`,
      `- Model: the state is the image (784); the field is the paper's MLP, two linear layers 784 wide with the normalisation after the first and tanh; ODE over depth [0, 1]; a linear head 784 → 10; softmax cross-entropy; AdamW lr ${any.settings.lr} (weight decay 0.01), training batch ${any.settings.batchSize}, TA-BN grid M = ${any.settings.gridIntervals}.`,
      `- Training: ${steps.join('; ')}. The paper trains to convergence; these are the steps that fit this shared 2-core machine, so accuracies are those of short training.`,
      `- Outliers (claim 2): each test batch of ${i.profile.batchSize} holds ${i.profile.batchSize - 1} test images and one image of pure noise (std ${any.outliers?.scale ?? '–'} in standardised pixel units); only the clean images are scored.`,
      '',
    );
  }
  L.push('## Verdicts', '', '| claim | verdict | evidence |', '| --- | --- | --- |');
  for (const v of verdicts) L.push(`| ${v.claim} | **${v.verdict}** | ${v.evidence} |`);
  L.push('');
  L.push(`## Test accuracy (%), ${solverLabel(mainSolver)}, mean ± std over seeds`, '');
  L.push('The paper\'s column is MNIST (Table 1), not Fashion-MNIST: Fashion-MNIST has the same shape (28×28, 10 classes, 60,000 + 10,000 images) and is harder (a linear classifier reaches ~84 % on it against ~92 % on MNIST), so absolute numbers are lower; the comparison is between normalisations.', '');
  L.push('| norm | paper, MNIST | training batch size | test batch 2 | one outlier per batch | predictions changed at batch 2 | NFE / training step |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const g of main) {
    const c = summarize(g.docs.map((d) => d.predictionsChanged));
    const test = g.docs[0]?.test[String(g.docs[0].settings.batchSize)]?.scored;
    const changed = c.n === 0 ? '–' : `${Math.round(c.mean)}${c.n > 1 ? ` ± ${Math.round(c.std)}` : ''} of ${test ?? '?'}`;
    const nfe = summarize(g.docs.map((d) => d.fit.nfePerStep));
    L.push(`| ${g.norm} | ${(100 * PAPER_MNIST[g.norm]).toFixed(1)} | ${pct(accAt(g.docs, 'train'))} | ${pct(accAt(g.docs, 2))} | ${pct(outlierAcc(g.docs))} | ${changed} | ${fmtSummary(nfe)} |`);
  }
  L.push('');
  const sizes = [...new Set(main.flatMap((g) => g.docs.flatMap((d) => Object.keys(d.test).map(Number))))].sort((a, b) => a - b);
  L.push('## Accuracy (%) against the test batch size', '', `| norm | ${sizes.join(' | ')} |`, `| --- | ${sizes.map(() => '---').join(' | ')} |`);
  for (const g of main) L.push(`| ${g.norm} | ${sizes.map((b) => pct(accAt(g.docs, b))).join(' | ')} |`);
  L.push('', '![accuracy against test batch size](plots/accuracy-vs-batch-size.svg)', '');
  L.push('`none`, `popti` and `tabn` normalise with fixed statistics in evaluation mode, so with a fixed-step solver their predictions do not depend on the test batch at all (the "predictions changed" column counts test images whose class differs between batch 2 and the training batch size). An adaptive solver (dopri5) steps the whole batch together, so its step sizes, and through them the predictions, can move a little with the batch for every normalisation.', '');
  L.push('## Solvers (claim 5): accuracy (%) at the training batch size / at test batch 2', '', `| norm | ${i.profile.solvers.map((p) => solverLabel(p.solver)).join(' | ')} |`, `| --- | ${i.profile.solvers.map(() => '---').join(' | ')} |`);
  for (const norm of i.profile.norms) {
    const cells = i.profile.solvers.map((p) => {
      const docs = all.find((g) => g.norm === norm && g.solver.method === p.solver.method)?.docs ?? [];
      return `${pct(accAt(docs, 'train'))} / ${pct(accAt(docs, 2))}`;
    });
    L.push(`| ${norm} | ${cells.join(' | ')} |`);
  }
  L.push('');
  L.push("## TA-BN's running statistics against t (the paper's Figure 3, right)", '');
  if (tabn) L.push('![TA-BN running mean](plots/tabn-running-mean.svg)', '', '![TA-BN running variance](plots/tabn-running-variance.svg)', '', '`popti` keeps one mean/variance pair for every t; TA-BN keeps one per grid point, interpolated at t. Only grid points that received weight during training are drawn (a fixed-step solver visits only its own evaluation times; the plot shows the tabn run that covered the most grid points).', '');
  else L.push('No TA-BN run with statistics on two or more grid points.', '');
  if (wrongDoc) L.push('## Misclassified test images', '', '![misclassified test images](plots/misclassified.svg)', '');
  L.push('## Runs', '', '| run | steps | NFE / step | best val accuracy | training s | evaluation s |', '| --- | --- | --- | --- | --- | --- |');
  for (const o of i.outcomes) {
    const e = o.eval;
    L.push(e ? `| ${o.spec.id} | ${e.fit.steps} | ${e.fit.nfePerStep.toFixed(1)} | ${(100 * (e.fit.best.accuracy ?? Number.NaN)).toFixed(2)} | ${e.seconds.train.toFixed(0)} | ${e.seconds.eval.toFixed(0)} |` : `| ${o.spec.id} | failed: ${o.failure ?? ''} | | | | |`);
  }
  const failed = i.outcomes.filter((o) => !o.eval);
  if (failed.length > 0) L.push('', '## Failures', '', ...failed.map((o) => `- ${o.spec.id}: ${o.failure}`));
  L.push('');
  const reportFile = join(i.out, 'report.md');
  await writeFileAtomic(reportFile, L.join('\n'));

  const header = ['run', 'norm', 'method', 'seed', 'steps', 'epochs', 'nfe_per_step', 'best_val_accuracy', ...sizes.map((b) => `test_accuracy_batch_${b}`), 'outlier_accuracy', 'predictions_changed', 'train_seconds', 'eval_seconds', 'failure'];
  const rows = i.outcomes.map((o) => {
    const e = o.eval;
    const n = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : String(v));
    return [o.spec.id, o.spec.norm, o.spec.solver.method, String(o.spec.seed), n(e?.fit.steps), n(e ? (e.fit.steps * e.settings.batchSize) / e.dataset.train : undefined), n(e?.fit.nfePerStep), n(e?.fit.best.accuracy), ...sizes.map((b) => n(e?.test[String(b)]?.accuracy)), n(e?.outliers?.accuracy), n(e?.predictionsChanged), n(e?.seconds.train), n(e?.seconds.eval), o.failure ?? ''];
  });
  const resultsFile = join(i.out, 'results.csv');
  await writeFileAtomic(resultsFile, toCsv(header, rows));
  return { reportFile, resultsFile, verdicts };
}
