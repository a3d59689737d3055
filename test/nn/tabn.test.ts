import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { applyNorm, forwardNorm } from './reference-norm.js';
import { gridWeights } from '../../src/nn/tabn-grid.js';
import { TemporalAdaptiveBatchNorm } from '../../src/nn/tabn.js';

await initBackend();

const near = (a: number, b: number, tol = 1e-6): boolean => Math.abs(a - b) <= tol;

describe('TA-BN grid weights (TABN.md: grid over [t0, T], M intervals, clamping)', () => {
  // t0 = 1, T = 3, M = 4: grid 1, 1.5, 2, 2.5, 3.
  const w = (t: number) => gridWeights(t, 1, 3, 4);
  test('at a grid point the point itself weighs 1 and its right neighbour 0', () => {
    assert.deepEqual(w(2), [{ index: 2, weight: 1 }, { index: 3, weight: 0 }]);
    assert.deepEqual(w(1), [{ index: 0, weight: 1 }, { index: 1, weight: 0 }]);
  });
  test('between grid points the nearer point weighs more: w_l = (t_(l+1) − t)/h, w_(l+1) = (t − t_l)/h', () => {
    const r = w(1.6); // between 1.5 (l = 1) and 2
    assert.equal(r.length, 2);
    assert.equal(r[0].index, 1);
    assert.equal(r[1].index, 2);
    assert.ok(near(r[0].weight, 0.8) && near(r[1].weight, 0.2));
  });
  test('before t0 the first point alone weighs 1', () => {
    assert.deepEqual(w(0.2), [{ index: 0, weight: 1 }]);
  });
  test('at and after T the last point alone weighs 1', () => {
    assert.deepEqual(w(3), [{ index: 4, weight: 1 }]);
    assert.deepEqual(w(10), [{ index: 4, weight: 1 }]);
  });
  test('weights sum to 1 everywhere in the span', () => {
    for (let t = 1; t < 3; t += 0.0137) {
      const s = w(t).reduce((a, b) => a + b.weight, 0);
      assert.ok(near(s, 1, 1e-12));
    }
  });
});

function makeNorm(affine = true) {
  return new TemporalAdaptiveBatchNorm({ numFeatures: 2, timeSpan: [0, 1], gridIntervals: 4, affine, momentum: 0.1, eps: 1e-5 });
}

const X = [
  [1, 10],
  [2, 20],
  [4, 0],
  [5, -6],
]; // batch 4, 2 features
const colMean = (j: number) => X.reduce((a, r) => a + r[j], 0) / X.length;
const colVar = (j: number, unbiased: boolean) => X.reduce((a, r) => a + (r[j] - colMean(j)) ** 2, 0) / (X.length - (unbiased ? 1 : 0));

describe('TA-BN training mode', () => {
  test('normalises with batch statistics and scales with γ(t), β(t) interpolated between neighbours', () => {
    const n = makeNorm();
    // γ_m = 1 + m, β_m = 10 m on the grid 0, .25, .5, .75, 1; t = 0.3 → w_1 = 0.8, w_2 = 0.2.
    n.weight!.assign(tf.tensor2d([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [5, 2]));
    n.bias!.assign(tf.tensor2d([0, 0, 10, 10, 20, 20, 30, 30, 40, 40], [5, 2]));
    const x = tf.tensor2d(X);
    const out = applyNorm(n, x, 0.3, 'train').arraySync();
    const gamma = 0.8 * 2 + 0.2 * 3;
    const beta = 0.8 * 10 + 0.2 * 20;
    X.forEach((row, i) =>
      row.forEach((v, j) => {
        const want = (gamma * (v - colMean(j))) / Math.sqrt(colVar(j, false) + 1e-5) + beta;
        assert.ok(near(out[i][j], want, 1e-4), `out[${i}][${j}] = ${out[i][j]}, want ${want}`);
      }),
    );
    n.dispose();
    x.dispose();
  });

  test('a point first takes the batch statistics, then moves with momentum·w (unbiased variance)', () => {
    const n = makeNorm();
    const x = tf.tensor2d(X);
    forwardNorm(n, x, { t: 0.3, index: 0, mode: 'train', updateStats: true, record: false });
    n.commitStaged();
    let s = n.getState();
    // Points 1 and 2 both received weight for the first time: both take the batch statistics.
    for (const m of [1, 2]) {
      for (let j = 0; j < 2; j++) {
        assert.ok(near(s.running_mean.data[m * 2 + j], colMean(j), 1e-4));
        assert.ok(near(s.running_var.data[m * 2 + j], colVar(j, true), 1e-3));
      }
    }
    assert.ok(near(s.count.data[1], 0.8) && near(s.count.data[2], 0.2) && s.count.data[0] === 0);
    // Untouched points keep mean 0, variance 1.
    assert.equal(s.running_mean.data[0], 0);
    assert.equal(s.running_var.data[0], 1);
    // Second batch (x + 1, same variance) at t = 0.3: mean_1 += 0.1·0.8·(1), mean_2 += 0.1·0.2·(1).
    const x2 = tf.add(x, 1) as tf.Tensor2D;
    forwardNorm(n, x2, { t: 0.3, index: 1, mode: 'train', updateStats: true, record: false });
    n.commitStaged();
    s = n.getState();
    assert.ok(near(s.running_mean.data[1 * 2], colMean(0) + 0.08, 1e-4));
    assert.ok(near(s.running_mean.data[2 * 2], colMean(0) + 0.02, 1e-4));
    assert.ok(near(s.running_var.data[1 * 2], colVar(0, true), 1e-3));
    n.dispose();
    x.dispose();
    x2.dispose();
  });

  test('staged updates that are discarded leave the statistics untouched', () => {
    const n = makeNorm();
    const before = n.getState();
    const x = tf.tensor2d(X);
    forwardNorm(n, x, { t: 0.6, index: 0, mode: 'train', updateStats: true, record: false });
    n.discardStaged();
    assert.deepEqual(n.getState(), before);
    n.dispose();
    x.dispose();
  });
});

describe('TA-BN evaluation mode', () => {
  test('normalises with running statistics interpolated at t, clamped outside the span', () => {
    const n = makeNorm(false);
    const P = 5;
    const mean = new Float32Array(P * 2);
    const variance = new Float32Array(P * 2);
    for (let m = 0; m < P; m++) {
      mean[2 * m] = mean[2 * m + 1] = m; // mean_m = m
      variance[2 * m] = variance[2 * m + 1] = 1 + m; // var_m = 1 + m
    }
    n.setState({ running_mean: { shape: [P, 2], data: mean }, running_var: { shape: [P, 2], data: variance }, count: { shape: [P], data: new Float32Array(P).fill(1) } });
    const x = tf.tensor2d([[3, 3]]);
    const at = (t: number) => applyNorm(n, x, t, 'eval').dataSync()[0];
    // t = 0.6: between 0.5 (m = 2) and 0.75 (m = 3), w_2 = 0.6, w_3 = 0.4.
    const mu = 0.6 * 2 + 0.4 * 3;
    const v = 0.6 * 3 + 0.4 * 4;
    assert.ok(near(at(0.6), (3 - mu) / Math.sqrt(v + 1e-5), 1e-5));
    assert.ok(near(at(-5), (3 - 0) / Math.sqrt(1 + 1e-5), 1e-5), 'before t0: point 0');
    assert.ok(near(at(1), (3 - 4) / Math.sqrt(5 + 1e-5), 1e-5), 'at T: point M');
    assert.ok(near(at(7), (3 - 4) / Math.sqrt(5 + 1e-5), 1e-5), 'after T: point M');
    n.dispose();
    x.dispose();
  });

  test('a sample’s output does not depend on the rest of the batch or its size', () => {
    const n = makeNorm();
    const xb = tf.tensor2d(X);
    forwardNorm(n, xb, { t: 0.4, index: 0, mode: 'train', updateStats: true, record: false });
    n.commitStaged();
    const alone = applyNorm(n, tf.tensor2d([X[0]]), 0.4, 'eval').dataSync();
    const inBatch = applyNorm(n, xb, 0.4, 'eval').dataSync();
    const other = applyNorm(n, tf.tensor2d([X[0], [1000, -1000]]), 0.4, 'eval').dataSync();
    assert.deepEqual(Array.from(alone), Array.from(inBatch.slice(0, 2)));
    assert.deepEqual(Array.from(alone), Array.from(other.slice(0, 2)));
    n.dispose();
  });
});
