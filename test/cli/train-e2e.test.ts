/**
 * `physode train`, `eval` and `rollout` end to end, as child processes, on a small generated pendulum
 * dataset: exit codes, files, --json output, and the refusals.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDataset } from '../../src/generate/index.js';
import { decodeNpz } from '../../src/data/npz.js';

const runTs = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));

function physode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', runTs, ...args], { env: { ...process.env, PHYSODE_BACKEND: 'cpu' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const small = ['--steps', '12', '--width', '8', '--window', '5', '--batch-size', '8', '--val-every', '6', '--checkpoint-every', '6', '--log-every', '3', '--warmup', '2', '--quiet'];

describe('physode train / eval / rollout', () => {
  let root: string;
  let data: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'physode-cli-'));
    data = join(root, 'pendulum');
    await generateDataset({ system: 'pendulum', out: data, count: 30, samples: 25, tEnd: 2.4, workers: 1 });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('train writes a run; eval --batch-size 1 works for tabn and matches one-batch evaluation; rollout writes rollouts.npz', async () => {
    const run = join(root, 'tabn');
    const t = await physode(['train', '--data', data, '--out', run, ...small]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /12\/12 steps, best val rollout MSE/);
    const files = await readdir(run);
    for (const f of ['config.json', 'metrics.jsonl', 'model', 'checkpoints', 'loss.svg', 'tabn-mean.svg']) assert.ok(files.includes(f), f);
    const cfg = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    assert.match(cfg.dataset.manifestSha256, /^[0-9a-f]{64}$/);

    const one = await physode(['eval', run, '--data', data, '--batch-size', '1', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const all = await physode(['eval', run, '--data', data, '--json']);
    const a = JSON.parse(one.stdout);
    const b = JSON.parse(all.stdout);
    assert.equal(a.batchSize, 1);
    assert.equal(a.batches, b.trajectories);
    assert.ok(Math.abs(a.rolloutMse - b.rolloutMse) <= 1e-6 * b.rolloutMse, `${a.rolloutMse} vs ${b.rolloutMse}`);
    assert.ok(typeof a.validPredictionTime === 'number' && typeof a.energyDrift === 'number' && a.nfePerRollout > 0);

    const r = await physode(['rollout', run, '--data', data, '--indices', '0,2', '--horizon', '4']);
    assert.equal(r.code, 0, r.stderr);
    const npz = decodeNpz(new Uint8Array(await readFile(join(run, 'rollouts.npz'))), 'rollouts.npz');
    assert.deepEqual(npz.y_pred.shape, [2, 41, 2]);
    assert.deepEqual(npz.y_true.shape, [2, 41, 2]);
    assert.ok(Number.isNaN(npz.y_true.data[2 * 41 * 2 - 1]), 'no truth past the data');
    assert.ok(Number.isFinite(npz.y_pred.data[2 * 41 * 2 - 1]));
  });

  test('eval refuses --batch-size 1 for a minibatch model with a one-line reason and exit code 1', async () => {
    const run = join(root, 'minibatch');
    assert.equal((await physode(['train', '--data', data, '--out', run, '--norm', 'minibatch', ...small])).code, 0);
    const e = await physode(['eval', run, '--data', data, '--batch-size', '1']);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /--batch-size 1 cannot evaluate a 'minibatch' model/);
    assert.match(e.stderr, /hint: use --batch-size 2 or more/);
  });

  test('a divergence beyond the allowed recoveries stops with a clear message and a non-zero exit', async () => {
    const run = join(root, 'nan');
    const d = await physode(['train', '--data', data, '--out', run, ...small, '--inject-nan-at', '8', '--max-recoveries', '0']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /training diverged at step 8 \(loss is NaN\)/);
    // The checkpoint of step 6 is intact and resumable.
    const resumed = await physode(['train', '--data', data, '--out', run, ...small, '--max-recoveries', '0', '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
  });
});
