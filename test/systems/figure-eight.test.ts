import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getSystem } from '../../systems/index.js';
import { FIGURE_EIGHT_PERIOD } from '../../systems/nbody-presets.js';
import { solveTrajectory } from '../../src/generate/solve.js';
import { Rng } from '../../src/util/rng.js';

// Chenciner & Montgomery, Annals of Mathematics 152 (2000), Simó's initial data
// (design/REFERENCE_CASES.md): T = 6.32591398, E = -1.287141991766326.
describe('nbody figure-eight preset', () => {
  const sys = getSystem('nbody').create({ preset: 'figure-eight' });
  const ic = sys.sample(new Rng(0));
  const T = FIGURE_EIGHT_PERIOD;
  const body = (y: Float64Array, i: number) => [y[3 * i], y[3 * i + 1], y[3 * i + 2]];
  const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

  test('has the published energy and zero angular momentum', () => {
    assert.ok(Math.abs(sys.energy(ic.y0, ic.params) - -1.287141991766326) < 1e-12);
    assert.ok(Math.abs(sys.invariants!(ic.y0, ic.params).Lz) < 1e-8);
  });

  test('bodies swap places at T/3 and return after T within the precision of the data (1e-7)', () => {
    const { y } = solveTrajectory(sys, ic, Float64Array.of(0, T / 3, T), { rtol: 1e-12, atol: 1e-12 });
    const third = y.subarray(18, 36), full = y.subarray(36, 54);
    const start = ic.y0;
    assert.ok(dist(body(third, 0), [0, 0, 0]) < 1e-7, 'body 1 at the origin');
    assert.ok(dist(body(third, 1), body(start, 0)) < 1e-7, 'body 2 at x1(0)');
    assert.ok(dist(body(third, 2), body(start, 1)) < 1e-7, 'body 3 at x2(0)');
    for (let i = 0; i < 18; i++) assert.ok(Math.abs(full[i] - start[i]) < 1e-7, `component ${i} after one period`);
  });

  test('relative energy error stays <= 1e-10 over 100 periods', () => {
    const times = Float64Array.from({ length: 1001 }, (_, i) => (i * 100 * T) / 1000);
    const { y } = solveTrajectory(sys, ic, times, { rtol: 1e-12, atol: 1e-12 });
    const e0 = sys.energy(ic.y0, ic.params);
    let worst = 0;
    for (let k = 0; k < times.length; k++) worst = Math.max(worst, Math.abs(sys.energy(y.subarray(18 * k, 18 * k + 18), ic.params) - e0) / Math.abs(e0));
    assert.ok(worst <= 1e-10, `worst relative energy error ${worst}`);
  });
});
