import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { normStatisticsFromTensors, readNormStatistics, relativeVariation } from '../../src/reproduce/norm-statistics.js';

/** A safetensors file built by hand from the format's description (not by the code under test). */
function handMade(tensors: Record<string, { shape: number[]; values: number[] }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.values.length] };
    offset += 4 * t.values.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.from(new Float32Array(Object.values(tensors).flatMap((t) => t.values)).buffer);
  return new Uint8Array(Buffer.concat([length, json, data]));
}

const MODEL = {
  'field.layers.0.linear.weight': { shape: [2, 2], values: [1, 2, 3, 4] },
  'field.layers.1.norm.running_mean': { shape: [3, 2], values: [9, 9, 9, 9, 9, 9] },
  'field.layers.1.norm.running_var': { shape: [3, 2], values: [1, 1, 1, 1, 1, 1] },
  'field.layers.0.norm.running_mean': { shape: [3, 2], values: [0, 5, 1, 5, 2, 5] },
  'field.layers.0.norm.running_var': { shape: [3, 2], values: [1, 4, 1, 4, 1, 4] },
  'field.layers.0.norm.grid': { shape: [3], values: [0, 0.5, 1] },
  'field.layers.0.norm.count': { shape: [3], values: [2, 3, 1] },
};

describe('normalisation statistics from a saved model', () => {
  test('the first normalised layer is picked, with its grid and counts', () => {
    const s = normStatisticsFromTensors(decodeSafetensors(handMade(MODEL), 'x').tensors)!;
    assert.equal(s.layer, 'field.layers.0.norm');
    assert.deepEqual(s.t, [0, 0.5, 1]);
    assert.deepEqual(s.mean, [[0, 5], [1, 5], [2, 5]]);
    assert.deepEqual(s.count, [2, 3, 1]);
  });

  test('relative variation: a mean ramping 0,1,2 with unit variance gives sqrt(2/3); a constant gives 0', () => {
    const s = normStatisticsFromTensors(decodeSafetensors(handMade(MODEL), 'x').tensors)!;
    // feature 0: population std of (0,1,2) = sqrt(2/3), variance 1; feature 1: constant.
    assert.ok(Math.abs(relativeVariation(s) - Math.sqrt(2 / 3) / 2) < 1e-6);
    assert.equal(relativeVariation({ layer: 'p', mean: [[0.3]], variance: [[2]] }), 0);
  });

  test('a model without normalisation has no statistics; the best checkpoint is read first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'physode-stats-'));
    try {
      assert.equal(normStatisticsFromTensors(decodeSafetensors(handMade({ 'w': { shape: [1], values: [1] } }), 'x').tensors), undefined);
      await mkdir(join(dir, 'checkpoints', 'best'), { recursive: true });
      await mkdir(join(dir, 'checkpoints', 'last'), { recursive: true });
      await writeFile(join(dir, 'checkpoints', 'last', 'model.safetensors'), handMade({ 'n0.running_mean': { shape: [1], values: [7] }, 'n0.running_var': { shape: [1], values: [1] } }));
      await writeFile(join(dir, 'checkpoints', 'best', 'model.safetensors'), handMade(MODEL));
      assert.equal((await readNormStatistics(dir))?.layer, 'field.layers.0.norm');
      assert.equal(await readNormStatistics(join(dir, 'missing')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('TA-BN grid times from the model config', () => {
  test('M + 1 evenly spaced points over [t0, T] (TABN.md "Grid")', async () => {
    const { gridFromConfig } = await import('../../src/reproduce/norm-statistics.js');
    assert.deepEqual(gridFromConfig({ timeSpan: [0, 2], gridIntervals: 4 }, 5), [0, 0.5, 1, 1.5, 2]);
    assert.equal(gridFromConfig({ timeSpan: [0, 2], gridIntervals: 4 }, 3), undefined);
    assert.equal(gridFromConfig({}, 3), undefined);
  });
});

describe('relative variation along t', () => {
  test('alternating noise around a constant averages out in bins, a linear trend does not', () => {
    const n = 100;
    const t = Array.from({ length: n }, (_, g) => g / (n - 1));
    const noisy = { layer: 'l', t, mean: t.map((_, g) => [g % 2 === 0 ? 0.1 : -0.1]), variance: t.map(() => [1]) };
    const trend = { layer: 'l', t, mean: t.map((x) => [x]), variance: t.map(() => [1]) };
    // Bins of 20 alternating points average to exactly 0.
    assert.ok(relativeVariation(noisy) < 1e-12);
    // Bin averages of x on [0, 1]: 0.0960.., 0.2980.., ...: spread of 5 equally spaced values 0.202 apart = 0.202 * sqrt(2).
    const step = 20 / 99;
    assert.ok(Math.abs(relativeVariation(trend) - step * Math.sqrt(2)) < 1e-9);
  });
});
