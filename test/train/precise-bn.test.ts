import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { NeuralODE } from '../../src/model/neural-ode.js';
import { recalibrateStatistics } from '../../src/train/recalibration.js';
import { TemporalAdaptiveBatchNorm } from '../../src/nn/tabn.js';

await initBackend();

/**
 * One explicit Euler step over [0, h] evaluates the field once, at t = 0, so TA-BN's first layer
 * sees exactly the pre-activations y0 Wᵀ + b at grid point 0: its statistics can be computed here by
 * hand from the weights (the independent reference).
 */
function model(momentum: number): NeuralODE {
  return new NeuralODE({ dim: 2, depth: 1, width: 3, norm: 'tabn', timeSpan: [0, 1], gridIntervals: 2, momentum, solver: { method: 'euler', step: 1 }, seed: 5 });
}

function preActivationStats(m: NeuralODE, y0: number[][]): { mean: number[]; uvar: number[] } {
  const s = m.getState();
  const W = s['field.layers.0.linear.weight'].data; // [out, in]
  const b = s['field.layers.0.linear.bias'].data;
  const F = b.length;
  const z = y0.map((y) => Array.from({ length: F }, (_, f) => y.reduce((a, v, i) => a + v * W[f * y.length + i], b[f])));
  const mean = Array.from({ length: F }, (_, f) => z.reduce((a, r) => a + r[f], 0) / z.length);
  const uvar = Array.from({ length: F }, (_, f) => z.reduce((a, r) => a + (r[f] - mean[f]) ** 2, 0) / (z.length - 1));
  return { mean, uvar };
}

describe('precise BN: recalibrateStatistics (Wu & Johnson 2021)', () => {
  test('running statistics become the plain average of the batches’ statistics; momentum is restored', () => {
    const m = model(0.1);
    const batches = [
      [[0.5, -1], [1, 2], [-2, 0.3]],
      [[3, 1], [0, 0], [1, -1], [2, 2]],
    ];
    // Stale statistics first, which the recalibration must discard.
    const stale = tf.tensor2d([[9, 9], [8, -7]]);
    m.lossAndGradients(stale, [0, 1], tf.zeros([2, 2, 2]) as tf.Tensor3D);
    const nfe = recalibrateStatistics(m, batches.map((y) => ({ y0: tf.tensor2d(y), ts: [0, 1] })));
    assert.equal(nfe, 2, 'one Euler evaluation per batch');
    const refs = batches.map((y) => preActivationStats(m, y));
    const s = m.getState();
    const mean = s['field.layers.0.norm.running_mean'].data;
    const variance = s['field.layers.0.norm.running_var'].data;
    for (let f = 0; f < 3; f++) {
      const wantMean = (refs[0].mean[f] + refs[1].mean[f]) / 2;
      const wantVar = (refs[0].uvar[f] + refs[1].uvar[f]) / 2;
      assert.ok(Math.abs(mean[f] - wantMean) < 1e-4 * Math.max(1, Math.abs(wantMean)), `mean[${f}] ${mean[f]} want ${wantMean}`);
      assert.ok(Math.abs(variance[f] - wantVar) < 1e-4 * Math.max(1, wantVar), `var[${f}] ${variance[f]} want ${wantVar}`);
    }
    // Grid points the recalibration did not reach are back at their initial statistics.
    assert.equal(mean[2 * 3], 0);
    assert.equal(variance[2 * 3], 1);
    assert.equal(s['field.layers.0.norm.count'].data[0], 2);
    const norm = m.field.hidden[0].norm as TemporalAdaptiveBatchNorm;
    assert.equal(norm.momentum, 0.1);
    stale.dispose();
    m.dispose();
  });
});
