/**
 * `physode reproduce`: runs the TA-BN claims sweep (src/reproduce) and writes report.md,
 * results.csv and plots. Thin: parse, validate, call the library, show progress.
 */
import { resolve } from 'node:path';
import os from 'node:os';
import { InvalidArgumentError } from '../../util/errors.js';
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';
import { parseCommandArgs, parseInteger } from '../options.js';
import { CliExecutor } from '../../reproduce/cli-executor.js';
import { staticEnvironment } from '../../reproduce/environment.js';
import { EXPERIMENTS } from '../../reproduce/experiments.js';
import { PROFILES, type SweepProfile } from '../../reproduce/profiles.js';
import { reproduce } from '../../reproduce/sweep.js';
import { mergeShares, reproduceShare } from '../../reproduce/sharded-sweep.js';
import { resolveShare, SHARD_INDEX_VARIABLES } from '../../generate/share.js';
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
  --profile NAME       full, quick or smoke (smoke: the test suite's tiny configuration)

image classification (TA-BN's home regime; Fashion-MNIST from Debian's dataset-fashion-mnist):
  --experiment fashion-mnist   none/minibatch/popti/tabn × Euler and dopri5 × seeds, each run a
                       \`physode classify\` child; writes report.md, results.csv and plots/ into --out
                       (default reports/fashion-mnist, or reports/fashion-mnist-quick with --quick)
  --from DIR           the four Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)

TA-BN's physics regime (the paper's Table 3; in-process, MuJoCo data shipped in data/halfcheetah):
  --experiment halfcheetah     next-state task: none/minibatch/popti/tabn × seeds (--seeds, default 3),
                       depths 2-12, batch-size-2 and outlier evaluations, and the pendulum mechanism
                       measurements; writes report.md, results.json and plots/ into --out
                       (default reports/halfcheetah, or reports/halfcheetah-quick with --quick)

on several machines (README "Scale"): every task of a job array runs the same command with
  --shard-count N      run only this task's trainings (training k goes to task sha256(k) mod N)
  --shard-index I      this task, 0..N-1 (default: $${SHARD_INDEX_VARIABLES.join(', $')})
then, once all tasks are done, one run of the same command with
  --merge              fold every task's results into results.csv and write the report`;

function positiveInt(value: string, flag: string): number {
  return parseInteger(flag.replace(/^--/, ''), value, 1, { max: 1000, example: `${flag} 2` });
}

function parseExperiments(text: string): ExperimentId[] {
  const known = EXPERIMENTS.map((e) => e.id as string);
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!known.includes(id)) throw new InvalidArgumentError(`unknown experiment '${id}'`, `known experiments: ${known.join(', ')}`);
  if (ids.length === 0) throw new InvalidArgumentError('--experiments is empty', `known experiments: ${known.join(', ')}`);
  return ids as ExperimentId[];
}

/** `physode reproduce`'s arguments: the sweep and how to run it (also what `physode submit reproduce` takes). */
export function parseReproduceArgs(argv: readonly string[]) {
  const { values } = parseCommandArgs(
    'reproduce',
    argv,
    {
      quick: { type: 'boolean', default: false },
      systems: { type: 'string' },
      seeds: { type: 'string' },
      out: { type: 'string' },
      experiments: { type: 'string' },
      jobs: { type: 'string', default: '2' },
      backend: { type: 'string' },
      profile: { type: 'string' },
      'shard-index': { type: 'string' },
      'shard-count': { type: 'string' },
      merge: { type: 'boolean', default: false },
      experiment: { type: 'string' },
      from: { type: 'string' },
    },
  );
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
  return { values, profile, systems, seeds, out, experiments, jobs };
}

export const command: Command = {
  name: 'reproduce',
  summary: "check TA-BN's claims on physical systems; writes a report with tables, plots and verdicts",
  usage,
  async run(argv) {
    const { values, profile, systems, seeds, out, experiments, jobs } = parseReproduceArgs(argv);
    if (values.experiment === 'halfcheetah') return (await import('../halfcheetah-command.js')).runHalfCheetahCommand(values, argv);
    if (values.experiment !== undefined) {
      const { runFashionCommand } = await import('../fashion-mnist-command.js');
      return runFashionCommand(values, argv);
    }
    if (values.from !== undefined) throw new InvalidArgumentError('--from is for --experiment fashion-mnist', 'the physical systems generate their own datasets');

    const commandLine = ['physode', 'reproduce', ...argv].join(' ');
    const environment = { ...staticEnvironment(), ...(values.backend ? { backend: values.backend } : {}) };
    if (values.merge) {
      if (values['shard-index'] !== undefined) throw new InvalidArgumentError('--merge does not take --shard-index', 'merge once, after every share has finished');
      const shardCount = values['shard-count'] === undefined ? undefined : positiveInt(values['shard-count'], '--shard-count');
      const commands = new CliExecutor({ profile, backend: values.backend }).describe();
      const merged = await mergeShares({ out, profile, systems, seeds, experiments, commandLine, commands, environment, shardCount });
      process.stdout.write(`${merged.results.length} runs merged (${merged.failed} failed)\nreport:  ${merged.reportFile}\nresults: ${merged.resultsFile}\n`);
      return 0;
    }
    const share = resolveShare({ index: values['shard-index'], count: values['shard-count'] });
    const bar = new ProgressBar({ label: share ? `reproduce ${share.index}/${share.count}` : 'reproduce' });
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
      if (share) {
        const part = await reproduceShare({
          out, profile, systems, seeds, experiments, selection: share, concurrency: jobs,
          executor: new CliExecutor({ profile, backend: values.backend, signal: abort.signal, env: { PHYSODE_KERNEL_THREADS: childKernelThreads(jobs) } }),
          onProgress: (e) => bar.update(e),
        });
        bar.finish();
        process.stdout.write(`share ${share.index} of ${share.count}: ${part.tasks.length} of ${part.plan.tasks.length} trainings (${part.ranNow} run now), ${part.results.length} runs recorded in ${out}/tasks\n` +
          'when every share is done: the same command with --merge (and without --shard-index)\n');
        return 0;
      }
      summary = await reproduce({
        out,
        profile,
        systems,
        seeds,
        experiments,
        concurrency: jobs,
        executor: new CliExecutor({ profile, backend: values.backend, signal: abort.signal, env: { PHYSODE_KERNEL_THREADS: childKernelThreads(jobs) } }),
        onProgress: (e) => bar.update(e),
        commandLine,
        environment,
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
