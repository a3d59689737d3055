import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { ContinuousDepthModel } from '../../src/model/continuous-depth.js';
import { NextStateExamples, nextStateTask, referenceMae, rolloutMae, windowStarts, windowTransitions, type TrajectoryArray } from '../../src/tasks/next-state.js';
import { FIT_DEFAULTS, evaluateExamples, fit } from '../../src/tasks/fit.js';
import { TrainingDivergedError } from '../../src/train/recovery.js';

await initBackend();

/** n trajectories of a slow rotation in the plane, rows t = 0..T−1: x(t+1) = R x(t). */
function rotations(n: number, T: number, angle = 0.1): TrajectoryArray {
  const y = new Float64Array(n * T * 2);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      const a = i * 0.7 + angle * t;
      y[(i * T + t) * 2] = (1 + 0.1 * i) * Math.cos(a);
      y[(i * T + t) * 2 + 1] = (1 + 0.1 * i) * Math.sin(a);
    }
  }
  return { y, n, T, D: 2 };
}

test('windows and transitions follow the literature cut, by hand: starts 0, stride, … below T − length − 1', () => {
  const tr = rotations(2, 50);
  assert.deepEqual(windowStarts(tr, { length: 5, stride: 10 }), [[0, 0], [0, 10], [0, 20], [0, 30], [0, 40], [1, 0], [1, 10], [1, 20], [1, 30], [1, 40]]);
  // T − length − 1 = 44: a start at 44 is excluded, 43 included
  assert.deepEqual(windowStarts({ ...tr, n: 1 }, { length: 5, stride: 43 }), [[0, 0], [0, 43]]);
  const tx = windowTransitions({ ...tr, n: 1 }, { length: 5, stride: 10 });
  assert.deepEqual(tx.map(([, t]) => t), [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 30, 31, 32, 33, 34, 40, 41, 42, 43, 44]);
  // overlapping windows (stride < length) count each transition once: starts 0, 2, …, 44 cover t = 0…47
  assert.deepEqual(windowTransitions({ ...tr, n: 1 }, { length: 4, stride: 2 }).map(([, t]) => t), Array.from({ length: 48 }, (_, t) => t));
  const ex = new NextStateExamples(tr, windowTransitions(tr, { length: 5, stride: 10 }), { mean: [0.5, -1], std: [2, 4] });
  const { x, target } = ex.gather([26]); // trajectory 1, t = 1
  const at = (t: number, d: number) => tr.y[(1 * 50 + t) * 2 + d];
  assert.deepEqual([...x], [Math.fround((at(1, 0) - 0.5) / 2), Math.fround((at(1, 1) + 1) / 4)]);
  assert.deepEqual([...target], [Math.fround((at(2, 0) - 0.5) / 2), Math.fround((at(2, 1) + 1) / 4)]);
  const task = nextStateTask({ mean: [0.5, -1], std: [2, 4] });
  const m = task.metrics(Float32Array.of(1, 1), Float32Array.of(0, 0.5), 1);
  assert.deepEqual(m, { mae: 0.75, mse: 0.625, maeRaw: (1 * 2 + 0.5 * 4) / 2 });
});

test('fit trains a next-state model below the no-change reference, keeps the best model, and rollouts compound', async () => {
  const scale = { mean: [0, 0], std: [1, 1] };
  const tr = rotations(8, 60, 0.3);
  const cut = { length: 8, stride: 4 };
  const train = new NextStateExamples(tr, windowTransitions({ ...tr, n: 6 }, cut), scale);
  const valTr: TrajectoryArray = { y: tr.y.subarray(6 * 60 * 2), n: 2, T: 60, D: 2 };
  const val = new NextStateExamples(valTr, windowTransitions(valTr, cut), scale);
  const model = new ContinuousDepthModel({ inputDim: 2, ode: { depth: 2, width: 16, norm: 'tabn', normLayers: 1, gridIntervals: 4, solver: { method: 'rk4', steps: 4 }, seed: 1 } });
  const dir = await mkdtemp(join(tmpdir(), 'physode-fit-'));
  try {
    const task = nextStateTask(scale);
    const r = await fit({ model, task, train, val, config: { ...FIT_DEFAULTS, epochs: 6, batchSize: 16, lr: 3e-3, seed: 2 }, runDir: join(dir, 'run') });
    assert.equal(r.completed, true);
    const ref = referenceMae(val);
    assert.ok(r.best.maeRaw < ref.persistence / 2, `validation MAE ${r.best.maeRaw} vs no-change ${ref.persistence}`);
    const saved = await ContinuousDepthModel.load(join(dir, 'run', 'model'));
    const again = evaluateExamples(saved, task, val, 64);
    assert.ok(Math.abs(again.maeRaw - r.best.maeRaw) < 1e-9, 'the saved model is the best one');
    const roll = rolloutMae(val, windowStarts(valTr, cut), 5, (x, b) => saved.predict(x, b));
    assert.ok(roll.maeByStep[4] > roll.maeByStep[0]);
    const metrics = (await readFile(join(dir, 'run', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    assert.ok(metrics.some((m) => m.kind === 'val') && metrics.some((m) => m.kind === 'train'));
    saved.dispose();
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a training solve over its step limit is a clean stop after the recoveries: one message with NFE, t and h', async () => {
  const scale = { mean: [0, 0], std: [1, 1] };
  const tr = rotations(4, 40);
  const cut = { length: 8, stride: 4 };
  const ex = new NextStateExamples(tr, windowTransitions(tr, cut), scale);
  const model = new ContinuousDepthModel({ inputDim: 2, ode: { depth: 2, width: 8, norm: 'tabn', solver: { method: 'dopri5', rtol: 1e-9, atol: 1e-10 } } });
  const dir = await mkdtemp(join(tmpdir(), 'physode-fit-'));
  const events: string[] = [];
  try {
    await assert.rejects(
      fit({ model, task: nextStateTask(scale), train: ex, val: ex, config: { ...FIT_DEFAULTS, epochs: 1, batchSize: 8, trainMaxSteps: 2, maxRecoveries: 2 }, runDir: join(dir, 'run'), onEvent: (m) => events.push(m) }),
      (err: unknown) => err instanceof TrainingDivergedError && /step limit reached .* t=.*h=.*NFE \d+/.test(err.message) && /2 recoveries/.test(err.message),
    );
    assert.equal(events.filter((e) => e.includes('recovery')).length, 2);
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
