import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { extractMetrics, parseJsonOutput } from '../../src/reproduce/eval-json.js';
import { childFailure, failureKindOf, metricFailure } from '../../src/reproduce/failure.js';

describe('reading physode eval --json', () => {
  test('finds the metrics by name whether flat or nested', () => {
    assert.deepEqual(extractMetrics({ mse: 0.5, vpt: 3, energyDrift: 0.1, nfe: 42 }), { mse: 0.5, vpt: 3, energyDrift: 0.1, nfe: 42 });
    const nested = { split: 'test', metrics: { rollout_mse: 0.02, mse_at: { '1': 0.001 }, valid_prediction_time: 4.5, relative_energy_drift: 0.3 }, nfe_per_rollout: 88 };
    assert.deepEqual(extractMetrics(nested), { mse: 0.02, vpt: 4.5, energyDrift: 0.3, nfe: 88 });
  });

  test('a NaN metric written as null or "NaN" stays NaN, not missing', () => {
    assert.ok(Number.isNaN(extractMetrics({ mse: null }).mse));
    assert.ok(Number.isNaN(extractMetrics({ mse: 'NaN' }).mse));
  });

  test('JSON after log lines is found', () => {
    assert.deepEqual(parseJsonOutput('backend: wasm\n{"mse": 1, "a": {"b": 2}}\n'), { mse: 1, a: { b: 2 } });
    assert.throws(() => parseJsonOutput('no json here'), /no JSON/);
  });
});

describe('classifying failures', () => {
  test('solver and trainer messages map to their kinds', () => {
    assert.equal(failureKindOf('dopri5: step size underflow at t=0.31 (h=1e-13, NFE 4410)'), 'step-underflow');
    assert.equal(failureKindOf('dopri5 reached the step limit (10000 steps) at t=0.2'), 'nfe-blowup');
    assert.equal(failureKindOf('loss became NaN at step 12; giving up after 3 learning-rate reductions'), 'divergence');
    assert.equal(failureKindOf('Cannot read properties of undefined'), 'crash');
  });

  test('a non-zero exit takes the last error line of stderr as its reason', () => {
    const f = childFailure({ code: 1, signal: null, stdout: '', stderr: 'step 10 loss 0.3\nphysode train: training diverged (loss NaN)\n  hint: lower --lr\n', seconds: 2, timedOut: false }, 'train');
    assert.deepEqual(f, { failure: 'divergence', reason: 'train: physode train: training diverged (loss NaN)' });
    assert.equal(childFailure({ code: 0, signal: null, stdout: '', stderr: '', seconds: 1, timedOut: false }, 'train'), undefined);
    assert.equal(childFailure({ code: null, signal: 'SIGKILL', stdout: '', stderr: '', seconds: 300, timedOut: true }, 'train')?.failure, 'timeout');
  });

  test('finished evaluations with NaN error or runaway NFE are failures', () => {
    assert.equal(metricFailure({ mse: NaN }, 1000)?.failure, 'non-finite-metric');
    assert.equal(metricFailure({ mse: 0.1, nfe: 5000 }, 1000)?.failure, 'nfe-blowup');
    assert.equal(metricFailure({ mse: 0.1, nfe: 50 }, 1000), undefined);
  });
});
