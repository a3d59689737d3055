import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { physode } from '../cli/capture.js';

test('import halfcheetah, train --task next-state, eval and rollout on it, inspect it; a step limit too small is one line and exit code 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'physode-task-cli-'));
  try {
    const data = join(dir, 'hc');
    const imp = await physode('import', 'halfcheetah', '--out', data);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /25 trajectories x 1000 samples x 17 \(train 10 \(trace_0015.npy … trace_0024.npy\), val 5/);
    const ins = await physode('inspect', data);
    assert.equal(ins.code, 0);
    assert.match(ins.stdout, /valid {7}yes/);
    const run = join(dir, 'run');
    const tr = await physode('train', '--task', 'next-state', '--data', data, '--out', run, '--depth', '3', '--norm-layers', '2', '--width', '16', '--steps', '4', '--quiet');
    assert.equal(tr.code, 0, tr.stderr);
    assert.match(tr.stdout, /4 steps .* best val MAE/);
    const ev = await physode('eval', run, '--data', data, '--rollout-steps', '3');
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /one-step MAE \(raw units\)/);
    assert.ok(existsSync(join(run, 'eval-test.json')));
    const ro = await physode('rollout', run, '--data', data, '--horizon', '5', '--indices', '0,1');
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stdout, /2 trajectories x 6 steps x 17/);
    const stiff = await physode('train', '--task', 'next-state', '--data', data, '--out', join(dir, 'stiff'), '--depth', '3', '--width', '16', '--rtol', '1e-9', '--atol', '1e-10', '--max-steps', '2', '--max-recoveries', '1', '--steps', '4', '--quiet');
    assert.equal(stiff.code, 1);
    const last = stiff.stderr.trim().split('\n').pop()!;
    assert.match(last, /^physode train: training stopped at step 1: solver stopped: step limit reached .* t=.*h=.*NFE \d+; 1 recoveries did not help; hint: /);
    const bad = await physode('import', 'halfcheetah', '--out', data);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /already holds a dataset; hint: add --force/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
