import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { MlpField } from '../../src/model/mlp-field.js';
import { resolveConfig } from '../../src/model/config.js';
import { KernelGradientSink } from '../../src/model/kernel-gradient-sink.js';
import { gridWeights } from '../../src/nn/tabn-grid.js';
import type { ActivationName } from '../../src/nn/activation.js';
import { activate, referenceApply } from '../nn/reference-norm.js';
import type { NormKind } from '../../src/nn/registry.js';

await initBackend();

let counter = 0;

/**
 * The independent reference: central differences of cᵀ f(t, y; θ) along a random direction v,
 * one direction per parameter tensor and one for y: (cᵀf(θ + εv) − cᵀf(θ − εv)) / 2ε ≈ Σ ∇·v.
 * float32 with ε = 5e-3 (a whole-tensor direction moves the first layer by ε·Σ|x|, so ε = 1e-2
 * already shows ~1% truncation error on it), extrapolated with ε/2 (below): round-off ~5e-4 relative.
 */
function directional(field: MlpField, y: tf.Tensor2D, cot: tf.Tensor2D, t: number, target: tf.Variable | 'y', v: tf.Tensor, mode: 'train' | 'eval'): number {
  const eps = 5e-3;
  const at = (s: number): number => {
    let yy = y;
    let saved: tf.Tensor | null = null;
    if (target === 'y') yy = tf.add(y, tf.mul(v, s)) as tf.Tensor2D;
    else {
      saved = target.clone();
      target.assign(tf.add(saved, tf.mul(v, s)));
    }
    const out = field.evaluate(yy, { t, index: 0, mode, updateStats: false, record: false });
    const r = tf.sum(tf.mul(out.dy, cot)).dataSync()[0];
    out.dy.dispose();
    if (saved && target !== 'y') {
      target.assign(saved);
      saved.dispose();
    }
    return r;
  };
  // Richardson extrapolation of the central differences at ε and ε/2 cancels the ε² term: the
  // truncation is then O(ε⁴) (at ε alone it reached 3% on a tabn/tanh first-layer direction).
  const d1 = (at(eps) - at(-eps)) / (2 * eps);
  const d2 = (at(eps / 2) - at(-eps / 2)) / eps;
  return (4 * d2 - d1) / 3;
}

// Every activation (tanh in its sigmoid form, softplus and SiLU), with and without time input and
// batch normalisation, in both modes. Width 320 (16 × 320 activations) exercises the products'
// split over kernel threads.
// The last entry, when present, is [depth, normLayers]: the normalisation in the first layers only.
const CASES: [NormKind, ActivationName, boolean, ('train' | 'eval')?, number?, [number, number]?][] = [
  ['none', 'tanh', false],
  ['none', 'tanh', false, 'train', 320],
  ['none', 'silu', false],
  ['none', 'tanh', true],
  ['minibatch', 'softplus', true],
  ['tabn', 'silu', true, 'eval'],
  ['tabn', 'tanh', false],
  ['tabn', 'tanh', false, 'eval'],
  ['pop', 'tanh', false, 'eval'],
  ['none', 'softplus', true],
  ['tabn', 'tanh', true],
  ['tabn', 'silu', false],
  ['minibatch', 'tanh', false],
  ['popti', 'softplus', false],
  ['pop', 'silu', false],
  ['tabn', 'tanh', false, 'train', 6, [4, 2]],
  ['tabn', 'tanh', true, 'eval', 6, [4, 1]],
  ['minibatch', 'silu', false, 'train', 6, [3, 2]],
  ['popti', 'softplus', true, 'train', 6, [4, 3]],
  ['tabn', 'tanh', false, 'train', 6, [3, 0]],
];

describe('the field (WebAssembly kernels) equals the same MLP written op by op in TF.js', () => {
  // The reference: z = x Wᵀ + b with TF.js's matMul, the op-by-op TF.js batch norm with the
  // layer's γ(t), β(t) and running statistics (test/nn/reference-norm.ts), and TF.js activations.
  for (const [norm, activation, timeInput, layers] of [
    ['none', 'tanh', false],
    ['none', 'softplus', true],
    ['tabn', 'silu', false],
    ['pop', 'tanh', true],
    ['minibatch', 'softplus', false],
    ['tabn', 'tanh', false, [4, 2]],
    ['popti', 'silu', true, [3, 1]],
  ] as [NormKind, ActivationName, boolean, [number, number]?][]) {
    test(`norm ${norm}, ${activation}${timeInput ? ', time input' : ''}${layers ? `, depth ${layers[0]} normalised in ${layers[1]}` : ''}, evaluation mode`, () => {
      const depth = layers?.[0] ?? 2;
      const field = new MlpField(resolveConfig({ dim: 3, depth, normLayers: layers?.[1], width: 24, norm, activation, timeInput, timeSpan: [0, 2], gridIntervals: 10, seed: 6 }), `ref${counter++}/`);
      for (const [name, v] of Object.entries(field.parameters())) if (name.includes('.norm.')) v.assign(tf.add(v, tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 8)));
      const state = field.buffers();
      for (const [k, a] of Object.entries(state)) {
        if (k.endsWith('running_mean')) a.data.forEach((_, i) => (a.data[i] = 0.2 * Math.cos(i)));
        if (k.endsWith('running_var')) a.data.forEach((_, i) => (a.data[i] = 0.6 + 0.3 * Math.sin(i) ** 2));
      }
      field.setBuffers(state);
      const y = tf.randomNormal([10, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
      const t = 1.37;
      const got = field.evaluate(y, { t, index: 0, mode: 'eval', updateStats: false, record: false }).dy;
      const want = tf.tidy(() => {
        let x: tf.Tensor2D = timeInput ? (tf.concat([y, tf.fill([10, 1], t)], 1) as tf.Tensor2D) : y;
        field.hidden.forEach(({ linear, norm: n }, i) => {
          const z = tf.add(tf.matMul(x, linear.weight, false, true), linear.bias) as tf.Tensor2D;
          // past normLayers the reference applies no normalisation at all
          x = activate(activation, i < (layers?.[1] ?? depth) ? referenceApply(n, z, t, 'eval', 0) : z);
        });
        return tf.add(tf.matMul(x, field.output.weight, false, true), field.output.bias);
      });
      const g = got.dataSync();
      const w = want.dataSync();
      for (let i = 0; i < w.length; i++) assert.ok(Math.abs(g[i] - w[i]) <= 1e-5 * (1 + Math.abs(w[i])), `dy[${i}]: kernels ${g[i]}, TF.js ${w[i]}`);
      tf.dispose([got, want, y]);
      field.dispose();
    });
  }
});

describe('the hand-written vector–Jacobian product matches central differences of the field', () => {
  for (const [norm, activation, timeInput, mode = 'train', width = 6, layers] of CASES) {
    test(`norm ${norm}, ${activation}${timeInput ? ', time input' : ''}, width ${width}${layers ? `, depth ${layers[0]} normalised in ${layers[1]}` : ''}: VJP matches directional central differences in ${mode === 'train' ? 'training' : 'evaluation'} mode`, () => {
      const field = new MlpField(resolveConfig({ dim: 3, depth: layers?.[0] ?? 2, normLayers: layers?.[1], width, norm, activation, timeInput, timeSpan: [0, 2], gridIntervals: 10, seed: 4 }), `vjp${counter++}/`);
      if (layers) assert.equal(Object.keys(field.parameters()).filter((n) => n.includes('.norm.')).length, norm === 'none' ? 0 : 2 * layers[1], 'γ and β only in the normalised layers');
      // Non-trivial γ, β so that their gradients matter.
      for (const [name, v] of Object.entries(field.parameters())) if (name.includes('.norm.')) v.assign(tf.add(v, tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 7)));
      const y = tf.randomNormal([16, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
      const cot = tf.randomNormal([16, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
      const t = 0.73;
      if (mode === 'eval') {
        // Non-trivial running statistics (the initial ones are mean 0, variance 1).
        const state = field.buffers();
        const moved: typeof state = {};
        for (const [k, a] of Object.entries(state)) {
          const data = a.data.map((x, i) => (k.endsWith('running_mean') ? 0.3 * Math.sin(i) : k.endsWith('running_var') ? 0.5 + 0.4 * Math.cos(i) ** 2 : x));
          moved[k] = { shape: a.shape, data };
        }
        field.setBuffers(moved);
      }
      const out = field.evaluate(y, { t, index: 0, mode, updateStats: false, record: true });
      const sink = new KernelGradientSink();
      const gy = field.vjp(out.tape!, cot, sink, 1);
      const check = (grad: tf.Tensor, target: tf.Variable | 'y', what: string, seed: number) => {
        const v = tf.randomUniform(grad.shape, -1, 1, 'float32', seed);
        const want = directional(field, y, cot, t, target, v, mode);
        const got = tf.sum(tf.mul(grad, v)).dataSync()[0];
        assert.ok(Math.abs(got - want) <= 2e-3 + 1e-2 * Math.abs(want), `${what}: VJP gives ${got}, central differences ${want}`);
      };
      check(gy, 'y', 'dL/dy', 11);
      let seed = 12;
      for (const [name, v] of Object.entries(field.parameters())) check(sink.get(name) ?? tf.zerosLike(v), v, name, seed++);
      out.tape!.dispose();
      sink.dispose();
      field.dispose();
    });
  }
});
