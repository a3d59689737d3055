import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { train } from '../../src/train/trainer.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';
import type { ModelBlueprint, ModelFactory, StepResult } from '../../src/train/model-port.js';
import { oscillatorSource, LinearModel } from './fixtures.js';

/** The linear test model, recording the normalisation mode of every step and every recalibration. */
class RecordingModel extends LinearModel {
  readonly modes: Array<'train' | 'eval'> = [];
  readonly recalibrations: Array<{ batches: number; sizes: number[]; windowLength: number }> = [];
  override lossAndGradients(y0: Float32Array, batch: number, ts: Float64Array, target: Float32Array, mode: 'train' | 'eval' = 'train'): StepResult {
    this.modes.push(mode);
    return super.lossAndGradients(y0, batch, ts, target);
  }
  recalibrate(batches: Iterable<{ readonly y0: Float32Array; readonly batch: number; readonly ts: Float64Array }>): number {
    const sizes: number[] = [];
    let windowLength = 0;
    for (const b of batches) {
      sizes.push(b.batch);
      windowLength = b.ts.length;
    }
    this.recalibrations.push({ batches: sizes.length, sizes, windowLength });
    return 0;
  }
}

describe('precise BN and frozen statistics in the training loop', () => {
  before(async () => {
    await initBackend('cpu');
  });

  test('statistics are recalibrated before each validation and at the switch, and the last bnFreeze of the steps train in eval mode', async () => {
    const models: RecordingModel[] = [];
    const factory: ModelFactory = {
      create: async (bp: ModelBlueprint) => {
        const base = LinearModel.create(bp.dim, bp.seed);
        const m = new RecordingModel(base.a, base.b);
        models.push(m);
        return m;
      },
      load: async () => {
        throw new Error('not used');
      },
    };
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      model: { ...DEFAULT_CONFIG.model, norm: 'tabn', bnRecalibration: 3, bnFreeze: 0.25 },
      batchSize: 8,
      window: 6,
      steps: 40,
      lr: 0.02,
      warmup: 5,
      logEvery: 5,
      valEvery: 20,
      checkpointEvery: 20,
    };
    const dir = await mkdtemp(join(tmpdir(), 'physode-precise-bn-'));
    await train({ data: oscillatorSource(), runDir: dir, config, factory, plots: false });
    const m = models[0];
    // 40 steps, the last 25 % (steps 31..40) through frozen statistics.
    assert.deepEqual(m.modes, [...Array(30).fill('train'), ...Array(10).fill('eval')]);
    // Validation at step 20 (batch statistics: recalibrated), the switch at step 31, none at step 40 (frozen).
    assert.equal(m.recalibrations.length, 2);
    for (const r of m.recalibrations) {
      assert.equal(r.batches, 3);
      assert.deepEqual(r.sizes, [8, 8, 8]);
      assert.equal(r.windowLength, 6, 'full-span windows, so every grid point is recalibrated');
    }
    await rm(dir, { recursive: true });
  });

  test('with bnRecalibration 0 and bnFreeze 0 the loop trains with batch statistics throughout and never recalibrates', async () => {
    const models: RecordingModel[] = [];
    const factory: ModelFactory = {
      create: async (bp: ModelBlueprint) => {
        const base = LinearModel.create(bp.dim, bp.seed);
        const m = new RecordingModel(base.a, base.b);
        models.push(m);
        return m;
      },
      load: async () => {
        throw new Error('not used');
      },
    };
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      model: { ...DEFAULT_CONFIG.model, norm: 'tabn', bnRecalibration: 0, bnFreeze: 0 },
      batchSize: 8,
      window: 6,
      steps: 20,
      warmup: 5,
      logEvery: 5,
      valEvery: 10,
      checkpointEvery: 10,
    };
    const dir = await mkdtemp(join(tmpdir(), 'physode-precise-bn-'));
    await train({ data: oscillatorSource(), runDir: dir, config, factory, plots: false });
    assert.deepEqual(models[0].modes, Array(20).fill('train'));
    assert.equal(models[0].recalibrations.length, 0);
    await rm(dir, { recursive: true });
  });
});
