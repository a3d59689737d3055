/**
 * `physode reproduce --experiment fashion-mnist`: runs the Fashion-MNIST sweep
 * (src/reproduce/fashion-mnist.ts, one `physode classify` child at a time) and writes the report
 * (src/reproduce/fashion-mnist-report.ts). Rerunning the same command resumes: finished runs are
 * kept, and the report is rewritten from every run's eval.json.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../util/errors.js';
import { FASHION_PROFILES, runFashionMnist } from '../reproduce/fashion-mnist.js';
import { writeFashionReport } from '../reproduce/fashion-mnist-report.js';
import { staticEnvironment } from '../reproduce/environment.js';
import { runStoppable } from './stoppable.js';

export const FASHION_EXPERIMENTS = ['fashion-mnist'] as const;

export async function runFashionCommand(values: { experiment?: string; quick?: boolean; out?: string; from?: string; profile?: string; systems?: string; experiments?: string; seeds?: string; 'shard-index'?: string; 'shard-count'?: string; merge?: boolean }, argv: readonly string[]): Promise<number> {
  if (!(FASHION_EXPERIMENTS as readonly string[]).includes(values.experiment ?? '')) {
    throw new InvalidArgumentError(`unknown --experiment '${values.experiment}'`, `known: ${FASHION_EXPERIMENTS.join(', ')} (the physical-system claims take --experiments)`);
  }
  for (const flag of ['systems', 'experiments', 'seeds', 'shard-index', 'shard-count', 'profile'] as const) {
    if (values[flag] !== undefined) throw new InvalidArgumentError(`--${flag} does not apply to --experiment fashion-mnist`, 'its plan is fixed by --quick (see the report for what ran)');
  }
  if (values.merge) throw new InvalidArgumentError('--merge does not apply to --experiment fashion-mnist', 'rerun the same command: finished runs are kept and the report is rewritten');
  const profile = FASHION_PROFILES[values.quick ? 'quick' : 'full'];
  const out = resolve(values.out ?? (values.quick ? 'reports/fashion-mnist-quick' : 'reports/fashion-mnist'));
  const from = values.from === undefined ? undefined : resolve(values.from);
  // Fail before the first child when the data is absent or damaged (one clear line, not 24 failed runs).
  const { loadImageDataset } = await import('../data/image-dataset.js');
  await loadImageDataset({ from, trainLimit: 1, valLimit: 1, testLimit: 1 });
  process.stderr.write(`physode reproduce: fashion-mnist, profile ${profile.name}, output ${out}\n`);
  const started = performance.now();
  const stop = { onStop: () => process.stderr.write('\nphysode reproduce: stopping the run in flight; rerun the same command to resume\n') };
  const { result: outcomes, stopped } = await runStoppable('fashion-mnist', stop, ({ signal, onProgress, onEvent }) =>
    runFashionMnist({
      out,
      profile,
      from,
      signal,
      onProgress,
      onRun: (spec, outcome, seconds) => {
        if (outcome !== 'kept') onEvent(`${spec.id}: ${outcome} (${seconds.toFixed(0)} s)`);
      },
    }),
  );
  const report = await writeFashionReport({ out, profile, outcomes, commandLine: ['physode', 'reproduce', ...argv].join(' '), environment: { ...staticEnvironment(), 'kernel threads per run': process.env.PHYSODE_KERNEL_THREADS || 'default (2 on 2 cores)' } });
  const failed = outcomes.filter((o) => !o.eval).length;
  process.stdout.write(
    `${outcomes.length - failed} of ${outcomes.length} runs finished (${outcomes.filter((o) => o.ranNow).length} run now, ${failed} failed) in ${((performance.now() - started) / 60000).toFixed(1)} min\n` +
      report.verdicts.map((v) => `  ${v.verdict.padEnd(14)} ${v.claim}`).join('\n') +
      `\nreport:  ${report.reportFile}\nresults: ${report.resultsFile}\n`,
  );
  return stopped ? 130 : failed > 0 ? 1 : 0;
}
