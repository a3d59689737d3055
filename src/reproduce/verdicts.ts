/**
 * Verdicts on TABN.md's claims computed from the numbers: "holds", "does not hold" or
 * "inconclusive", each with the figures that decided it. The thresholds are ours (the paper
 * gives none); they are constants here and printed in the report so that a reader can judge.
 */
import { cellOf, distinct, pairedRatios, select } from './aggregate.js';
import { relativeVariation, type NormStatistics } from './norm-statistics.js';
import { fmt } from './stats.js';
import type { ExperimentId, MethodName, NormName, RunResult } from './types.js';

export type VerdictWord = 'holds' | 'does not hold' | 'inconclusive';

export interface Verdict {
  readonly verdict: VerdictWord;
  /** The figures behind it, one sentence. */
  readonly because: string;
}

export interface ClaimVerdict {
  readonly experiment: ExperimentId;
  readonly overall: Verdict;
  readonly perSystem: readonly { readonly system: string; readonly verdict: Verdict }[];
}

/** A stressed/reference MSE ratio at or above this counts as degradation. */
export const DEGRADES = 1.5;
/** A ratio at or below this counts as unaffected. */
export const UNAFFECTED = 1.1;
/** One model beats another when its MSE is smaller by at least this factor (claims 4, 5). */
export const CLEARLY_BETTER = 1.5;
/** TA-BN's running mean "varies with t" when its relative variation reaches this (claim 3). */
export const VARIES = 0.05;
/**
 * A model has learned the dynamics when its normalised rollout MSE is below this. Coordinates
 * are normalised to unit variance over the training split, so predicting the mean scores about
 * 1: comparisons between models above this level compare failures to learn, not methods.
 */
export const LEARNED = 0.5;

function learned(mse: number): boolean {
  return Number.isFinite(mse) && mse < LEARNED;
}

function referenceMse(rows: readonly RunResult[], norm: NormName, reference: (r: RunResult) => boolean): number {
  return median(select(rows, { norm }).filter((r) => reference(r) && r.status === 'ok').map((r) => r.metrics.mse ?? NaN));
}

/** Why a comparison says nothing when neither model learned, or undefined when one did. */
function notLearned(mses: Readonly<Record<string, number>>): string | undefined {
  if (Object.values(mses).some(learned)) return undefined;
  return `no model learned the dynamics (reference MSE ${Object.entries(mses).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}, all >= ${LEARNED}; predicting the mean scores about 1)`;
}

export function median(values: readonly number[]): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const m = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[m] : xs[m - 1] === xs[m] ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

const holds = (because: string): Verdict => ({ verdict: 'holds', because });
const fails = (because: string): Verdict => ({ verdict: 'does not hold', because });
const unclear = (because: string): Verdict => ({ verdict: 'inconclusive', because });

/**
 * Claims 1 and 2 share a shape: `minibatch` degrades under a stress, `tabn` does not. The
 * figures are median paired ratios stressed/reference over models (batch sizes and seeds).
 */
export function stressVerdict(minibatchRatios: readonly number[], tabnRatios: readonly number[], stress: string, reference?: { minibatch: number; tabn: number }): Verdict {
  if (minibatchRatios.length === 0 || tabnRatios.length === 0) {
    return unclear(`no finished pairs to compare (minibatch ${minibatchRatios.length}, tabn ${tabnRatios.length})`);
  }
  const mb = median(minibatchRatios);
  const ta = median(tabnRatios);
  const figures = `median MSE ratio ${stress}/reference: minibatch ${fmt(mb)} (n=${minibatchRatios.length}), tabn ${fmt(ta)} (n=${tabnRatios.length})`;
  const useless = reference ? notLearned(reference) : undefined;
  if (useless) return unclear(`${figures}; but ${useless}`);
  if (mb >= DEGRADES && ta <= UNAFFECTED) return holds(figures);
  if (ta >= DEGRADES) return fails(`${figures}: tabn degrades too`);
  if (mb <= UNAFFECTED) return fails(`${figures}: minibatch does not degrade`);
  return unclear(`${figures}: between the thresholds ${UNAFFECTED} and ${DEGRADES}`);
}

export function batchSizeVerdict(rows: readonly RunResult[], smallEvalBatch: number): Verdict {
  const ratios = (norm: NormName) =>
    pairedRatios(
      select(rows, { norm }).filter((r) => r.train.batchSize !== smallEvalBatch),
      (r) => r.evaluation.batchSize === smallEvalBatch,
      (r) => r.evaluation.batchSize === r.train.batchSize,
    );
  const atTrain = (r: RunResult) => r.evaluation.batchSize === r.train.batchSize && r.train.batchSize !== smallEvalBatch;
  const reference = { minibatch: referenceMse(rows, 'minibatch', atTrain), tabn: referenceMse(rows, 'tabn', atTrain) };
  return stressVerdict(ratios('minibatch'), ratios('tabn'), `batch ${smallEvalBatch}`, reference);
}

export function outlierVerdict(rows: readonly RunResult[]): Verdict {
  const ratios = (norm: NormName) => pairedRatios(select(rows, { norm }), (r) => r.evaluation.outliers > 0, (r) => r.evaluation.outliers === 0);
  const clean = (r: RunResult) => r.evaluation.outliers === 0;
  return stressVerdict(ratios('minibatch'), ratios('tabn'), 'outliers', { minibatch: referenceMse(rows, 'minibatch', clean), tabn: referenceMse(rows, 'tabn', clean) });
}

/**
 * Claim 3: (a) TA-BN's running mean varies with t (relative variation >= VARIES on every
 * seed's model), and (b) `popti` is erratic: clearly worse than `tabn`, or spread over seeds
 * (coefficient of variation) at least twice tabn's.
 */
export function timeDependenceVerdict(rows: readonly RunResult[], tabnStats: readonly NormStatistics[]): Verdict {
  if (tabnStats.length === 0) return unclear('no TA-BN statistics could be read from the saved models');
  const variations = tabnStats.map((s) => relativeVariation(s));
  const varies = Math.min(...variations) >= VARIES;
  const tabn = cellOf(select(rows, { norm: 'tabn' }));
  const popti = cellOf(select(rows, { norm: 'popti' }));
  const variation = `tabn running-mean relative variation over t: ${variations.map(fmt).join(', ')}`;
  if (!varies) return fails(`${variation} (< ${VARIES}): the statistics are flat in t`);
  if (tabn.mse.n === 0 || popti.mse.n === 0) {
    return unclear(`${variation}; but popti or tabn has no finished run to compare (popti ${popti.failureNote || 'none'})`);
  }
  const ratio = popti.mse.mean / tabn.mse.mean;
  const cv = (m: number, s: number) => (m > 0 ? s / m : NaN);
  const cvTabn = cv(tabn.mse.mean, tabn.mse.std);
  const cvPopti = cv(popti.mse.mean, popti.mse.std);
  const erratic = ratio >= CLEARLY_BETTER || popti.failed.length > tabn.failed.length || (popti.mse.n > 1 && cvPopti >= 2 * cvTabn && cvPopti > 0.1);
  const figures = `${variation}; popti/tabn MSE ratio ${fmt(ratio)}, seed CV popti ${fmt(cvPopti)} vs tabn ${fmt(cvTabn)}, failures popti ${popti.failed.length} vs tabn ${tabn.failed.length}`;
  const useless = notLearned({ tabn: tabn.mse.mean, popti: popti.mse.mean });
  if (useless) return unclear(`${figures}; the statistics vary with t, but ${useless}`);
  if (erratic) return holds(figures);
  if (ratio <= 1 / CLEARLY_BETTER) return fails(`${figures}: popti is clearly better than tabn`);
  return unclear(`${figures}: popti is not clearly worse or more erratic`);
}

/**
 * Claim 4: at some depth the plain model (`none`) fails or stalls (most seeds fail, or its MSE
 * is CLEARLY_BETTER times tabn's) while `tabn` trains (most seeds finish).
 */
export function depthVerdict(rows: readonly RunResult[]): Verdict {
  const depths = distinct(rows, (r) => r.train.depth);
  const notes: string[] = [];
  let helped = false;
  let hurt = false;
  let premise = false;
  for (const depth of depths) {
    const none = cellOf(select(rows, { norm: 'none', depth }));
    const tabn = cellOf(select(rows, { norm: 'tabn', depth }));
    if (none.runs.length === 0 || tabn.runs.length === 0) continue;
    const noneFails = none.failed.length * 2 > none.runs.length;
    const tabnTrains = tabn.failed.length * 2 < tabn.runs.length && learned(tabn.mse.mean);
    const ratio = none.mse.mean / tabn.mse.mean;
    const noneStalls = noneFails || (tabnTrains && ratio >= CLEARLY_BETTER);
    notes.push(`depth ${depth}: none ${noneFails ? none.failureNote : fmt(none.mse.mean)}, tabn ${tabn.failed.length * 2 >= tabn.runs.length ? tabn.failureNote : fmt(tabn.mse.mean)}`);
    if (noneStalls) {
      premise = true;
      if (tabnTrains && (noneFails || ratio >= CLEARLY_BETTER)) helped = true;
      else hurt = true;
    }
  }
  const figures = notes.join('; ');
  if (helped) return holds(figures);
  if (hurt) return fails(`${figures}: where the plain model fails or stalls, tabn does not train either (failed, or MSE >= ${LEARNED})`);
  if (!premise) return unclear(`${figures}: the plain model neither failed nor stalled at any depth tried`);
  return unclear(figures);
}

/**
 * Claim 5: the ranking holds across solvers. For each baseline, the sign of tabn's comparison
 * (clearly better, clearly worse, or tied within CLEARLY_BETTER) must not flip between solvers.
 * Failed cells rank last.
 */
export function solverVerdict(rows: readonly RunResult[]): Verdict {
  const methods = distinct(rows, (r) => r.train.method) as MethodName[];
  const norms = distinct(rows, (r) => r.train.norm) as NormName[];
  if (!norms.includes('tabn') || methods.length < 2) return unclear('needs tabn and at least two solvers');
  const score = (norm: NormName, method: MethodName) => {
    const c = cellOf(select(rows, { norm, method }));
    return c.mse.n === 0 || c.failed.length * 2 > c.runs.length ? Infinity : c.mse.mean;
  };
  const rankings = methods.map((m) => `${m}: ${[...norms].sort((a, b) => score(a, m) - score(b, m)).join(' < ')}`);
  const flips: string[] = [];
  let decisive = 0;
  let comparisons = 0;
  for (const other of norms.filter((n) => n !== 'tabn')) {
    const signs = methods.map((m) => {
      const a = score('tabn', m);
      const b = score(other, m);
      if (a === Infinity && b === Infinity) return 0;
      const ratio = b / a;
      return ratio >= CLEARLY_BETTER ? 1 : ratio <= 1 / CLEARLY_BETTER ? -1 : 0;
    });
    comparisons += signs.length;
    decisive += signs.filter((s) => s !== 0).length;
    if (signs.includes(1) && signs.includes(-1)) flips.push(other);
  }
  const figures = `rankings by mean MSE (best first) ${rankings.join('; ')}; ${decisive} of ${comparisons} tabn-vs-baseline comparisons differ clearly (x${CLEARLY_BETTER})`;
  const useless = notLearned(Object.fromEntries(methods.map((m) => [`tabn/${m}`, score('tabn', m)])));
  if (useless) return unclear(`${figures}; but ${useless}`);
  if (flips.length > 0) return fails(`${figures}: tabn's order against ${flips.join(', ')} flips between solvers`);
  if (decisive * 2 < comparisons) return unclear(`${figures}: most differences are within the threshold, so there is little ranking to keep`);
  return holds(`${figures}, and none flips between solvers`);
}

/** Combines per-system verdicts: unanimous verdicts carry over, mixed ones are inconclusive. */
export function overallVerdict(perSystem: readonly { system: string; verdict: Verdict }[]): Verdict {
  if (perSystem.length === 0) return unclear('no system was run');
  const words = new Set(perSystem.map((p) => p.verdict.verdict));
  const list = perSystem.map((p) => `${p.system}: ${p.verdict.verdict}`).join(', ');
  if (words.size === 1) return { verdict: perSystem[0].verdict.verdict, because: list };
  return unclear(`mixed across systems (${list})`);
}
