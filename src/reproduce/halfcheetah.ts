/**
 * `physode reproduce --experiment halfcheetah`: TA-BN where the paper tested it on physics, the
 * next-state task on real MuJoCo HalfCheetah data (Table 3), in-process:
 *   (a) Table 3: none / minibatch / popti / tabn over seeds, test MAE mean ± std beside the
 *       paper's numbers;
 *   (b) depth: depths 2…12 without normalisation and with TA-BN;
 *   (c) claims 1 and 2 on this task: evaluation at batch 2 against 256, and one corrupted sample
 *       per evaluation batch of 32 (MAE over the clean samples).
 * Every training is a run folder under OUT/runs (a finished one, with summary.json and
 * eval-test.json, is reused when the command is rerun); results go to OUT/results.json.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { importTrajectories } from '../data/import.js';
import { halfCheetahImport } from '../data/halfcheetah.js';
import { ContinuousDepthModel } from '../model/continuous-depth.js';
import type { NormKind } from '../nn/registry.js';
import { NextStateExamples, safeStd, windowTransitions } from '../tasks/next-state.js';
import { NEXT_STATE_DEFAULTS, evaluateNextState, loadSplitData, readTaskRunConfig, trainNextState, writeNextStateEvaluation, type NextStateEvaluation, type NextStateSettings } from '../tasks/next-state-run.js';
import type { FitResult } from '../tasks/fit.js';
import { writeFileAtomic } from '../util/atomic.js';
import { PhysodeError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';

export interface HalfCheetahProfile {
  readonly name: 'full' | 'quick';
  readonly norms: readonly NormKind[];
  readonly seeds: number;
  /** Epochs of (a); `maxSteps` caps the steps of each training (null: epochs only). */
  readonly epochs: number;
  readonly maxSteps: number | null;
  /** Validation interval in steps besides the epochs' ends (0: epochs only). */
  readonly valEvery: number;
  readonly depths: readonly number[];
  readonly depthNorms: readonly NormKind[];
  readonly depthEpochs: number;
  readonly depthMaxSteps: number | null;
  /** Test transitions (evenly spaced) of the batch-size and outlier evaluations. */
  readonly stressTransitions: number;
  /** z-scored value written into every component of the corrupted sample. */
  readonly outlierValue: number;
}

export const HALFCHEETAH_PROFILES: Record<'full' | 'quick', HalfCheetahProfile> = {
  // Sized to this project's 2-core machine: one epoch (310 steps) per Table 3 training, at about
  // 0.1-0.4 s per step of the 12-layer field with dopri5 (measured: 160 steps took 13-67 s).
  full: { name: 'full', norms: ['none', 'minibatch', 'popti', 'tabn'], seeds: 3, epochs: 1, maxSteps: null, valEvery: 40, depths: [2, 4, 8, 12], depthNorms: ['none', 'tabn'], depthEpochs: 1, depthMaxSteps: 80, stressTransitions: 256, outlierValue: 10 },
  quick: { name: 'quick', norms: ['none', 'minibatch', 'popti', 'tabn'], seeds: 1, epochs: 1, maxSteps: 12, valEvery: 0, depths: [2, 12], depthNorms: ['none', 'tabn'], depthEpochs: 1, depthMaxSteps: 8, stressTransitions: 128, outlierValue: 10 },
};

/** One training of the experiment and what was measured on it. */
export interface CheetahRun {
  readonly id: string;
  readonly part: 'table3' | 'depth';
  readonly norm: NormKind;
  readonly depth: number;
  readonly normLayers: number;
  readonly seed: number;
  readonly ok: boolean;
  /** Why the training stopped (a solver failure in words), when not ok. */
  readonly failure?: string;
  readonly fit?: FitResult;
  readonly test?: NextStateEvaluation;
  /** Validation MAE (z-scored) after each logged validation, for the learning curves. */
  readonly curve?: { step: number; mae: number }[];
  /** Claims 1 and 2 on the stress subset: raw-unit MAE. */
  readonly stress?: { batch256: number; batch2: number; clean32: number; outlier32: number };
}

export interface HalfCheetahResults {
  readonly profile: HalfCheetahProfile;
  readonly settings: NextStateSettings;
  readonly runs: CheetahRun[];
}

/** Raw-unit MAE of RUN/model on evenly spaced test transitions, at a batch size, optionally with row 0 of each batch corrupted (excluded from the MAE). */
async function stressMae(model: ContinuousDepthModel, ex: NextStateExamples, indices: readonly number[], batch: number, outlier: number | null): Promise<number> {
  const std = safeStd(ex.scale.std);
  const D = ex.inputDim;
  let sum = 0, count = 0;
  for (let at = 0; at + batch <= indices.length; at += batch) {
    const idx = indices.slice(at, at + batch);
    const { x, target } = ex.gather(idx);
    if (outlier !== null) for (let d = 0; d < D; d++) x[d] = outlier;
    const p = model.predict(x, idx.length).prediction;
    for (let r = outlier !== null ? 1 : 0; r < idx.length; r++) {
      for (let d = 0; d < D; d++) sum += Math.abs(p[r * D + d] - target[r * D + d]) * std[d];
      count += D;
    }
  }
  return sum / count;
}

async function stressTest(runDir: string, dataDir: string, n: number, outlier: number): Promise<CheetahRun['stress']> {
  const cfg = await readTaskRunConfig(runDir);
  if (cfg === null) return undefined;
  const data = await loadSplitData(dataDir, 'test');
  const ex = new NextStateExamples(data.trajectories, windowTransitions(data.trajectories, cfg.settings.window), cfg.standardiser);
  const step = Math.max(1, Math.floor(ex.count / n));
  const indices = Array.from({ length: Math.min(n, ex.count) }, (_, k) => k * step);
  const model = await ContinuousDepthModel.load(join(runDir, 'model'));
  try {
    return {
      batch256: await stressMae(model, ex, indices, Math.min(256, indices.length), null),
      batch2: await stressMae(model, ex, indices, 2, null),
      clean32: await stressMae(model, ex, indices.slice(0, Math.floor(indices.length / 32) * 32).filter((_, k) => k % 32 !== 0), 31, null),
      outlier32: await stressMae(model, ex, indices, 32, outlier),
    };
  } finally {
    model.dispose();
  }
}

async function validationCurve(runDir: string): Promise<{ step: number; mae: number }[]> {
  const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; step: number; mae?: number }).filter((r) => r.kind === 'val' && typeof r.mae === 'number').map((r) => ({ step: r.step, mae: r.mae! }));
}

export interface HalfCheetahOptions {
  readonly out: string;
  readonly profile: HalfCheetahProfile;
  /** Seeds override (default 1…profile.seeds). */
  readonly seeds?: readonly number[];
  readonly onEvent?: (m: string) => void;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

/** Runs (a), (b), (c); returns every run with its measurements (also written to OUT/results.json). */
export async function runHalfCheetah(o: HalfCheetahOptions): Promise<HalfCheetahResults> {
  const p = o.profile;
  const dataDir = join(o.out, 'dataset');
  if (!existsSync(join(dataDir, 'manifest.json'))) await importTrajectories(halfCheetahImport(dataDir, true));
  const seeds = o.seeds ?? Array.from({ length: p.seeds }, (_, i) => i + 1);
  const base: NextStateSettings = { ...NEXT_STATE_DEFAULTS };
  const plan: { id: string; part: CheetahRun['part']; settings: NextStateSettings }[] = [];
  for (const seed of seeds) for (const norm of p.norms) plan.push({ id: `table3-${norm}-s${seed}`, part: 'table3', settings: { ...base, norm, seed, epochs: p.epochs, maxSteps: p.maxSteps, valEvery: p.valEvery } });
  for (const depth of p.depths) {
    for (const norm of p.depthNorms) {
      if (depth === base.depth && p.norms.includes(norm)) continue; // the Table 3 run of seed 1 is this cell
      plan.push({ id: `depth-${depth}-${norm}-s1`, part: 'depth', settings: { ...base, norm, depth, normLayers: Math.min(base.normLayers, depth), seed: 1, epochs: p.depthEpochs, maxSteps: p.depthMaxSteps, valEvery: p.valEvery } });
    }
  }
  const runs: CheetahRun[] = [];
  for (const [k, job] of plan.entries()) {
    if (o.signal?.aborted) break;
    const runDir = join(o.out, 'runs', job.id);
    const s = job.settings;
    const head = { id: job.id, part: job.part, norm: s.norm, depth: s.depth, normLayers: Math.min(s.normLayers, s.depth), seed: s.seed };
    o.onProgress?.({ unit: 'trainings', done: k, total: plan.length, fields: { run: job.id } });
    let fitResult: FitResult | undefined;
    let failure: string | undefined;
    if (existsSync(join(runDir, 'summary.json')) && existsSync(join(runDir, 'eval-test.json'))) {
      fitResult = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')) as FitResult;
    } else {
      await rm(runDir, { recursive: true, force: true });
      try {
        fitResult = await trainNextState({ dataDir, runDir, settings: s, signal: o.signal });
      } catch (err) {
        if (!(err instanceof PhysodeError)) throw err;
        failure = err.message;
      }
    }
    if (!fitResult && !existsSync(join(runDir, 'model', 'config.json'))) {
      runs.push({ ...head, ok: false, failure });
      o.onEvent?.(`${job.id}: failed (${failure})`);
      continue;
    }
    const test = existsSync(join(runDir, 'eval-test.json')) ? (JSON.parse(await readFile(join(runDir, 'eval-test.json'), 'utf8')) as NextStateEvaluation) : await evaluateNextState(runDir, dataDir, 'test');
    await writeNextStateEvaluation(runDir, test);
    const stressFile = join(runDir, 'stress.json');
    let stress: CheetahRun['stress'];
    if (job.part === 'table3') {
      stress = existsSync(stressFile) ? (JSON.parse(await readFile(stressFile, 'utf8')) as CheetahRun['stress']) : await stressTest(runDir, dataDir, p.stressTransitions, p.outlierValue);
      await writeFileAtomic(stressFile, `${JSON.stringify(stress)}\n`);
    }
    runs.push({ ...head, ok: failure === undefined, failure, fit: fitResult, test, curve: await validationCurve(runDir), stress });
    o.onEvent?.(`${job.id}: test MAE ${test.oneStep.maeRaw.toPrecision(4)} (raw)${failure ? ` after a failure: ${failure}` : ''}`);
  }
  o.onProgress?.({ unit: 'trainings', done: plan.length, total: plan.length });
  const results: HalfCheetahResults = { profile: p, settings: base, runs };
  await writeFileAtomic(join(o.out, 'results.json'), `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  return results;
}
