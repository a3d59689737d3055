import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { planSweep, trainKey } from '../../src/reproduce/plan.js';
import { FULL, QUICK, SMOKE } from '../../src/reproduce/profiles.js';
import { EXPERIMENTS } from '../../src/reproduce/experiments.js';

describe('sweep planning', () => {
  const plan = planSweep({ profile: FULL, systems: ['pendulum', 'nbody3'], seeds: [1, 2, 3] });

  test('every experiment of issue 6 appears, for every system and seed', () => {
    assert.deepEqual(plan.experiments, ['batch-size', 'outliers', 'time-dependence', 'depth', 'solvers']);
    for (const e of EXPERIMENTS) {
      for (const system of ['pendulum', 'nbody3']) {
        for (const seed of [1, 2, 3]) {
          assert.ok(plan.runs.some((r) => r.experiment === e.id && r.train.system === system && r.train.seed === seed), `${e.id} ${system} ${seed}`);
        }
      }
    }
  });

  test('run keys are unique and each row belongs to exactly one training task', () => {
    assert.equal(new Set(plan.runs.map((r) => r.key)).size, plan.runs.length);
    const inTasks = plan.tasks.flatMap((t) => t.runs.map((r) => r.key));
    assert.equal(inTasks.length, plan.runs.length);
    for (const t of plan.tasks) for (const r of t.runs) assert.equal(trainKey(r.train), t.key);
  });

  test('a training shared by several experiments is planned once', () => {
    const keys = plan.tasks.map((t) => t.key);
    assert.equal(new Set(keys).size, keys.length);
    // The default tabn model (rk4, batch 32, depth 2) serves batch size, outliers and solvers.
    const shared = plan.tasks.find((t) => t.key === 'pendulum_tabn_rk4_d2_w64_b32_n1000_s1')!;
    assert.deepEqual([...new Set(shared.runs.map((r) => r.experiment))].sort(), ['batch-size', 'outliers', 'solvers']);
  });

  test('the batch-size grid is 4 norms x 4 batch sizes, each evaluated at its own batch and at batch 2', () => {
    const rows = plan.runs.filter((r) => r.experiment === 'batch-size' && r.train.system === 'pendulum' && r.train.seed === 1);
    assert.equal(new Set(rows.map((r) => trainKey(r.train))).size, 16);
    // batch 2 is its own small batch: 3 sizes x 2 evaluations + 1, per norm.
    assert.equal(rows.length, 4 * (3 * 2 + 1));
    assert.ok(rows.every((r) => r.evaluation.batchSize === 2 || r.evaluation.batchSize === r.train.batchSize));
  });

  test('depth covers 2, 4, 8, 12 for none, tabn and minibatch with an adaptive solver', () => {
    const rows = plan.runs.filter((r) => r.experiment === 'depth' && r.train.system === 'nbody3' && r.train.seed === 2);
    assert.deepEqual([...new Set(rows.map((r) => r.train.depth))].sort((a, b) => a - b), [2, 4, 8, 12]);
    assert.deepEqual([...new Set(rows.map((r) => r.train.norm))].sort(), ['minibatch', 'none', 'tabn']);
    assert.ok(rows.every((r) => r.train.method === 'dopri5'));
  });

  test('time dependence compares pop with dopri5 against pop with rk4', () => {
    const rows = plan.runs.filter((r) => r.experiment === 'time-dependence' && r.train.norm === 'pop');
    assert.deepEqual([...new Set(rows.map((r) => r.train.method))].sort(), ['dopri5', 'rk4']);
  });

  test('quick and smoke plans are much smaller than the full one', () => {
    const systems = ['pendulum', 'double-pendulum', 'nbody3'];
    const full = planSweep({ profile: FULL, systems, seeds: [1, 2, 3] });
    const quick = planSweep({ profile: QUICK, systems, seeds: [1] });
    const smoke = planSweep({ profile: SMOKE, systems: ['pendulum'], seeds: [1] });
    assert.ok(quick.tasks.length * 4 < full.tasks.length);
    assert.ok(smoke.tasks.length < quick.tasks.length / 3);
    assert.deepEqual(smoke.experiments, quick.experiments);
  });

  test('a subset of experiments plans only those', () => {
    const p = planSweep({ profile: QUICK, systems: ['pendulum'], seeds: [1], experiments: ['depth'] });
    assert.ok(p.runs.every((r) => r.experiment === 'depth'));
  });
});
