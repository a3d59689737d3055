/**
 * The viewer's JSON API against a real server on an ephemeral port: listings, trajectories,
 * rollouts (with a stand-in model whose prediction is known: it stays at the initial state),
 * caching and concurrency, and every kind of bad input, path traversal in its encodings included.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/server/app.js';
import type { Predictor } from '../../src/server/predictor.js';
import { writeFixtureDataset, writeFixtureRun, type FixtureDataset } from './fixtures.js';
import { get } from './http.js';

let root: string;
let server: Server;
let port: number;
let pend: FixtureDataset;
let fig8: FixtureDataset;
let predictorCalls = 0;
let predictorDelayMs = 0;

/** The stand-in model: predicts that the state never leaves y0. */
const frozen: Predictor = async (req) => {
  predictorCalls++;
  if (predictorDelayMs > 0) await new Promise((r) => setTimeout(r, predictorDelayMs));
  const out = new Float64Array(req.batch * req.t.length * req.dim);
  for (let b = 0; b < req.batch; b++) {
    for (let i = 0; i < req.t.length; i++) out.set(req.y0.subarray(b * req.dim, (b + 1) * req.dim), (b * req.t.length + i) * req.dim);
  }
  return out;
};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'physode-api-'));
  pend = await writeFixtureDataset(join(root, 'datasets', 'pend'), { system: 'pendulum', perSplit: [3, 1, 2], samples: 101, tEnd: 5 });
  fig8 = await writeFixtureDataset(join(root, 'datasets', 'fig8'), { system: 'nbody', options: { preset: 'figure-eight' }, perSplit: [2, 1, 1], samples: 81, tEnd: 6.32591398 });
  await mkdir(join(root, 'datasets', 'junk'), { recursive: true }); // no manifest: not a dataset
  await writeFile(join(root, 'secret.txt'), 'TOP-SECRET');
  await writeFixtureRun(join(root, 'runs', 'run-a'), pend.dir);
  await writeFixtureRun(join(root, 'runs', 'run-b'), join(root, 'elsewhere', 'gone'));
  const app = createApp({ datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs'), predictor: frozen, serveViewer: false, onError: () => undefined });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(root, { recursive: true, force: true });
});

const rms = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0) / a.length);

describe('listings', () => {
  test('GET /api/datasets lists the folders holding a manifest, with their summaries', async () => {
    const r = await get(port, '/api/datasets');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.datasets.map((d: { name: string }) => d.name), ['fig8', 'pend']);
    const p = r.body.datasets.find((d: { name: string }) => d.name === 'pend');
    assert.equal(p.system, 'pendulum');
    assert.equal(p.count, 6);
    assert.equal(p.dim, 2);
    assert.deepEqual(p.splits, { train: 3, val: 1, test: 2 });
    assert.deepEqual(p.stateLabels, ['theta', 'omega']);
  });

  test('GET /api/runs/:id adds the whole config.json; GET /api/health answers', async () => {
    const r = await get(port, '/api/runs/run-a');
    assert.equal(r.status, 200);
    assert.equal(r.body.fullConfig.format, 'physode-run');
    assert.equal(r.body.fullConfig.dataset.path, 'datasets/pend', 'the dataset folder in its public form, not the server path');
    const h = await get(port, '/api/health');
    assert.equal(h.body.ok, true);
  });

  test('GET /api/datasets/:name returns the whole manifest', async () => {
    const r = await get(port, '/api/datasets/fig8');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.manifest, fig8.manifest);
  });

  test('GET /api/runs lists runs with the listed dataset they were trained on and their last metrics', async () => {
    const r = await get(port, '/api/runs');
    assert.equal(r.status, 200);
    const byId = Object.fromEntries(r.body.runs.map((x: { id: string }) => [x.id, x]));
    assert.deepEqual(Object.keys(byId).sort(), ['run-a', 'run-b']);
    assert.equal(byId['run-a'].dataset, 'pend');
    assert.equal(byId['run-b'].dataset, null);
    assert.equal(byId['run-a'].metrics.loss, 0.0123);
    assert.equal(byId['run-a'].config['config.model.norm'], 'tabn');
  });
});

describe('trajectories', () => {
  test('a pendulum trajectory returns the stored states, times and energies, and a bob at distance L from the pivot', async () => {
    const r = await get(port, '/api/datasets/pend/trajectories/4');
    assert.equal(r.status, 200);
    assert.equal(r.body.split, 'test');
    assert.equal(r.body.samples, 101);
    assert.deepEqual(r.body.t, Array.from(pend.t));
    assert.deepEqual(r.body.states, Array.from(pend.states[4]));
    const [L, g] = pend.params[4];
    assert.equal(r.body.pointCount, 2);
    for (let i = 0; i < 101; i++) {
      const [theta, omega] = [pend.states[4][2 * i], pend.states[4][2 * i + 1]];
      // DATASET.md: energy per unit mass 0.5 L^2 omega^2 - g L cos(theta).
      assert.ok(Math.abs(r.body.energy[i] - (0.5 * L * L * omega * omega - g * L * Math.cos(theta))) < 1e-9);
      const [px, py, pz, bx, by, bz] = r.body.positions.slice(6 * i, 6 * i + 6);
      assert.ok(Math.abs(Math.hypot(bx - px, by - py, bz - pz) - L) < 1e-9, 'rod length is L');
    }
  });

  test('an n-body trajectory places each body at its state position', async () => {
    const r = await get(port, '/api/datasets/fig8/trajectories/0');
    assert.equal(r.status, 200);
    assert.equal(r.body.pointCount, 3);
    const s = fig8.states[0];
    // (+ 0 turns -0, which JSON cannot carry, into 0)
    for (const i of [0, 40, 80]) assert.deepEqual(r.body.positions.slice(9 * i, 9 * i + 9), Array.from(s.subarray(18 * i, 18 * i + 9), (v) => v + 0));
  });

  test('?every=k keeps every k-th sample and the last; ?max=n keeps at most n', async () => {
    const every = await get(port, '/api/datasets/pend/trajectories/0?every=10');
    assert.equal(every.status, 200);
    assert.deepEqual(every.body.t, Array.from({ length: 11 }, (_, i) => pend.t[10 * i]));
    assert.equal(every.body.states.length, 22);
    assert.equal(every.body.positions.length, 11 * 6);
    const max = await get(port, '/api/datasets/pend/trajectories/0?max=7');
    assert.ok(max.body.samples <= 7 && max.body.samples >= 2);
    assert.equal(max.body.t[0], 0);
    assert.equal(max.body.t.at(-1), 5);
  });
});

describe('rollouts', () => {
  test('a rollout reports error and energy against the truth (stand-in model frozen at y0)', async () => {
    const before = predictorCalls;
    const r = await get(port, '/api/runs/run-a/rollout?index=1&horizon=60');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.dataset, 'pend');
    assert.equal(r.body.samples, 60);
    assert.equal(r.body.cached, false);
    const y = pend.states[1];
    const std = pend.manifest.stats.std;
    const [L, g] = pend.params[1];
    const e0 = 0.5 * L * L * y[1] * y[1] - g * L * Math.cos(y[0]);
    for (let i = 0; i < 60; i++) {
      const expected = rms([(y[0] - y[2 * i]) / std[0], (y[1] - y[2 * i + 1]) / std[1]]);
      assert.ok(Math.abs(r.body.error[i] - expected) < 1e-12, `error at sample ${i}`);
      assert.ok(Math.abs(r.body.predictedEnergy[i] - e0) < 1e-12, 'a frozen state keeps its energy');
      assert.deepEqual(r.body.predicted.slice(2 * i, 2 * i + 2), [y[0], y[1]]);
    }
    assert.equal(r.body.error[0], 0);
    assert.deepEqual(r.body.pointError.slice(0, 2), [0, 0]);
    assert.ok(r.body.error[59] > 0);
    assert.equal(predictorCalls, before + 1);
    const again = await get(port, '/api/runs/run-a/rollout?index=1&horizon=60&every=5');
    assert.equal(again.body.cached, true);
    assert.equal(again.body.samples, 13, 'samples 0, 5, ..., 55 and the last, 59');
    assert.equal(predictorCalls, before + 1, 'served from the cache');
  });

  test('the dataset of a rollout can be chosen, and defaults the horizon to the whole trajectory', async () => {
    const r = await get(port, '/api/runs/run-b/rollout?dataset=fig8&index=3');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.horizon, 81);
    assert.equal(r.body.pointError.length, 81 * 3);
  });

  test('identical concurrent rollouts share one computation while the server keeps answering', async () => {
    predictorDelayMs = 300;
    const before = predictorCalls;
    try {
      const pending = Array.from({ length: 6 }, () => get(port, '/api/runs/run-a/rollout?index=2&horizon=50'));
      const started = performance.now();
      const health = await get(port, '/api/health');
      const healthMs = performance.now() - started;
      const replies = await Promise.all(pending);
      assert.equal(health.status, 200);
      assert.ok(healthMs < 250, `health answered in ${healthMs.toFixed(0)} ms while rollouts ran`);
      assert.ok(replies.every((r) => r.status === 200));
      assert.equal(predictorCalls, before + 1);
    } finally {
      predictorDelayMs = 0;
    }
  });

  test('many distinct concurrent rollouts answer 200 or a 503 JSON error, and the server stays up', async () => {
    predictorDelayMs = 200;
    try {
      const replies = await Promise.all(Array.from({ length: 14 }, (_, k) => get(port, `/api/runs/run-a/rollout?index=0&horizon=${10 + k}`)));
      for (const r of replies) {
        assert.ok(r.status === 200 || (r.status === 503 && typeof r.body.error === 'string'), `status ${r.status}`);
      }
      assert.ok(replies.filter((r) => r.status === 200).length >= 8);
      assert.equal((await get(port, '/api/health')).status, 200);
    } finally {
      predictorDelayMs = 0;
    }
  });
});

describe('bad input gives a 4xx JSON error that says what was wrong', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['/api/datasets/nope', 404, /unknown dataset 'nope'.*fig8, pend/],
    ['/api/datasets/nope/trajectories/0', 404, /unknown dataset/],
    ['/api/datasets/pend/trajectories/6', 400, /out of range.*0\.\.5/],
    ['/api/datasets/pend/trajectories/-1', 400, /trajectory index.*whole number/],
    ['/api/datasets/pend/trajectories/abc', 400, /whole number/],
    ['/api/datasets/pend/trajectories/1.5', 400, /whole number/],
    ['/api/datasets/pend/trajectories/0?every=0', 400, /'every'/],
    ['/api/datasets/pend/trajectories/0?every=abc', 400, /'every'.*whole number/],
    ['/api/datasets/pend/trajectories/0?max=1', 400, /'max'/],
    ['/api/datasets/pend/trajectories/0?every=2&max=5', 400, /not both/],
    ['/api/datasets/pend/trajectories/0?bogus=1', 400, /bogus/],
    ['/api/datasets/pend/trajectories/0?every=1&every=2', 400, /'every'/],
    ['/api/runs/nope/rollout?index=0', 404, /unknown run 'nope'.*run-a, run-b/],
    ['/api/runs/run-a/rollout', 400, /'index'/],
    ['/api/runs/run-a/rollout?index=99', 400, /out of range/],
    ['/api/runs/run-a/rollout?index=0&horizon=0', 400, /'horizon'/],
    ['/api/runs/run-a/rollout?index=0&horizon=1', 400, /'horizon'.*at least 2/],
    ['/api/runs/run-a/rollout?index=0&horizon=102', 400, /'horizon'.*102 exceeds the 101 samples/],
    ['/api/runs/run-a/rollout?index=0&horizon=99999999', 400, /'horizon'/],
    ['/api/runs/run-a/rollout?index=0&horizon=1e3', 400, /'horizon'.*whole number/],
    ['/api/runs/run-b/rollout?index=0', 400, /not in the listing; pass \?dataset=NAME/],
    ['/api/runs/run-a/rollout?index=0&dataset=nope', 404, /unknown dataset 'nope'/],
    ['/api/nothing', 404, /no API route GET \/nothing/],
  ];
  for (const [path, status, message] of cases) {
    test(`${path} -> ${status}`, async () => {
      const r = await get(port, path);
      assert.equal(r.status, status, r.text);
      assert.match(r.headers['content-type'] as string, /application\/json/);
      assert.match(r.body.error, message);
    });
  }

  test('POST to the API is refused with a JSON 404', async () => {
    const r = await get(port, '/api/datasets', 'POST');
    assert.equal(r.status, 404);
    assert.match(r.body.error, /no API route POST/);
  });
});

describe('path traversal is refused in every encoding, and nothing outside the listing is read', () => {
  const attempts = [
    '/api/datasets/../../secret.txt',
    '/api/datasets/..%2f..%2fsecret.txt',
    '/api/datasets/..%2F..%2Fsecret.txt',
    '/api/datasets/%2e%2e',
    '/api/datasets/%2E%2E/trajectories/0',
    '/api/datasets/%2e%2e%2fsecret.txt',
    '/api/datasets/..%5csecret.txt',
    '/api/datasets/..\\secret.txt',
    '/api/datasets/%2fetc%2fpasswd',
    '/api/datasets//etc/passwd',
    '/api/datasets/pend%00',
    '/api/datasets/.hidden',
    '/api/datasets/..',
    '/api/runs/..%2F..%2Fdatasets%2Fpend',
    '/api/runs/..%252f..%252fsecret.txt',
    '/api/runs/run-a/rollout?index=0&dataset=..%2Fdatasets%2Fpend',
    '/api/runs/run-a/rollout?index=0&dataset=%2Fetc%2Fpasswd',
    '/api/runs/run-a/rollout?index=0&dataset=C:%5Cwindows',
    '/api/runs/run-a/rollout?index=0&dataset=..',
    '/%2e%2e/secret.txt',
    '/../secret.txt',
  ];
  for (const path of attempts) {
    test(`${path} -> 400`, async () => {
      const r = await get(port, path);
      assert.equal(r.status, 400, r.text);
      assert.equal(typeof r.body.error, 'string');
      assert.ok(!r.text.includes('TOP-SECRET'));
    });
  }
});

describe('the page', () => {
  test('the app serves the bundled viewer itself: index.html, main.js and main.css, no CDN', { timeout: 60_000 }, async () => {
    const app = createApp({ datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs'), predictor: frozen });
    const page = app.listen(0, '127.0.0.1');
    await new Promise((r) => page.once('listening', r));
    const p = (page.address() as AddressInfo).port;
    try {
      const html = await get(p, '/');
      assert.equal(html.status, 200);
      assert.match(html.headers['content-type'] as string, /text\/html/);
      assert.match(html.text, /<script type="module" src="main.js">/);
      assert.doesNotMatch(html.text, /(src|href)="(https?:)?\/\//);
      const js = await get(p, '/main.js');
      assert.equal(js.status, 200);
      assert.match(js.headers['content-type'] as string, /javascript/);
      assert.ok(js.text.length > 100_000, 'three.js and uPlot are in the bundle');
      assert.equal((await get(p, '/main.css')).status, 200);
      assert.equal((await get(p, '/nothing.js')).status, 404);
    } finally {
      page.closeAllConnections();
      await new Promise((r) => page.close(r));
    }
  });
});

describe('security headers', () => {
  test('helmet headers are set and the CSP allows only this origin plus blob: images', async () => {
    const r = await get(port, '/api/health');
    const csp = r.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /img-src 'self' data: blob:/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-powered-by'], undefined);
  });
});
