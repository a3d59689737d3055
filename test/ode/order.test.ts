import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import odex from 'odex';
import { initBackend } from '../../src/backend/backend.js';
import { odeint } from '../../src/ode/index.js';
import type { EvalRequest, FieldOutput, VectorField } from '../../src/ode/field.js';
import { decay, oscillator, maxAbsDiff, type LinearField } from './_fields.js';

await initBackend();

type Problem = { name: string; make: () => LinearField; y0: number[]; T: number; exact: (t: number) => number[] };
const DECAY: Problem = { name: "y' = -y", make: decay, y0: [1], T: 2, exact: (t) => [Math.exp(-t)] };
const OSC: Problem = { name: 'harmonic oscillator', make: oscillator, y0: [1, 0], T: 2 * Math.PI, exact: (t) => [Math.cos(t), -Math.sin(t)] };

function finalError(p: Problem, method: 'euler' | 'midpoint' | 'rk4' | 'bosh3' | 'dopri5', steps: number): number {
  const f = p.make();
  const y0 = tf.tensor2d([p.y0]);
  const { ys } = odeint(f, y0, [0, p.T], { method, steps });
  const v = ys.dataSync();
  const err = maxAbsDiff(v.slice(p.y0.length), p.exact(p.T));
  ys.dispose();
  y0.dispose();
  f.dispose();
  return err;
}

// Step counts chosen so that errors stay well above float32 round-off (~1e-7) and in the
// asymptotic regime; the observed order is log2(err(n) / err(2n)).
// dopri5 on y' = -y: its stability polynomial matches e^z through z^5 and the z^6 and z^7 error
// terms are of similar size at every step float32 allows (errors of 1e-5..1e-7), so the observed
// order there is 5.7; we accept 5 ± 0.8 for that one case and 5 ± 0.4 for the oscillator.
const CASES: [method: 'euler' | 'midpoint' | 'rk4' | 'bosh3' | 'dopri5', order: number, problem: Problem, n: number, tol?: number][] = [
  ['euler', 1, DECAY, 16],
  ['euler', 1, OSC, 256],
  ['midpoint', 2, DECAY, 16],
  ['midpoint', 2, OSC, 16],
  ['rk4', 4, DECAY, 4],
  ['rk4', 4, OSC, 16],
  ['bosh3', 3, DECAY, 16],
  ['bosh3', 3, OSC, 16],
  ['dopri5', 5, DECAY, 3, 0.8],
  ['dopri5', 5, OSC, 4],
];

describe('empirical order of convergence', () => {
  for (const [method, order, problem, n, tol] of CASES) {
    test(`${method} reaches order ${order} on ${problem.name}`, () => {
      const e1 = finalError(problem, method, n);
      const e2 = finalError(problem, method, 2 * n);
      const observed = Math.log2(e1 / e2);
      assert.ok(e2 > 2e-7, `error ${e2} too close to float32 round-off for an order estimate`);
      assert.ok(Math.abs(observed - order) < (tol ?? 0.4), `observed order ${observed.toFixed(2)} (errors ${e1.toExponential(2)}, ${e2.toExponential(2)})`);
    });
  }
});

/** The pendulum θ'' = −sin θ as a tfjs field (evaluation only). */
class Pendulum implements VectorField {
  readonly dim = 2;
  evaluate(y: tf.Tensor2D, _r: EvalRequest): FieldOutput {
    return {
      dy: tf.tidy(() => {
        const [th, om] = tf.split(y, 2, 1);
        return tf.concat([om, tf.neg(tf.sin(th))], 1) as tf.Tensor2D;
      }),
    };
  }
  vjp(): tf.Tensor2D {
    throw new Error('not needed');
  }
}

describe('dopri5 accuracy', () => {
  // tfjs's wasm and cpu backends compute in float32 (unit round-off 6e-8, one ulp of 1.0 is
  // 1.19e-7), so an O(1) state cannot be closer than ~1e-7 and round-off accumulates over the
  // ~80-100 steps rtol 1e-8 takes: we require 5e-7, i.e. a few float32 ulps of the exact value.
  test('dopri5 at rtol 1e-8 matches the exact oscillator solution to float32 precision', () => {
    const f = oscillator();
    const y0 = tf.tensor2d([[1, 0]]);
    const ts = [0, 1, 2.5, 2 * Math.PI];
    const { ys, stats } = odeint(f, y0, ts, { method: 'dopri5', rtol: 1e-8, atol: 1e-8 });
    const v = ys.dataSync();
    const exact = ts.flatMap((t) => [Math.cos(t), -Math.sin(t)]);
    assert.ok(maxAbsDiff(v, exact) < 5e-7, `max error ${maxAbsDiff(v, exact)}`);
    assert.equal(stats.rejected >= 0, true);
    ys.dispose();
    y0.dispose();
    f.dispose();
  });

  test('dopri5 at rtol 1e-8 matches odex (float64 GBS extrapolation) on the nonlinear pendulum', () => {
    const y0v = [1, 0];
    const ts = [0, 0.7, 3.1, 6];
    const solver = new odex.Solver((_x: number, y: number[]) => [y[1], -Math.sin(y[0])], 2, { absoluteTolerance: 1e-13, relativeTolerance: 1e-13 });
    const ref = solver.integrate(0, y0v);
    const exact = ts.flatMap((t) => (t === 0 ? y0v : ref(t)));
    const y0 = tf.tensor2d([y0v]);
    const { ys } = odeint(new Pendulum(), y0, ts, { method: 'dopri5', rtol: 1e-8, atol: 1e-8 });
    const v = ys.dataSync();
    // Round-off of float32 sin and of ~90 steps: we allow 1e-6 (~10 ulps of the state).
    assert.ok(maxAbsDiff(v, exact) < 1e-6, `max error ${maxAbsDiff(v, exact)}`);
    ys.dispose();
    y0.dispose();
  });

  test('outputs inside steps come from interpolation, not from extra steps', () => {
    const f = oscillator();
    const y0 = tf.tensor2d([[1, 0]]);
    const dense = Array.from({ length: 41 }, (_, i) => (i / 40) * 2 * Math.PI);
    const a = odeint(f, y0, [0, 2 * Math.PI], { method: 'dopri5', rtol: 1e-6, atol: 1e-6 });
    const b = odeint(f, y0, dense, { method: 'dopri5', rtol: 1e-6, atol: 1e-6 });
    assert.equal(b.stats.accepted, a.stats.accepted);
    const v = b.ys.dataSync();
    const exact = dense.flatMap((t) => [Math.cos(t), -Math.sin(t)]);
    // Cubic Hermite inside steps of h ~ 0.2: error O(h^4) ~ 1e-4.
    assert.ok(maxAbsDiff(v, exact) < 5e-4, `max error ${maxAbsDiff(v, exact)}`);
    a.ys.dispose();
    b.ys.dispose();
    y0.dispose();
    f.dispose();
  });
});
