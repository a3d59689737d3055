/** `physode import`: external trajectories (.npy/.npz files) as a physode dataset; `halfcheetah` is built in. */
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { checkWritableFolder } from '../../util/fs.js';
import { parseCommandArgs, parseNumber, parseSplit } from '../options.js';
import type { FileRanges } from '../../data/import.js';

const usage = `usage: physode import halfcheetah [--out DIR] [--force]
       physode import FOLDER --out DIR [options]

Turns a folder of trajectories, one .npy (or .npz) file each of shape (T, D), sorted by file
name, into a physode dataset (manifest.json, shards with SHA-256, statistics of the training
split) that inspect, train, eval and rollout read.

halfcheetah: the built-in MuJoCo HalfCheetah traces shipped in data/halfcheetah (31 x 1000 x 17,
Apache-2.0; see its README.md) with the literature's split: validation traces 0-4, test 5-14,
training 15-24 (25-30 unused). Default --out datasets/halfcheetah.

  --train A-B --val A-B --test A-B   split by file positions (inclusive, sorted order);
                                     files in no range are left out
  --split F,F,F        or train,val,test fractions of the files in order (default 0.8,0.1,0.1)
  --dt X               time between rows (default 1)
  --labels a,b,...     state labels (default x0, x1, ...)
  --key NAME           the array to take from .npz files holding several
  --name NAME          system name recorded in the manifest (default imported)
  --force              replace a dataset in DIR`;

function parseRange(name: string, value: string): readonly [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(value.trim()) ?? /^(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`--${name} expects file positions A-B, got '${value}'`, `e.g. --${name} 15-24`);
  const a = Number(m[1]);
  const b = Number(m[2] ?? m[1]);
  if (b < a) throw new InvalidArgumentError(`--${name} range '${value}' runs backwards`, `e.g. --${name} ${b}-${a}`);
  return [a, b + 1];
}

export const command: Command = {
  name: 'import',
  summary: 'make a dataset from .npy/.npz trajectory files (halfcheetah: the built-in MuJoCo data)',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      'import',
      argv,
      { out: { type: 'string' }, train: { type: 'string' }, val: { type: 'string' }, test: { type: 'string' }, split: { type: 'string' }, dt: { type: 'string' }, labels: { type: 'string' }, key: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1) throw new InvalidArgumentError('give one source: halfcheetah or a folder of .npy/.npz files', 'e.g. physode import halfcheetah');
    const { importTrajectories } = await import('../../data/import.js');
    const { halfCheetahImport } = await import('../../data/halfcheetah.js');
    const builtin = positionals[0] === 'halfcheetah';
    if (!builtin && !values.out) throw new InvalidArgumentError('--out DIR is required', 'e.g. --out datasets/mydata');
    const out = resolve(values.out ?? 'datasets/halfcheetah');
    await checkWritableFolder(out, '--out');
    let options;
    if (builtin) {
      if (values.train || values.val || values.test || values.split || values.labels || values.dt || values.key || values.name) {
        throw new InvalidArgumentError('halfcheetah has a fixed split, labels and sample interval', 'import the folder data/halfcheetah instead to choose your own');
      }
      options = halfCheetahImport(out, values.force === true);
    } else {
      const ranges: FileRanges = {};
      for (const s of ['train', 'val', 'test'] as const) if (values[s] !== undefined) (ranges as Record<string, readonly [number, number]>)[s] = parseRange(s, values[s]!);
      const byRanges = Object.keys(ranges).length > 0;
      if (byRanges && values.split) throw new InvalidArgumentError('give --split or file ranges (--train/--val/--test), not both');
      options = {
        source: resolve(positionals[0]),
        out,
        name: values.name,
        ranges: byRanges ? ranges : undefined,
        fractions: values.split ? parseSplit('split', values.split) : undefined,
        sampleInterval: values.dt !== undefined ? parseNumber('dt', values.dt, { min: 0, minOpen: true, example: '--dt 0.05' }) : undefined,
        labels: values.labels?.split(',').map((l) => l.trim()),
        key: values.key,
        force: values.force === true,
      };
    }
    const r = await importTrajectories(options);
    const m = r.manifest;
    const span = (names: readonly string[]) => (names.length ? `${names.length} (${names[0]}${names.length > 1 ? ` … ${names[names.length - 1]}` : ''})` : '0');
    process.stdout.write(
      `wrote ${r.dir}: ${m.generator.count} trajectories x ${m.times.count} samples x ${m.state.dim} (train ${span(r.files.train)}, val ${span(r.files.val)}, test ${span(r.files.test)}) in ${m.shards.length} shard(s)` +
        `${r.unused.length ? `; ${r.unused.length} file(s) left out` : ''}\n`,
    );
    return 0;
  },
};
