/**
 * `physode reproduce`: runs the TA-BN claims sweep (src/reproduce) and writes report.md,
 * results.csv and plots. Thin: parse, validate, call the library, show progress.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import os from 'node:os';
import { InvalidArgumentError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';
import { CliExecutor } from '../../reproduce/cli-executor.js';
import { staticEnvironment } from '../../reproduce/environment.js';
import { EXPERIMENTS } from '../../reproduce/experiments.js';
import { PROFILES, type SweepProfile } from '../../reproduce/profiles.js';
import { reproduce } from '../../reproduce/sweep.js';
import { DEFAULT_SYSTEMS, parseSystems } from '../../reproduce/systems.js';
import type { ExperimentId } from '../../reproduce/types.js';

const usage = `usage: physode reproduce [--quick] [--systems ${DEFAULT_SYSTEMS.join(',')}] [--seeds N] [--out reports/tabn]
                         [--experiments ${EXPERIMENTS.map((e) => e.id).join(',')}] [--jobs 2] [--backend B]

Checks TA-BN's claims (batch size, outliers, time dependence, depth, solvers) on physical systems:
generates a dataset per system, trains and evaluates every configuration over several seeds
(each run a physode child process, --jobs at a time), and writes into --out:
  report.md      a table, plots and a verdict (holds / does not hold / inconclusive) per claim
  results.csv    every run, failed ones included, with their reason
  plots/*.svg    metric against batch size, depth and solver; TA-BN statistics against t; NFE, time
An interrupted sweep resumes where it stopped: rerun the same command.

options:
  --quick              tiny sizes and a reduced grid (minutes instead of hours)
  --systems LIST       comma-separated: pendulum, double-pendulum, nbody3, figure-eight
  --seeds N            seeds per configuration (default: 3, or 1 with --quick)
  --out DIR            output folder (default reports/tabn, or reports/tabn-quick with --quick)
  --experiments LIST   a subset of the experiments (default: all five)
  --jobs N             runs in parallel (default 2)
  --backend B          tensor backend passed to train and eval (auto, wasm, cpu, tensorflow)
  --profile NAME       full, quick or smoke (smoke: the test suite's tiny configuration)`;

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got '${value}'`, `e.g. ${flag} 2`);
  return n;
}

function parseExperiments(text: string): ExperimentId[] {
  const known = EXPERIMENTS.map((e) => e.id as string);
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!known.includes(id)) throw new InvalidArgumentError(`unknown experiment '${id}'`, `known experiments: ${known.join(', ')}`);
  if (ids.length === 0) throw new InvalidArgumentError('--experiments is empty', `known experiments: ${known.join(', ')}`);
  return ids as ExperimentId[];
}

export const command: Command = {
  name: 'reproduce',
  summary: "check TA-BN's claims on physical systems; writes a report with tables, plots and verdicts",
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        systems: { type: 'string' },
        seeds: { type: 'string' },
        out: { type: 'string' },
        experiments: { type: 'string' },
        jobs: { type: 'string', default: '2' },
        backend: { type: 'string' },
        profile: { type: 'string' },
      },
    });
    const profileName = values.profile ?? (values.quick ? 'quick' : 'full');
    if (!(profileName in PROFILES)) throw new InvalidArgumentError(`unknown profile '${profileName}'`, `use one of: ${Object.keys(PROFILES).join(', ')}`);
    if (values.profile && values.quick && values.profile !== 'quick') throw new InvalidArgumentError('--quick and --profile disagree', 'give one of them');
    const profile: SweepProfile = PROFILES[profileName as SweepProfile['name']];
    const systems = values.systems ? parseSystems(values.systems) : [...DEFAULT_SYSTEMS];
    const seedCount = values.seeds ? positiveInt(values.seeds, '--seeds') : profile.seeds;
    const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
    const out = resolve(values.out ?? (profile.name === 'full' ? 'reports/tabn' : `reports/tabn-${profile.name}`));
    const experiments = values.experiments ? parseExperiments(values.experiments) : undefined;
    const jobs = positiveInt(values.jobs, '--jobs');

    const bar = new ProgressBar({ label: 'reproduce' });
    const abort = new AbortController();
    const onSignal = (): void => {
      if (!abort.signal.aborted) process.stderr.write('\nphysode reproduce: stopping the runs in flight; rerun the same command to resume\n');
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.stderr.write(`physode reproduce: profile ${profile.name}, systems ${systems.join(', ')}, seeds ${seeds.join(', ')}, ${jobs} jobs, output ${out}\n`);
    let summary;
    try {
      summary = await reproduce({
        out,
        profile,
        systems,
        seeds,
        experiments,
        concurrency: jobs,
        executor: new CliExecutor({ profile, backend: values.backend, signal: abort.signal, env: { PHYSODE_KERNEL_THREADS: childKernelThreads(jobs) } }),
        onProgress: (e) => bar.update(e),
        commandLine: ['physode', 'reproduce', ...argv].join(' '),
        environment: { ...staticEnvironment(), ...(values.backend ? { backend: values.backend } : {}) },
      });
    } finally {
      bar.finish();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    process.stdout.write(
      `${summary.results.length} runs recorded (${summary.ranNow} run now, ${summary.failed} failed)\n` +
        `report:  ${summary.reportFile}\nresults: ${summary.resultsFile}\n`,
    );
    return 0;
  },
};

/**
 * Kernel threads of each child: the cores shared among the jobs (at least 1), unless
 * PHYSODE_KERNEL_THREADS is set. Spinning helper threads on cores that other jobs use would only
 * slow every job down.
 */
function childKernelThreads(jobs: number): string {
  const set = process.env.PHYSODE_KERNEL_THREADS;
  return set !== undefined && set !== '' ? set : String(Math.max(1, Math.floor(os.availableParallelism() / jobs)));
}
