import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { createNormalization } from '../../src/nn/registry.js';
import type { Normalization } from '../../src/nn/normalization.js';
import { applyNorm, trainStep } from './reference-norm.js';

await initBackend();

const near = (a: number, b: number, tol = 1e-4): boolean => Math.abs(a - b) <= tol;
const A = [[1], [3]]; // mean 2, unbiased var 2
const B = [[10], [20], [30]]; // mean 20, unbiased var 100

const train = trainStep;
function evalAt(n: Normalization, v: number, t: number, index: number): number {
  const x = tf.tensor2d([[v]]);
  const out = applyNorm(n, x, t, 'eval', index);
  const r = out.dataSync()[0];
  out.dispose();
  x.dispose();
  return r;
}

describe('pop: running statistics keyed by evaluation index', () => {
  test('each evaluation index keeps its own statistics, whatever the time', () => {
    const n = createNormalization('pop', { numFeatures: 1, momentum: 0.1 });
    train(n, A, 0.9, 0);
    train(n, B, 0.1, 1);
    const s = n.getState();
    assert.deepEqual(s.running_mean.shape, [2, 1]);
    // PyTorch update from (0, 1): 0.9·0 + 0.1·mean, 0.9·1 + 0.1·var.
    assert.ok(near(s.running_mean.data[0], 0.2) && near(s.running_var.data[0], 0.9 + 0.2));
    assert.ok(near(s.running_mean.data[1], 2) && near(s.running_var.data[1], 0.9 + 10));
    // Evaluation index 1 uses index 1's statistics at any t; index 0 uses index 0's.
    const want1 = (5 - 2) / Math.sqrt(10.9 + 1e-5);
    assert.ok(near(evalAt(n, 5, 0.1, 1), want1) && near(evalAt(n, 5, 0.9, 1), want1));
    assert.ok(near(evalAt(n, 5, 0.1, 0), (5 - 0.2) / Math.sqrt(1.1 + 1e-5)));
    // An index never trained has the initial statistics (0, 1).
    assert.ok(near(evalAt(n, 5, 0.5, 7), 5 / Math.sqrt(1 + 1e-5)));
    n.dispose();
  });
});

describe('popti: one running pair for all times', () => {
  test('every evaluation updates the same single pair; evaluation ignores t and index', () => {
    const n = createNormalization('popti', { numFeatures: 1, momentum: 0.1 });
    train(n, A, 0.1, 0);
    train(n, B, 0.8, 5);
    const s = n.getState();
    assert.deepEqual(s.running_mean.shape, [1]);
    const m1 = 0.1 * 2;
    const v1 = 0.9 + 0.1 * 2;
    const m2 = 0.9 * m1 + 0.1 * 20;
    const v2 = 0.9 * v1 + 0.1 * 100;
    assert.ok(near(s.running_mean.data[0], m2) && near(s.running_var.data[0], v2, 1e-3));
    assert.equal(s.num_batches_tracked.data[0], 2);
    const want = (7 - m2) / Math.sqrt(v2 + 1e-5);
    for (const [t, i] of [[0, 0], [0.5, 3], [3, 9]]) assert.ok(near(evalAt(n, 7, t, i), want));
    n.dispose();
  });
});

describe('minibatch and none', () => {
  test('minibatch uses batch statistics in evaluation too, so outputs depend on the batch', () => {
    const n = createNormalization('minibatch', { numFeatures: 1 });
    const a = applyNorm(n, tf.tensor2d([[1], [3]]), 0, 'eval').dataSync()[0];
    const b = applyNorm(n, tf.tensor2d([[1], [101]]), 0, 'eval').dataSync()[0];
    assert.ok(near(a, -1, 1e-3) && near(b, -1, 1e-3));
    const c = applyNorm(n, tf.tensor2d([[1], [3], [5]]), 0, 'eval').dataSync()[0];
    assert.ok(near(c, (1 - 3) / Math.sqrt(8 / 3 + 1e-5), 1e-4));
    assert.deepEqual(n.getState(), {});
    n.dispose();
  });
  test('none is the identity and has no state', () => {
    const n = createNormalization('none', { numFeatures: 2 });
    const x = tf.tensor2d([[1, -2]]);
    assert.deepEqual(Array.from(applyNorm(n, x, 0, 'train').dataSync()), [1, -2]);
    assert.deepEqual(n.getState(), {});
  });
  test('training-mode batch normalisation refuses a batch of one', () => {
    const n = createNormalization('tabn', { numFeatures: 1, timeSpan: [0, 1] });
    assert.throws(() => n.forward(Float32Array.of(1), 1, { t: 0, index: 0, mode: 'train', updateStats: false, record: false }), /at least 2/);
    n.dispose();
  });
});
