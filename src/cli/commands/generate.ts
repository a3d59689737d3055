/** `physode generate`: ground-truth datasets (library: src/generate). */
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { generateDataset, resolveOptions, INTEGRATORS, type GenerateOptions } from '../../generate/index.js';
import { finalizeDataset, generateShare, resolveShare, SHARD_INDEX_VARIABLES } from '../../generate/index.js';
import { checkWritableFolder } from '../../util/fs.js';
import { parseChoice, parseCommandArgs, parseInteger, parseNumber, parseSplit, TOLERANCE } from '../options.js';
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
  --quiet            no progress bar

on several machines (README "Scale"): every task of a job array runs the same command with
  --shard-count N    compute only this task's share of the shards (shard i goes to task i mod N)
  --shard-index I    this task, 0..N-1 (default: $${SHARD_INDEX_VARIABLES.join(', $')})
then, once all tasks are done, one run of the same command with
  --finalize         check every shard and write manifest.json (same bytes as one machine)`;

const OPTIONS = {
  out: { type: 'string' }, count: { type: 'string' }, samples: { type: 'string' }, 't-end': { type: 'string' },
  preset: { type: 'string' }, bodies: { type: 'string' }, softening: { type: 'string' }, eccentricity: { type: 'string' },
  seed: { type: 'string' }, 'shard-size': { type: 'string' }, workers: { type: 'string' }, integrator: { type: 'string' }, rtol: { type: 'string' },
  atol: { type: 'string' }, noise: { type: 'string' }, split: { type: 'string' }, derivatives: { type: 'boolean' },
  force: { type: 'boolean' }, quiet: { type: 'boolean' },
  'shard-index': { type: 'string' }, 'shard-count': { type: 'string' }, finalize: { type: 'boolean' },
} as const;

/** An optional option through a parser. */
function opt<T>(value: string | undefined, parse: (v: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

/** `physode generate`'s arguments as library options (also what `physode submit generate` takes). */
export function parseGenerateArgs(argv: readonly string[]) {
  const { values, positionals } = parseCommandArgs('generate', argv, OPTIONS, true);
  if (positionals.length !== 1) {
    throw new InvalidArgumentError(positionals.length === 0 ? 'missing <system>' : `expected one <system>, got ${positionals.join(' ')}`, `systems: ${listSystems().map((s) => s.name).join(', ')}`);
  }
  const options: GenerateOptions = {
    system: positionals[0],
    out: values.out,
    count: opt(values.count, (v) => parseInteger('count', v, 1, { example: '--count 256' })),
    samples: opt(values.samples, (v) => parseInteger('samples', v, 2, { example: '--samples 100' })),
    tEnd: opt(values['t-end'], (v) => parseNumber('t-end', v, { min: 0, minOpen: true, example: '--t-end 10' })),
    preset: values.preset,
    bodies: opt(values.bodies, (v) => parseInteger('bodies', v, 1, { max: 1000, example: '--bodies 3' })),
    softening: opt(values.softening, (v) => parseNumber('softening', v, { min: 0, example: '--softening 0.01' })),
    eccentricity: opt(values.eccentricity, (v) => parseNumber('eccentricity', v, { min: 0, max: 1, maxOpen: true, example: '--eccentricity 0.6' })),
    seed: opt(values.seed, (v) => parseInteger('seed', v, 0, { max: 2 ** 32 - 1, example: '--seed 42' })),
    shardSize: opt(values['shard-size'], (v) => parseInteger('shard-size', v, 1, { example: '--shard-size 1000' })),
    workers: opt(values.workers, (v) => parseInteger('workers', v, 1, { max: 256, example: '--workers 2' })),
    integrator: opt(values.integrator, (v) => parseChoice('integrator', v, INTEGRATORS)),
    rtol: opt(values.rtol, (v) => parseNumber('rtol', v, { ...TOLERANCE, example: '--rtol 1e-12' })),
    atol: opt(values.atol, (v) => parseNumber('atol', v, { ...TOLERANCE, example: '--atol 1e-12' })),
    noise: opt(values.noise, (v) => parseNumber('noise', v, { min: 0, example: '--noise 0.01' })),
    split: opt(values.split, (v) => parseSplit('split', v)),
    derivatives: values.derivatives,
    force: values.force,
  };
  return { options, values };
}

export const command: Command = {
  name: 'generate',
  summary: 'integrate ground-truth trajectories into a dataset (npz shards + manifest)',
  usage,
  async run(argv) {
    const { options, values } = parseGenerateArgs(argv);
    // Every option checked before anything is written; then the output folder, which must be
    // writable before the workers start.
    const resolved = resolveOptions(options);
    await checkWritableFolder(resolved.out, '--out');
    if (values.finalize) {
      if (values['shard-index'] !== undefined) throw new InvalidArgumentError('--finalize does not take --shard-index', 'finalize once, after every share has finished');
      const result = await finalizeDataset(options, { shardCount: opt(values['shard-count'], (v) => parseInteger('shard-count', v, 1, { example: '--shard-count 4' })) });
      process.stdout.write(`finalized ${result.dir}: ${result.manifest.shards.length} shard(s) checked, manifest written\n`);
      return 0;
    }
    const share = resolveShare({ index: values['shard-index'], count: values['shard-count'] });
    const bar = values.quiet ? undefined : new ProgressBar({ label: share ? `generate ${share.index}/${share.count}` : 'generate' });
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    const started = performance.now();
    try {
      if (share) {
        const part = await generateShare(options, share, { onProgress: (e) => bar?.update(e), signal: controller.signal });
        bar?.finish();
        process.stdout.write(
          `share ${share.index} of ${share.count}: ${part.shards.length} of ${part.plannedShards} shard(s) in ${part.dir}` +
            `${part.reusedShards ? `, ${part.reusedShards} kept from an earlier run` : ''}; ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
            `when every share is done: the same command with --finalize (and without --shard-index)\n`,
        );
        return 0;
      }
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
