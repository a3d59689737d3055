/**
 * A stand-in for the physode CLI in tests: trains nothing, returns metrics from a rule chosen
 * by the test, records what it was asked to do, and can fail on demand.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalOutcome, Executor, TrainOutcome } from '../../src/reproduce/executor.js';
import type { NormStatistics } from '../../src/reproduce/norm-statistics.js';
import type { EvalCondition, TrainSpec } from '../../src/reproduce/types.js';

export interface FakeRules {
  /** MSE for a model and condition; return NaN for a non-finite metric. */
  mse(spec: TrainSpec, c: EvalCondition): number;
  /** A training failure message, or undefined for success. */
  trainFailure?(spec: TrainSpec): string | undefined;
  stats?(spec: TrainSpec): NormStatistics | undefined;
}

/** Models "on disk": shared by all instances, as run folders outlive a sweep process. */
const specs = new Map<string, TrainSpec>();

export class FakeExecutor implements Executor {
  readonly trained: TrainSpec[] = [];
  readonly evaluated: { runDir: string; c: EvalCondition }[] = [];
  readonly generated: string[] = [];
  /** Throw (simulating a killed sweep) once this many trainings have started. */
  crashAfter = Infinity;

  constructor(private readonly rules: FakeRules) {}

  async generate(system: string, dataDir: string): Promise<void> {
    this.generated.push(system);
    await mkdir(dataDir, { recursive: true });
  }

  async train(spec: TrainSpec, _dataDir: string, runDir: string): Promise<TrainOutcome> {
    if (this.trained.length >= this.crashAfter) throw new Error('simulated kill');
    this.trained.push(spec);
    specs.set(runDir, spec);
    await mkdir(runDir, { recursive: true });
    await writeFile(join(runDir, 'config.json'), JSON.stringify({ backend: 'fake-backend' }));
    const message = this.rules.trainFailure?.(spec);
    if (message) return { ok: false, seconds: 0.1, failure: 'divergence', reason: message };
    return { ok: true, seconds: 0.5, nfe: 10 };
  }

  async evaluate(runDir: string, _dataDir: string, c: EvalCondition): Promise<EvalOutcome> {
    this.evaluated.push({ runDir, c });
    const spec = specs.get(runDir)!;
    const mse = this.rules.mse(spec, c);
    if (!Number.isFinite(mse)) return { ok: false, seconds: 0.1, failure: 'non-finite-metric', reason: `rollout MSE is ${mse}` };
    return { ok: true, seconds: 0.2, metrics: { mse, nfe: spec.method === 'dopri5' ? 50 * spec.depth : 40, vpt: 1, energyDrift: 0.01 } };
  }

  async normStatistics(runDir: string): Promise<NormStatistics | undefined> {
    const spec = specs.get(runDir);
    return spec ? this.rules.stats?.(spec) : undefined;
  }

  describe(): string[] {
    return ['physode train (fake)'];
  }
}

/** Statistics whose running mean ramps with t (TA-BN) or a single pair (popti). */
export function rampStatistics(spec: TrainSpec): NormStatistics | undefined {
  if (spec.norm === 'tabn') {
    const t = [0, 0.25, 0.5, 0.75, 1];
    return { layer: 'layers.0.norm', t, mean: t.map((x) => [x, -x]), variance: t.map(() => [1, 1]), count: t.map(() => 3) };
  }
  if (spec.norm === 'popti') return { layer: 'layers.0.norm', mean: [[0.3, -0.2]], variance: [[1.2, 0.8]] };
  return undefined;
}

/** An MSE rule under which every claim holds: minibatch breaks at batch 2 and on outliers,
 * `none` fails past depth 4, popti is 3x worse than tabn. */
export function claimsHoldMse(spec: TrainSpec, c: EvalCondition): number {
  const base = 0.01 * (1 + spec.seed * 0.05);
  if (spec.norm === 'minibatch' && (c.batchSize === 2 && spec.batchSize !== 2)) return base * 10;
  if (spec.norm === 'minibatch' && c.outliers > 0) return base * 5;
  if (spec.norm === 'popti') return base * 3;
  if (spec.norm === 'none') return base * 2;
  if (spec.norm === 'pop') return spec.method === 'dopri5' ? base * 8 : base * 2;
  return base;
}
