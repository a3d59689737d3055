/**
 * A dataset of no registered system (imported .npy traces, src/data/import.ts) and a next-state
 * run trained on it (src/tasks): the server lists both, serves the trajectory in phase space
 * (the three components of largest training std, each divided by it) without energy, and the
 * worker's rollout is the model's autoregressive prediction from row 0, checked against steps
 * of the model made here one at a time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/server/app.js';
import { workerPredictor } from '../../src/server/predictor.js';
import type { Manifest } from '../../src/data/types.js';
import { ContinuousDepthModel } from '../../src/model/continuous-depth.js';
import { IMPORTED_DIM as D, IMPORTED_DT as DT, IMPORTED_SAMPLES as T, trainTinyNextStateRun, writeImportedFixture } from './fixtures.js';
import { get, listenOnLoopback } from './http.js';

let root: string;
let closeServer: (() => Promise<void>) | undefined;
let port: number;
let manifest: Manifest;
let traces: Float64Array[];
const worker = workerPredictor();

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'physode-imported-'));
  const data = await writeImportedFixture(join(root, 'traces'), join(root, 'datasets', 'cheetah'));
  ({ manifest, traces } = data);
  await trainTinyNextStateRun(data.dir, join(root, 'runs', 'ns'));
  const app = createApp({ datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs'), predictor: worker.predict, serveViewer: false, onError: () => undefined });
  ({ port, close: closeServer } = await listenOnLoopback(app));
});

after(async () => {
  await worker.close();
  await closeServer?.();
  await rm(root, { recursive: true, force: true });
});

test('an imported dataset is listed, not skipped as an unknown system', async () => {
  const r = await get(port, '/api/datasets');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.skipped, []);
  const d = r.body.datasets.find((x: { name: string }) => x.name === 'cheetah');
  assert.ok(d, r.text);
  assert.equal(d.system, 'toy-traces');
  assert.equal(d.dim, D);
  assert.equal(d.count, 6);
});

test('its trajectory is served in phase space (largest-std components over their std) with no energy', async () => {
  const r = await get(port, '/api/datasets/cheetah/trajectories/5');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.split, 'test');
  assert.equal(r.body.pointCount, 1);
  assert.equal(r.body.energy, null);
  assert.equal(r.body.system.hasEnergy, false);
  assert.deepEqual(r.body.system.phaseSpace.components, [1, 3, 2]);
  assert.deepEqual(r.body.system.phaseSpace.labels, ['b', 'd', 'c']);
  assert.equal(r.body.samples, T);
  const std = manifest.stats.std;
  for (let i = 0; i < T; i++) {
    assert.ok(Math.abs(r.body.t[i] - i * DT) < 1e-12);
    [1, 3, 2].forEach((j, k) => assert.ok(Math.abs(r.body.positions[i * 3 + k] - traces[5][i * D + j] / std[j]) < 1e-9, `sample ${i}, axis ${k}`));
  }
  assert.ok(!r.text.includes(root), 'no absolute path');
});

test('the next-state run is listed with its dataset, and its rollout is the autoregressive prediction from row 0', { timeout: 120_000 }, async () => {
  const runs = await get(port, '/api/runs');
  assert.equal(runs.status, 200, runs.text);
  const run = runs.body.runs.find((x: { id: string }) => x.id === 'ns');
  assert.ok(run, runs.text);
  assert.equal(run.dataset, 'cheetah');
  assert.ok(!runs.text.includes(root), 'no absolute path');

  const horizon = 7;
  const r = await get(port, `/api/runs/ns/rollout?index=5&horizon=${horizon}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.samples, horizon);
  assert.equal(r.body.predicted.length, horizon * D);
  assert.equal(r.body.predictedPositions.length, horizon * 3);
  assert.equal(r.body.error.length, horizon);
  assert.equal(r.body.trueEnergy, null);
  assert.equal(r.body.predictedEnergy, null);
  assert.deepEqual(r.body.t, Array.from({ length: horizon }, (_, i) => i * DT));

  // The reference: the saved model stepped here, standardised with the training statistics.
  const model = await ContinuousDepthModel.load(join(root, 'runs', 'ns', 'model'));
  try {
    const { mean, std } = manifest.stats;
    let x = Float32Array.from({ length: D }, (_, j) => (traces[5][j] - mean[j]) / std[j]);
    for (let j = 0; j < D; j++) assert.ok(Math.abs(r.body.predicted[j] - traces[5][j]) < 1e-12, 'row 0 is the true start');
    for (let h = 1; h < horizon; h++) {
      x = Float32Array.from(model.predict(x, 1).prediction);
      for (let j = 0; j < D; j++) {
        const want = x[j] * std[j] + mean[j];
        assert.ok(Math.abs(r.body.predicted[h * D + j] - want) < 1e-5 * Math.max(1, Math.abs(want)), `row ${h}, component ${j}: ${r.body.predicted[h * D + j]} vs ${want}`);
      }
    }
  } finally {
    model.dispose();
  }
  assert.ok(r.body.error[1] > 0, 'a two-step model does not reproduce the data');
});
