import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mseByTime, rolloutMse, mseAtHorizons, validPredictionTimes, relativeEnergyDrift, vectorDrift, defaultHorizons } from '../../src/train/metrics.js';

describe('rollout metrics against hand-computed values', () => {
  // Two trajectories, three times, two components.
  const truth = Float64Array.of(0, 0, 0, 0, 0, 0, /* traj 2 */ 1, 1, 1, 1, 1, 1);
  const pred = Float64Array.of(0, 0, 0.1, 0.3, 1, 0, /* traj 2 */ 1, 1, 1.2, 1, 1, 3);
  const shape = { n: 2, samples: 3, dim: 2 };
  const t = Float64Array.of(0, 0.5, 1);

  test('MSE by time averages over trajectories and components', () => {
    const byTime = mseByTime(pred, truth, shape);
    assert.deepEqual(Array.from(byTime).map((v) => Number(v.toFixed(12))), [0, 0.035, 1.25]);
  });

  test('full-horizon MSE leaves out the given initial state', () => {
    const byTime = Float64Array.of(5, 1, 3);
    assert.equal(rolloutMse(byTime), 2);
  });

  test('MSE at horizons picks the first sample at or after each horizon', () => {
    const byTime = Float64Array.of(0, 1, 2);
    assert.deepEqual(mseAtHorizons(byTime, t, [0.5, 0.7, 2]), [{ t: 0.5, mse: 1 }, { t: 1, mse: 2 }]);
    assert.deepEqual(defaultHorizons(Float64Array.from({ length: 101 }, (_, k) => k * 0.1)), [1, 2.5, 5, 10]);
  });

  test('valid prediction time is the first time the RMS error passes the threshold', () => {
    // traj 1: errors at t=0.5: sqrt((0.01+0.09)/2)=0.2236; t=1: sqrt(1/2)=0.707 > 0.5 -> VPT 1
    // traj 2: t=0.5: sqrt(0.04/2)=0.141; t=1: sqrt(4/2)=1.41 -> VPT 1; with threshold 2: whole span
    assert.deepEqual(Array.from(validPredictionTimes(pred, truth, t, shape, 0.5)), [1, 1]);
    assert.deepEqual(Array.from(validPredictionTimes(pred, truth, t, shape, 0.2)), [0.5, 1]);
    assert.deepEqual(Array.from(validPredictionTimes(pred, truth, t, shape, 2)), [1, 1]);
    const nan = Float64Array.of(0, 0, Number.NaN, 0, 0, 0);
    assert.deepEqual(Array.from(validPredictionTimes(nan, new Float64Array(6), t, { n: 1, samples: 3, dim: 2 })), [0.5]);
  });

  test('relative energy drift is the largest |E - E0| / |E0|, with a floor near zero energy', () => {
    const energies = Float64Array.of(-2, -2.2, -1.9, /* near-zero start */ 0, 0.001, -0.002);
    const ref = Float64Array.of(-2, 0);
    const { max, final } = relativeEnergyDrift(energies, ref, 3);
    assert.ok(Math.abs(max[0] - 0.1) < 1e-12);
    assert.ok(Math.abs(final[0] - 0.05) < 1e-12);
    // floor = 1e-3 * mean(|E0|) = 1e-3 * 1 -> 0.002 / 0.001 = 2
    assert.ok(Math.abs(max[1] - 2) < 1e-12);
  });

  test('momentum drift is the largest Euclidean change of the vector from its start', () => {
    const p = Float64Array.of(1, 0, 0, /* */ 1, 3, 4, /* */ 1, 0, 1);
    assert.deepEqual(Array.from(vectorDrift(p, 1, 3, 3)), [5]);
  });
});
