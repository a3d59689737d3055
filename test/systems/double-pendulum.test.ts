import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getSystem } from '../../systems/index.js';
import { solveTrajectory } from '../../src/generate/solve.js';

// design/REFERENCE_CASES.md: m1 = m2, l1 = l2 = 1, g = 9.8: normal modes omega^2 = (g/l)(2 -/+ sqrt 2),
// amplitude ratio theta2/theta1 = +/- sqrt 2; omega = 2.395977272168 and 5.784400825605.
describe('double pendulum', () => {
  const sys = getSystem('double-pendulum').create();
  const params = Float64Array.of(1, 1, 1, 1, 9.8);
  const modes: Array<[string, number, number]> = [
    ['in phase', Math.SQRT2, 2.395977272168],
    ['anti-phase', -Math.SQRT2, 5.784400825605],
  ];
  for (const [name, ratio, omega] of modes) {
    test(`small-amplitude ${name} normal mode oscillates at the linear-theory frequency ${omega}`, () => {
      const eps = 1e-5;
      const times = Float64Array.from({ length: 51 }, (_, i) => (i * 5 * 2 * Math.PI) / omega / 50);
      const { y } = solveTrajectory(sys, { y0: Float64Array.of(eps, ratio * eps, 0, 0), params }, times, { rtol: 1e-12, atol: 1e-14 });
      for (let k = 0; k < times.length; k++) {
        const c = Math.cos(omega * times[k]);
        // nonlinear corrections are O(eps^2) relative
        assert.ok(Math.abs(y[4 * k] / eps - c) < 1e-6, `theta1 at t = ${times[k]}: ${y[4 * k] / eps} vs ${c}`);
        assert.ok(Math.abs(y[4 * k + 1] / eps - ratio * c) < 1e-6, `theta2 at t = ${times[k]}`);
      }
    });
  }

  test('energy at large amplitude matches E0 = 2.568236150084 and is held (chaotic motion)', () => {
    const y0 = Float64Array.of((3 * Math.PI) / 7, (3 * Math.PI) / 4, 0, 0);
    assert.ok(Math.abs(sys.energy(y0, params) - 2.568236150084) < 1e-11);
    const times = Float64Array.from({ length: 401 }, (_, i) => i * 0.05);
    const { y } = solveTrajectory(sys, { y0, params }, times, { rtol: 1e-12, atol: 1e-12 });
    let worst = 0;
    for (let k = 0; k < times.length; k++) worst = Math.max(worst, Math.abs(sys.energy(y.subarray(4 * k, 4 * k + 4), params) - 2.568236150084) / 2.568236150084);
    assert.ok(worst < 1e-9, `worst relative energy error ${worst}`);
  });

  test('positions are pivot, upper bob and lower bob', () => {
    const p = sys.positions(Float64Array.of(0, Math.PI / 2, 0, 0), params);
    assert.deepEqual(Array.from(p).map((v) => Math.round(v * 1e12) / 1e12), [0, 0, 0, 0, -1, 0, 1, -1, 0]);
  });
});

describe('damped pendulum', () => {
  const sys = getSystem('damped-pendulum').create();
  test('energy decreases monotonically without drive, at the rate -damping L^2 omega^2', () => {
    const params = Float64Array.of(1, 9.81, 0.3, 0, 0);
    const times = Float64Array.from({ length: 1001 }, (_, i) => i * 0.01);
    const { y } = solveTrajectory(sys, { y0: Float64Array.of(2.5, 0.5), params }, times, { rtol: 1e-12, atol: 1e-12 });
    let previous = Infinity;
    for (let k = 0; k < times.length; k++) {
      const e = sys.energy(y.subarray(2 * k, 2 * k + 2), params);
      assert.ok(e <= previous + 1e-12, `energy rose at t = ${times[k]}`);
      previous = e;
    }
    // dE/dt by central differences against -b L^2 omega^2 (REFERENCE_CASES.md)
    const h = 0.01, k = 500;
    const dE = (sys.energy(y.subarray(2 * k + 2, 2 * k + 4), params) - sys.energy(y.subarray(2 * k - 2, 2 * k), params)) / (2 * h);
    assert.ok(Math.abs(dE - -0.3 * y[2 * k + 1] ** 2) < 1e-3 * Math.max(1, Math.abs(dE)));
    assert.equal(sys.conservative, false);
  });
});
