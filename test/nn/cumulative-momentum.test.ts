import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { applyNorm, forwardNorm } from './reference-norm.js';
import { createNormalization } from '../../src/nn/registry.js';
import { TemporalAdaptiveBatchNorm } from '../../src/nn/tabn.js';
import type { Normalization } from '../../src/nn/normalization.js';

await initBackend();

const near = (a: number, b: number, tol = 1e-4): boolean => Math.abs(a - b) <= Math.max(tol, tol * Math.abs(b));

/** Batches of one feature with their mean and unbiased variance computed here, independently. */
const BATCHES = [
  [[1], [3]],
  [[10], [20], [30]],
  [[-4], [0], [2], [6]],
];
const meanOf = (b: number[][]) => b.reduce((a, r) => a + r[0], 0) / b.length;
const uvarOf = (b: number[][]) => b.reduce((a, r) => a + (r[0] - meanOf(b)) ** 2, 0) / (b.length - 1);

function feed(n: Normalization, rows: number[][], t: number, index = 0): void {
  const x = tf.tensor2d(rows);
  forwardNorm(n, x, { t, index, mode: 'train', updateStats: true, record: false });
  n.commitStaged();
  x.dispose();
}

describe('momentum null: cumulative moving average (PyTorch BatchNorm momentum=None)', () => {
  test('popti keeps the plain mean of the batch statistics it received', () => {
    const n = createNormalization('popti', { numFeatures: 1, momentum: null });
    for (const b of BATCHES) feed(n, b, 0.5);
    const s = n.getState();
    const wantMean = BATCHES.reduce((a, b) => a + meanOf(b), 0) / BATCHES.length;
    const wantVar = BATCHES.reduce((a, b) => a + uvarOf(b), 0) / BATCHES.length;
    assert.ok(near(s.running_mean.data[0], wantMean), `mean ${s.running_mean.data[0]} want ${wantMean}`);
    assert.ok(near(s.running_var.data[0], wantVar), `var ${s.running_var.data[0]} want ${wantVar}`);
    n.dispose();
  });

  test('pop keeps, per evaluation index, the mean of that index’s batch statistics', () => {
    const n = createNormalization('pop', { numFeatures: 1, momentum: null });
    feed(n, BATCHES[0], 0.1, 0);
    feed(n, BATCHES[1], 0.2, 1);
    feed(n, BATCHES[2], 0.3, 0);
    const s = n.getState();
    assert.ok(near(s.running_mean.data[0], (meanOf(BATCHES[0]) + meanOf(BATCHES[2])) / 2));
    assert.ok(near(s.running_var.data[1], uvarOf(BATCHES[1])));
    n.dispose();
  });

  test('TA-BN: each grid point holds the interpolation-weight-averaged batch statistics, Σ w b / Σ w', () => {
    // Grid 0, .25, .5, .75, 1 (M = 4). Times and the weights they give to points 1 and 2:
    // t = .3 → (.8, .2); t = .45 → (.2, .8); t = .25 → (1, 0).
    const n = new TemporalAdaptiveBatchNorm({ numFeatures: 1, timeSpan: [0, 1], gridIntervals: 4, momentum: null });
    const times = [0.3, 0.45, 0.25];
    const w1 = [0.8, 0.2, 1];
    const w2 = [0.2, 0.8, 0];
    BATCHES.forEach((b, i) => feed(n, b, times[i]));
    const s = n.getState();
    const avg = (w: number[], f: (b: number[][]) => number) => BATCHES.reduce((a, b, i) => a + w[i] * f(b), 0) / w.reduce((a, v) => a + v, 0);
    assert.ok(near(s.running_mean.data[1], avg(w1, meanOf)), `point 1 mean ${s.running_mean.data[1]}`);
    assert.ok(near(s.running_var.data[1], avg(w1, uvarOf)), `point 1 var ${s.running_var.data[1]}`);
    assert.ok(near(s.running_mean.data[2], avg(w2, meanOf)), `point 2 mean ${s.running_mean.data[2]}`);
    assert.ok(near(s.running_var.data[2], avg(w2, uvarOf)), `point 2 var ${s.running_var.data[2]}`);
    assert.ok(near(s.count.data[1], 2) && near(s.count.data[2], 1));
    n.dispose();
  });

  test('resetRunningStats returns every normalisation to mean 0, variance 1, counts 0', () => {
    const tabn = new TemporalAdaptiveBatchNorm({ numFeatures: 1, timeSpan: [0, 1], gridIntervals: 4 });
    const fresh = tabn.getState();
    feed(tabn, BATCHES[1], 0.3);
    tabn.resetRunningStats();
    assert.deepEqual(tabn.getState(), fresh);
    tabn.dispose();
    const popti = createNormalization('popti', { numFeatures: 1 });
    const freshPopti = popti.getState();
    feed(popti, BATCHES[1], 0.3);
    popti.resetRunningStats?.();
    assert.deepEqual(popti.getState(), freshPopti);
    popti.dispose();
  });

  test('a momentum outside (0, 1] that is not null is refused', () => {
    assert.throws(() => createNormalization('popti', { numFeatures: 1, momentum: 0 }), /momentum/);
    assert.throws(() => createNormalization('tabn', { numFeatures: 1, timeSpan: [0, 1], momentum: 1.5 }), /momentum/);
  });
});
