import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getSystem } from '../../systems/index.js';
import { solveTrajectory } from '../../src/generate/solve.js';
import { Rng } from '../../src/util/rng.js';

// Kepler e = 0.6: Hairer, Lubich & Wanner, "Geometric Numerical Integration", sec. I.2.3
// (design/REFERENCE_CASES.md). Relative motion q = r2 - r1, p = v2 - v1, G (m1 + m2) = 1.
const e = 0.6;
function analytic(t: number): { q: [number, number]; p: [number, number] } {
  let E = t; // Kepler's equation E - e sin E = t, by Newton's method
  for (let i = 0; i < 60; i++) E -= (E - e * Math.sin(E) - t) / (1 - e * Math.cos(E));
  const s = Math.sqrt(1 - e * e), d = 1 - e * Math.cos(E);
  return { q: [Math.cos(E) - e, s * Math.sin(E)], p: [-Math.sin(E) / d, (s * Math.cos(E)) / d] };
}

describe('nbody two-body preset (Kepler, e = 0.6)', () => {
  const sys = getSystem('nbody').create({ preset: 'two-body' });
  const ic = sys.sample(new Rng(0));
  const times = Float64Array.from({ length: 401 }, (_, i) => (i * 20 * Math.PI) / 400);
  const { y } = solveTrajectory(sys, ic, times, { rtol: 1e-12, atol: 1e-12 });
  const rel = (k: number) => {
    const r = y.subarray(12 * k, 12 * k + 12);
    return { q: [r[3] - r[0], r[4] - r[1]], p: [r[9] - r[6], r[10] - r[7]], z: [r[2], r[5], r[8], r[11]] };
  };

  test('starts at q0 = (0.4, 0), p0 = (0, 2) with H = -1/2 per reduced mass', () => {
    const s = rel(0);
    assert.deepEqual(s.q, [0.4, 0]);
    assert.deepEqual(s.p, [0, 2]);
    // total energy = reduced mass (1/4) x H
    assert.ok(Math.abs(sys.energy(ic.y0, ic.params) - -0.125) < 1e-15);
  });

  test('matches the 30-digit reference values at t = 1, pi, 10 (REFERENCE_CASES.md)', () => {
    const at = (t: number) => solveTrajectory(sys, ic, Float64Array.of(0, t), { rtol: 1e-12, atol: 1e-12 }).y.subarray(12);
    const refs: Array<[number, number[], number[]]> = [
      [1, [-0.62894817682662423, 0.79966473097003927], [-0.98251569093881133, -0.02276317009743042]],
      [Math.PI, [-1.6, 0], [0, -0.5]],
      [10, [-1.5350235919098137, -0.28366840649978086], [0.22715073207749834, -0.47918775820321957]],
    ];
    for (const [t, q, p] of refs) {
      const r = at(t);
      assert.ok(Math.hypot(r[3] - r[0] - q[0], r[4] - r[1] - q[1]) < 1e-10, `q at t = ${t}`);
      assert.ok(Math.hypot(r[9] - r[6] - p[0], r[10] - r[7] - p[1]) < 1e-10, `p at t = ${t}`);
    }
  });

  test('positions match the analytic solution to 1e-9 relative over 10 orbits', () => {
    let worst = 0;
    for (let k = 0; k < times.length; k++) {
      const { q } = rel(k);
      const a = analytic(times[k]).q;
      worst = Math.max(worst, Math.hypot(q[0] - a[0], q[1] - a[1]) / Math.hypot(a[0], a[1]));
    }
    assert.ok(worst <= 1e-9, `worst relative position error ${worst}`);
  });

  test('energy, angular momentum and the Runge-Lenz vector (0.6, 0) hold', () => {
    const e0 = sys.energy(ic.y0, ic.params);
    for (let k = 0; k < times.length; k++) {
      const row = y.subarray(12 * k, 12 * k + 12);
      assert.ok(Math.abs(sys.energy(row, ic.params) - e0) / Math.abs(e0) < 1e-10, 'energy');
      const inv = sys.invariants!(row, ic.params);
      assert.ok(Math.abs(inv.Lz - 0.2) < 1e-10, 'angular momentum (reduced mass x 0.8)');
      assert.ok(Math.abs(inv.px) < 1e-12 && Math.abs(inv.py) < 1e-12, 'linear momentum');
      const { q, p } = rel(k);
      const L = q[0] * p[1] - q[1] * p[0];
      const r = Math.hypot(q[0], q[1]);
      const A = [p[1] * L - q[0] / r, -p[0] * L - q[1] / r];
      assert.ok(Math.abs(L - 0.8) < 1e-10, `relative angular momentum ${L}`);
      assert.ok(Math.hypot(A[0] - 0.6, A[1]) < 1e-9, `Runge-Lenz ${A}`);
    }
  });
});
