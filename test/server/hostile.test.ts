/**
 * Hostile requests and hostile folders against a real server: Host headers of other origins (DNS
 * rebinding), manifests whose shard names leave the dataset folder, damaged shards, queries with
 * thousands of keys, and answers that would carry the server's absolute paths. Every refusal is a
 * 4xx JSON error of bounded size that names no server path.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createApp, type AppOptions } from '../../src/server/app.js';
import { workerPredictor } from '../../src/server/predictor.js';
import { verificationCount } from '../../src/server/shard-rows.js';
import { writeFixtureDataset, writeFixtureRun, type FixtureDataset } from './fixtures.js';
import { get, listenOnLoopback, type Reply } from './http.js';

let root: string;
let pend: FixtureDataset;
const worker = workerPredictor(60_000);

function listen(opts: Partial<AppOptions> = {}): Promise<{ port: number; close: () => Promise<void> }> {
  return listenOnLoopback(createApp({ datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs'), predictor: worker.predict, serveViewer: false, onError: () => undefined, ...opts }));
}

let port: number;
let close: () => Promise<void>;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'physode-hostile-'));
  pend = await writeFixtureDataset(join(root, 'datasets', 'pend'), { system: 'pendulum', perSplit: [3, 1, 2], samples: 51, tEnd: 5 });
  // A copy whose shard lost one byte in the middle of its states: same size, wrong checksum.
  await cp(pend.dir, join(root, 'datasets', 'damaged'), { recursive: true });
  const shard = join(root, 'datasets', 'damaged', pend.manifest.shards[0].file);
  const bytes = await readFile(shard);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await writeFile(shard, bytes);
  // Manifests naming shards outside their folder, and an absolute path.
  for (const [name, file] of [['escape', '../pend/shard-00000.npz'], ['absolute', '/etc/passwd'], ['dotdot', '..']] as const) {
    await cp(pend.dir, join(root, 'datasets', name), { recursive: true });
    const manifest = { ...pend.manifest, shards: pend.manifest.shards.map((s, i) => (i === 0 ? { ...s, file } : s)) };
    await writeFile(join(root, 'datasets', name, 'manifest.json'), JSON.stringify(manifest));
  }
  // A manifest that is not JSON, and one that is JSON but not a manifest.
  await cp(pend.dir, join(root, 'datasets', 'garbled'), { recursive: true });
  await writeFile(join(root, 'datasets', 'garbled', 'manifest.json'), '{"format": "physode-dataset", "shards": [');
  await cp(pend.dir, join(root, 'datasets', 'hollow'), { recursive: true });
  await writeFile(join(root, 'datasets', 'hollow', 'manifest.json'), JSON.stringify({ format: 'physode-dataset', version: 1, shards: [{ file: '../../../etc/passwd' }] }));
  await writeFixtureRun(join(root, 'runs', 'run-a'), pend.dir);
  await writeFile(
    join(root, 'runs', 'run-a', 'summary.json'),
    JSON.stringify({ runDir: join(root, 'runs', 'run-a'), bestValMse: 0.5, note: `copied from ${join(root, 'elsewhere', 'x')} and C:\\Users\\me\\runs` }),
  );
  ({ port, close } = await listen());
});

after(async () => {
  await close();
  await worker.close();
  await rm(root, { recursive: true, force: true });
});

/** No absolute path of the server's machine in an answer: neither the test folder nor /etc, /home, /tmp. */
function assertNoServerPath(r: Reply): void {
  assert.ok(!r.text.includes(root), `answer holds the server path ${root}: ${r.text.slice(0, 300)}`);
  assert.doesNotMatch(r.text, /(^|["'\s(=])\/(tmp|etc|home|root|usr|var|work)\b/, `answer holds an absolute path: ${r.text.slice(0, 300)}`);
  assert.doesNotMatch(r.text, /[A-Za-z]:\\\\/, `answer holds a Windows path: ${r.text.slice(0, 300)}`);
}

describe('Host header (DNS rebinding)', () => {
  for (const host of ['evil.example', 'evil.example:80', 'attacker.localhost.evil', '127.0.0.1.evil.example', '192.168.1.9', 'localhost@evil', '[::2]', 'x'.repeat(400)]) {
    test(`Host: ${host.slice(0, 40)} -> 403 with a short JSON message`, async () => {
      const r = await get(port, '/api/runs', 'GET', { host });
      assert.equal(r.status, 403, r.text);
      assert.match(r.body.error, /host|Host/);
      assert.ok(r.text.length < 400, `${r.text.length} characters`);
      assert.ok(!r.text.includes('run-a'));
    });
  }
  test('a request without a Host header is refused (by node for HTTP/1.1, by the app otherwise)', async () => {
    const r = await get(port, '/api/health', 'GET', { host: null });
    assert.ok(r.status === 400 || r.status === 403, `status ${r.status}`);
  });
  for (const host of ['localhost', `localhost:${0}`, '127.0.0.1', '127.0.0.1:8787', '[::1]', '[::1]:8787', 'LOCALHOST:1']) {
    test(`Host: ${host} is answered`, async () => {
      const r = await get(port, '/api/health', 'GET', { host });
      assert.equal(r.status, 200, r.text);
    });
  }
  test('a host given to the server (its --host) is answered, others still refused', async () => {
    const other = await listen({ allowedHosts: ['viewer.lan', '10.0.0.5'] });
    try {
      assert.equal((await get(other.port, '/api/health', 'GET', { host: 'viewer.lan:8787' })).status, 200);
      assert.equal((await get(other.port, '/api/health', 'GET', { host: '10.0.0.5' })).status, 200);
      assert.equal((await get(other.port, '/api/health', 'GET', { host: 'evil.example' })).status, 403);
    } finally {
      await other.close();
    }
  });
});

describe('damaged datasets and hostile shard names', () => {
  test('only valid datasets are listed; the others are named in `skipped` with the reason', async () => {
    const r = await get(port, '/api/datasets');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.datasets.map((d: { name: string }) => d.name), ['pend']);
    const skipped = Object.fromEntries(r.body.skipped.map((s: { name: string; reason: string }) => [s.name, s.reason]));
    assert.deepEqual(Object.keys(skipped).sort(), ['absolute', 'damaged', 'dotdot', 'escape', 'garbled', 'hollow']);
    assert.match(skipped.damaged, /checksum mismatch/);
    assert.match(skipped.escape, /shards\.0\.file|plain \.npz/);
    assert.match(skipped.garbled, /not valid JSON/);
    assertNoServerPath(r);
  });
  for (const name of ['damaged', 'escape', 'absolute', 'dotdot', 'garbled', 'hollow']) {
    for (const path of [`/api/datasets/${name}`, `/api/datasets/${name}/trajectories/0`, `/api/runs/run-a/rollout?dataset=${name}&index=0`]) {
      test(`${path} -> 4xx naming no server path`, async () => {
        const r = await get(port, path);
        assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}: ${r.text}`);
        assert.match(r.body.error, new RegExp(`'${name}' cannot be served`));
        assertNoServerPath(r);
      });
    }
  }
  test('a shard damaged after it was verified is caught when its file changes, and answers 409', async () => {
    await cp(pend.dir, join(root, 'datasets', 'later'), { recursive: true });
    assert.equal((await get(port, '/api/datasets/later/trajectories/1')).status, 200);
    const shard = join(root, 'datasets', 'later', pend.manifest.shards[0].file);
    const bytes = await readFile(shard);
    bytes[bytes.length - 100] ^= 0x01;
    await writeFile(shard, bytes);
    const r = await get(port, '/api/datasets/later/trajectories/2');
    assert.equal(r.status, 409, r.text);
    assert.match(r.body.error, /checksum mismatch/);
    assertNoServerPath(r);
    await rm(join(root, 'datasets', 'later'), { recursive: true });
  });
});

describe('values', () => {
  test('a NaN inside a shard with a valid checksum answers 422 naming the trajectory and sample; other trajectories still load', async () => {
    const dir = join(root, 'datasets', 'nan');
    await cp(pend.dir, dir, { recursive: true });
    const entry = pend.manifest.shards[0];
    const shard = join(dir, entry.file);
    const bytes = await readFile(shard);
    // State 1 of sample 7 of trajectory 1 (global index 1, row 1 of the train shard).
    const target = Buffer.from(Float64Array.of(pend.states[1][7 * 2 + 1]).buffer);
    const at = bytes.indexOf(target);
    assert.ok(at > 0 && bytes.indexOf(target, at + 1) < 0, 'the value occurs once in the shard');
    Buffer.from(Float64Array.of(Number.NaN).buffer).copy(bytes, at);
    await writeFile(shard, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...pend.manifest, shards: pend.manifest.shards.map((s, i) => (i === 0 ? { ...s, sha256 } : s)) }));
    const bad = await get(port, '/api/datasets/nan/trajectories/1');
    assert.equal(bad.status, 422, bad.text);
    assert.match(bad.body.error, /trajectory 1 of dataset 'nan'.*NaN at sample 7, component 1/);
    assertNoServerPath(bad);
    assert.equal((await get(port, '/api/datasets/nan/trajectories/0')).status, 200);
    await rm(dir, { recursive: true });
  });
});

describe('shards are verified once per file version and read by row', () => {
  test('many trajectory requests hash the shard once; a rewritten file is verified again', async () => {
    await cp(pend.dir, join(root, 'datasets', 'once'), { recursive: true });
    const before = verificationCount;
    for (let i = 0; i < 3; i++) {
      const replies = await Promise.all([0, 1, 2].map((k) => get(port, `/api/datasets/once/trajectories/${k}`)));
      for (const r of replies) assert.equal(r.status, 200, r.text);
    }
    await get(port, '/api/datasets');
    const shards = pend.manifest.shards.length;
    assert.equal(verificationCount - before, shards, 'each shard verified once (the listing checks them all)');
    const shard = join(root, 'datasets', 'once', pend.manifest.shards[0].file);
    const later = new Date(Date.now() + 5000);
    await utimes(shard, later, later);
    assert.equal((await get(port, '/api/datasets/once/trajectories/0')).status, 200);
    assert.equal(verificationCount - before, shards + 1, 'a changed modification time means a new verification of that shard');
    await rm(join(root, 'datasets', 'once'), { recursive: true });
  });
  test('the rows read are the stored trajectory (every index, every split)', async () => {
    for (let g = 0; g < pend.states.length; g++) {
      const r = await get(port, `/api/datasets/pend/trajectories/${g}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.states, Array.from(pend.states[g]));
      assert.deepEqual(r.body.params, Array.from(pend.params[g]));
      assert.deepEqual(r.body.t, Array.from(pend.t));
    }
  });
});

describe('error messages are bounded', () => {
  test('a query with 1,500 keys gets a short 400', async () => {
    const query = Array.from({ length: 1500 }, (_, i) => `key${i}=1`).join('&');
    for (const path of [`/api/datasets/pend/trajectories/0?${query}`, `/api/runs/run-a/rollout?index=0&${query}`]) {
      const r = await get(port, path);
      assert.equal(r.status, 400);
      assert.match(r.body.error, /unknown parameters 'key0', 'key1'.* and \d+ more/);
      assert.ok(r.text.length < 400, `${r.text.length} characters`);
    }
  });
  test('long names, values and routes are cut in the message', async () => {
    const long = 'a'.repeat(5000);
    for (const path of [`/api/datasets/${long}`, `/api/runs/${long}`, `/api/${long}`, `/${long}`, `/api/datasets/pend/trajectories/0?every=${'9'.repeat(3000)}`, `/api/runs/run-a/rollout?index=0&dataset=${long}`]) {
      const r = await get(port, path);
      assert.ok(r.status >= 400 && r.status < 500, `${r.status}`);
      assert.ok(r.text.length < 500, `${path.slice(0, 30)}: ${r.text.length} characters`);
    }
  });
});

describe('no absolute server path in any answer', () => {
  test('listings, run details and dataset details carry public paths only', async () => {
    for (const path of ['/api/datasets', '/api/datasets/pend', '/api/runs', '/api/runs/run-a', '/api/health']) {
      const r = await get(port, path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assertNoServerPath(r);
    }
    const run = await get(port, '/api/runs/run-a');
    assert.equal(run.body.fullConfig.dataset.path, 'datasets/pend');
    assert.equal(run.body.summary.runDir, 'runs/run-a');
  });
  test('a model that cannot be loaded (the real worker) answers 422 without the run folder path', { timeout: 120_000 }, async () => {
    const r = await get(port, '/api/runs/run-a/rollout?index=0');
    assert.equal(r.status, 422, r.text);
    assertNoServerPath(r);
  });
});
