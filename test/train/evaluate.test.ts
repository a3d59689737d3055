import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { initBackend } from '../../src/backend/backend.js';
import { train } from '../../src/train/trainer.js';
import { DEFAULT_CONFIG, type TrainConfig, type NormName } from '../../src/train/config.js';
import { loadRun, predictTrajectories } from '../../src/train/predict.js';
import { evaluateRun, checkEvalSettings, valMeanPredictorMse } from '../../src/train/evaluate.js';
import { evalDocument } from '../../src/train/eval-outputs.js';
import { compareWithMeanPredictor, meanPredictorMse, meanPredictorWarning } from '../../src/train/metrics.js';
import { normaliseStates } from '../../src/train/normalise.js';
import { prepareTrajectories } from '../../src/train/trajectories.js';
import { InvalidArgumentError } from '../../src/util/errors.js';
import { oscillatorSource, linearFactory, LinearModel } from './fixtures.js';

function cfg(norm: NormName): TrainConfig {
  return { ...DEFAULT_CONFIG, model: { ...DEFAULT_CONFIG.model, norm }, batchSize: 8, window: 6, steps: 40, lr: 0.02, warmup: 5, logEvery: 5, valEvery: 20, checkpointEvery: 20 };
}

describe('evaluation and prediction of a run', () => {
  let dir: string;
  before(async () => {
    await initBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'physode-eval-'));
    await train({ data: oscillatorSource(), runDir: dir, config: cfg('tabn'), factory: linearFactory, plots: false });
  });

  test('--batch-size 1 is refused for minibatch with the reason, and allowed for tabn', () => {
    assert.throws(() => checkEvalSettings('minibatch', 1, 0), (err: unknown) => err instanceof InvalidArgumentError && /minibatch BN normalises with the statistics of the evaluation batch/.test(err.message) && /tabn/.test(err.hint ?? ''));
    assert.doesNotThrow(() => checkEvalSettings('tabn', 1, 0));
    assert.doesNotThrow(() => checkEvalSettings('minibatch', 2, 0));
    assert.throws(() => checkEvalSettings('tabn', 1, 0.5), /at least 2 samples/);
  });

  test('evaluating batch by batch gives the batch-independent answer of one big batch (model without batch statistics)', async () => {
    const run = await loadRun(dir, 'best', linearFactory);
    const data = prepareTrajectories(await oscillatorSource().loadSplit('test'), run.stats);
    const whole = await evaluateRun(run, data, { physics: oscillatorSource().physics });
    const ones = await evaluateRun(run, data, { batchSize: 1, physics: oscillatorSource().physics });
    assert.equal(ones.batches, 4);
    assert.ok(Math.abs(ones.rolloutMse - whole.rolloutMse) < 1e-12);
    assert.ok(Number.isFinite(whole.rolloutMse));
    assert.ok(whole.energyDrift !== null && whole.energyDrift >= 0);
    assert.equal(whole.energyDriftTruth, 0);
    assert.ok(whole.nfePerRollout > 0);
    run.dispose();
  });

  test('outliers corrupt one sample in the chosen batches and metrics use the clean samples only', async () => {
    const run = await loadRun(dir, 'best', linearFactory);
    const data = prepareTrajectories(await oscillatorSource().loadSplit('test'), run.stats);
    const clean = await evaluateRun(run, data, { batchSize: 2 });
    const dirty = await evaluateRun(run, data, { batchSize: 2, outliers: 0.5, outlierSeed: 3 });
    assert.equal(dirty.corrupted.length, 1);
    assert.equal(dirty.outliers.corruptedBatches, 1);
    // This model has no batch statistics, so the clean samples' predictions are untouched.
    const keep = [0, 1, 2, 3].filter((i) => i !== dirty.corrupted[0]);
    const { selectTrajectories } = await import('../../src/train/trajectories.js');
    const only = await evaluateRun(run, selectTrajectories(data, keep), {});
    assert.ok(Math.abs(dirty.rolloutMse - only.rolloutMse) < 1e-12);
    assert.notEqual(dirty.rolloutMse, clean.rolloutMse);
    run.dispose();
  });

  test('predictTrajectories works in physical units: a zero vector field keeps the initial state', async () => {
    const run = await loadRun(dir, 'last', linearFactory);
    (run.model as LinearModel).setState([
      { name: 'A', dtype: 'float32', shape: [2, 2], data: new Float32Array(4) },
      { name: 'b', dtype: 'float32', shape: [1, 2], data: new Float32Array(2) },
    ]);
    const out = await predictTrajectories(run, ndarray(Float64Array.of(0.5, -0.25, 1, 2), [2, 2]), Float64Array.of(3, 3.5, 4));
    assert.deepEqual(out.shape, [2, 3, 2]);
    for (let k = 0; k < 3; k++) {
      assert.ok(Math.abs(out.get(0, k, 0) - 0.5) < 1e-6 && Math.abs(out.get(0, k, 1) + 0.25) < 1e-6);
      assert.ok(Math.abs(out.get(1, k, 0) - 1) < 1e-6 && Math.abs(out.get(1, k, 1) - 2) < 1e-6);
    }
    await assert.rejects(predictTrajectories(run, ndarray(new Float64Array(3), [1, 3]), Float64Array.of(0, 1)), /expected \[B, 2\]/);
    run.dispose();
  });

  test('the mean predictor\'s MSE is the mean of z^2 over the predicted samples (t > 0)', () => {
    // Two trajectories, three samples, two components; the t = 0 row is given, not predicted.
    const z = Float64Array.of(9, 9, 1, -1, 2, 0, /* second */ 9, 9, 0, 3, -2, 1);
    // Predicted samples: 1 1 4 0 and 0 9 4 1: sum 20 over 8 values.
    assert.equal(meanPredictorMse(z, { n: 2, samples: 3, dim: 2 }), 20 / 8);
  });

  test('evaluation scores the model against predicting the mean: the oscillator\'s own field beats it, a zero field does not', async () => {
    const run = await loadRun(dir, 'best', linearFactory);
    const model = run.model as LinearModel;
    const data = prepareTrajectories(await oscillatorSource().loadSplit('test'), run.stats);
    // Reference: the mean of z^2 over t > 0, z normalised with the run's training statistics.
    const z = normaliseStates(data.y, run.stats);
    let acc = 0;
    let count = 0;
    for (let i = 0; i < data.n; i++) for (let k = 1; k < data.samples; k++) for (let d = 0; d < data.dim; d++, count++) acc += z[(i * data.samples + k) * data.dim + d] ** 2;
    const setField = (a: number[]): void =>
      model.setState([
        { name: 'A', dtype: 'float32', shape: [2, 2], data: Float32Array.from(a) },
        { name: 'b', dtype: 'float32', shape: [1, 2], data: new Float32Array(2) },
      ]);

    // dx/dt = v, dv/dt = -x (the normalisation scales both alike), integrated by Euler.
    setField([0, 1, -1, 0]);
    const exact = await evaluateRun(run, data, {});
    assert.ok(Math.abs(exact.baseline.meanPredictorMse - acc / count) < 1e-12);
    assert.equal(exact.baseline.mse, exact.rolloutMse);
    assert.ok(exact.rolloutMse < 0.5 * (acc / count), `MSE ${exact.rolloutMse} against the mean's ${acc / count}`);
    assert.equal(exact.baseline.learned, true);
    const doc = evalDocument('test', 'best', 'cpu', exact);
    assert.equal(doc.meanPredictorMse, exact.baseline.meanPredictorMse);
    assert.equal(doc.learnedDynamics, true);

    // A zero field keeps the initial state: on an oscillator that is worse than the mean.
    setField([0, 0, 0, 0]);
    const still = await evaluateRun(run, data, {});
    assert.ok(Math.abs(still.baseline.meanPredictorMse - acc / count) < 1e-12);
    assert.ok(still.rolloutMse >= still.baseline.meanPredictorMse);
    assert.equal(still.baseline.learned, false);
    assert.equal(evalDocument('test', 'best', 'cpu', still).learnedDynamics, false);
    run.dispose();
  });

  test('the warning names both MSEs and says the model did not learn; none when it explains over half the variance; NaN never counts as learned', () => {
    assert.equal(meanPredictorWarning(compareWithMeanPredictor(0.05, 0.9), 'validation MSE'), null);
    assert.equal(meanPredictorWarning(compareWithMeanPredictor(1.84, 1), 'validation MSE'), 'validation MSE 1.84 is no better than predicting the mean (1.00): the model did not learn these dynamics');
    assert.equal(meanPredictorWarning(compareWithMeanPredictor(0.68, 1), 'validation MSE'), "validation MSE 0.680 is 68 % of the mean predictor's (1.00): less than half of the variance explained, the model did not learn these dynamics");
    assert.equal(compareWithMeanPredictor(0.5, 1).learned, false);
    assert.equal(compareWithMeanPredictor(0.49, 1).learned, true);
    assert.equal(compareWithMeanPredictor(Number.NaN, 1).learned, false);
    assert.match(meanPredictorWarning(compareWithMeanPredictor(Number.NaN, 1), 'test MSE') ?? '', /^test MSE NaN is no better than predicting the mean/);
  });

  test('valMeanPredictorMse scores the val trajectories that training validates on (the first N when limited)', async () => {
    const source = oscillatorSource();
    const val = prepareTrajectories(await source.loadSplit('val'), source.stats);
    const all = meanPredictorMse(val.z, { n: val.n, samples: val.samples, dim: val.dim });
    assert.equal(await valMeanPredictorMse(source), all);
    const first = meanPredictorMse(val.z.subarray(0, val.samples * val.dim), { n: 1, samples: val.samples, dim: val.dim });
    assert.equal(await valMeanPredictorMse(source, 1), first);
    assert.notEqual(first, all);
  });

  test('a folder that is not a run gives a clear error', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'physode-norun-'));
    await assert.rejects(loadRun(empty, 'best', linearFactory), /not a physode run/);
    await rm(empty, { recursive: true });
  });
});
