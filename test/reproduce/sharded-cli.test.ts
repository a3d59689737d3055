/**
 * `physode reproduce --shard-index I --shard-count N` as separate processes started together (they
 * share one dataset, made once under a lock), then `--merge`: the results of a one-machine sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from '../../src/reproduce/child-process.js';
import { physodeCommand } from '../../src/reproduce/physode-command.js';
import { RESULTS_HEADER } from '../../src/reproduce/results-store.js';

const cmd = physodeCommand();
const physode = (args: string[]) => runChild(cmd.file, [...cmd.args, 'reproduce', ...args], { timeoutSeconds: 300, env: { ...process.env, PHYSODE_KERNEL_THREADS: '1' } });

/** results.csv rows without the wall-clock columns. */
async function rows(file: string): Promise<string[]> {
  const drop = new Set([RESULTS_HEADER.indexOf('train_seconds'), RESULTS_HEADER.indexOf('eval_seconds')]);
  return (await readFile(file, 'utf8')).trim().split('\n').map((l) => l.split(',').filter((_, i) => !drop.has(i)).join(','));
}

test('shares started together, then merged, give the results of one machine', { timeout: 600_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'physode-reproduce-shards-'));
  try {
    const sweep = ['--profile', 'smoke', '--systems', 'pendulum', '--experiments', 'outliers,solvers', '--jobs', '1'];
    const sharded = join(root, 'sharded');
    const shares = await Promise.all([0, 1].map((i) => physode([...sweep, '--out', sharded, '--shard-count', '2', '--shard-index', String(i)])));
    for (const s of shares) assert.equal(s.code, 0, s.stderr.slice(-2000));
    // sha256(key) mod 2 gives share 0 three of the four trainings and share 1 the fourth.
    assert.match(shares[0].stdout, /share 0 of 2: 3 of 4 trainings \(3 run now\)/);
    assert.match(shares[1].stdout, /share 1 of 2: 1 of 4 trainings \(1 run now\)/);
    await assert.rejects(readFile(join(sharded, 'results.csv')), /ENOENT/, 'shares write task records, not results.csv');
    const merged = await physode([...sweep, '--out', sharded, '--merge', '--shard-count', '2']);
    assert.equal(merged.code, 0, merged.stderr.slice(-2000));
    assert.match(merged.stdout, /runs merged \(0 failed\)/);
    assert.deepEqual(await readdir(join(sharded, 'data')), ['pendulum'], 'one dataset, no lock left behind');

    const local = join(root, 'local');
    const one = await physode([...sweep, '--out', local]);
    assert.equal(one.code, 0, one.stderr.slice(-2000));
    assert.deepEqual(await rows(join(sharded, 'results.csv')), await rows(join(local, 'results.csv')));
    assert.equal(await readFile(join(sharded, 'verdicts.json'), 'utf8'), await readFile(join(local, 'verdicts.json'), 'utf8'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
