import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { odeint, odeintWithGradients, type OdeOptions } from '../../src/ode/index.js';
import { MlpField } from '../../src/model/mlp-field.js';
import { resolveConfig } from '../../src/model/config.js';
import { Rng } from '../../src/util/rng.js';

await initBackend();

// float32 everywhere (tfjs's wasm and cpu backends have no float64). Central differences with
// ε = 1e-2 on a smooth tanh MLP: truncation error ~ ε² |L'''| ~ 1e-4 relative, round-off
// ~ 1e-7 · |L| / ε ~ 1e-5; we accept |g − fd| <= 2e-3 + 1e-2 |fd|.
const EPS = 1e-2;

function makeField(seed: number): MlpField {
  return new MlpField(resolveConfig({ dim: 2, depth: 2, width: 8, activation: 'tanh', norm: 'none', seed }), `grad${seed}/`);
}

function setup(seed: number, ts: number[]) {
  const rng = new Rng(seed + 100);
  const B = 3;
  const y0v = Array.from({ length: B * 2 }, () => rng.range(-1, 1));
  const wv = Array.from({ length: ts.length * B * 2 }, () => rng.range(-1, 1));
  return { B, y0v, wv };
}

/** L = Σ w ⊙ y(ts), evaluated by a plain solve. */
function loss(field: MlpField, y0v: number[], wv: number[], ts: number[], opts: OdeOptions): number {
  return tf.tidy(() => {
    const { ys } = odeint(field, tf.tensor2d(y0v, [y0v.length / 2, 2]), ts, opts);
    return tf.sum(tf.mul(ys, tf.tensor3d(wv, ys.shape))).dataSync()[0];
  });
}

function gradients(field: MlpField, y0v: number[], wv: number[], ts: number[], opts: OdeOptions) {
  const y0 = tf.tensor2d(y0v, [y0v.length / 2, 2]);
  const sol = odeintWithGradients(field, y0, ts, opts);
  const w = tf.tensor3d(wv, sol.ys.shape);
  const g = sol.backward(w);
  const out = {
    y0: Array.from(g.y0.dataSync()),
    params: Object.fromEntries(Object.entries(g.params).map(([k, v]) => [k, Array.from(v.dataSync())])),
  };
  for (const t of [y0, w, sol.ys, g.y0, ...Object.values(g.params)]) t.dispose();
  return out;
}

/** A few entries of every parameter and of y0, by central differences. */
function finiteDifferences(field: MlpField, y0v: number[], wv: number[], ts: number[], opts: OdeOptions) {
  const checks: { what: string; fd: number; key: string; index: number }[] = [];
  for (const [name, v] of Object.entries(field.parameters())) {
    const base = Float32Array.from(v.dataSync());
    for (const index of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (delta: number): number => {
        const p = base.slice();
        p[index] += delta;
        v.assign(tf.tensor(p, v.shape));
        return loss(field, y0v, wv, ts, opts);
      };
      const fd = (at(EPS) - at(-EPS)) / (2 * EPS);
      v.assign(tf.tensor(base, v.shape));
      checks.push({ what: `${name}[${index}]`, fd, key: name, index });
    }
  }
  for (const index of [0, 3, 5]) {
    const at = (delta: number): number => {
      const y = y0v.slice();
      y[index] += delta;
      return loss(field, y, wv, ts, opts);
    };
    checks.push({ what: `y0[${index}]`, fd: (at(EPS) - at(-EPS)) / (2 * EPS), key: 'y0', index });
  }
  return checks;
}

function close(got: number, want: number, abs: number, rel: number): boolean {
  return Math.abs(got - want) <= abs + rel * Math.abs(want);
}

const SETUPS: [name: string, ts: number[], opts: OdeOptions][] = [
  // 200 Euler steps: the adjoint (a continuous-time gradient, itself solved by Euler) differs
  // from the discrete gradient by O(h) = O(5e-3), inside the tolerance below.
  ['euler', [0, 0.5, 1], { method: 'euler', steps: 200 }],
  // 5 steps of h = 0.2: the output at t = 0.5 lies inside a step (Hermite with the next stage).
  ['rk4', [0, 0.5, 1], { method: 'rk4', steps: 5 }],
  // t = 0.37 lies inside an adaptive step (Hermite with the FSAL stage).
  ['dopri5', [0, 0.37, 1], { method: 'dopri5', rtol: 1e-6, atol: 1e-6 }],
];

describe('gradients match central finite differences', () => {
  for (const [name, ts, opts] of SETUPS) {
    for (const adjoint of [false, true]) {
      test(`${name} ${adjoint ? 'adjoint' : 'backprop'} gradients of params and y0 match central differences`, () => {
        const field = makeField(1);
        const { y0v, wv } = setup(1, ts);
        const g = gradients(field, y0v, wv, ts, { ...opts, adjoint });
        const fds = finiteDifferences(field, y0v, wv, ts, opts);
        const [abs, rel] = adjoint && name === 'euler' ? [3e-3, 3e-2] : [2e-3, 1e-2];
        for (const c of fds) {
          const got = c.key === 'y0' ? g.y0[c.index] : g.params[c.key][c.index];
          assert.ok(close(got, c.fd, abs, rel), `${c.what}: gradient ${got} vs finite difference ${c.fd}`);
        }
        field.dispose();
      });
    }
  }
});

describe('backpropagation and adjoint agree', () => {
  for (const [name, ts, opts, abs, rel] of [
    ['rk4', [0, 0.5, 1], { method: 'rk4', steps: 20 }, 2e-4, 2e-3],
    ['dopri5', [0, 0.37, 1], { method: 'dopri5', rtol: 1e-6, atol: 1e-7 }, 5e-4, 5e-3],
  ] as const) {
    test(`${name}: backprop and adjoint gradients agree`, () => {
      const field = makeField(2);
      const { y0v, wv } = setup(2, [...ts]);
      const a = gradients(field, y0v, wv, [...ts], { ...opts, adjoint: false });
      const b = gradients(field, y0v, wv, [...ts], { ...opts, adjoint: true });
      a.y0.forEach((v, i) => assert.ok(close(b.y0[i], v, abs, rel), `y0[${i}]: ${b.y0[i]} vs ${v}`));
      for (const [k, arr] of Object.entries(a.params)) {
        arr.forEach((v, i) => assert.ok(close(b.params[k][i], v, abs, rel), `${k}[${i}]: adjoint ${b.params[k][i]} vs backprop ${v}`));
      }
      field.dispose();
    });
  }
});

test('the adjoint keeps no per-step recording: live tensors during backward do not grow with steps', () => {
  const field = makeField(3);
  const { y0v, wv } = setup(3, [0, 1]);
  const peak = (steps: number): number => {
    const y0 = tf.tensor2d(y0v, [3, 2]);
    const sol = odeintWithGradients(field, y0, [0, 1], { method: 'rk4', steps, adjoint: true });
    const afterForward = tf.memory().numTensors;
    const w = tf.tensor3d(wv, sol.ys.shape);
    let max = 0;
    const orig = field.evaluate.bind(field);
    field.evaluate = (y, r) => {
      max = Math.max(max, tf.memory().numTensors);
      return orig(y, r);
    };
    const g = sol.backward(w);
    field.evaluate = orig;
    for (const t of [y0, w, sol.ys, g.y0, ...Object.values(g.params)]) t.dispose();
    return max - afterForward;
  };
  const small = peak(10);
  const large = peak(80);
  assert.ok(large <= small + 2, `live tensors grew from ${small} (10 steps) to ${large} (80 steps)`);
  field.dispose();
});
