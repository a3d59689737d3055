import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, deriveSeed } from '../../src/util/rng.js';

describe('Rng', () => {
  test('the same seed gives the same stream; a saved state continues it exactly', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 100; i++) assert.equal(a.nextUint32(), b.nextUint32());
    const saved = a.state();
    const expected = Array.from({ length: 20 }, () => a.uniform());
    const resumed = new Rng(saved);
    assert.deepEqual(Array.from({ length: 20 }, () => resumed.uniform()), expected);
  });

  test('uniform deviates have the moments of U(0, 1) (mean 1/2, variance 1/12)', () => {
    const rng = new Rng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1);
      s += u;
      s2 += u * u;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    // Standard errors: sqrt(1/12/n) ~ 6.5e-4 for the mean.
    assert.ok(Math.abs(mean - 0.5) < 4e-3, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 2e-3, `variance ${variance}`);
  });

  test('normal deviates have mean 0, variance 1 and fourth moment 3', () => {
    const rng = new Rng(11);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    assert.ok(Math.abs(s / n) < 0.01);
    assert.ok(Math.abs(s2 / n - 1) < 0.015);
    assert.ok(Math.abs(s4 / n - 3) < 0.1);
  });

  test('derived seeds differ across indices and masters, and are reproducible', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(deriveSeed(1, i));
    assert.equal(seen.size, 10_000);
    assert.notEqual(deriveSeed(1, 5), deriveSeed(2, 5));
    assert.equal(deriveSeed(123, 456), deriveSeed(123, 456));
  });

  test('shuffle is a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(3).shuffle([...items]);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual([...shuffled].sort((x, y) => x - y), items);
  });
});
