import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Worker } from 'node:worker_threads';
import { initBackend } from '../../src/backend/backend.js';
import { NeuralODE } from '../../src/model/neural-ode.js';
import { NeuralOdePort } from '../../src/train/neural-ode-port.js';
import { DataParallelModel, shardRows } from '../../src/parallel/data-parallel-model.js';
import { collectiveMemory, SharedCollective, CollectiveAbortedError } from '../../src/parallel/collective.js';
import type { NeuralOdeConfigInput } from '../../src/model/config.js';
import { Rng } from '../../src/util/rng.js';

await initBackend('wasm');

describe('collective', () => {
  test('sums in rank order across threads, the same result on every rank, call after call', async () => {
    const mem = collectiveMemory(3, 4);
    // Rank 0 runs here; ranks 1 and 2 are plain workers running the same protocol (two banks of
    // slots, one barrier per call) on the same shared memory, independently written.
    const me = new SharedCollective(mem, 0);
    const others = [1, 2].map(
      (rank) =>
        new Worker(
          `const { workerData, parentPort } = require('node:worker_threads');
           const c = new Int32Array(workerData.buffer, 0, 4); const slots = new Float64Array(workerData.buffer, 16);
           const out = [];
           for (let k = 0; k < 50; k++) {
             const bank = (k & 1) * 3 * 4;
             slots.set([workerData.rank + 1, k, 0.1 * workerData.rank], bank + workerData.rank * 4);
             const round = Atomics.load(c, 1);
             if (Atomics.add(c, 0, 1) === 2) { Atomics.store(c, 0, 0); Atomics.add(c, 1, 1); Atomics.notify(c, 1); }
             else while (Atomics.load(c, 1) === round) Atomics.wait(c, 1, round, 100);
             const s = [0, 0, 0]; for (let r = 0; r < 3; r++) for (let i = 0; i < 3; i++) s[i] += slots[bank + r * 4 + i];
             out.push(s);
           }
           parentPort.postMessage(out);`,
          { eval: true, workerData: { buffer: mem.buffer, rank } },
        ),
    );
    const results = others.map((w) => new Promise<number[][]>((resolve) => w.once('message', resolve)));
    const mine: number[][] = [];
    for (let k = 0; k < 50; k++) mine.push(Array.from(me.sum(Float64Array.of(1, k, 0))));
    const theirs = await Promise.all(results);
    for (let k = 0; k < 50; k++) {
      assert.deepEqual(mine[k], [6, 3 * k, 0.1 + 0.2]);
      for (const t of theirs) assert.deepEqual(t[k], mine[k]);
    }
  });

  test('a replica that gives up releases the others with CollectiveAbortedError', () => {
    const mem = collectiveMemory(2, 1);
    const a = new SharedCollective(mem, 0, 50);
    assert.throws(() => a.sum(Float64Array.of(1)), CollectiveAbortedError); // rank 1 never comes
    const b = new SharedCollective(mem, 1, 50);
    assert.throws(() => b.sum(Float64Array.of(1)), CollectiveAbortedError); // and rank 1 sees the abort
  });
});

test('shardRows splits rows as evenly as possible', () => {
  assert.deepEqual(shardRows(10, 3), [4, 3, 3]);
  assert.deepEqual(shardRows(8, 2), [4, 4]);
});

/** The same step in one thread and over 2 replicas: loss, gradients, NFE and running statistics agree. */
async function compare(cfg: NeuralOdeConfigInput, batch: number, ts: number[]): Promise<void> {
  const single = new NeuralOdePort(new NeuralODE(cfg));
  const parallel = await DataParallelModel.create(new NeuralOdePort(new NeuralODE(cfg)), 2);
  try {
    const rng = new Rng(5);
    const D = cfg.dim;
    const y0 = Float32Array.from({ length: batch * D }, () => rng.normal());
    const target = Float32Array.from({ length: batch * ts.length * D }, () => rng.normal());
    const tsv = Float64Array.from(ts);
    for (let step = 0; step < 2; step++) {
      const a = single.lossAndGradients(y0, batch, tsv, target);
      const b = parallel.lossAndGradients(y0, batch, tsv, target);
      assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `loss ${a.loss} vs ${b.loss}`);
      assert.equal(b.nfe, a.nfe, 'the replicas take the steps of the single solve');
      assert.deepEqual([...b.grads.keys()].sort(), [...a.grads.keys()].sort());
      // Relative to the largest gradient: a bias before batch normalisation has a zero gradient,
      // which float32 rounding leaves at ~1e-9 on either side.
      let scale = 0;
      for (const g of a.grads.values()) for (const v of g.dataSync()) scale = Math.max(scale, Math.abs(v));
      for (const [name, g] of a.grads) {
        const x = g.dataSync();
        const y = b.grads.get(name)!.dataSync();
        for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 2e-4 * scale, `${name}[${i}]: ${x[i]} vs ${y[i]}`);
      }
      tf.dispose([...a.grads.values(), ...b.grads.values()]);
    }
    // Running statistics (TA-BN) after two training steps.
    const sa = new Map(single.getState().map((t) => [t.name, t.data]));
    for (const t of parallel.getState()) {
      if (!/running|count/.test(t.name)) continue;
      const x = sa.get(t.name)!;
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - t.data[i]) <= 1e-4 * Math.max(1, Math.abs(x[i])), `${t.name}[${i}]: ${x[i]} vs ${t.data[i]}`);
    }
  } finally {
    single.dispose();
    parallel.dispose();
  }
}

describe('data-parallel training step = the same step in one thread', () => {
  const base = { dim: 3, depth: 2, width: 8, activation: 'tanh' as const, timeSpan: [0, 1] as [number, number], seed: 3 };
  test('no normalisation, rk4', async () => {
    await compare({ ...base, norm: 'none', solver: { method: 'rk4', steps: 5 } }, 7, [0, 0.5, 1]);
  });
  test('no normalisation, dopri5 (error norms over all replicas: same steps)', async () => {
    await compare({ ...base, norm: 'none', solver: { method: 'dopri5', rtol: 1e-4, atol: 1e-5 } }, 8, [0, 1]);
  });
  test('tabn, rk4 (batch statistics over all replicas)', async () => {
    await compare({ ...base, norm: 'tabn', solver: { method: 'rk4', steps: 4 } }, 10, [0, 0.5, 1]);
  });
  test('minibatch, dopri5', async () => {
    await compare({ ...base, norm: 'minibatch', solver: { method: 'dopri5', rtol: 1e-4, atol: 1e-5 } }, 8, [0, 1]);
  });
  test('popti with softplus and time input, rk4', async () => {
    await compare({ ...base, activation: 'softplus', timeInput: true, norm: 'popti', solver: { method: 'rk4', steps: 4 } }, 9, [0, 0.5, 1]);
  });
});

after(() => tf.disposeVariables());
