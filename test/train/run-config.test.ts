import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blueprintOf, readRunConfig, withCurrentModelNames } from '../../src/train/run-config.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';

test('a run folder written with the older model names (gridSize, bnMomentum) loads with the current ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'physode-runcfg-'));
  try {
    const { gridIntervals: _g, momentum: _m, ...model } = DEFAULT_CONFIG.model;
    const old = { ...DEFAULT_CONFIG, model: { ...model, gridSize: 7, bnMomentum: 0.25 } };
    const doc = {
      format: 'physode-run', version: 1, physodeVersion: '0.1.0', tfjsVersion: '4.22.0', backend: 'wasm',
      dataset: { path: 'datasets/pendulum', manifestSha256: 'x', system: 'pendulum', stateLabels: ['theta', 'omega'] },
      normalisation: { mean: [0, 0], std: [1, 1] }, span: [0, 1], defaultStep: 0.1, dim: 2, config: old,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(doc));
    const read = await readRunConfig(dir);
    const bp = blueprintOf(read);
    assert.equal(bp.model.gridIntervals, 7);
    assert.equal(bp.model.momentum, 0.25);
    assert.ok(!('gridSize' in bp.model) && !('bnMomentum' in bp.model));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a configuration with the current names is returned as it is', () => {
  assert.equal(withCurrentModelNames(DEFAULT_CONFIG as TrainConfig), DEFAULT_CONFIG);
});
