import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { lossPlot, runningStatsPlot, energyPlot } from '../../src/train/plots.js';
import { parseXml } from '../plot/xml-check.js';

describe('run plots', () => {
  test('the loss plot shows the training loss and the validation MSE from metrics records', () => {
    const svg = lossPlot([
      { step: 10, kind: 'train', loss: 1 },
      { step: 20, kind: 'train', loss: 0.1 },
      { step: 20, kind: 'val', rolloutMse: 0.5 },
      { step: 20, kind: 'event', event: 'recovery' },
    ]);
    const paths = parseXml(svg).filter((e) => e.name === 'path');
    assert.deepEqual(paths.map((p) => p.attrs['data-series']), ['train window MSE', 'val full-horizon MSE']);
    assert.equal((paths[0].attrs.d.match(/[ML]/g) ?? []).length, 2);
    assert.equal((paths[1].attrs.d.match(/[ML]/g) ?? []).length, 1);
  });

  test('the TA-BN statistics plot leaves out grid points that never received weight', () => {
    const svg = runningStatsPlot({
      layer: 'field.layers.0.norm',
      t: Float64Array.of(0, 0.5, 1),
      mean: Float32Array.of(0.1, 0.2, 0, 0, 0.3, 0.4),
      variance: Float32Array.of(1, 2, 1, 1, 3, 4),
      features: 2,
      count: Float32Array.of(1, 0, 2),
      coverage: 2 / 3,
    }, 'mean');
    const paths = parseXml(svg).filter((e) => e.name === 'path');
    assert.equal(paths.length, 2);
    for (const p of paths) assert.equal((p.attrs.d.match(/[ML]/g) ?? []).length, 2);
    assert.match(svg, /grid coverage 67 %/);
  });

  test('the energy plot pairs a true and a model line per trajectory', () => {
    const svg = energyPlot(Float64Array.of(1, 2), [{ label: 'a', truth: Float64Array.of(1, 1), predicted: Float64Array.of(1, 1.1) }]);
    const paths = parseXml(svg).filter((e) => e.name === 'path');
    assert.deepEqual(paths.map((p) => p.attrs['data-series']), ['a true', 'a model']);
    assert.equal(paths[1].attrs['stroke-dasharray'], '5 3');
  });
});
