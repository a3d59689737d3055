import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, summarize } from '../../src/reproduce/stats.js';
import { median } from '../../src/reproduce/verdicts.js';

describe('summary statistics over seeds', () => {
  test('mean and sample standard deviation match the textbook example 2,4,4,4,5,5,7,9', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(s.mean, 5);
    // Sum of squared deviations is 32; sample variance 32/7.
    assert.ok(Math.abs(s.std - Math.sqrt(32 / 7)) < 1e-12);
    assert.equal(s.min, 2);
    assert.equal(s.max, 9);
    assert.equal(s.n, 8);
  });

  test('non-finite values are not averaged and one value has zero spread', () => {
    const s = summarize([NaN, 3, Infinity]);
    assert.deepEqual(s, { n: 1, mean: 3, std: 0, min: 3, max: 3 });
    assert.equal(summarize([]).n, 0);
  });

  test('median handles even counts and infinite ratios', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([1, 2, 3, 4]), 2.5);
    assert.equal(median([1, Infinity, Infinity]), Infinity);
  });

  test('numbers print with three significant digits', () => {
    assert.equal(fmt(0.012345), '0.0123');
    assert.equal(fmt(1.5e-5), '1.50e-5');
    assert.equal(fmt(undefined), '–');
  });
});
