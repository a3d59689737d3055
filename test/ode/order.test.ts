import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import odex from 'odex';
import { initBackend } from '../../src/backend/backend.js';
import { odeint } from '../../src/ode/index.js';
import { tsit5 } from '../../src/ode/tableaux/tsit5.js';
import { tableauFor } from '../../src/ode/tableaux/index.js';
import type { EvalRequest, FieldOutput, VectorField } from '../../src/ode/field.js';
import { decay, oscillator, maxAbsDiff, LinearField } from './_fields.js';

await initBackend();

type Problem = { name: string; make: () => LinearField; y0: number[]; T: number; exact: (t: number) => number[] };
const DECAY: Problem = { name: "y' = -y", make: decay, y0: [1], T: 2, exact: (t) => [Math.exp(-t)] };
const OSC: Problem = { name: 'harmonic oscillator', make: oscillator, y0: [1, 0], T: 2 * Math.PI, exact: (t) => [Math.cos(t), -Math.sin(t)] };

function finalError(p: Problem, method: 'euler' | 'midpoint' | 'rk4' | 'bosh3' | 'dopri5' | 'tsit5', steps: number): number {
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
const CASES: [method: 'euler' | 'midpoint' | 'rk4' | 'bosh3' | 'dopri5' | 'tsit5', order: number, problem: Problem, n: number, tol?: number][] = [
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
  // tsit5 (tuned for a small principal error) on the oscillator: n = 5 → 10 gives errors 4e-3 →
  // 9e-5 (observed 5.6; its higher-order terms still weigh in, as for dopri5 on y' = -y, and by
  // n = 16 float32 round-off dominates), hence 5 ± 0.8. On y' = -y its error falls from 2e-4 to
  // float32 round-off between n = 2 and n = 8, too fast to be measured; its order conditions are
  // checked exactly below ('tsit5 tableau').
  ['tsit5', 5, OSC, 5, 0.8],
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

// Wide states (64 columns or more: an image's pixels, a wide lift) combine their stages in TF.js
// ops instead of host loops: the same checks on 40 independent oscillators, ω_k = 0.5 + k/40.
describe('wide states', () => {
  const K = 40;
  const omega = Array.from({ length: K }, (_, k) => 0.5 + k / 40);
  const wide = (): LinearField => {
    const a = Array.from({ length: 2 * K }, () => new Array<number>(2 * K).fill(0));
    omega.forEach((w, k) => {
      a[2 * k][2 * k + 1] = w; // x' = ω v
      a[2 * k + 1][2 * k] = -w; // v' = −ω x
    });
    return new LinearField(a);
  };
  const start = (row: number): number[] => omega.flatMap((_, k) => [1 + 0.1 * row, 0.2 * k / K]);
  const exact = (y0: number[], t: number): number[] =>
    omega.flatMap((w, k) => {
      const [x, v] = [y0[2 * k], y0[2 * k + 1]];
      return [x * Math.cos(w * t) + v * Math.sin(w * t), v * Math.cos(w * t) - x * Math.sin(w * t)];
    });
  const solve = (rows: number[][], steps: number): Float32Array => {
    const f = wide();
    const y0 = tf.tensor2d(rows);
    const { ys } = odeint(f, y0, [0, 3], { method: 'rk4', steps });
    const v = ys.dataSync().slice(rows.length * 2 * K) as Float32Array; // y(3)
    ys.dispose();
    y0.dispose();
    f.dispose();
    return v;
  };

  test('rk4 on an 80-column state reaches order 4 against the exact solution', () => {
    const y0 = start(0);
    const e1 = maxAbsDiff(solve([y0], 8), exact(y0, 3));
    const e2 = maxAbsDiff(solve([y0], 16), exact(y0, 3));
    assert.ok(e2 > 2e-7, `error ${e2} too close to float32 round-off`);
    assert.ok(Math.abs(Math.log2(e1 / e2) - 4) < 0.4, `observed order ${Math.log2(e1 / e2).toFixed(2)} (errors ${e1.toExponential(2)}, ${e2.toExponential(2)})`);
  });

  test('each row of a batch is integrated as if alone, bit for bit', () => {
    const rows = [start(0), start(1), start(2)];
    const batch = solve(rows, 12);
    rows.forEach((r, i) => assert.deepEqual(batch.slice(i * 2 * K, (i + 1) * 2 * K), solve([r], 12), `row ${i}`));
  });
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

/**
 * The 17 order conditions of an explicit Runge–Kutta method up to order 5, one per rooted tree
 * (Butcher 1964; Hairer, Nørsett & Wanner I, Table II.2.2): Σ b Φ(tree) = 1 / γ(tree).
 */
function orderConditions(c: readonly number[], a: readonly (readonly number[])[], b: readonly number[], order: number): { tree: string; got: number; want: number }[] {
  const s = c.length;
  const A = (v: number[]): number[] => Array.from({ length: s }, (_, i) => (a[i] ?? []).reduce((acc, aij, j) => acc + aij * v[j], 0));
  const mul = (...vs: number[][]): number[] => Array.from({ length: s }, (_, i) => vs.reduce((p, v) => p * v[i], 1));
  const one = c.map(() => 1);
  const cv = [...c];
  const c2 = mul(cv, cv);
  const c3 = mul(c2, cv);
  const Ac = A(cv);
  const conds: [number, string, number[], number][] = [
    [1, 'τ', one, 1],
    [2, 'c', cv, 1 / 2],
    [3, 'c²', c2, 1 / 3],
    [3, 'Ac', Ac, 1 / 6],
    [4, 'c³', c3, 1 / 4],
    [4, 'c·Ac', mul(cv, Ac), 1 / 8],
    [4, 'Ac²', A(c2), 1 / 12],
    [4, 'AAc', A(Ac), 1 / 24],
    [5, 'c⁴', mul(c3, cv), 1 / 5],
    [5, 'c²·Ac', mul(c2, Ac), 1 / 10],
    [5, 'c·Ac²', mul(cv, A(c2)), 1 / 15],
    [5, 'c·AAc', mul(cv, A(Ac)), 1 / 30],
    [5, '(Ac)²', mul(Ac, Ac), 1 / 20],
    [5, 'Ac³', A(c3), 1 / 20],
    [5, 'A(c·Ac)', A(mul(cv, Ac)), 1 / 40],
    [5, 'AAc²', A(A(c2)), 1 / 60],
    [5, 'AAAc', A(A(Ac)), 1 / 120],
  ];
  return conds.filter(([o]) => o <= order).map(([, tree, phi, want]) => ({ tree, got: phi.reduce((acc, p, i) => acc + b[i] * p, 0), want }));
}

describe('tsit5 tableau', () => {
  test('tsit5 is registered and its rows sum to the nodes c (a_i·1 = c_i)', () => {
    assert.equal(tableauFor('tsit5'), tsit5);
    tsit5.a.forEach((row, i) => {
      const sum = row.reduce((p, q) => p + q, 0);
      assert.ok(Math.abs(sum - tsit5.c[i]) < 1e-14, `row ${i}: Σ a = ${sum}, c = ${tsit5.c[i]}`);
    });
    assert.deepEqual(tsit5.a[6], tsit5.b.slice(0, 6)); // FSAL: the last stage is f(t + h, y_{n+1})
  });

  test('tsit5 weights b satisfy all 17 order conditions of order 5', () => {
    // The published coefficients are double-precision decimals: the conditions hold to ~1e-14.
    for (const { tree, got, want } of orderConditions(tsit5.c, tsit5.a, tsit5.b, 5)) {
      assert.ok(Math.abs(got - want) < 1e-12, `tree ${tree}: Σ bΦ = ${got}, want ${want}`);
    }
  });

  test('the embedded weights b̂ = b − errorWeights have order 4, not 5', () => {
    const bHat = tsit5.b.map((bi, i) => bi - tsit5.errorWeights![i]);
    for (const { tree, got, want } of orderConditions(tsit5.c, tsit5.a, bHat, 4)) {
      assert.ok(Math.abs(got - want) < 1e-12, `tree ${tree}: Σ b̂Φ = ${got}, want ${want}`);
    }
    const fifth = orderConditions(tsit5.c, tsit5.a, bHat, 5).slice(8);
    assert.ok(fifth.some(({ got, want }) => Math.abs(got - want) > 1e-6), 'b̂ should not be of order 5');
  });
});

test('a fixed-step method given neither step nor steps takes one step per interval of evenly spaced ts', async () => {
  await initBackend();
  const field = decay();
  const y0 = tf.tensor2d([[1]]);
  const { ys, stats } = odeint(field, y0, [0, 0.25, 0.5, 0.75, 1], { method: 'rk4' });
  // rk4 on y' = -y multiplies by the degree-4 Taylor polynomial of exp(-h) each step (h = 0.25).
  const h = 0.25;
  const amplification = 1 - h + h ** 2 / 2 - h ** 3 / 6 + h ** 4 / 24;
  const last = (await ys.array())[4][0][0];
  assert.equal(stats.accepted, 4);
  assert.ok(Math.abs(last - amplification ** 4) < 1e-6, `y(1) = ${last}`);
  tf.dispose([ys, y0]);
  field.dispose();
});
