/**
 * `physode start` interrupted during training, as a user meets it: Ctrl-C (SIGINT) and kill -9
 * while a model/ folder from a validation already exists. The next start must resume that training
 * from its checkpoint and finish it, never reuse the half-trained model as trained. `--quick` makes
 * the demos tiny (datasets of 24 trajectories, 300 training steps).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runTs = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));
const QUICK_STEPS = 300;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `physode start --quick --no-view`; when `killWhen` is given, sends `signal` once it returns
 * true (polled every 20 ms).
 */
function start(root: string, killWhen?: { readonly ready: () => boolean; readonly signal: NodeJS.Signals }): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runTs, 'start', '--quick', '--no-view', '--datasets', join(root, 'datasets'), '--runs', join(root, 'runs')], {
      env: { ...process.env, PHYSODE_BACKEND: 'cpu' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (killWhen) {
      timer = setInterval(() => {
        if (killWhen.ready()) {
          clearInterval(timer);
          child.kill(killWhen.signal);
        }
      }, 20);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether a validation has written the run's best model (model/ appears whole, by a rename). */
function validated(run: string): boolean {
  return existsSync(join(run, 'model', 'config.json'));
}

function marker(run: string): { steps: number; learnedDynamics: boolean; meanPredictorValMse: number } | null {
  const file = join(run, 'trained.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { steps: number; learnedDynamics: boolean; meanPredictorValMse: number }) : null;
}

function lastTrainStep(run: string): number {
  const records = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number });
  return Math.max(...records.filter((r) => r.kind === 'train').map((r) => r.step));
}

const STACK_LINE = /^\s+at .+[:(]/m;

describe('physode start, interrupted and restarted', { timeout: 180_000 }, () => {
  let root: string;
  let pendulum: string;
  let double: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'physode-start-'));
    pendulum = join(root, 'runs', 'pendulum-tabn');
    double = join(root, 'runs', 'double-pendulum-tabn');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('Ctrl-C during training stops with one line and exit code 130, no stack trace, the run unfinished', async () => {
    const r = await start(root, { ready: () => validated(pendulum), signal: 'SIGINT' });
    assert.equal(r.code, 130, r.stderr);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assert.match(r.stderr, /^physode start: interrupted; run it again \(npm start\) to resume the training of .*pendulum-tabn from its checkpoint$/m);
    // The state that the "trained, reused" came from: a model from a validation, mid-training.
    assert.ok(existsSync(join(pendulum, 'model', 'config.json')));
    assert.ok(existsSync(join(pendulum, 'checkpoints', 'last')));
    assert.equal(marker(pendulum), null);
    assert.ok(lastTrainStep(pendulum) < QUICK_STEPS);
    assert.ok(!existsSync(double), 'the second demo has not started');
  });

  test('the next start resumes that training and finishes it; kill -9 during the second demo leaves it unfinished', async () => {
    const r = await start(root, { ready: () => validated(double), signal: 'SIGKILL' });
    assert.equal(r.signal, 'SIGKILL');
    assert.doesNotMatch(r.stderr, /pendulum-tabn: trained/);
    assert.match(r.stderr, /physode train --data \S+pendulum --out \S+pendulum-tabn .* --resume\n/);
    assert.match(r.stderr, /resuming from step \d+/);
    const m = marker(pendulum);
    assert.ok(m !== null, 'the resumed pendulum run is marked trained');
    assert.equal(m.steps, QUICK_STEPS);
    assert.equal(lastTrainStep(pendulum), QUICK_STEPS);
    assert.ok(Number.isFinite(m.meanPredictorValMse) && m.meanPredictorValMse > 0);
    assert.ok(existsSync(join(double, 'model', 'config.json')));
    assert.equal(marker(double), null);
  });

  test('the third start reuses the finished run and resumes the killed one to its last step', async () => {
    const r = await start(root);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assert.match(r.stderr, new RegExp(`run \\S+pendulum-tabn: trained \\(${QUICK_STEPS} steps\\), reused`));
    assert.match(r.stderr, /physode train --data \S+double-pendulum --out \S+double-pendulum-tabn .* --resume\n/);
    assert.match(r.stderr, /resuming from step [1-9]\d*/);
    const m = marker(double);
    assert.ok(m !== null);
    assert.equal(m.steps, QUICK_STEPS);
    assert.equal(lastTrainStep(double), QUICK_STEPS);
  });

  test('a finished run is not reused with a dataset that changed since it was trained', async () => {
    const manifest = join(root, 'datasets', 'pendulum', 'manifest.json');
    const original = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, `${original}\n`); // the same content, another file: its checksum differs
    try {
      const r = await start(root);
      assert.equal(r.code, 1);
      assert.doesNotMatch(r.stderr, STACK_LINE);
      assert.match(r.stderr, /pendulum-tabn was trained on another version of \S+pendulum .*hint: move \S+pendulum-tabn away to train it again/s);
      assert.equal(marker(pendulum)?.steps, QUICK_STEPS, 'the trained run is left as it was');
    } finally {
      writeFileSync(manifest, original);
    }
    const again = await start(root);
    assert.equal(again.code, 0, again.stderr);
  });
});
