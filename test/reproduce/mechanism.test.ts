import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { NeuralODE } from '../../src/model/neural-ode.js';
import { batchCovarianceEigenvalues, batchShiftChange, symmetricEigenvalues } from '../../src/reproduce/mechanism.js';
import { Rng } from '../../src/util/rng.js';

await initBackend();

const rng = new Rng(3);
const B = 64;
const y = Float32Array.from({ length: B * 2 }, () => rng.normal());

test('batch-shift invariance: a field with batch statistics does not see a shift of the whole batch; without normalisation, or with running statistics, it does', () => {
  const change = (norm: 'none' | 'minibatch' | 'popti' | 'tabn', mode: 'train' | 'eval', normLayers?: number) => {
    const m = new NeuralODE({ dim: 2, norm, normLayers, timeSpan: [0, 1], seed: 5 });
    try {
      return batchShiftChange(m.field, y, B, [0.5, -0.5], mode);
    } finally {
      m.dispose();
    }
  };
  for (const norm of ['minibatch', 'popti', 'tabn'] as const) assert.ok(change(norm, 'train') < 1e-5, `${norm} in training mode: ${change(norm, 'train')}`);
  assert.ok(change('none', 'train') > 1e-2, `none: ${change('none', 'train')}`);
  assert.ok(change('tabn', 'eval') > 1e-2, `tabn in evaluation mode: ${change('tabn', 'eval')}`);
  // only the first layer's normalisation matters: normalised in layer 2 only would not be invariant,
  // normalised in layer 1 only is
  assert.ok(change('minibatch', 'train', 1) < 1e-5);
});

test('covariance eigenvalues against closed forms', () => {
  // [[2, 1], [1, 2]]: eigenvalues 1 and 3
  assert.deepEqual(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2).map((v) => +v.toFixed(12)), [1, 3]);
  // a rotated diag(0.5, 2, 7): R D Rᵀ with a rotation about the z axis by 0.3
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const R = [c, -s, 0, s, c, 0, 0, 0, 1];
  const d = [0.5, 2, 7];
  const m = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) m[i * 3 + j] += R[i * 3 + k] * d[k] * R[j * 3 + k];
  symmetricEigenvalues(m, 3).forEach((v, i) => assert.ok(Math.abs(v - d[i]) < 1e-12));
  // two points (0, 0) and (2, 0): variance 1 along x, 0 along y
  assert.deepEqual(batchCovarianceEigenvalues([0, 0, 2, 0], 2, 2), [0, 1]);
});
