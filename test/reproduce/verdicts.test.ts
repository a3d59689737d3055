import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizeVerdict, depthVerdict, outlierVerdict, overallVerdict, solverVerdict, stressVerdict, timeDependenceVerdict } from '../../src/reproduce/verdicts.js';
import { runKey } from '../../src/reproduce/plan.js';
import type { ExperimentId, MethodName, NormName, RunResult } from '../../src/reproduce/types.js';
import type { NormStatistics } from '../../src/reproduce/norm-statistics.js';

interface RowOptions {
  experiment: ExperimentId; norm: NormName; mse?: number; failed?: boolean; seed?: number; trainBatch?: number; evalBatch?: number; outliers?: number; depth?: number; method?: MethodName;
}

function row(o: RowOptions): RunResult {
  const train = { system: 'pendulum', norm: o.norm, method: o.method ?? 'rk4', depth: o.depth ?? 2, width: 16, batchSize: o.trainBatch ?? 16, steps: 20, seed: o.seed ?? 1 } as const;
  const evaluation = { batchSize: o.evalBatch ?? train.batchSize, outliers: o.outliers ?? 0, method: train.method };
  const base = { key: runKey(o.experiment, train, evaluation), experiment: o.experiment, train, evaluation };
  return o.failed ? { ...base, status: 'failed', failure: 'divergence', reason: 'loss NaN', metrics: {} } : { ...base, status: 'ok', metrics: { mse: o.mse } };
}

/** Batch-size rows for one norm: MSE at training batch 16 and at batch 2. */
function batchRows(norm: NormName, atTrain: number, atTwo: number, seeds = [1, 2]): RunResult[] {
  return seeds.flatMap((seed) => [
    row({ experiment: 'batch-size', norm, seed, mse: atTrain * seed }),
    row({ experiment: 'batch-size', norm, seed, evalBatch: 2, mse: atTwo * seed }),
  ]);
}

describe('claim verdicts from numbers', () => {
  test('batch size: minibatch 10x worse at batch 2 and tabn unchanged holds', () => {
    const v = batchSizeVerdict([...batchRows('minibatch', 0.01, 0.1), ...batchRows('tabn', 0.01, 0.01)], 2);
    assert.equal(v.verdict, 'holds');
    assert.match(v.because, /minibatch 10\.0 \(n=2\), tabn 1\.00 \(n=2\)/);
  });

  test('batch size: minibatch unaffected does not hold', () => {
    assert.equal(batchSizeVerdict([...batchRows('minibatch', 0.01, 0.0105), ...batchRows('tabn', 0.01, 0.01)], 2).verdict, 'does not hold');
  });

  test('batch size: tabn degrading too does not hold', () => {
    const v = batchSizeVerdict([...batchRows('minibatch', 0.01, 0.1), ...batchRows('tabn', 0.01, 0.05)], 2);
    assert.equal(v.verdict, 'does not hold');
    assert.match(v.because, /tabn degrades too/);
  });

  test('batch size: a failed evaluation at batch 2 counts as degradation, not as a missing point', () => {
    const rows = [
      row({ experiment: 'batch-size', norm: 'minibatch', mse: 0.01 }),
      row({ experiment: 'batch-size', norm: 'minibatch', evalBatch: 2, failed: true }),
      ...batchRows('tabn', 0.01, 0.01, [1]),
    ];
    assert.equal(batchSizeVerdict(rows, 2).verdict, 'holds');
  });

  test('batch size: when no model learned (MSE around 1, what predicting the mean scores) the ratios decide nothing', () => {
    const v = batchSizeVerdict([...batchRows('minibatch', 1.2, 12), ...batchRows('tabn', 1.2, 1.2)], 2);
    assert.equal(v.verdict, 'inconclusive');
    assert.match(v.because, /no model learned the dynamics/);
  });

  test('depth: the plain model failing while tabn does not learn either does not hold', () => {
    const rows = [row({ experiment: 'depth', norm: 'none', depth: 8, failed: true }), row({ experiment: 'depth', norm: 'tabn', depth: 8, mse: 1.3 })];
    assert.equal(depthVerdict(rows).verdict, 'does not hold');
  });

  test('a ratio between the thresholds is inconclusive, and no data is inconclusive', () => {
    assert.equal(stressVerdict([1.3], [1.0], 'x').verdict, 'inconclusive');
    assert.equal(stressVerdict([], [1.0], 'x').verdict, 'inconclusive');
  });

  test('outliers: paired clean/outlier evaluations decide', () => {
    const rows = (['minibatch', 'tabn'] as const).flatMap((norm) => [
      row({ experiment: 'outliers', norm, mse: 0.01 }),
      row({ experiment: 'outliers', norm, outliers: 0.5, mse: norm === 'minibatch' ? 0.04 : 0.01 }),
    ]);
    assert.equal(outlierVerdict(rows).verdict, 'holds');
  });

  const varying: NormStatistics = { layer: 'l0', t: [0, 0.5, 1], mean: [[0], [1], [2]], variance: [[1], [1], [1]] };
  const flat: NormStatistics = { layer: 'l0', t: [0, 0.5, 1], mean: [[1], [1], [1]], variance: [[1], [1], [1]] };

  test('time dependence: varying TA-BN statistics and popti 3x worse holds', () => {
    const rows = [row({ experiment: 'time-dependence', norm: 'tabn', mse: 0.01 }), row({ experiment: 'time-dependence', norm: 'popti', mse: 0.03 })];
    const v = timeDependenceVerdict(rows, [varying]);
    assert.equal(v.verdict, 'holds');
    // std over t of 0,1,2 (population) is sqrt(2/3) = 0.816 with unit variance.
    assert.match(v.because, /0\.816/);
  });

  test('time dependence: flat TA-BN statistics do not hold; none readable is inconclusive', () => {
    const rows = [row({ experiment: 'time-dependence', norm: 'tabn', mse: 0.01 }), row({ experiment: 'time-dependence', norm: 'popti', mse: 0.03 })];
    assert.equal(timeDependenceVerdict(rows, [flat]).verdict, 'does not hold');
    assert.equal(timeDependenceVerdict(rows, []).verdict, 'inconclusive');
  });

  test('depth: none failing at depth 8 while tabn trains holds; both failing does not', () => {
    const rows = [
      row({ experiment: 'depth', norm: 'none', depth: 2, mse: 0.01 }),
      row({ experiment: 'depth', norm: 'tabn', depth: 2, mse: 0.01 }),
      row({ experiment: 'depth', norm: 'none', depth: 8, failed: true }),
    ];
    assert.equal(depthVerdict([...rows, row({ experiment: 'depth', norm: 'tabn', depth: 8, mse: 0.02 })]).verdict, 'holds');
    assert.equal(depthVerdict([...rows, row({ experiment: 'depth', norm: 'tabn', depth: 8, failed: true })]).verdict, 'does not hold');
  });

  test('depth: the plain model never stalling is inconclusive', () => {
    const rows = [2, 8].flatMap((depth) => [row({ experiment: 'depth', norm: 'none', depth, mse: 0.01 }), row({ experiment: 'depth', norm: 'tabn', depth, mse: 0.01 })]);
    const v = depthVerdict(rows);
    assert.equal(v.verdict, 'inconclusive');
    assert.match(v.because, /neither failed nor stalled/);
  });

  test('solvers: the same order with every solver holds; a flip does not', () => {
    const make = (mbEuler: number) => [
      ...(['euler', 'rk4'] as const).map((method) => row({ experiment: 'solvers', norm: 'tabn', method, mse: 0.01 })),
      row({ experiment: 'solvers', norm: 'minibatch', method: 'rk4', mse: 0.05 }),
      row({ experiment: 'solvers', norm: 'minibatch', method: 'euler', mse: mbEuler }),
    ];
    assert.equal(solverVerdict(make(0.05)).verdict, 'holds');
    assert.equal(solverVerdict(make(0.001)).verdict, 'does not hold');
    assert.equal(solverVerdict(make(0.012).map((r) => (r.train.norm === 'minibatch' && r.train.method === 'rk4' ? { ...r, metrics: { mse: 0.011 } } : r))).verdict, 'inconclusive');
  });

  test('solvers: one clear difference among mostly ties is inconclusive', () => {
    const rows = (['euler', 'rk4', 'dopri5'] as const).flatMap((method) => [
      row({ experiment: 'solvers', norm: 'tabn', method, mse: 0.01 }),
      row({ experiment: 'solvers', norm: 'minibatch', method, mse: method === 'dopri5' ? 0.1 : 0.011 }),
    ]);
    const v = solverVerdict(rows);
    assert.equal(v.verdict, 'inconclusive');
    assert.match(v.because, /1 of 3 tabn-vs-baseline comparisons differ clearly/);
  });

  test('per-system verdicts combine: unanimous carries over, mixed is inconclusive', () => {
    const h = { verdict: 'holds' as const, because: '' };
    const n = { verdict: 'does not hold' as const, because: '' };
    assert.equal(overallVerdict([{ system: 'a', verdict: h }, { system: 'b', verdict: h }]).verdict, 'holds');
    const mixed = overallVerdict([{ system: 'a', verdict: h }, { system: 'b', verdict: n }]);
    assert.equal(mixed.verdict, 'inconclusive');
    assert.match(mixed.because, /a: holds, b: does not hold/);
  });
});
