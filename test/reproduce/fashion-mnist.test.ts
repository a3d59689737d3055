import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.js';
import { FASHION_PROFILES, planFashionRuns, runFashionMnist } from '../../src/reproduce/fashion-mnist.js';
import { writeFashionReport } from '../../src/reproduce/fashion-mnist-report.js';
import { parseCsv } from '../../src/reproduce/csv.js';
import { Rng } from '../../src/util/rng.js';

/** An IDX folder of 8 × 8 images: class c lights row c (a learnable set), noise elsewhere. */
function writeImages(dir: string, rng: Rng): void {
  const make = (n: number) => {
    const pixels = new Uint8Array(n * 64);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 10;
      labels[i] = c;
      for (let p = 0; p < 64; p++) pixels[i * 64 + p] = Math.floor(60 * rng.uniform()) + (Math.floor(p / 8) === c % 8 ? 180 : 0);
    }
    return { pixels, labels };
  };
  const train = make(200);
  const testSet = make(80);
  const put = (name: string, type: 'images' | 'labels', d: { pixels: Uint8Array; labels: Uint8Array }, n: number) =>
    writeFileSync(join(dir, `${name}.gz`), gzipSync(encodeIdx(type === 'images' ? { type: 'uint8', shape: [n, 8, 8], data: d.pixels } : { type: 'uint8', shape: [n], data: d.labels })));
  put('train-images-idx3-ubyte', 'images', train, 200);
  put('train-labels-idx1-ubyte', 'labels', train, 200);
  put('t10k-images-idx3-ubyte', 'images', testSet, 80);
  put('t10k-labels-idx1-ubyte', 'labels', testSet, 80);
}

describe('reproduce --experiment fashion-mnist (smoke profile, hand-made IDX data)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'physode-fmnist-'));
    writeImages(join(dir), new Rng(3));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the plan: every normalisation × solver × seed, ids unique', () => {
    for (const p of Object.values(FASHION_PROFILES)) {
      const plan = planFashionRuns(p);
      assert.equal(plan.length, p.solvers.reduce((a, s) => a + s.seeds.length, 0) * p.norms.length);
      assert.equal(new Set(plan.map((r) => r.id)).size, plan.length);
      assert.ok(p.solvers.every((s) => s.seeds.length >= (p.name === 'full' ? 3 : 1)));
    }
  });

  test('runs every classify child, resumes without rerunning, writes report, results and plots', { timeout: 600_000 }, async () => {
    const out = join(dir, 'out');
    const profile = FASHION_PROFILES.smoke;
    const first = await runFashionMnist({ out, profile, from: dir, verify: false, env: { PHYSODE_KERNEL_THREADS: '1' } });
    assert.deepEqual(first.filter((o) => !o.eval).map((o) => `${o.spec.id}: ${o.failure}`), []);
    assert.ok(first.every((o) => o.ranNow));
    const again = await runFashionMnist({ out, profile, from: dir, verify: false });
    assert.ok(again.every((o) => !o.ranNow && o.eval), 'a finished run is kept');
    const r = await writeFashionReport({ out, profile, outcomes: again, commandLine: 'test', environment: {} });
    const report = readFileSync(r.reportFile, 'utf8');
    for (const norm of ['none', 'minibatch', 'popti', 'tabn']) assert.match(report, new RegExp(`\\| ${norm} \\| \\d`));
    assert.match(report, /\| test batch 2 \|/);
    assert.match(report, /Claim 1 .*\| \*\*(holds|does not hold|inconclusive)\*\*/);
    for (const f of ['accuracy-vs-batch-size.svg', 'misclassified.svg']) assert.ok(existsSync(join(out, 'plots', f)), f);
    const rows = parseCsv(readFileSync(r.resultsFile, 'utf8'));
    assert.equal(rows.length, 1 + first.length);
    // Fixed-step Euler: tabn's and popti's predictions do not move with the test batch.
    for (const o of again.filter((x) => x.spec.solver.method === 'euler' && (x.spec.norm === 'tabn' || x.spec.norm === 'popti'))) {
      assert.equal(o.eval!.predictionsChanged, 0, o.spec.id);
      assert.equal(o.eval!.test['2'].accuracy, o.eval!.test['32'].accuracy, o.spec.id);
    }
  });
});
