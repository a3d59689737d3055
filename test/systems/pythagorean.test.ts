import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getSystem } from '../../systems/index.js';
import { solveTrajectory } from '../../src/generate/solve.js';
import { Rng } from '../../src/util/rng.js';

// Burrau (1913); Szebehely & Peters, Astron. J. 72 (1967) 876 (design/REFERENCE_CASES.md):
// E = -769/60; bodies 4 and 5 form a binary and body 3 escapes by t ~ 60-70.
describe('nbody pythagorean preset', () => {
  const sys = getSystem('nbody').create({ preset: 'pythagorean' });
  const ic = sys.sample(new Rng(0));
  const times = Float64Array.from({ length: 701 }, (_, i) => i / 10);
  // The preset's ground truth (its generation defaults): DOP853 at rtol = atol = 1e-13. odex at its
  // best setting (rtol 1e-12, atol 1e-14) holds only 3.3e-9 here.
  const defaults = sys.defaults!;
  assert.equal(defaults.integrator, 'dop853');
  const tolerance = defaults.tolerance!;
  const { y } = solveTrajectory(sys, ic, times, { integrator: defaults.integrator, rtol: tolerance, atol: tolerance });
  const m = [3, 4, 5];

  test('starts with energy -769/60', () => {
    assert.ok(Math.abs(sys.energy(ic.y0, ic.params) - -769 / 60) < 1e-13);
  });

  test('energy -769/60 is held to 1e-9 through the close encounters (closest: 4.2e-4 at t = 15.83)', () => {
    const e0 = -769 / 60;
    let worst = 0;
    for (let k = 0; k < times.length; k++) worst = Math.max(worst, Math.abs(sys.energy(y.subarray(18 * k, 18 * k + 18), ic.params) - e0) / Math.abs(e0));
    assert.ok(worst <= 1e-9, `worst relative energy error ${worst}`);
  });

  test('bodies of mass 4 and 5 bind and the body of mass 3 escapes by t = 70', () => {
    const last = y.subarray(18 * 700);
    const r = (i: number) => [last[3 * i], last[3 * i + 1], last[3 * i + 2]];
    const v = (i: number) => [last[9 + 3 * i], last[9 + 3 * i + 1], last[9 + 3 * i + 2]];
    const sub = (a: number[], b: number[]) => a.map((x, k) => x - b[k]);
    const norm = (a: number[]) => Math.hypot(...a);
    // binary (4, 5): two-body energy in its own frame is negative
    const dv = sub(v(2), v(1)), dr = sub(r(2), r(1));
    const mu = (m[1] * m[2]) / (m[1] + m[2]);
    const eBinary = 0.5 * mu * norm(dv) ** 2 - (m[1] * m[2]) / norm(dr);
    assert.ok(eBinary < 0, `binary energy ${eBinary}`);
    // body 3 relative to the binary's centre of mass: far away, receding, unbound
    const cm = r(1).map((x, k) => (m[1] * x + m[2] * r(2)[k]) / (m[1] + m[2]));
    const cv = v(1).map((x, k) => (m[1] * x + m[2] * v(2)[k]) / (m[1] + m[2]));
    const R = sub(r(0), cm), V = sub(v(0), cv);
    const M = m[0] + m[1] + m[2], reduced = (m[0] * (m[1] + m[2])) / M;
    const eEscape = 0.5 * reduced * norm(V) ** 2 - (m[0] * (m[1] + m[2])) / norm(R);
    assert.ok(norm(R) > 5 * norm(dr), `body 3 at ${norm(R)}, binary size ${norm(dr)}`);
    assert.ok(R[0] * V[0] + R[1] * V[1] + R[2] * V[2] > 0, 'body 3 recedes');
    assert.ok(eEscape > 0, `body 3 is unbound (energy ${eEscape})`);
  });
});
