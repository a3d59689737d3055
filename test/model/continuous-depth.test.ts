import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { ContinuousDepthModel } from '../../src/model/continuous-depth.js';
import { mseLoss } from '../../src/tasks/losses.js';
import { Rng } from '../../src/util/rng.js';

await initBackend();

const rng = new Rng(5);
const B = 8;
const x = Float32Array.from({ length: B * 4 }, () => rng.normal());
const target = Float32Array.from({ length: B * 3 }, () => rng.normal());
const loss = (p: Float32Array) => mseLoss(p, target);

function lossOnly(m: ContinuousDepthModel): number {
  const r = m.lossAndGradients(x, B, loss);
  for (const g of r.grads.values()) g.dispose();
  return r.loss;
}

test('gradients of a lifted, headed model (TA-BN in 2 of 3 layers, RK4) match central differences along random directions', () => {
  const m = new ContinuousDepthModel({
    inputDim: 4,
    lift: 'linear',
    stateDim: 5,
    head: 'linear',
    outputDim: 3,
    ode: { depth: 3, normLayers: 2, width: 8, norm: 'tabn', gridIntervals: 8, solver: { method: 'rk4', steps: 4 }, seed: 3 },
  });
  const r = m.lossAndGradients(x, B, loss);
  assert.deepEqual([...r.grads.keys()].sort(), Object.keys(m.variables()).sort());
  assert.equal(Object.keys(m.variables()).filter((k) => k.endsWith('.norm.weight')).length, 2, 'γ in the first two layers only');
  let seed = 20;
  for (const [name, v] of Object.entries(m.variables())) {
    const dir = tf.randomUniform(v.shape, -1, 1, 'float32', seed++);
    const got = tf.sum(tf.mul(r.grads.get(name)!, dir)).dataSync()[0];
    const saved = v.clone();
    const at = (s: number) => {
      v.assign(tf.add(saved, tf.mul(dir, s)));
      return lossOnly(m);
    };
    const eps = 2e-3;
    const want = (4 * ((at(eps / 2) - at(-eps / 2)) / eps) - (at(eps) - at(-eps)) / (2 * eps)) / 3;
    v.assign(saved);
    saved.dispose();
    dir.dispose();
    assert.ok(Math.abs(got - want) <= 2e-3 + 2e-2 * Math.abs(want), `${name}: gradient ${got}, central differences ${want}`);
  }
  for (const g of r.grads.values()) g.dispose();
  m.dispose();
});

test('without lift and head the prediction is z(1) of the ODE, and the model saves and loads bit for bit', async () => {
  const m = new ContinuousDepthModel({ inputDim: 4, ode: { depth: 2, width: 8, norm: 'tabn', normLayers: 1, solver: { method: 'dopri5', rtol: 1e-4, atol: 1e-5 }, seed: 9 } });
  for (let i = 0; i < 3; i++) {
    const r = m.lossAndGradients(x, B, (p) => mseLoss(p, x));
    for (const g of r.grads.values()) g.dispose();
  }
  const direct = m.ode.predict(tf.tensor2d(x, [B, 4]), [0, 1], { mode: 'eval' });
  const z1 = direct.ys.dataSync().slice(B * 4);
  direct.ys.dispose();
  const p = m.predict(x, B).prediction;
  assert.deepEqual([...p], [...z1]);
  const dir = await mkdtemp(join(tmpdir(), 'physode-depth-'));
  try {
    await m.save(dir);
    const back = await ContinuousDepthModel.load(dir);
    assert.deepEqual([...back.predict(x, B).prediction], [...p]);
    assert.equal(back.config.ode.normLayers, 1);
    back.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
    m.dispose();
  }
});

test('no tensor leaks over training evaluations', () => {
  const m = new ContinuousDepthModel({ inputDim: 4, lift: 'linear', stateDim: 6, head: 'linear', outputDim: 3, ode: { depth: 2, width: 8, norm: 'minibatch', solver: { method: 'dopri5' } } });
  lossOnly(m);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) lossOnly(m);
  m.predict(x, B);
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});

test('backpropagation through an adaptive solve is bounded: past the recording step limit the solve stops with SolverError max-steps, not a kernel memory error', async () => {
  const { recordingStepLimit, RECORDING_BUDGET_BYTES } = await import('../../src/model/neural-ode.js');
  const { SolverError } = await import('../../src/ode/errors.js');
  const cfg = { depth: 4, width: 64, solver: { method: 'dopri5' as const } };
  // dopri5: 7 stages + 1 evaluations per step, 3 arrays of B × 64 float32 per layer
  assert.equal(recordingStepLimit(cfg, 4096), Math.floor(RECORDING_BUDGET_BYTES / (8 * 3 * 4096 * 64 * 4 * 4)));
  assert.equal(recordingStepLimit({ ...cfg, solver: { method: 'rk4', steps: 4 } }, 4096), undefined);
  const B = 4096;
  const big = Float32Array.from({ length: B * 4 }, (_, k) => Math.sin(k));
  const m = new ContinuousDepthModel({ inputDim: 4, ode: { depth: 4, width: 64, norm: 'tabn', solver: { method: 'dopri5', rtol: 1e-7, atol: 1e-8 } } });
  try {
    assert.throws(() => m.lossAndGradients(big, B, (p) => mseLoss(p, big)), (err: unknown) => err instanceof SolverError && err.reason === 'max-steps');
  } finally {
    m.dispose();
  }
});
