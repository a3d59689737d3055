import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { dop853 } from '../../src/generate/dop853.js';
import { IntegrationError } from '../../src/generate/integrator.js';
import { solveTrajectory } from '../../src/generate/solve.js';
import { getSystem } from '../../systems/index.js';

// Harmonic oscillator y'' = -y: exact solution (cos t, -sin t) from (1, 0).
const oscillator = (_t: number, y: ArrayLike<number>, dy: Float64Array): void => {
  dy[0] = y[1];
  dy[1] = -y[0];
};

/** Runs DOP853 with a fixed step h: a tolerance no error estimate can exceed, and h as first and largest step. */
function fixedStep(h: number, times: Float64Array) {
  return dop853(oscillator, Float64Array.of(1, 0), times, { rtol: 1e6, atol: 1e6, maxSteps: 1e6, initialStep: h, maxStep: h });
}

function maxError(y: Float64Array, times: Float64Array): number {
  let worst = 0;
  for (let k = 0; k < times.length; k++) worst = Math.max(worst, Math.hypot(y[2 * k] - Math.cos(times[k]), y[2 * k + 1] + Math.sin(times[k])));
  return worst;
}

describe('dop853', () => {
  test('is of order 8 at the step ends (fixed steps, harmonic oscillator)', () => {
    // Sample exactly at step ends: t = 0, 2, 4, ..., 20 are multiples of both step sizes.
    const times = Float64Array.from({ length: 11 }, (_, i) => 2 * i);
    const coarse = maxError(fixedStep(0.5, times).y, times);
    const fine = maxError(fixedStep(0.25, times).y, times);
    const order = Math.log2(coarse / fine);
    assert.ok(order > 7.6 && order < 8.6, `empirical order ${order} (errors ${coarse}, ${fine})`);
  });

  test('its dense output inside steps is of order 7 or better', () => {
    // Samples strictly inside the steps of [0, 10] (at 0.3 h and 0.77 h into each) are interpolated, never stepped to.
    const sampleAt = (h: number) => Float64Array.from([0, ...Array.from({ length: Math.round(10 / h) }, (_, j) => [(j + 0.3) * h, (j + 0.77) * h]).flat()]);
    const errors = [0.5, 0.25].map((h) => {
      const times = sampleAt(h);
      return maxError(fixedStep(h, times).y, times);
    });
    const order = Math.log2(errors[0] / errors[1]);
    assert.ok(order > 6.8, `empirical dense-output order ${order} (errors ${errors.join(', ')})`);
  });

  test('the adaptive solve meets its tolerance: error shrinks with rtol and stays near it', () => {
    const times = Float64Array.from({ length: 101 }, (_, i) => i / 5);
    const errors = [1e-6, 1e-9, 1e-12].map((tol) => maxError(dop853(oscillator, Float64Array.of(1, 0), times, { rtol: tol, atol: tol, maxSteps: 1e5 }).y, times));
    assert.ok(errors[0] < 1e-4 && errors[1] < 1e-7 && errors[2] < 1e-10, `errors ${errors.join(', ')}`);
    assert.ok(errors[0] > errors[1] && errors[1] > errors[2], `errors do not shrink: ${errors.join(', ')}`);
  });

  test('matches the Pleiades reference solution at t = 3 (Hairer et al., PLEI)', () => {
    // Seven bodies in the plane, m_i = i (design/REFERENCE_CASES.md); our n-body system is 3D with z = 0.
    const n = 7;
    const sys = getSystem('nbody').create({ preset: 'random', bodies: n });
    const x0 = [3, 3, -1, -3, 2, -2, 2], y0 = [3, -3, 2, 0, 0, -4, 4];
    const vx0 = [0, 0, 0, 0, 0, 1.75, -1.5], vy0 = [0, 0, 0, -1.25, 1, 0, 0];
    const state = new Float64Array(6 * n);
    for (let i = 0; i < n; i++) {
      state[3 * i] = x0[i];
      state[3 * i + 1] = y0[i];
      state[3 * n + 3 * i] = vx0[i];
      state[3 * n + 3 * i + 1] = vy0[i];
    }
    const params = Float64Array.from([1, 0, 1, 2, 3, 4, 5, 6, 7]);
    const xRef = [0.3706139143970502, 3.237284092057233, -3.222559032418324, 0.659709145577531, 0.3425581707156584, 1.562172101400631, -0.7003092922212495];
    const yRef = [-3.943437585517392, -3.27138097397255, 5.225081843456543, -2.59061243497747, 1.198213693392275, -0.2429682344935824, 1.09144924042898];
    for (const integrator of ['dop853', 'odex'] as const) {
      const { y } = solveTrajectory(sys, { y0: state, params }, Float64Array.of(0, 3), { integrator, rtol: 1e-13, atol: 1e-13 });
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[6 * n + 3 * i] - xRef[i]), Math.abs(y[6 * n + 3 * i + 1] - yRef[i]));
      assert.ok(worst < 1e-9, `${integrator}: worst position error at t = 3: ${worst}`);
    }
  });

  test('a step limit is a typed error that says where it stopped and what to change', () => {
    assert.throws(
      () => dop853(oscillator, Float64Array.of(1, 0), Float64Array.of(0, 100), { rtol: 1e-12, atol: 1e-12, maxSteps: 10 }),
      (err: unknown) => err instanceof IntegrationError && /step limit \(10 steps\) at t = [\d.]+ before t = 100/.test(err.message) && /loosen --rtol/.test(err.hint ?? ''),
    );
  });

  test('rejects decreasing sample times', () => {
    assert.throws(() => dop853(oscillator, Float64Array.of(1, 0), Float64Array.of(0, 2, 1), { rtol: 1e-9, atol: 1e-9, maxSteps: 100 }), IntegrationError);
  });
});
