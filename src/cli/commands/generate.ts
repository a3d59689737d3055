/** `physode generate`: ground-truth datasets (library: src/generate). */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { generateDataset, type GenerateOptions, type IntegratorName } from '../../generate/index.js';
import { listSystems } from '../../../systems/index.js';

const usage = `usage: physode generate <system> [options]

Integrates trajectories with odex (tight tolerances, dense output) and writes a dataset folder:
manifest.json + shard-NNNNN.npz (numpy.load reads them). Rerunning the same command resumes an
interrupted generation; the same command and seed give the same bytes.

systems: ${listSystems().map((s) => s.name + (s.presets.length ? ` (presets: ${s.presets.join(', ')})` : '')).join(', ')}

options:
  --out DIR          output folder (default datasets/<system or preset>)
  --count N          trajectories (default per system, e.g. pendulum 256)
  --samples K        samples per trajectory, t in [0, t-end] (default per system, e.g. 100)
  --t-end T          end time (default per system, e.g. 10)
  --preset P         nbody preset: two-body, figure-eight, pythagorean, random (default random)
  --bodies N         nbody random preset: number of bodies (default 3)
  --softening S      nbody: Plummer softening length
  --eccentricity E   nbody two-body: orbit eccentricity (default 0.6)
  --seed S           master seed (default 0)
  --shard-size M     trajectories per shard (default: about 32 MiB of states per shard)
  --workers W        worker threads (default: the number of cores)
  --integrator I     ground truth: odex (Hairer's extrapolation) or dop853 (Dormand-Prince 8)
                     (default odex; dop853 for the pythagorean preset)
  --rtol R           relative tolerance (default 1e-12; 1e-13 for the pythagorean preset)
  --atol A           absolute tolerance (default 1e-12; 1e-13 for the pythagorean preset)
  --noise S          Gaussian observation noise, relative to each component's spread (y_clean kept)
  --split a,b,c      train,val,test fractions (default 0.8,0.1,0.1)
  --derivatives      also store exact time derivatives dydt
  --force            replace a different dataset in the output folder
  --quiet            no progress bar`;

function num(name: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got '${value}'`, `see: physode generate --help`);
  }
  return n;
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' }, count: { type: 'string' }, samples: { type: 'string' }, 't-end': { type: 'string' },
        preset: { type: 'string' }, bodies: { type: 'string' }, softening: { type: 'string' }, eccentricity: { type: 'string' },
        seed: { type: 'string' }, 'shard-size': { type: 'string' }, workers: { type: 'string' }, integrator: { type: 'string' }, rtol: { type: 'string' },
        atol: { type: 'string' }, noise: { type: 'string' }, split: { type: 'string' }, derivatives: { type: 'boolean' },
        force: { type: 'boolean' }, quiet: { type: 'boolean' },
      },
    });
  } catch (err) {
    // e.g. "--count -5": parseArgs takes -5 for an option; say what to write instead.
    if ((err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new InvalidArgumentError((err as Error).message, 'give option values as --name=value, e.g. --count=100');
    }
    throw err;
  }
}

export const command: Command = {
  name: 'generate',
  summary: 'integrate ground-truth trajectories into a dataset (npz shards + manifest)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv);
    if (positionals.length !== 1) {
      throw new InvalidArgumentError(positionals.length === 0 ? 'missing <system>' : `expected one <system>, got ${positionals.join(' ')}`, `systems: ${listSystems().map((s) => s.name).join(', ')}`);
    }
    let split: [number, number, number] | undefined;
    if (values.split !== undefined) {
      const parts = values.split.split(',').map((s) => Number(s));
      if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) {
        throw new InvalidArgumentError(`--split must be three comma-separated fractions, got '${values.split}'`, 'e.g. --split 0.8,0.1,0.1');
      }
      split = parts as [number, number, number];
    }
    const options: GenerateOptions = {
      system: positionals[0],
      out: values.out,
      count: num('count', values.count, true),
      samples: num('samples', values.samples, true),
      tEnd: num('t-end', values['t-end']),
      preset: values.preset,
      bodies: num('bodies', values.bodies, true),
      softening: num('softening', values.softening),
      eccentricity: num('eccentricity', values.eccentricity),
      seed: num('seed', values.seed, true),
      shardSize: num('shard-size', values['shard-size'], true),
      workers: num('workers', values.workers, true),
      // Checked with the other options by resolveOptions.
      integrator: values.integrator as IntegratorName | undefined,
      rtol: num('rtol', values.rtol),
      atol: num('atol', values.atol),
      noise: num('noise', values.noise),
      split,
      derivatives: values.derivatives,
      force: values.force,
    };
    const bar = values.quiet ? undefined : new ProgressBar({ label: 'generate' });
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    const started = performance.now();
    try {
      const result = await generateDataset(options, { onProgress: (e) => bar?.update(e), signal: controller.signal });
      bar?.finish();
      const m = result.manifest;
      const seconds = (performance.now() - started) / 1000;
      const counts = ['train', 'val', 'test'].map((s) => `${s} ${m.shards.filter((x) => x.split === s).reduce((a, x) => a + x.count, 0)}`).join(', ');
      process.stdout.write(
        `wrote ${result.dir}: ${m.generator.count} trajectories x ${m.times.count} samples x ${m.state.dim} (${counts}) in ${m.shards.length} shard(s)` +
          `${result.reusedShards ? `, ${result.reusedShards} kept from an earlier run` : ''}; ${seconds.toFixed(1)} s\n` +
          `max relative energy ${m.system.conservative ? 'error' : 'change (not conserved)'}: ${m.stats.maxRelEnergyError.toExponential(2)}\n`,
      );
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
