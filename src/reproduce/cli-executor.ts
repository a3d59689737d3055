/**
 * The Executor that drives the physode CLI in child processes: `physode generate`, `physode
 * train`, `physode eval --json` (issues 2 and 4 define their flags). Each call is one process,
 * so two calls in flight use both cores and a crash or divergence in one run cannot take the
 * sweep down with it.
 */
import { PhysodeError } from '../util/errors.js';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runChild } from './child-process.js';
import { parseJsonOutput, extractMetrics, flattenNumbers } from './eval-json.js';
import type { EvalOutcome, Executor, TrainOutcome } from './executor.js';
import { childFailure, metricFailure } from './failure.js';
import { readNormStatistics } from './norm-statistics.js';
import { physodeCommand, type ChildCommand } from './physode-command.js';
import type { DatasetSize, SweepProfile } from './profiles.js';
import { SYSTEM_RECIPES } from './systems.js';
import type { EvalCondition, TrainSpec } from './types.js';

export interface CliExecutorOptions {
  readonly profile: SweepProfile;
  /** Tensor backend passed to train and eval (`--backend`); their default when absent. */
  readonly backend?: string;
  readonly command?: ChildCommand;
  /** Seed of the generated datasets. */
  readonly dataSeed?: number;
  /** Extra environment for the children. */
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting stops the children in flight; their runs are not recorded (resume redoes them). */
  readonly signal?: AbortSignal;
}

/** The sweep was stopped by the user: the run in flight is not a result. */
export class SweepInterruptedError extends PhysodeError {
  constructor() {
    super('the sweep was interrupted', 'rerun the same command to resume; finished runs are kept');
  }
}

export function generateArgs(system: string, size: DatasetSize, dataDir: string, seed: number): string[] {
  const recipe = SYSTEM_RECIPES[system];
  return ['generate', recipe.generator, ...recipe.generateArgs, '--out', dataDir, '--count', String(size.count), '--samples', String(size.samples), '--t-end', String(size.tEnd), '--split', size.split, '--seed', String(seed), '--workers', '1'];
}

export function trainArgs(spec: TrainSpec, profile: SweepProfile, dataDir: string, runDir: string, backend?: string): string[] {
  const args = [
    'train', '--data', dataDir, '--out', runDir, '--norm', spec.norm, '--method', spec.method, '--depth', String(spec.depth), '--width', String(spec.width),
    '--batch-size', String(spec.batchSize), '--window', String(profile.window), '--steps', String(spec.steps), '--seed', String(spec.seed), '--lr', String(profile.lr), '--warmup', String(profile.warmup), '--val-every', String(profile.valEvery), '--quiet',
    // The claims are about the method as TABN.md specifies it: batch statistics throughout training,
    // momentum-averaged running statistics, a grid point on every sample of the window. `physode
    // train`'s own defaults add precise-BN recalibration and FrozenBN on a 1-interval grid (README).
    '--grid-intervals', String(profile.window - 1), '--bn-recalibration', '0', '--bn-freeze', '0',
  ];
  if (spec.method === 'dopri5') args.push('--rtol', String(profile.rtol), '--atol', String(profile.atol), '--max-steps', String(profile.trainMaxSteps));
  return backend ? [...args, '--backend', backend] : args;
}

export function evalArgs(runDir: string, dataDir: string, c: EvalCondition, profile: SweepProfile, backend?: string): string[] {
  const args = ['eval', runDir, '--data', dataDir, '--batch-size', String(c.batchSize), '--method', c.method, '--json'];
  if (c.method === 'dopri5') args.push('--rtol', String(profile.rtol), '--atol', String(profile.atol), '--max-steps', String(Math.ceil(profile.nfeBlowUp / 6)));
  if (c.outliers > 0) args.push('--outliers', String(c.outliers));
  return backend ? [...args, '--backend', backend] : args;
}

/** A dataset folder whose manifest says complete (an interrupted generation is resumed, not used). */
async function isComplete(dataDir: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(join(dataDir, 'manifest.json'), 'utf8')) as { complete?: unknown }).complete === true;
  } catch {
    return false;
  }
}

/** Last NFE-per-step figure in a run's metrics.jsonl, if it logs one. */
async function lastTrainNfe(runDir: string): Promise<number | undefined> {
  try {
    const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const flat = flattenNumbers(JSON.parse(lines[i]));
      for (const [k, v] of flat) if (/nfe.?per.?step/i.test(k) && Number.isFinite(v)) return v;
    }
  } catch {
    // no log, or not JSON: NFE stays unknown
  }
  return undefined;
}

export class CliExecutor implements Executor {
  private readonly command: ChildCommand;

  constructor(private readonly options: CliExecutorOptions) {
    this.command = options.command ?? physodeCommand();
  }

  private async run(args: readonly string[]) {
    if (this.options.signal?.aborted) throw new SweepInterruptedError();
    const result = await runChild(this.command.file, [...this.command.args, ...args], {
      timeoutSeconds: this.options.profile.childTimeoutSeconds,
      env: this.options.env ? { ...process.env, ...this.options.env } : undefined,
      signal: this.options.signal,
    });
    // Stopped by the user (or by a Ctrl-C that reached the child): not a failure of the run.
    if (this.options.signal?.aborted || result.code === 130 || result.signal === 'SIGINT' || result.signal === 'SIGTERM') throw new SweepInterruptedError();
    return result;
  }

  async generate(system: string, dataDir: string): Promise<void> {
    if (await isComplete(dataDir)) return;
    const size = this.options.profile.datasets[system];
    const result = await this.run(generateArgs(system, size, dataDir, this.options.dataSeed ?? 1));
    const failure = childFailure(result, `physode generate ${system}`);
    if (failure) throw new Error(failure.reason);
  }

  async train(spec: TrainSpec, dataDir: string, runDir: string): Promise<TrainOutcome> {
    // A run folder without a recorded outcome is from an interrupted sweep: start it afresh.
    await rm(runDir, { recursive: true, force: true });
    const result = await this.run(trainArgs(spec, this.options.profile, dataDir, runDir, this.options.backend));
    const failure = childFailure(result, 'train');
    if (failure) return { ok: false, seconds: result.seconds, ...failure };
    const backend = /backend[:=\s]+([a-z0-9-]+)/i.exec(result.stderr + result.stdout)?.[1];
    return { ok: true, seconds: result.seconds, nfe: await lastTrainNfe(runDir), backend };
  }

  async evaluate(runDir: string, dataDir: string, condition: EvalCondition): Promise<EvalOutcome> {
    const result = await this.run(evalArgs(runDir, dataDir, condition, this.options.profile, this.options.backend));
    const failure = childFailure(result, 'eval');
    if (failure) return { ok: false, seconds: result.seconds, ...failure };
    let json: unknown;
    try {
      json = parseJsonOutput(result.stdout);
    } catch (err) {
      return { ok: false, seconds: result.seconds, failure: 'crash', reason: (err as Error).message };
    }
    const metrics = extractMetrics(json);
    const bad = metricFailure(metrics, this.options.profile.nfeBlowUp);
    if (bad) return { ok: false, seconds: result.seconds, ...bad };
    return { ok: true, seconds: result.seconds, metrics };
  }

  normStatistics(runDir: string) {
    return readNormStatistics(runDir);
  }

  describe(): string[] {
    const p = this.options.profile;
    const cmd = 'physode';
    const spec: TrainSpec = { system: '<system>', norm: 'tabn', method: p.method, depth: p.depth, width: p.width, batchSize: p.batchSize, steps: p.steps, seed: 1 };
    return [
      `${cmd} ${generateArgs('pendulum', p.datasets.pendulum, '<out>/data/pendulum', this.options.dataSeed ?? 1).join(' ')}`,
      `${cmd} ${trainArgs(spec, p, '<out>/data/<system>', '<out>/runs/<run>', this.options.backend).join(' ')}`,
      `${cmd} ${evalArgs('<out>/runs/<run>', '<out>/data/<system>', { batchSize: p.smallEvalBatch, outliers: p.outlierFraction, method: p.method }, p, this.options.backend).join(' ')}`,
    ];
  }
}
