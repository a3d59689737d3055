import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getSystem, listSystems, systemFromManifest } from '../../systems/index.js';
import { solveTrajectory } from '../../src/generate/solve.js';
import { InvalidArgumentError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

describe('pendulum', () => {
  const sys = getSystem('pendulum').create();
  const params = Float64Array.of(1, 1); // L = g = 1

  // T = 4 sqrt(L/g) K(sin^2(theta0/2)); 30-digit values from design/REFERENCE_CASES.md.
  const cases: Array<[string, number, number]> = [
    ['pi/6', Math.PI / 6, 6.3925680084501606],
    ['pi/2', Math.PI / 2, 7.4162987092054877],
    ['0.9 pi', 0.9 * Math.PI, 13.021211768574213],
  ];
  for (const [name, theta0, period] of cases) {
    test(`period at amplitude ${name} matches 4 sqrt(L/g) K(m) to 1e-9 relative`, () => {
      // Released from rest, theta crosses zero at T/4: one Newton step from the sample at the reference
      // T/4 gives the crossing time t* = T/4 - theta/omega (error O(dt^2)).
      const { y } = solveTrajectory(sys, { y0: Float64Array.of(theta0, 0), params }, Float64Array.of(0, period / 4, period), { rtol: 1e-12, atol: 1e-12 });
      const quarter = period / 4 - y[2] / y[3];
      assert.ok(Math.abs(4 * quarter - period) / period <= 1e-9, `period ${4 * quarter} vs ${period}`);
      // and back at the start after the reference period
      assert.ok(Math.abs(y[4] - theta0) <= 1e-9 * theta0 * 10, `theta(T) = ${y[4]}`);
      // speed at the bottom 2 sqrt(g/L) sin(theta0/2) (energy conservation)
      assert.ok(Math.abs(Math.abs(y[3]) - 2 * Math.sin(theta0 / 2)) < 1e-10);
    });
  }

  test('positions are the pivot and the bob on a rod of length L', () => {
    const p = sys.positions(Float64Array.of(Math.PI / 2, 0), Float64Array.of(2, 9.81));
    assert.equal(sys.pointCount, 2);
    assert.deepEqual(Array.from(p.subarray(0, 3)), [0, 0, 0]);
    assert.ok(Math.abs(p[3] - 2) < 1e-15 && Math.abs(p[4]) < 1e-15);
  });

  test('the sampler is deterministic for a seed and stays in the documented ranges', () => {
    const a = sys.sample(new Rng(7)), b = sys.sample(new Rng(7));
    assert.deepEqual(a, b);
    assert.ok(Math.abs(a.y0[0]) <= Math.PI / 2);
  });
});

describe('system registry', () => {
  test('lists the four systems and rejects unknown names with the valid ones', () => {
    assert.deepEqual(listSystems().map((s) => s.name), ['pendulum', 'damped-pendulum', 'double-pendulum', 'nbody']);
    assert.throws(() => getSystem('pendulm'), (err: unknown) => err instanceof InvalidArgumentError && /pendulum, damped-pendulum, double-pendulum, nbody/.test(String(err.hint)));
    assert.throws(() => getSystem('nbody').create({ preset: 'nope' }), /unknown nbody preset 'nope'/);
    assert.throws(() => getSystem('nbody').create({ preset: 'figure-eight', bodies: 4 }), /has 3 bodies/);
  });

  test('systemFromManifest recreates an instance with the same layout', () => {
    const inst = getSystem('nbody').create({ preset: 'random', bodies: 5 });
    const again = systemFromManifest({ system: { name: 'nbody', options: inst.options as Record<string, string | number>, paramLabels: [], params: [], conservative: true } });
    assert.equal(again.dim, 30);
    assert.deepEqual(again.stateLabels, inst.stateLabels);
  });
});
