/**
 * Static sharding for job arrays: `physode generate --shard-index I --shard-count N` in separate
 * processes, then `--finalize`, gives the bytes of a single-machine `physode generate`; a missing
 * or damaged shard stops the finalizer with the shares to rerun; the index comes from the
 * schedulers' environment variables.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveShare, inShare } from '../../src/generate/share.js';
import { InvalidArgumentError } from '../../src/util/errors.js';

const mainUrl = new URL('../../src/cli/main.ts', import.meta.url).href;
const code = (args: string[]) => `const { main } = await import(${JSON.stringify(mainUrl)}); process.exitCode = await main(${JSON.stringify(args)});`;
function physode(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code(args)], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** Runs the CLI in a child process without blocking this one (so several run at once). */
function physodeAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code(args)], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}
function hashes(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

const ARGS = ['pendulum', '--count', '37', '--samples', '12', '--t-end', '1.5', '--shard-size', '4', '--noise', '0.01', '--seed', '9', '--workers', '1', '--quiet'];
let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'physode-shard-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('physode generate --shard-index/--shard-count/--finalize', () => {
  test('shares run as separate processes, then finalized, give the single-machine bytes', async () => {
    const whole = join(root, 'whole');
    const g = physode(['generate', ...ARGS, '--out', whole]);
    assert.equal(g.status, 0, g.stderr);
    const sharded = join(root, 'sharded');
    const N = 3;
    // Indices from the flag, and from the environment of Kubernetes, Slurm and AWS Batch.
    const runs = await Promise.all([
      physodeAsync(['generate', ...ARGS, '--out', sharded, '--shard-index', '0', '--shard-count', String(N)]),
      physodeAsync(['generate', ...ARGS, '--out', sharded, '--shard-count', String(N)], { JOB_COMPLETION_INDEX: '1' }),
      physodeAsync(['generate', ...ARGS, '--out', sharded, '--shard-count', String(N)], { SLURM_ARRAY_TASK_ID: '2' }),
    ]);
    for (const r of runs) assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(sharded, 'manifest.json'), 'utf8')) as { complete: boolean; shards: unknown[] };
    assert.equal(manifest.complete, false, 'the shares alone do not make a finished dataset');
    const f = physode(['generate', ...ARGS, '--out', sharded, '--finalize', '--shard-count', String(N)]);
    assert.equal(f.status, 0, f.stderr);
    assert.deepEqual(hashes(sharded), hashes(whole));
    assert.equal(Object.keys(hashes(whole)).length, 11, '10 shards and the manifest');
    const i = physode(['inspect', sharded]);
    assert.match(i.stdout, /valid\s+yes/);
  });

  test('the finalizer refuses a missing or damaged shard and names the share to rerun; rerunning that share repairs it', () => {
    const dir = join(root, 'partial');
    for (const index of ['0', '1']) assert.equal(physode(['generate', ...ARGS, '--out', dir, '--shard-count', '2'], { AWS_BATCH_JOB_ARRAY_INDEX: index }).status, 0);
    rmSync(join(dir, 'shard-00003.npz'));
    const bytes = readFileSync(join(dir, 'shard-00004.npz'));
    writeFileSync(join(dir, 'shard-00004.npz'), bytes.subarray(0, bytes.length - 100));
    const f = physode(['generate', ...ARGS, '--out', dir, '--finalize', '--shard-count', '2']);
    assert.equal(f.status, 1);
    assert.match(f.stderr, /2 of 10 shards are missing or damaged .*shard-00003\.npz, shard-00004\.npz.*manifest was not written/);
    assert.match(f.stderr, /hint: rerun --shard-index 0, 1 of --shard-count 2/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).complete, false);
    assert.equal(existsSync(join(dir, 'shard-00004.npz')), false, 'the damaged shard is removed, not left as if finished');
    for (const index of ['0', '1']) assert.equal(physode(['generate', ...ARGS, '--out', dir, '--shard-count', '2'], { PHYSODE_SHARD_INDEX: index }).status, 0);
    assert.equal(physode(['generate', ...ARGS, '--out', dir, '--finalize']).status, 0);
    assert.deepEqual(hashes(dir), hashes(join(root, 'whole')));
  });

  test('a share refuses a folder of a different dataset, and bad indices are one-line errors', () => {
    const dir = join(root, 'whole');
    const other = physode(['generate', ...ARGS.map((a) => (a === '9' ? '10' : a)), '--out', dir, '--shard-index', '0', '--shard-count', '2']);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /holds a different dataset/);
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--shard-index', '2', '--shard-count', '2'], {}, /shard index 2 is not below --shard-count 2/],
      [['--shard-index', '0'], {}, /--shard-index needs --shard-count/],
      [['--shard-count', '2'], { JOB_COMPLETION_INDEX: '', SLURM_ARRAY_TASK_ID: '', AWS_BATCH_JOB_ARRAY_INDEX: '', PHYSODE_SHARD_INDEX: '' }, /--shard-count without a shard index/],
      [['--shard-count', '2'], { SLURM_ARRAY_TASK_ID: 'x' }, /SLURM_ARRAY_TASK_ID must be an integer >= 0, got 'x'/],
    ];
    for (const [flags, env, pattern] of cases) {
      const r = physode(['generate', ...ARGS, '--out', join(root, 'never'), ...flags], env);
      assert.equal(r.status, 1, flags.join(' '));
      assert.match(r.stderr, pattern);
    }
    const fin = physode(['generate', ...ARGS, '--out', join(root, 'empty'), '--finalize']);
    assert.match(fin.stderr, /holds no shards to finalize/);
  });
});

describe('resolveShare and inShare', () => {
  test('the flag wins over the environment; the first set variable gives the index', () => {
    assert.equal(resolveShare({}), undefined);
    assert.deepEqual(resolveShare({ index: '1', count: '4' }, { JOB_COMPLETION_INDEX: '3' }), { index: 1, count: 4 });
    assert.deepEqual(resolveShare({ count: '4' }, { SLURM_ARRAY_TASK_ID: '2', PHYSODE_SHARD_INDEX: '0' }), { index: 2, count: 4 });
    assert.throws(() => resolveShare({ index: '-1', count: '4' }, {}), InvalidArgumentError);
  });

  test('every position belongs to exactly one share', () => {
    for (const count of [1, 2, 3, 7]) {
      for (let i = 0; i < 50; i++) assert.equal([...Array(count).keys()].filter((index) => inShare(i, { index, count })).length, 1);
    }
  });
});
