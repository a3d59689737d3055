/**
 * The training loop with the project's NeuralODE (TA-BN) on a small pendulum set: the properties
 * that depend on the real model (exact resume with normalisation statistics, no tensor growth,
 * batch-size independence of TA-BN at evaluation).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { train } from '../../src/train/trainer.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';
import { neuralOdeFactory } from '../../src/train/neural-ode-port.js';
import { loadRun } from '../../src/train/predict.js';
import { evaluateRun } from '../../src/train/evaluate.js';
import { prepareTrajectories } from '../../src/train/trajectories.js';
import { readMetrics } from '../../src/train/metrics-log.js';
import { pendulumSource } from './pendulum-fixture.js';
import type { DataSource } from '../../src/train/training-data.js';

const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: { ...DEFAULT_CONFIG.model, width: 16, gridIntervals: 10 },
  batchSize: 8,
  window: 5,
  steps: 30,
  warmup: 3,
  logEvery: 5,
  valEvery: 10,
  checkpointEvery: 10,
};

describe('training the NeuralODE with TA-BN', () => {
  let data: DataSource;
  before(async () => {
    await initBackend('cpu');
    data = pendulumSource(40, 30, 3, 7);
  });

  test('the loss decreases and tensors do not pile up over the steps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'physode-node-'));
    const counts = new Map<number, number>();
    await train({ data, runDir: dir, config, factory: neuralOdeFactory, onProgress: (e) => counts.set(e.done, tf.memory().numTensors) });
    const losses = (await readMetrics(join(dir, 'metrics.jsonl'))).filter((r) => r.kind === 'train').map((r) => r.loss as number);
    assert.ok(losses[losses.length - 1] < 0.6 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
    // Steps 11 and 29 both sit just after a logging step and between validations.
    assert.equal(counts.get(29), counts.get(11));
    await rm(dir, { recursive: true });
  });

  test('interrupted and resumed, the run writes the same metrics.jsonl as an uninterrupted one', async () => {
    const a = await mkdtemp(join(tmpdir(), 'physode-node-'));
    const b = await mkdtemp(join(tmpdir(), 'physode-node-'));
    await train({ data, runDir: a, config, factory: neuralOdeFactory, plots: false });
    await train({ data, runDir: b, config, factory: neuralOdeFactory, plots: false, stopAfterSteps: 13 });
    await train({ data, runDir: b, config, factory: neuralOdeFactory, plots: false, resume: true });
    assert.equal(await readFile(join(b, 'metrics.jsonl'), 'utf8'), await readFile(join(a, 'metrics.jsonl'), 'utf8'));
    await rm(a, { recursive: true });
    await rm(b, { recursive: true });
  });

  test('evaluation with batch size 1 gives the same metrics as one batch for TA-BN (running statistics)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'physode-node-'));
    await train({ data, runDir: dir, config, factory: neuralOdeFactory, plots: false });
    const run = await loadRun(dir, 'best');
    const test = prepareTrajectories(await data.loadSplit('test'), run.stats);
    const whole = await evaluateRun(run, test, {});
    const single = await evaluateRun(run, test, { batchSize: 1 });
    assert.equal(single.batchSize, 1);
    assert.ok(Math.abs(single.rolloutMse - whole.rolloutMse) <= 1e-6 * whole.rolloutMse, `${single.rolloutMse} vs ${whole.rolloutMse}`);
    run.dispose();
    await rm(dir, { recursive: true });
  });
});
