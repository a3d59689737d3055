/**
 * Bad input to every `physode` command: wrong flags and values, paths of the wrong kind, damaged
 * datasets (truncated or corrupt npz, NaN and infinite values under a valid checksum, manifests whose
 * dimensions disagree) and damaged runs. Each case runs the CLI in-process through main() and checks
 * the exit code, that stderr holds exactly one error line (no stack trace, no "at" frames, no
 * "unexpected error"), and at the end that no valid file was changed.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { physode, type Outcome } from './capture.js';
import { generateDataset } from '../../src/generate/index.js';
import { decodeShard, encodeShard, sha256Hex } from '../../src/data/shard.js';
import { shardExpectations } from '../../src/data/manifest.js';
import type { Manifest } from '../../src/data/types.js';

process.env.PHYSODE_BACKEND = 'cpu';

/** The error lines of stderr: what is left after the informational lines a command prints first. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^(backend: |resuming from step |note: )/.test(l));
}

/** A refusal: the exit code, one line naming the command and matching `pattern`, no trace. */
function assertRefused(r: Outcome, pattern: RegExp, code: number | null, label: string): void {
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, `${label}: expected one error line, got:\n${r.stderr}`);
  assert.match(lines[0], /^physode( \w+)?: /, label);
  assert.doesNotMatch(r.stderr, /^\s+at |unexpected error/m, label);
  assert.match(lines[0], pattern, `${label}: ${lines[0]}`);
  if (code === null) assert.notEqual(r.code, 0, label);
  else assert.equal(r.code, code, `${label}: ${lines[0]}`);
}

async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(p, createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

const SMALL = ['--steps', '6', '--width', '8', '--window', '5', '--batch-size', '8', '--val-every', '3', '--checkpoint-every', '3', '--log-every', '3', '--warmup', '1', '--quiet'];

let root: string;
let good: string;
let other: string;
let run: string;
let aFile: string;
const damaged: Record<string, string> = {};
let before_: { dataset: Map<string, string>; run: Map<string, string> };

async function readManifestJson(dir: string): Promise<Manifest & Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest & Record<string, unknown>;
}

/** A copy of the good dataset, changed by `edit` (which may rewrite shards and the manifest). */
async function variant(name: string, edit: (dir: string, m: Manifest & Record<string, unknown>) => Promise<void>): Promise<void> {
  const dir = join(root, 'damaged', name);
  await cp(good, dir, { recursive: true });
  const m = await readManifestJson(dir);
  await edit(dir, m);
  damaged[name] = dir;
}

async function saveManifest(dir: string, m: unknown): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
}

/** Rewrites the first training shard with one value changed, and its checksum updated to match. */
async function plantValue(dir: string, m: Manifest, key: 'y' | 'params' | 'energy', at: number, value: number): Promise<void> {
  const entry = m.shards.find((s) => s.split === 'train')!;
  const e = shardExpectations(m, entry);
  const a = decodeShard(new Uint8Array(await readFile(join(dir, entry.file))), entry.file, { ...e, firstIndex: entry.indexRange[0] });
  const arrays = { ...a, [key]: Float64Array.from(a[key]) };
  arrays[key][at] = value;
  const bytes = encodeShard(arrays, e);
  await writeFile(join(dir, entry.file), bytes);
  (entry as { sha256: string }).sha256 = sha256Hex(bytes);
  await saveManifest(dir, m);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'physode-bad-input-'));
  good = join(root, 'good');
  other = join(root, 'other');
  await generateDataset({ system: 'pendulum', out: good, count: 30, samples: 25, tEnd: 2.4, workers: 1 });
  await generateDataset({ system: 'pendulum', out: other, count: 30, samples: 25, tEnd: 2.4, workers: 1, seed: 7 });
  run = join(root, 'run');
  const t = await physode('train', '--data', good, '--out', run, ...SMALL);
  assert.equal(t.code, 0, t.stderr);
  aFile = join(root, 'a-file.txt');
  await writeFile(aFile, 'not a folder\n');

  const firstShard = (m: Manifest): string => m.shards.find((s) => s.split === 'train')!.file;
  await variant('truncated', async (dir, m) => {
    const f = join(dir, firstShard(m));
    const bytes = await readFile(f);
    await writeFile(f, bytes.subarray(0, bytes.length >> 1));
  });
  await variant('truncated-resummed', async (dir, m) => {
    const entry = m.shards.find((s) => s.split === 'train')!;
    const bytes = (await readFile(join(dir, entry.file))).subarray(0, 200);
    await writeFile(join(dir, entry.file), bytes);
    (entry as { sha256: string }).sha256 = sha256Hex(bytes);
    await saveManifest(dir, m);
  });
  await variant('garbage-npz', async (dir, m) => {
    const entry = m.shards.find((s) => s.split === 'train')!;
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7919) & 255);
    await writeFile(join(dir, entry.file), bytes);
    (entry as { sha256: string }).sha256 = sha256Hex(bytes);
    await saveManifest(dir, m);
  });
  await variant('nan-y', (dir, m) => plantValue(dir, m, 'y', 2 * 25 * 2 + 3 * 2 + 1, Number.NaN));
  await variant('inf-params', (dir, m) => plantValue(dir, m, 'params', 1, Number.POSITIVE_INFINITY));
  await variant('nan-energy', (dir, m) => plantValue(dir, m, 'energy', 4, Number.NaN));
  await variant('missing-shard', async (dir, m) => rm(join(dir, firstShard(m))));
  await variant('shard-is-folder', async (dir, m) => {
    await rm(join(dir, firstShard(m)));
    await mkdir(join(dir, firstShard(m)));
  });
  await variant('dims-disagree', async (dir, m) => {
    // dim, labels and stats agree with each other, but not with the shards.
    await saveManifest(dir, { ...m, state: { ...m.state, dim: 3, labels: [...m.state.labels, 'z'] }, stats: { ...m.stats, mean: [...m.stats.mean, 0], std: [...m.stats.std, 1] } });
  });
  await variant('stats-short', async (dir, m) => saveManifest(dir, { ...m, stats: { ...m.stats, mean: [0], std: [1] } }));
  await variant('labels-short', async (dir, m) => saveManifest(dir, { ...m, state: { ...m.state, labels: ['theta'] } }));
  await variant('count-mismatch', async (dir, m) => saveManifest(dir, { ...m, generator: { ...m.generator, count: 31 } }));
  await variant('hostile-shard-name', async (dir, m) => saveManifest(dir, { ...m, shards: m.shards.map((s, i) => (i === 0 ? { ...s, file: '../../etc/passwd' } : s)) }));
  await variant('manifest-not-json', async (dir) => writeFile(join(dir, 'manifest.json'), '{"format": "physode-dataset", '));
  await variant('manifest-empty', async (dir) => writeFile(join(dir, 'manifest.json'), ''));
  await variant('manifest-array', async (dir) => writeFile(join(dir, 'manifest.json'), '[1, 2, 3]'));
  await variant('manifest-version-9', async (dir, m) => saveManifest(dir, { ...m, version: 9 }));
  await variant('manifest-missing', async (dir) => rm(join(dir, 'manifest.json')));
  await variant('manifest-is-folder', async (dir) => {
    await rm(join(dir, 'manifest.json'));
    await mkdir(join(dir, 'manifest.json'));
  });
  await variant('incomplete', async (dir, m) => saveManifest(dir, { ...m, complete: false }));
  await variant('no-val', async (dir, m) => saveManifest(dir, { ...m, shards: m.shards.map((s) => (s.split === 'val' ? { ...s, split: 'test' } : s)) }));

  before_ = { dataset: await hashTree(good), run: await hashTree(run) };
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

type Case = readonly [label: string, args: () => string[], pattern: RegExp, code?: number | null];

function cases(title: string, list: readonly Case[]): void {
  describe(title, () => {
    for (const [label, args, pattern, code = 1] of list) {
      test(label, async () => {
        // A train that is wrongly accepted must not write into the working directory's runs/.
        const argv = args();
        if (argv[0] === 'train' && !argv.includes('--out')) argv.push('--out', join(root, 't-never'));
        assertRefused(await physode(...argv), pattern, code, label);
      });
    }
  });
}

/** Values no number option accepts: text, hex, blank, overflow to infinity, NaN. */
const NOT_NUMBERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['abc', /expects a number/],
  ['0x10', /expects a number/],
  ['', /expects a number/],
  ['1e999', /expects a (finite )?number|expects an integer/],
  ['NaN', /expects a number/],
];

const GENERATE_NUMBERS = ['count', 'samples', 't-end', 'bodies', 'softening', 'eccentricity', 'seed', 'shard-size', 'workers', 'rtol', 'atol', 'noise'];
const TRAIN_NUMBERS = ['depth', 'width', 'grid-intervals', 'momentum', 'bn-recalibration', 'bn-freeze', 'rtol', 'atol', 'step', 'max-steps', 'batch-size', 'window', 'steps', 'epochs', 'lr', 'weight-decay', 'warmup', 'clip', 'seed', 'val-every'];

cases('generate: flag values', [
  ...GENERATE_NUMBERS.flatMap((flag) =>
    NOT_NUMBERS.map(([value, pattern]): Case => [`--${flag} '${value}'`, () => ['generate', 'pendulum', '--out', join(root, 'g-never'), `--${flag}`, value], new RegExp(`--${flag} ${pattern.source}`)]),
  ),
  ['--count 0x10 is not 16', () => ['generate', 'pendulum', '--count', '0x10', '--out', join(root, 'g-never')], /--count expects a number .*'0x10'/],
  ['--count -5 (a separate argument) says what is wrong', () => ['generate', 'pendulum', '--count', '-5', '--out', join(root, 'g-never')], /--count expects an integer >= 1, got '-5'/],
  ['--count=-5', () => ['generate', 'pendulum', '--count=-5', '--out', join(root, 'g-never')], /--count expects an integer >= 1/],
  ['--count 0', () => ['generate', 'pendulum', '--count', '0', '--out', join(root, 'g-never')], /--count expects an integer >= 1/],
  ['--count 1.5', () => ['generate', 'pendulum', '--count', '1.5', '--out', join(root, 'g-never')], /--count expects an integer/],
  ['--samples 1', () => ['generate', 'pendulum', '--samples', '1', '--out', join(root, 'g-never')], /--samples expects an integer >= 2/],
  ['--t-end 0', () => ['generate', 'pendulum', '--t-end', '0', '--out', join(root, 'g-never')], /--t-end must be a number > 0/],
  ['--t-end -1', () => ['generate', 'pendulum', '--t-end', '-1', '--out', join(root, 'g-never')], /--t-end must be a number > 0/],
  ['--eccentricity 1', () => ['generate', 'nbody', '--preset', 'two-body', '--eccentricity', '1', '--out', join(root, 'g-never')], /--eccentricity must be a number in \[0, 1\)/],
  ['--seed -1', () => ['generate', 'pendulum', '--seed', '-1', '--out', join(root, 'g-never')], /--seed expects an integer >= 0/],
  ['--seed 2^32', () => ['generate', 'pendulum', '--seed', '4294967296', '--out', join(root, 'g-never')], /--seed must be an integer in \[0, 4294967295\]/],
  ['--workers 0', () => ['generate', 'pendulum', '--workers', '0', '--out', join(root, 'g-never')], /--workers expects an integer >= 1/],
  ['--workers 1000', () => ['generate', 'pendulum', '--workers', '1000', '--out', join(root, 'g-never')], /--workers must be an integer in \[1, 256\]/],
  ['--rtol 0', () => ['generate', 'pendulum', '--rtol', '0', '--out', join(root, 'g-never')], /--rtol must be a number in \(0, 1\)/],
  ['--rtol 1', () => ['generate', 'pendulum', '--rtol', '1', '--out', join(root, 'g-never')], /--rtol must be a number in \(0, 1\)/],
  ['--noise -0.1', () => ['generate', 'pendulum', '--noise', '-0.1', '--out', join(root, 'g-never')], /--noise must be a number >= 0/],
  ['--split 1,0,0 leaves nothing to validate on', () => ['generate', 'pendulum', '--split', '1,0,0', '--out', join(root, 'g-never')], /--split 1,0,0 leaves no validation share/],
  ['--split 0,1,0 leaves nothing to train on', () => ['generate', 'pendulum', '--split', '0,1,0', '--out', join(root, 'g-never')], /--split 0,1,0 leaves no training share/],
  ['--split of two parts', () => ['generate', 'pendulum', '--split', '0.5,0.5', '--out', join(root, 'g-never')], /--split must be three comma-separated fractions/],
  ['--split of words', () => ['generate', 'pendulum', '--split', 'a,b,c', '--out', join(root, 'g-never')], /--split must be three comma-separated fractions/],
  ['--split not summing to 1', () => ['generate', 'pendulum', '--split', '0.9,0.9,0.1', '--out', join(root, 'g-never')], /--split must be three fractions >= 0 summing to 1/],
  ['--split with a negative share', () => ['generate', 'pendulum', '--split', '-0.1,0.6,0.5', '--out', join(root, 'g-never')], /--split must be three fractions >= 0/],
  ['--split 0x1,0,0', () => ['generate', 'pendulum', '--split', '0x1,0,0', '--out', join(root, 'g-never')], /--split must be three comma-separated fractions/],
  ['--integrator rk4', () => ['generate', 'pendulum', '--integrator', 'rk4', '--out', join(root, 'g-never')], /--integrator 'rk4' is not one of: odex, dop853/],
]);

cases('generate: systems, options and paths', [
  ['an unknown system', () => ['generate', 'pendulm', '--out', join(root, 'g-never')], /unknown system 'pendulm'.*hint: systems: pendulum/],
  ['no system', () => ['generate', '--out', join(root, 'g-never')], /missing <system>/],
  ['two systems', () => ['generate', 'pendulum', 'nbody', '--out', join(root, 'g-never')], /expected one <system>, got pendulum nbody/],
  ['an unknown preset', () => ['generate', 'nbody', '--preset', 'eight', '--out', join(root, 'g-never')], /unknown nbody preset 'eight'/],
  ['a preset on a system without presets', () => ['generate', 'pendulum', '--preset', 'random', '--out', join(root, 'g-never')], /has no presets/],
  ['an unknown option', () => ['generate', 'pendulum', '--bogus', '--out', join(root, 'g-never')], /Unknown option '--bogus'.*--help/, 2],
  ['a value missing at the end', () => ['generate', 'pendulum', '--count'], /--count needs a value/, 2],
  ['a flag where a value belongs', () => ['generate', 'pendulum', '--out', '--quiet'], /--out needs a value/, 2],
  ['a boolean flag given a value', () => ['generate', 'pendulum', '--quiet=yes', '--out', join(root, 'g-never')], /--quiet.*does not take an argument/, 2],
  ['--out is a file (EEXIST before)', () => ['generate', 'pendulum', '--count', '4', '--out', aFile], /--out .*a-file\.txt: is a file, not a folder/],
  ['--out below a file', () => ['generate', 'pendulum', '--count', '4', '--out', join(aFile, 'sub')], /--out .*: a file stands where a folder of this path should be/],
  ['--out in /proc (hung before)', () => ['generate', 'pendulum', '--count', '4', '--out', '/proc/physode-x'], /--out \/proc\/physode-x: cannot be created/],
  ['--out holds another dataset', () => ['generate', 'pendulum', '--count', '30', '--samples', '25', '--t-end', '2.4', '--seed', '3', '--workers', '1', '--quiet', '--out', good], /different dataset.*--force/],
]);

cases('inspect', [
  ['no folder', () => ['inspect'], /expected one dataset folder/],
  ['two folders', () => ['inspect', good, other], /expected one dataset folder, got 2/],
  ['a missing folder', () => ['inspect', join(root, 'nothing-here')], /manifest\.json: missing: not a physode dataset folder/],
  ['a file (ENOTDIR before)', () => ['inspect', aFile], /a-file\.txt is a file, not a dataset folder/],
  ['manifest.json itself', () => ['inspect', join(good, 'manifest.json')], /manifest\.json is a file, not a dataset folder.*hint: give the folder that holds manifest\.json/],
  ['an unknown option', () => ['inspect', good, '--yaml'], /Unknown option '--yaml'/, 2],
  ['dimensions that disagree (stats shorter than dim: TypeError before)', () => ['inspect', damaged['stats-short']], /stats\.mean and stats\.std have 1 and 1 entries for dim 2/],
  ['dimensions that disagree with the shards', () => ['inspect', damaged['dims-disagree']], /shard shard-\d+\.npz: summary has 2 means for dim 3/],
  ['labels shorter than dim', () => ['inspect', damaged['labels-short']], /state\.labels has 1 labels for dim 2/],
  ['a count the shards do not hold', () => ['inspect', damaged['count-mismatch']], /shards hold 30 trajectories, generator\.count says 31/],
  ['a hostile shard name', () => ['inspect', damaged['hostile-shard-name']], /must be a plain \.npz file name/],
  ['a manifest that is not JSON', () => ['inspect', damaged['manifest-not-json']], /not valid JSON/],
  ['an empty manifest', () => ['inspect', damaged['manifest-empty']], /not valid JSON/],
  ['a manifest that is an array', () => ['inspect', damaged['manifest-array']], /invalid manifest/],
  ['a manifest of an unknown version', () => ['inspect', damaged['manifest-version-9']], /unknown dataset format version 9/],
  ['a missing manifest', () => ['inspect', damaged['manifest-missing']], /manifest\.json: missing/],
  ['a manifest that is a folder', () => ['inspect', damaged['manifest-is-folder']], /manifest\.json: cannot be read \(EISDIR\)/],
  ['an unfinished generation', () => ['inspect', damaged['incomplete']], /did not finish.*rerun the same physode generate command/],
]);

describe('inspect: damaged shards are reported ("valid NO", exit 1) with the shard, trajectory and sample', () => {
  const shardCases: Array<[string, RegExp]> = [
    ['truncated', /checksum mismatch/],
    ['truncated-resummed', /shard-\d+\.npz: /],
    ['garbage-npz', /shard-\d+\.npz: /],
    ['nan-y', /shard-\d+\.npz: array 'y' holds NaN at trajectory 2, sample 3, component 1: values must be finite/],
    ['inf-params', /shard-\d+\.npz: array 'params' holds Infinity at trajectory 0, parameter 1: values must be finite/],
    ['nan-energy', /shard-\d+\.npz: array 'energy' holds NaN at trajectory 0, sample 4: values must be finite/],
    ['missing-shard', /shard-\d+\.npz: missing/],
    ['shard-is-folder', /shard-\d+\.npz: cannot be read/],
  ];
  for (const [name, pattern] of shardCases) {
    test(name, async () => {
      const r = await physode('inspect', damaged[name]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, '', name);
      assert.match(r.stdout, /valid\s+NO/);
      assert.match(r.stdout, pattern);
      const j = await physode('inspect', damaged[name], '--json');
      assert.equal(j.code, 1);
      assert.equal(JSON.parse(j.stdout).valid, false);
    });
  }
});

cases('train: flag values', [
  ...TRAIN_NUMBERS.flatMap((flag) =>
    NOT_NUMBERS.slice(0, 3).map(([value, pattern]): Case => [`--${flag} '${value}'`, () => ['train', '--data', good, '--out', join(root, 't-never'), `--${flag}`, value], new RegExp(`--${flag} ${pattern.source}`)]),
  ),
  ['--lr 1e6 (finished "successfully" before)', () => ['train', '--data', good, '--lr', '1e6'], /--lr must be a number in \(0, 1\], got '1e6'/],
  ['--lr 2', () => ['train', '--data', good, '--lr', '2'], /--lr must be a number in \(0, 1\]/],
  ['--lr 0', () => ['train', '--data', good, '--lr', '0'], /--lr must be a number in \(0, 1\]/],
  ['--lr -1e-3', () => ['train', '--data', good, '--lr', '-1e-3'], /--lr must be a number in \(0, 1\], got '-1e-3'/],
  ['--momentum 0', () => ['train', '--data', good, '--momentum', '0'], /--momentum must be a number in \(0, 1\]/],
  ['--bn-freeze 1', () => ['train', '--data', good, '--bn-freeze', '1'], /--bn-freeze must be a number in \[0, 1\)/],
  ['--rtol 2', () => ['train', '--data', good, '--rtol', '2'], /--rtol must be a number in \(0, 1\)/],
  ['--step 0', () => ['train', '--data', good, '--step', '0'], /--step must be a number > 0/],
  ['--steps 0', () => ['train', '--data', good, '--steps', '0'], /--steps expects an integer >= 1/],
  ['--epochs 0', () => ['train', '--data', good, '--epochs', '0'], /--epochs must be a number in \(0, 1000000\]/],
  ['--steps with --epochs', () => ['train', '--data', good, '--steps', '5', '--epochs', '2'], /either --steps or --epochs/],
  ['--window 1', () => ['train', '--data', good, '--window', '1'], /--window expects an integer >= 2/],
  ['--batch-size 1 with batch norm', () => ['train', '--data', good, '--out', join(root, 't-never'), '--batch-size', '1'], /--batch-size 1 cannot train batch normalisation.*hint: use --batch-size 2/],
  ['--weight-decay -1', () => ['train', '--data', good, '--weight-decay', '-1'], /--weight-decay must be a number in \[0, 1\]/],
  ['--clip -1', () => ['train', '--data', good, '--clip', '-1'], /--clip must be a number >= 0/],
  ['--seed 2^32', () => ['train', '--data', good, '--seed', '4294967296'], /--seed must be an integer in \[0, 4294967295\]/],
  ['--norm layer', () => ['train', '--data', good, '--norm', 'layer'], /--norm 'layer' is not one of: .*tabn/],
  ['--optimizer sgd', () => ['train', '--data', good, '--optimizer', 'sgd'], /--optimizer 'sgd' is not one of/],
  ['--schedule linear', () => ['train', '--data', good, '--schedule', 'linear'], /--schedule 'linear' is not one of/],
  ['--backend cuda', () => ['train', '--data', good, '--out', join(root, 't-never'), '--backend', 'cuda'], /unknown backend 'cuda'/],
  ['--curriculum-end 2', () => ['train', '--data', good, '--curriculum-end', '2'], /--curriculum-end must be a number in \[0, 1\]/],
  ['--max-steps 0', () => ['train', '--data', good, '--max-steps', '0'], /--max-steps expects an integer >= 1/],
  ['an unknown option', () => ['train', '--data', good, '--learning-rate', '0.1'], /Unknown option '--learning-rate'/, 2],
  ['a stray argument', () => ['train', good], /unexpected argument/, 2],
  ['--lr -5 as a separate argument', () => ['train', '--data', good, '--lr', '-5'], /--lr must be a number in \(0, 1\], got '-5'/],
]);

cases('train: data and run folders', [
  ['no --data', () => ['train'], /--data DIR is required/],
  ['--data without a value', () => ['train', '--data'], /--data needs a value/, 2],
  ['--data is a file (ENOTDIR before)', () => ['train', '--data', aFile, '--out', join(root, 't-never')], /a-file\.txt is a file, not a dataset folder/],
  ['--data is missing', () => ['train', '--data', join(root, 'nothing-here'), '--out', join(root, 't-never')], /manifest\.json: missing/],
  ['--out is a file', () => ['train', '--data', good, '--out', aFile, ...SMALL], /--out .*a-file\.txt: is a file, not a folder/],
  ['--out below a file', () => ['train', '--data', good, '--out', join(aFile, 'run'), ...SMALL], /a file stands where a folder of this path should be/],
  ['--out in /proc', () => ['train', '--data', good, '--out', '/proc/physode-run', ...SMALL], /--out \/proc\/physode-run: cannot be created/],
  ['--out holds a run already', () => ['train', '--data', good, '--out', run, ...SMALL], /already holds a run.*--resume/],
  ['--out is the dataset folder', () => ['train', '--data', good, '--out', good, ...SMALL], /is not empty/],
  ['--resume with nothing to resume', () => ['train', '--data', good, '--out', join(root, 'fresh'), ...SMALL, '--resume'], /nothing to resume/],
  ['--resume with other options', () => ['train', '--data', good, '--out', run, ...SMALL, '--width', '16', '--resume'], /--resume with a different configuration \(model\.width\)/],
  ['--resume with another dataset', () => ['train', '--data', other, '--out', run, ...SMALL, '--resume'], /--resume with a different dataset.*start a new run on this dataset: drop --resume and choose another --out/],
  ['a dataset without validation trajectories', () => ['train', '--data', damaged['no-val'], '--out', join(root, 't-noval'), ...SMALL], /has no validation trajectories/],
  ...['truncated', 'truncated-resummed', 'garbage-npz', 'missing-shard', 'shard-is-folder', 'dims-disagree'].map((name): Case => [`a dataset with a damaged shard (${name})`, () => ['train', '--data', damaged[name], '--out', join(root, `t-${name}`), ...SMALL], /shard-\d+\.npz: /]),
  ['NaN in a shard with a valid checksum', () => ['train', '--data', damaged['nan-y'], '--out', join(root, 't-nan'), ...SMALL], /array 'y' holds NaN at trajectory 2, sample 3, component 1/],
  ['infinity in params with a valid checksum', () => ['train', '--data', damaged['inf-params'], '--out', join(root, 't-inf'), ...SMALL], /array 'params' holds Infinity at trajectory 0, parameter 1/],
  ['a manifest whose dimensions disagree', () => ['train', '--data', damaged['stats-short'], '--out', join(root, 't-dims'), ...SMALL], /entries for dim 2/],
  ['a hostile shard name', () => ['train', '--data', damaged['hostile-shard-name'], '--out', join(root, 't-hostile'), ...SMALL], /must be a plain \.npz file name/],
]);

cases('eval and rollout', [
  ['eval: no run', () => ['eval', '--data', good], /give exactly one run folder/],
  ['eval: no --data', () => ['eval', run], /--data DIR is required/],
  ['eval: --threshold -1', () => ['eval', run, '--data', good, '--threshold', '-1'], /--threshold must be a number > 0, got '-1'/],
  ['eval: --threshold 0', () => ['eval', run, '--data', good, '--threshold', '0'], /--threshold must be a number > 0/],
  ['eval: --threshold abc', () => ['eval', run, '--data', good, '--threshold', 'abc'], /--threshold expects a number/],
  ['eval: --outliers 2', () => ['eval', run, '--data', good, '--outliers', '2'], /--outliers must be a number in \[0, 1\]/],
  ['eval: --batch-size 0', () => ['eval', run, '--data', good, '--batch-size', '0'], /--batch-size expects an integer >= 1/],
  ['eval: --split dev', () => ['eval', run, '--data', good, '--split', 'dev'], /--split 'dev' is not one of: train, val, test/],
  ['eval: --which first', () => ['eval', run, '--data', good, '--which', 'first'], /--which 'first' is not one of: best, last/],
  ['eval: --rtol 0', () => ['eval', run, '--data', good, '--rtol', '0'], /--rtol must be a number in \(0, 1\)/],
  ['eval: --max-steps 0x10', () => ['eval', run, '--data', good, '--max-steps', '0x10'], /--max-steps expects a number/],
  ['eval: the run is missing', () => ['eval', join(root, 'no-run'), '--data', good], /no-run/],
  ['eval: the run is a file', () => ['eval', aFile, '--data', good], /a-file\.txt is a file, not a run folder/],
  ['eval: the run folder does not exist', () => ['eval', join(root, 'no-such-run'), '--data', good], /run folder .*no-such-run does not exist/],
  ['eval: --data is a file', () => ['eval', run, '--data', aFile], /a-file\.txt is a file, not a dataset folder/],
  ['eval: --data has NaN values', () => ['eval', run, '--data', damaged['nan-y'], '--split', 'train'], /array 'y' holds NaN/],
  ['rollout: no run', () => ['rollout', '--data', good], /give exactly one run folder/],
  ['rollout: no --data', () => ['rollout', run], /--data DIR is required/],
  ['rollout: --indices a', () => ['rollout', run, '--data', good, '--indices', 'a'], /--indices expects a number/],
  ['rollout: --indices 3-1', () => ['rollout', run, '--data', good, '--indices', '3-1'], /runs backwards/],
  ['rollout: --indices out of range', () => ['rollout', run, '--data', good, '--indices', '999'], /--indices 999 out of range/],
  ['rollout: --horizon -1', () => ['rollout', run, '--data', good, '--horizon', '-1'], /--horizon must be a number > 0/],
  ['rollout: --horizon 0', () => ['rollout', run, '--data', good, '--horizon', '0'], /--horizon must be a number > 0/],
  ['rollout: --step -0.1', () => ['rollout', run, '--data', good, '--step', '-0.1'], /--step must be a number > 0/],
  ['rollout: --out is a folder', () => ['rollout', run, '--data', good, '--indices', '0', '--out', root], /cannot rename .* is a folder where a file is expected|EISDIR|is a folder/],
  ['rollout: --out in /proc', () => ['rollout', run, '--data', good, '--indices', '0', '--out', '/proc/physode-x/r.npz'], /--out \/proc\/physode-x: cannot be created/],
]);

cases('the other commands and the command line itself', [
  ['an unknown command', () => ['trian'], /unknown command 'trian'.*commands: generate/, 2],
  ['reproduce: --jobs 0', () => ['reproduce', '--jobs', '0'], /--jobs expects an integer >= 1/],
  ['reproduce: --jobs 0x2', () => ['reproduce', '--jobs', '0x2'], /--jobs expects a number/],
  ['reproduce: --seeds many', () => ['reproduce', '--seeds', 'many'], /--seeds expects a number/],
  ['reproduce: --profile huge', () => ['reproduce', '--profile', 'huge'], /unknown profile 'huge'/],
  ['reproduce: --experiments nope', () => ['reproduce', '--experiments', 'nope'], /unknown experiment 'nope'/],
  ['reproduce: a stray argument', () => ['reproduce', 'now'], /unexpected argument 'now'/, 2],
  ['view: an unknown option', () => ['view', '--bogus'], /Unknown option '--bogus'/, 2],
  ['start: an unknown option', () => ['start', '--bogus'], /Unknown option '--bogus'/, 2],
  ['import: an unknown option', () => ['import', '--bogus'], /Unknown option '--bogus'/, 2],
  ['classify: an unknown option', () => ['classify', '--bogus'], /Unknown option '--bogus'/, 2],
  ['worker: an unknown option', () => ['worker', '--bogus'], /Unknown option '--bogus'/, 2],
  ['status: an unknown option', () => ['status', '--bogus'], /Unknown option '--bogus'/, 2],
  ['submit: an unknown job kind', () => ['submit', '--bogus'], /physode submit takes generate or reproduce/],
]);

describe('after all of the above', () => {
  test('the valid dataset and the valid run are unchanged, and no refused output folder was created', async () => {
    assert.deepEqual(await hashTree(good), before_.dataset);
    const now = await hashTree(run);
    // eval and rollout may add their own outputs to the run; nothing that was there changed.
    for (const [file, hash] of before_.run) assert.equal(now.get(file), hash, file);
    for (const name of ['g-never', 't-never', 'fresh', 't-noval', 't-nan', 't-inf', 't-dims', 't-hostile']) {
      await assert.rejects(stat(join(root, name)), { code: 'ENOENT' }, name);
    }
    await assert.rejects(stat('/proc/physode-x'));
  });
});
