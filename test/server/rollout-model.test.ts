/**
 * Rollouts with a real trained model: a tiny TA-BN run trained here (src/train), served by the
 * default predictor, which runs `loadRun` + `predictTrajectories` in a worker thread. The
 * server's answer must equal the library's own prediction made in this process, start at the
 * true initial state, and leave the event loop free while the worker computes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { createApp } from '../../src/server/app.js';
import { workerPredictor } from '../../src/server/predictor.js';
import { loadRun, predictTrajectories } from '../../src/train/predict.js';
import { trainTinyRun, writeFixtureDataset, writeFixtureRun, type FixtureDataset } from './fixtures.js';
import { get, listenOnLoopback } from './http.js';

let root: string;
let closeServer: (() => Promise<void>) | undefined;
let port: number;
let pend: FixtureDataset;
const worker = workerPredictor();

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'physode-rollout-'));
  pend = await writeFixtureDataset(join(root, 'datasets', 'pend'), { system: 'pendulum', perSplit: [4, 2, 2], samples: 41, tEnd: 4 });
  await writeFixtureDataset(join(root, 'datasets', 'fig8'), { system: 'nbody', options: { preset: 'figure-eight' }, perSplit: [1, 1, 1], samples: 21, tEnd: 1 });
  await trainTinyRun(pend, join(root, 'runs', 'tiny'));
  await writeFixtureRun(join(root, 'runs', 'no-model'), pend.dir);
  const app = createApp({ datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs'), predictor: worker.predict, serveViewer: false, onError: () => undefined });
  ({ port, close: closeServer } = await listenOnLoopback(app));
});

after(async () => {
  await worker.close();
  await closeServer?.();
  await rm(root, { recursive: true, force: true });
});

test("the server's rollout (worker thread) equals the library's prediction and starts at the true state", { timeout: 120_000 }, async () => {
  const started = performance.now();
  let rolloutDone = Infinity;
  const pending = get(port, '/api/runs/tiny/rollout?index=6').then((reply) => ((rolloutDone = performance.now() - started), reply));
  const health = await get(port, '/api/health');
  const healthMs = performance.now() - started;
  const r = await pending;
  assert.equal(r.status, 200, r.text);
  assert.equal(health.status, 200);
  assert.ok(healthMs < rolloutDone || healthMs < 500, `the event loop answered in ${healthMs.toFixed(0)} ms, the rollout in ${rolloutDone.toFixed(0)} ms`);
  assert.equal(r.body.dataset, 'pend');
  assert.equal(r.body.horizon, 41);
  const y0 = pend.states[6].subarray(0, 2);
  assert.ok(Math.abs(r.body.predicted[0] - y0[0]) < 1e-5 && Math.abs(r.body.predicted[1] - y0[1]) < 1e-5, 'prediction starts at y0');
  assert.ok(r.body.error[0] < 1e-5);
  assert.ok(r.body.predicted.every(Number.isFinite));

  const run = await loadRun(join(root, 'runs', 'tiny'), 'best');
  try {
    const direct = await predictTrajectories(run, ndarray(Float64Array.from(y0), [1, 2]), pend.t);
    for (let i = 0; i < 41; i++) {
      for (let j = 0; j < 2; j++) {
        const a = r.body.predicted[i * 2 + j];
        const b = direct.get(0, i, j);
        assert.ok(Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b)), `sample ${i} component ${j}: ${a} vs ${b}`);
      }
    }
  } finally {
    run.dispose();
  }
});

test('a run without a saved model gives a 422 JSON error that says so', { timeout: 60_000 }, async () => {
  const r = await get(port, '/api/runs/no-model/rollout?index=0');
  assert.equal(r.status, 422, r.text);
  assert.match(r.body.error, /model|checkpoint/i);
});

test("a rollout on a dataset whose states do not fit the run's model gives a 422 naming the sizes", { timeout: 60_000 }, async () => {
  const r = await get(port, '/api/runs/tiny/rollout?dataset=fig8&index=0');
  assert.equal(r.status, 422, r.text);
  assert.match(r.body.error, /\[1,18\].*expected \[B, 2\]/);
});
