import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, parseBackendPreference } from '../../src/backend/backend.js';
import { InvalidArgumentError } from '../../src/util/errors.js';

const pick = (env: Record<string, string>, pref: string): string =>
  execFileSync(process.execPath, ['--import', 'tsx', '-e', `import('./src/backend/backend.ts').then(async (m) => { const i = await m.initBackend('${pref}'); const tf = await import('@tensorflow/tfjs-core'); console.log(i.name + ' ' + tf.getBackend()); })`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();

test('without native TensorFlow, auto picks wasm and tfjs really runs on it', () => {
  assert.equal(pick({ PHYSODE_BACKEND: '' }, 'auto'), 'wasm wasm');
});

test('PHYSODE_BACKEND overrides auto', () => {
  assert.equal(pick({ PHYSODE_BACKEND: 'cpu' }, 'auto'), 'cpu cpu');
});

test('asking for native TensorFlow when it is not installed is a clear error, not a crash', () => {
  assert.throws(() => pick({ PHYSODE_BACKEND: '' }, 'tensorflow'), /tfjs-node/);
});

test('the backend is chosen once: the same or auto returns it, another is an error', async () => {
  const a = await initBackend('cpu');
  assert.equal(a.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal((await initBackend('auto')).name, 'cpu');
  assert.throws(() => initBackend('wasm'), InvalidArgumentError);
  assert.throws(() => parseBackendPreference('gpu'), InvalidArgumentError);
});

test('PHYSODE_WASM_THREADS=2 runs TF.js threaded WebAssembly build under Node: same products, and the process exits', () => {
  // 256×256 products are split across the pool's threads; the result must equal a float64 product.
  const script = `import('./src/backend/backend.ts').then(async (m) => {
    const i = await m.initBackend('wasm');
    const tf = await import('@tensorflow/tfjs-core');
    const n = 256;
    const a = Float32Array.from({ length: n * n }, (_, k) => ((k * 7919) % 97) / 97 - 0.5);
    const b = Float32Array.from({ length: n * n }, (_, k) => ((k * 104729) % 89) / 89 - 0.5);
    const c = tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])).dataSync();
    let worst = 0;
    for (let r = 0; r < n; r++) for (let q = 0; q < n; q++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[r * n + k] * b[k * n + q];
      worst = Math.max(worst, Math.abs(s - c[r * n + q]));
    }
    console.log(i.detail + ' | ' + worst);
  })`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    env: { ...process.env, PHYSODE_BACKEND: '', PHYSODE_WASM_THREADS: '2' },
    encoding: 'utf8',
    timeout: 60_000, // a pool thread that kept Node alive would hang here
  }).trim();
  const [detail, worst] = out.split(' | ');
  assert.match(detail, /2 threads/);
  assert.ok(Number(worst) < 1e-3, `max |error| ${worst}`);
});

test('PHYSODE_WASM_THREADS must be a small positive integer', () => {
  assert.throws(() => pick({ PHYSODE_BACKEND: '', PHYSODE_WASM_THREADS: 'many' }, 'wasm'), /PHYSODE_WASM_THREADS/);
});
