/**
 * Every system and every n-body preset generates, at its default counts, a dataset with train, val
 * and test trajectories, and `train` accepts such a dataset. (Sample counts are lowered to keep the
 * test fast; they do not change the split.)
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSystems } from '../../systems/index.js';
import { generateDataset } from '../../src/generate/index.js';
import type { Split } from '../../src/data/types.js';
import { initBackend } from '../../src/backend/backend.js';
import { openDataSource } from '../../src/train/dataset-source.js';
import { defaultModelFactory } from '../../src/train/default-factory.js';
import { train } from '../../src/train/trainer.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';

const SAMPLES = 12;

const cases = listSystems().flatMap((s) => (s.presets.length > 0 ? s.presets.map((p) => ({ system: s, preset: p as string | undefined })) : [{ system: s, preset: undefined }]));

describe('default dataset sizes', { timeout: 300_000 }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'physode-defaults-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const { system, preset } of cases) {
    const name = preset ?? system.name;
    test(`${system.name}${preset ? ` --preset ${preset}` : ''}: the default count has train, val and test trajectories`, async () => {
      const defaults = system.create({ preset }).defaults;
      assert.ok(defaults, `${name} declares its generation defaults`);
      const { manifest } = await generateDataset({ system: system.name, preset, out: join(root, name), samples: SAMPLES, workers: 1 });
      assert.equal(manifest.generator.count, defaults.count);
      const counts = (split: Split): number => manifest.shards.filter((s) => s.split === split).reduce((a, s) => a + s.count, 0);
      for (const split of ['train', 'val', 'test'] as const) assert.ok(counts(split) >= 1, `${name}: ${split} has ${counts(split)} trajectories at the default count ${defaults.count}`);
      assert.equal(counts('train') + counts('val') + counts('test'), defaults.count);
    });
  }

  test('train accepts a preset dataset at its default count (figure-eight) and validates on its val split', async () => {
    await initBackend('cpu');
    const data = await openDataSource(join(root, 'figure-eight'));
    const config: TrainConfig = { ...DEFAULT_CONFIG, model: { ...DEFAULT_CONFIG.model, width: 8, depth: 1 }, batchSize: 4, window: 4, initialWindow: null, steps: 4, warmup: 1, logEvery: 2, valEvery: 2, checkpointEvery: 2 };
    const result = await train({ data, runDir: join(root, 'figure-eight-run'), config, factory: await defaultModelFactory(), plots: false });
    assert.equal(result.completed, true);
    assert.equal(result.steps, 4);
    assert.ok(Number.isFinite(result.bestValMse), `best val MSE ${result.bestValMse}`);
  });
});
