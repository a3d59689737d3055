/**
 * `physode reproduce --experiment fashion-mnist`: TA-BN's claims in their home regime, image
 * classification with a continuous-depth model (the paper's Table 1 on MNIST; here Fashion-MNIST,
 * the image set reachable offline). Every normalisation × solver × seed is one `physode classify`
 * child process writing RUN/eval.json; a run whose eval.json exists is not run again (an
 * interrupted sweep resumes). The report is fashion-mnist-report.ts.
 */
import { mkdir, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressCallback } from '../util/progress.js';
import { runChild } from './child-process.js';
import { physodeCommand } from './physode-command.js';
import type { ClassificationEvalDoc } from './fashion-mnist-eval.js';

export type FashionNorm = 'none' | 'minibatch' | 'popti' | 'tabn';
export const FASHION_NORMS: readonly FashionNorm[] = ['none', 'minibatch', 'popti', 'tabn'];

export interface FashionSolver {
  readonly method: 'euler' | 'rk4' | 'dopri5';
  /** Fixed-step methods: steps over the depth [0, 1]. */
  readonly steps?: number;
}

export interface FashionProfile {
  readonly name: 'smoke' | 'quick' | 'full';
  readonly norms: readonly FashionNorm[];
  /**
   * Per solver: seeds, training steps, test images and test batch sizes (the first solver is the
   * main one: every claim but 5 reads it; an adaptive solve costs ~10× a 2-step Euler one).
   */
  readonly solvers: readonly FashionSolverPlan[];
  readonly batchSize: number;
  readonly trainLimit: number;
  readonly valLimit: number;
  readonly lr: number;
}

export interface FashionSolverPlan {
  readonly solver: FashionSolver;
  readonly seeds: readonly number[];
  readonly maxSteps: number;
  readonly testLimit: number;
  readonly evalBatchSizes: readonly number[];
}

/**
 * Sized for a shared 2-core machine, one kernel thread: a training step of the 784-wide field at
 * batch 256 took 0.18 s with Euler (2 evaluations) and several seconds with dopri5 at tolerance
 * 1e-3 (~23 evaluations); evaluating at test batch size 2 costs several ms a batch (the solve's
 * fixed costs), hence fewer test images for dopri5.
 */
export const FASHION_PROFILES: Record<FashionProfile['name'], FashionProfile> = {
  // The test suite's: the whole pipeline on any small IDX folder in a minute.
  smoke: {
    name: 'smoke',
    norms: FASHION_NORMS,
    solvers: [
      { solver: { method: 'euler', steps: 2 }, seeds: [1], maxSteps: 2, testLimit: 64, evalBatchSizes: [2, 32] },
      { solver: { method: 'dopri5' }, seeds: [1], maxSteps: 1, testLimit: 32, evalBatchSizes: [2, 32] },
    ],
    batchSize: 32,
    trainLimit: 128,
    valLimit: 32,
    lr: 1e-3,
  },
  quick: {
    name: 'quick',
    norms: FASHION_NORMS,
    solvers: [
      { solver: { method: 'euler', steps: 2 }, seeds: [1, 2, 3], maxSteps: 10, testLimit: 1024, evalBatchSizes: [2, 16, 256] },
      { solver: { method: 'dopri5' }, seeds: [1], maxSteps: 2, testLimit: 512, evalBatchSizes: [2, 256] },
    ],
    batchSize: 256,
    trainLimit: 2560,
    valLimit: 512,
    lr: 1e-3,
  },
  full: {
    name: 'full',
    norms: FASHION_NORMS,
    solvers: [
      { solver: { method: 'euler', steps: 2 }, seeds: [1, 2, 3], maxSteps: 1600, testLimit: 10000, evalBatchSizes: [2, 16, 256] },
      { solver: { method: 'dopri5' }, seeds: [1, 2, 3], maxSteps: 20, testLimit: 1000, evalBatchSizes: [2, 256] },
    ],
    batchSize: 256,
    trainLimit: 55000,
    valLimit: 1024,
    lr: 1e-3,
  },
};

export interface FashionRunSpec {
  readonly id: string;
  readonly norm: FashionNorm;
  readonly solver: FashionSolver;
  readonly seed: number;
  readonly plan: FashionSolverPlan;
}

export const solverLabel = (s: FashionSolver): string => (s.steps !== undefined ? `${s.method} (${s.steps} steps)` : `${s.method} (tol 1e-3)`);

export function planFashionRuns(p: FashionProfile): FashionRunSpec[] {
  return p.solvers.flatMap((plan) =>
    plan.seeds.flatMap((seed) => p.norms.map((norm) => ({ id: `${plan.solver.method}-${norm}-s${seed}`, norm, solver: plan.solver, seed, plan }))),
  );
}

/** The `physode classify` arguments of one run. */
export function classifyArgs(p: FashionProfile, r: FashionRunSpec, runDir: string, from: string | undefined, verify = true): string[] {
  return [
    'classify',
    '--out', runDir,
    '--norm', r.norm,
    '--method', r.solver.method,
    ...(r.solver.steps !== undefined ? ['--steps', String(r.solver.steps)] : []),
    '--max-steps', String(r.plan.maxSteps),
    '--epochs', '100',
    '--batch-size', String(p.batchSize),
    '--lr', String(p.lr),
    '--seed', String(r.seed),
    '--train-limit', String(p.trainLimit),
    '--val-limit', String(p.valLimit),
    '--test-limit', String(r.plan.testLimit),
    '--eval-batch-sizes', r.plan.evalBatchSizes.join(','),
    '--quiet',
    ...(from !== undefined ? ['--from', from] : []),
    ...(verify ? [] : ['--no-verify']),
  ];
}

export interface FashionRunOutcome {
  readonly spec: FashionRunSpec;
  readonly eval: ClassificationEvalDoc | null;
  /** Why the run has no eval.json (the child's last error line). */
  readonly failure: string | null;
  readonly ranNow: boolean;
}

export interface RunFashionOptions {
  readonly out: string;
  readonly profile: FashionProfile;
  readonly from?: string;
  /** Check the standard Fashion-MNIST checksums (default true; false for other IDX folders). */
  readonly verify?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  readonly onRun?: (spec: FashionRunSpec, outcome: 'done' | 'failed' | 'kept', seconds: number) => void;
}

const readEval = (dir: string): ClassificationEvalDoc | null => {
  const file = join(dir, 'eval.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClassificationEvalDoc;
  } catch {
    return null;
  }
};

/** Runs what is missing of the plan, one child at a time, and returns every run's outcome. */
export async function runFashionMnist(o: RunFashionOptions): Promise<FashionRunOutcome[]> {
  const plan = planFashionRuns(o.profile);
  const cmd = physodeCommand();
  const outcomes: FashionRunOutcome[] = [];
  await mkdir(join(o.out, 'runs'), { recursive: true });
  for (const [i, spec] of plan.entries()) {
    o.onProgress?.({ unit: 'runs', done: i, total: plan.length, fields: { run: spec.id } });
    const dir = join(o.out, 'runs', spec.id);
    const kept = readEval(dir);
    if (kept) {
      outcomes.push({ spec, eval: kept, failure: null, ranNow: false });
      o.onRun?.(spec, 'kept', 0);
      continue;
    }
    if (o.signal?.aborted) {
      outcomes.push({ spec, eval: null, failure: 'not run (stopped)', ranNow: false });
      continue;
    }
    await rm(dir, { recursive: true, force: true }); // an unfinished run starts over
    const r = await runChild(cmd.file, [...cmd.args, ...classifyArgs(o.profile, spec, dir, o.from, o.verify ?? true)], { env: { ...process.env, ...o.env }, signal: o.signal });
    const doc = r.code === 0 ? readEval(dir) : null;
    const failure = doc ? null : (r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ') || `exit ${r.code ?? r.signal}`).slice(0, 400);
    outcomes.push({ spec, eval: doc, failure, ranNow: true });
    o.onRun?.(spec, doc ? 'done' : 'failed', r.seconds);
  }
  o.onProgress?.({ unit: 'runs', done: plan.length, total: plan.length, fields: {} });
  return outcomes;
}
