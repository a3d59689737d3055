import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { renderLineChart } from '../../src/plot/line-chart.js';
import { niceTicks, logScale } from '../../src/plot/scale.js';
import { parseXml } from './xml-check.js';

describe('SVG line charts', () => {
  test('a chart is well-formed XML with one path per series and a legend naming each', () => {
    const svg = renderLineChart({
      title: 'loss <train & val>',
      xLabel: 'step',
      yLabel: 'MSE',
      series: [
        { name: 'train "loss"', x: [0, 1, 2, 3], y: [1, 0.5, 0.25, 0.125] },
        { name: 'val', x: [0, 2], y: [1.2, 0.3], dashed: true },
      ],
    });
    const elements = parseXml(svg);
    assert.equal(elements[0].name, 'svg');
    assert.equal(elements[0].attrs.xmlns, 'http://www.w3.org/2000/svg');
    const paths = elements.filter((e) => e.name === 'path' && e.attrs.class === 'series');
    assert.deepEqual(paths.map((p) => p.attrs['data-series']), ['train "loss"', 'val']);
    // 4 points: one move and three line segments.
    assert.equal((paths[0].attrs.d.match(/[ML]/g) ?? []).length, 4);
    assert.ok(svg.includes('train &quot;loss&quot;'));
    assert.ok(svg.includes('loss &lt;train &amp; val&gt;'));
  });

  test('log-scale y axis leaves out non-positive and non-finite points and breaks the line there', () => {
    const svg = renderLineChart({
      title: 'log',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
      series: [{ name: 's', x: [0, 1, 2, 3, 4], y: [1, 0.1, 0, Number.NaN, 0.001] }],
    });
    const path = parseXml(svg).find((e) => e.name === 'path')!;
    assert.equal((path.attrs.d.match(/M/g) ?? []).length, 2);
    assert.equal((path.attrs.d.match(/L/g) ?? []).length, 1);
    const tickLabels = [...svg.matchAll(/class="tick-label y">([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(tickLabels, ['1e-3', '1e-2', '1e-1', '1e0']);
  });

  test('points map onto the axes: the smallest x at the left edge, the largest y at the top', () => {
    const svg = renderLineChart({ title: 't', xLabel: 'x', yLabel: 'y', width: 600, height: 400, series: [{ name: 'a', x: [0, 10], y: [0, 5] }] });
    const d = parseXml(svg).find((e) => e.name === 'path')!.attrs.d;
    // margins: left 72, right 20, top 36, bottom 48 -> x from 72 to 580, y from 352 to 36
    assert.equal(d, 'M72 352 L580 36');
  });

  test('an empty chart still renders a valid document', () => {
    const elements = parseXml(renderLineChart({ title: 'none', xLabel: 'x', yLabel: 'y', series: [] }));
    assert.equal(elements[0].name, 'svg');
  });

  test('nice ticks are 1, 2, 5 multiples of a power of ten covering the range', () => {
    assert.deepEqual(niceTicks(0, 1, 6), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(logScale([1e-4, 1], [0, 1]).ticks(), [1e-4, 1e-3, 1e-2, 1e-1, 1]);
  });
});
