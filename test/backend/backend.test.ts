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

