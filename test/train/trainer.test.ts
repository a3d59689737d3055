import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { train, TrainingDivergedError } from '../../src/train/trainer.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';
import { readMetrics } from '../../src/train/metrics-log.js';
import { CorruptFileError } from '../../src/util/errors.js';
import { oscillatorSource, linearFactory, LinearModel } from './fixtures.js';
import { SolverError } from '../../src/ode/errors.js';
import type { ModelFactory } from '../../src/train/model-port.js';
import { parseXml } from '../plot/xml-check.js';

const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: { ...DEFAULT_CONFIG.model, norm: 'none' },
  batchSize: 8,
  window: 6,
  steps: 60,
  lr: 0.02,
  warmup: 5,
  logEvery: 5,
  valEvery: 20,
  checkpointEvery: 20,
};

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'physode-train-'));
}

describe('training loop (tiny linear model on an analytic oscillator)', () => {
  before(async () => {
    await initBackend('cpu');
  });

  test('a tiny training run decreases the loss and writes the run folder', async () => {
    const dir = await tmp();
    const result = await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory });
    assert.equal(result.completed, true);
    const records = await readMetrics(join(dir, 'metrics.jsonl'));
    const losses = records.filter((r) => r.kind === 'train').map((r) => r.loss as number);
    assert.ok(losses[losses.length - 1] < 0.25 * losses[0], `loss went from ${losses[0]} to ${losses[losses.length - 1]}`);
    const vals = records.filter((r) => r.kind === 'val').map((r) => r.rolloutMse as number);
    assert.ok(vals[vals.length - 1] < vals[0]);
    const files = await readdir(dir);
    for (const f of ['config.json', 'metrics.jsonl', 'summary.json', 'model', 'checkpoints', 'loss.svg', 'validation.svg', 'rollout-error.svg', 'energy.svg']) {
      assert.ok(files.includes(f), `${f} missing from ${files}`);
    }
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    assert.equal(cfg.config.steps, 60);
    assert.equal(cfg.dataset.manifestSha256, '0'.repeat(64));
    const loss = parseXml(await readFile(join(dir, 'loss.svg'), 'utf8'));
    assert.deepEqual(loss.filter((e) => e.name === 'path').map((e) => e.attrs['data-series']), ['train window MSE', 'val full-horizon MSE']);
    await rm(dir, { recursive: true });
  });

  test('the same seed gives the same metrics.jsonl; an interrupted and resumed run gives it too', async () => {
    const a = await tmp();
    const b = await tmp();
    const c = await tmp();
    await train({ data: oscillatorSource(), runDir: a, config, factory: linearFactory, plots: false });
    await train({ data: oscillatorSource(), runDir: b, config, factory: linearFactory, plots: false });
    // Interrupted off the checkpoint grid (step 27), then resumed; and a kill simulated by resuming
    // from the periodic checkpoint of step 40 after the log has run on to 47.
    const first = await train({ data: oscillatorSource(), runDir: c, config, factory: linearFactory, stopAfterSteps: 27, plots: false });
    assert.equal(first.completed, false);
    assert.equal(first.steps, 27);
    await train({ data: oscillatorSource(), runDir: c, config, factory: linearFactory, resume: true, plots: false });
    const ma = await readFile(join(a, 'metrics.jsonl'), 'utf8');
    assert.equal(await readFile(join(b, 'metrics.jsonl'), 'utf8'), ma);
    assert.equal(await readFile(join(c, 'metrics.jsonl'), 'utf8'), ma);
    for (const d of [a, b, c]) await rm(d, { recursive: true });
  });

  test('a run killed after its last checkpoint resumes to the same metrics.jsonl', async () => {
    const a = await tmp();
    const c = await tmp();
    await train({ data: oscillatorSource(), runDir: a, config, factory: linearFactory, plots: false });
    // Run to step 40 (checkpoint), then 7 more steps whose checkpoint is thrown away: what a SIGKILL
    // at step 47 leaves behind is the step-40 checkpoint plus log lines up to step 45 and a torn line.
    await train({ data: oscillatorSource(), runDir: c, config, factory: linearFactory, stopAfterSteps: 40, plots: false });
    const saved = await mkdtemp(join(tmpdir(), 'physode-ckpt-copy-'));
    const { cp } = await import('node:fs/promises');
    await cp(join(c, 'checkpoints'), join(saved, 'checkpoints'), { recursive: true });
    await train({ data: oscillatorSource(), runDir: c, config, factory: linearFactory, resume: true, stopAfterSteps: 47, plots: false });
    await rm(join(c, 'checkpoints'), { recursive: true });
    await cp(join(saved, 'checkpoints'), join(c, 'checkpoints'), { recursive: true });
    await writeFile(join(c, 'metrics.jsonl'), (await readFile(join(c, 'metrics.jsonl'), 'utf8')) + '{"step": 46, "kind": "tr');
    await train({ data: oscillatorSource(), runDir: c, config, factory: linearFactory, resume: true, plots: false });
    assert.equal(await readFile(join(c, 'metrics.jsonl'), 'utf8'), await readFile(join(a, 'metrics.jsonl'), 'utf8'));
    for (const d of [a, c, saved]) await rm(d, { recursive: true });
  });

  test('a planted NaN loss restores the last checkpoint, lowers the learning rate and carries on', async () => {
    const dir = await tmp();
    const events: string[] = [];
    const result = await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, injectNanAtSteps: [33], onEvent: (m) => events.push(m), plots: false });
    assert.equal(result.completed, true);
    assert.equal(result.recoveries, 1);
    const records = await readMetrics(join(dir, 'metrics.jsonl'));
    const ev = records.find((r) => r.kind === 'event');
    assert.ok(ev);
    assert.equal(ev.atStep, 33);
    assert.equal(ev.step, 20);
    assert.equal(ev.lrScale, 0.5);
    // Steps 21..33 were replayed once, not logged twice.
    const steps = records.filter((r) => r.kind === 'train').map((r) => r.step);
    assert.deepEqual(steps, [...new Set(steps)]);
    assert.ok(events.some((m) => /restored the checkpoint of step 20/.test(m)));
    await rm(dir, { recursive: true });
  });

  test('a solver that cannot meet its tolerance during a step triggers the same recovery', async () => {
    const dir = await tmp();
    let calls = 0;
    const failing: ModelFactory = {
      create: async (bp) => {
        const m = LinearModel.create(bp.dim, bp.seed);
        const inner = m.lossAndGradients.bind(m);
        m.lossAndGradients = (...args) => {
          calls++;
          if (calls === 30) throw new SolverError('step-underflow', { t: 0.4, h: 1e-12, nfe: 99 }, 'loosen rtol');
          return inner(...args);
        };
        return m;
      },
      load: linearFactory.load,
    };
    const events: string[] = [];
    const result = await train({ data: oscillatorSource(), runDir: dir, config, factory: failing, onEvent: (m) => events.push(m), plots: false });
    assert.equal(result.completed, true);
    assert.equal(result.recoveries, 1);
    assert.ok(events.some((m) => /the solver failed: ODE solver stopped: step size underflow/.test(m)), events.join('\n'));
    await rm(dir, { recursive: true });
  });

  test('divergence that keeps coming back stops with a clear error after the allowed recoveries, keeping the best model', async () => {
    const dir = await tmp();
    await assert.rejects(
      train({ data: oscillatorSource(), runDir: dir, config: { ...config, maxRecoveries: 2 }, factory: linearFactory, injectNanAtSteps: [25, 26, 27, 28], plots: false }),
      (err: unknown) => err instanceof TrainingDivergedError && /diverged at step \d+ .*after 2 recoveries/.test(err.message) && /--lr/.test(err.hint ?? ''),
    );
    const files = await readdir(dir);
    assert.ok(files.includes('model'));
    await rm(dir, { recursive: true });
  });

  test('resuming from a corrupt checkpoint gives a CorruptFileError', async () => {
    const dir = await tmp();
    await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, stopAfterSteps: 20, plots: false });
    const ck = join(dir, 'checkpoints', 'last');
    const bin = (await readdir(ck)).find((f) => f.endsWith('.bin'))!;
    const bytes = await readFile(join(ck, bin));
    bytes[bytes.length - 1] ^= 1;
    await writeFile(join(ck, bin), bytes);
    await assert.rejects(train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, resume: true, plots: false }), CorruptFileError);
    await rm(dir, { recursive: true });
  });

  test('starting over an existing run or resuming with other options is refused', async () => {
    const dir = await tmp();
    await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, stopAfterSteps: 5, plots: false });
    await assert.rejects(train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory }), /already holds a run/);
    await assert.rejects(train({ data: oscillatorSource(), runDir: dir, config: { ...config, lr: 0.1 }, factory: linearFactory, resume: true }), /different configuration \(lr\)/);
    await rm(dir, { recursive: true });
  });

  test('training steps do not leak tensors', async () => {
    const dir = await tmp();
    const counts = new Map<number, number>();
    const before = tf.memory().numTensors;
    await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, plots: false, onProgress: (e) => counts.set(e.done, tf.memory().numTensors) });
    assert.equal(counts.get(10), counts.get(55));
    assert.equal(tf.memory().numTensors, before);
    await rm(dir, { recursive: true });
  });
});
