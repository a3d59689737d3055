import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ndarray from 'ndarray';
import { sampleWindows, windowTimes } from '../../src/train/windows.js';
import { prepareTrajectories } from '../../src/train/trajectories.js';
import { normaliseStates, denormaliseStates, checkStats } from '../../src/train/normalise.js';
import { windowAt } from '../../src/train/config.js';
import { Rng } from '../../src/util/rng.js';
import { oscillatorBatch } from './fixtures.js';

describe('training windows and normalisation', () => {
  const batch = oscillatorBatch(6, 21, 4, 9);
  const stats = { mean: [0.1, -0.2], std: [0.5, 2] };
  const tr = prepareTrajectories(batch, stats);

  test('normalised coordinates are (y - mean) / std and invert exactly enough', () => {
    const z = normaliseStates(Float64Array.of(0.6, 1.8, 0.1, -0.2), stats);
    assert.deepEqual(Array.from(z), [1, 1, 0, 0]);
    const back = denormaliseStates(z, stats);
    assert.ok(Math.abs(back[0] - 0.6) < 1e-15 && Math.abs(back[1] - 1.8) < 1e-15);
    assert.deepEqual(checkStats({ mean: [0, 0], std: [0, 2] }, 2).std, [1, 2]);
    assert.throws(() => checkStats({ mean: [0], std: [1] }, 2), /dimension 2/);
  });

  test('window times start at 0 and step by the sample interval', () => {
    const ts = windowTimes(tr.t, 5);
    assert.deepEqual(Array.from(ts, (v) => Number(v.toFixed(12))), [0, 0.2, 0.4, 0.6, 0.8]);
    assert.throws(() => windowTimes(tr.t, 30), /longer than the 21 samples/);
    assert.throws(() => windowTimes(Float64Array.of(0, 1, 3), 2), /not evenly spaced/);
  });

  test('each window holds consecutive normalised samples of the analytic trajectory', () => {
    const ts = windowTimes(tr.t, 5);
    const w = sampleWindows(tr, ts, 4, new Rng(1));
    for (let b = 0; b < 4; b++) {
      const i = w.trajectories[b];
      const s = w.starts[b];
      assert.ok(s >= 0 && s <= 21 - 5);
      for (let k = 0; k < 5; k++) {
        for (let d = 0; d < 2; d++) {
          const truth = (batch.y.get(i, s + k, d) - stats.mean[d]) / stats.std[d];
          assert.ok(Math.abs(w.target[(b * 5 + k) * 2 + d] - truth) < 1e-6);
        }
      }
      assert.equal(w.y0[b * 2], w.target[b * 10]);
    }
  });

  test('a batch draws distinct trajectories while it can, and the same seed draws the same batch', () => {
    const ts = windowTimes(tr.t, 3);
    const w = sampleWindows(tr, ts, 6, new Rng(4));
    assert.equal(new Set(w.trajectories).size, 6);
    const again = sampleWindows(tr, ts, 6, new Rng(4));
    assert.deepEqual(again.target, w.target);
    const big = sampleWindows(tr, ts, 9, new Rng(4));
    assert.equal(new Set(Array.from(big.trajectories).slice(0, 6)).size, 6);
  });

  test('the horizon curriculum grows windows linearly and then holds the final length', () => {
    const c = { window: 20, initialWindow: 10, curriculumStart: 0, curriculumEnd: 0.5, steps: 100 };
    assert.equal(windowAt(c, 1), 10);
    assert.equal(windowAt(c, 26), 15);
    assert.equal(windowAt(c, 51), 20);
    assert.equal(windowAt(c, 100), 20);
    assert.equal(windowAt({ ...c, initialWindow: null }, 1), 20);
    const late = { ...c, curriculumStart: 0.6, curriculumEnd: 0.8 };
    assert.equal(windowAt(late, 61), 10);
    assert.equal(windowAt(late, 71), 15);
    assert.equal(windowAt(late, 81), 20);
  });
});
