import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { NORM_KINDS, NORMALIZATIONS, createNormalization, type NormKind } from '../../src/nn/registry.js';
import type { HostGradientAccumulator, Normalization } from '../../src/nn/normalization.js';
import { batchNormEval, batchNormEvalBackward, batchNormTrain, batchNormTrainBackward } from './reference-batch-norm.js';
import { ownApply, trainStep } from './reference-norm.js';

await initBackend();

const B = 7;
const F = 3;
const z = Float32Array.from({ length: B * F }, (_, i) => Math.sin(1.7 * i) * 2 + (i % F));
const g = Float32Array.from({ length: B * F }, (_, i) => Math.cos(0.9 * i));

function make(kind: NormKind): Normalization {
  const n = createNormalization(kind, { numFeatures: F, timeSpan: [0, 1], gridIntervals: 4 });
  for (const v of Object.values(n.parameters())) v.assign(tf.add(v, tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 3)));
  // Running statistics that differ from the initial ones.
  trainStep(n, [[1, 2, 3], [2, 0, 1], [4, 1, -1]], 0.3, 0);
  trainStep(n, [[0, 1, 2], [3, 3, 0], [1, -2, 5]], 0.7, 1);
  return n;
}

/** The op-by-op TF.js batch norm of z with the layer's own γ(t), β(t) and evaluation statistics, as a function of z. */
function reference(n: Normalization, t: number, mode: 'train' | 'eval', index: number): (x: tf.Tensor2D) => tf.Tensor2D {
  const { gamma, beta } = n.affineAt(t, index);
  const running = mode === 'eval' ? n.statisticsAt(t, index) : null;
  return (x) => {
    if (n.kind === 'none') return x;
    const gm = gamma ? tf.tensor1d(gamma) : null;
    const bt = beta ? tf.tensor1d(beta) : null;
    if (running === null) return batchNormTrain(x, gm, bt, n.eps).out;
    return batchNormEval(x, tf.tensor1d(running.mean), tf.tensor1d(running.variance), gm, bt, n.eps).out;
  };
}

class Accumulator implements HostGradientAccumulator {
  readonly arrays = new Map<string, Float64Array>();
  hostAccumulator(name: string, shape: readonly number[]): Float64Array {
    if (!this.arrays.has(name)) this.arrays.set(name, new Float64Array(shape.reduce((a, b) => a * b, 1)));
    return this.arrays.get(name)!;
  }
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 2e-5): void => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} against the reference ${b[i]}`);
};

describe('every normalisation: its kernel path (the interface) equals the op-by-op TF.js reference', () => {
  test('the registry lists the five normalisations of TABN.md with their needs', () => {
    assert.deepEqual([...NORM_KINDS].sort(), ['minibatch', 'none', 'pop', 'popti', 'tabn']);
    assert.equal(NORMALIZATIONS.none.identity, true);
    for (const k of NORM_KINDS) if (k !== 'none') assert.equal(NORMALIZATIONS[k].minTrainBatch, 2, k);
  });
  for (const kind of NORM_KINDS) {
    for (const mode of ['train', 'eval'] as const) {
      test(`${kind}, ${mode} mode: forward, dL/dz and dL/dγ, dL/dβ (the reference's op-by-op backward)`, () => {
        const n = make(kind);
        const t = 0.55;
        const index = 1;
        const f = reference(n, t, mode, index);
        const x = tf.tensor2d(z, [B, F]);
        const want = tf.tidy(() => f(x).dataSync());
        close(ownApply(n, z, B, t, mode, index), want, 'forward');
        const { tape } = n.forward(z, B, { t, index, mode, updateStats: false, record: true });
        const sink = new Accumulator();
        const dz = n.backward(tape!, g, z, B, sink, 'p.', 1);
        const gt = tf.tensor2d(g, [B, F]);
        const wantDz = tf.tidy(() => {
          if (n.kind === 'none') return gt.dataSync();
          const { gamma } = n.affineAt(t, index);
          const gm = gamma ? tf.tensor1d(gamma) : null;
          const running = mode === 'eval' ? n.statisticsAt(t, index) : null;
          if (running === null) {
            const fw = batchNormTrain(x, gm, null, n.eps);
            return batchNormTrainBackward(gt, fw.xhat, fw.scale).dx.dataSync();
          }
          const fw = batchNormEval(x, tf.tensor1d(running.mean), tf.tensor1d(running.variance), gm, null, n.eps);
          return batchNormEvalBackward(gt, fw.xhat, fw.scale).dx.dataSync();
        });
        close(dz, wantDz, 'dL/dz', 1e-4);
        if (kind !== 'none') {
          // dL/dγ(t) = Σ g x̂ and dL/dβ(t) = Σ g, spread over the grid by the interpolation weights for tabn.
          const { gamma } = n.affineAt(t, index);
          const scaleOf = (v: Float32Array) => tf.tidy(() => {
            const running = mode === 'eval' ? n.statisticsAt(t, index) : null;
            const xhat = running === null ? batchNormTrain(x, null, null, n.eps).out : batchNormEval(x, tf.tensor1d(running.mean), tf.tensor1d(running.variance), null, null, n.eps).out;
            return tf.sum(tf.mul(tf.mul(xhat, gt), tf.tensor1d(v)), 0).dataSync();
          });
          const dGammaT = scaleOf(new Float32Array(F).fill(1));
          const dBetaT = tf.tidy(() => tf.sum(gt, 0).dataSync());
          const sumOver = (name: string): Float64Array => {
            const a = sink.arrays.get(name)!;
            const out = new Float64Array(F);
            for (let i = 0; i < a.length; i++) out[i % F] += a[i];
            return out;
          };
          assert.ok(gamma);
          close(sumOver('p.weight'), dGammaT, 'dL/dγ', 1e-4);
          close(sumOver('p.bias'), dBetaT, 'dL/dβ', 1e-4);
        }
        tf.dispose([x, gt]);
        tape!.dispose();
        n.dispose();
      });
    }
  }
});
