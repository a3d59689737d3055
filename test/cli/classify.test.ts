import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.js';
import { physode } from './capture.js';

/** One line of error and a hint, exit code 1 or 2, nothing on stdout. */
function assertOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
  assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
}

describe('physode classify', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'physode-classify-cli-'));
    // 6 × 6 images of 10 classes: class c brightens row c mod 6.
    const make = (n: number) => ({
      pixels: Uint8Array.from({ length: n * 36 }, (_, k) => (Math.floor((k % 36) / 6) === Math.floor(k / 36) % 10 % 6 ? 200 : (k * 7) % 50)),
      labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
    });
    for (const [name, n] of [['train', 120], ['t10k', 40]] as const) {
      const d = make(n);
      writeFileSync(join(dir, `${name}-images-idx3-ubyte.gz`), gzipSync(encodeIdx({ type: 'uint8', shape: [n, 6, 6], data: d.pixels })));
      writeFileSync(join(dir, `${name}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx({ type: 'uint8', shape: [n], data: d.labels })));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a folder without the files names them and the Debian package', async () => {
    const r = await physode('classify', '--from', join(dir, 'nowhere'), '--out', join(dir, 'run0'));
    assertOneLineError(r, /is not a folder[\s\S]*apt-get install dataset-fashion-mnist/);
  });

  test('bad options are one line each', async () => {
    assertOneLineError(await physode('classify', '--norm', 'layer'), /--norm 'layer' is not one of/);
    assertOneLineError(await physode('classify', '--state-dim', '64'), /--state-dim needs --lift linear/);
    assertOneLineError(await physode('classify', '--batch-size', '1'), /--batch-size expects an integer >= 2/);
    assertOneLineError(await physode('classify', '--eval-batch-sizes', '2,x'), /--eval-batch-sizes expects a number/);
  });

  test('other IDX data is refused by the checksums, and trains with --no-verify', { timeout: 300_000 }, async () => {
    const out = join(dir, 'run1');
    assertOneLineError(await physode('classify', '--from', dir, '--out', out), /not the standard Fashion-MNIST/);
    const r = await physode('classify', '--from', dir, '--no-verify', '--out', out, '--method', 'euler', '--steps', '2', '--batch-size', '16', '--max-steps', '4', '--eval-batch-sizes', '2,8', '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /test accuracy batch 2: [\d.]+ %, batch 8: [\d.]+ %, batch 16: [\d.]+ %; one outlier per batch of 16/);
    const e = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { test: Record<string, unknown>; dataset: { test: number } };
    assert.deepEqual(Object.keys(e.test).sort(), ['16', '2', '8']);
    assert.equal(e.dataset.test, 40);
    assert.ok(existsSync(join(out, 'model', 'model.safetensors')));
    assertOneLineError(await physode('classify', '--from', dir, '--no-verify', '--out', out), /already holds a run/);
  });
});
