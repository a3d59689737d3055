import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/reproduce/report.js';
import { planSweep } from '../../src/reproduce/plan.js';
import { SMOKE } from '../../src/reproduce/profiles.js';
import type { Plot } from '../../src/reproduce/plots.js';

test('each system\'s section shows its own plots only (double-pendulum is not pendulum)', () => {
  const systems = ['pendulum', 'double-pendulum'];
  const plan = planSweep({ profile: SMOKE, systems, seeds: [1], experiments: ['batch-size'] });
  const plot = (system: string): Plot => ({ file: `batch-size-${system}.svg`, system, caption: system, svg: '<svg/>' });
  const unknown = { verdict: 'inconclusive', because: 'no runs' } as const;
  const report = renderReport({
    plan,
    profile: SMOKE,
    results: [],
    verdicts: [{ experiment: 'batch-size', overall: unknown, perSystem: systems.map((system) => ({ system, verdict: unknown })) }],
    plots: new Map([['batch-size', systems.map(plot)]]),
    statistics: new Map(),
    commandLine: 'physode reproduce --profile smoke',
    commands: [],
    environment: {},
    generatedAt: '2026-01-01T00:00:00Z',
  });
  for (const system of systems) {
    const images = report.split('\n').filter((l) => l === `![batch-size-${system}.svg](plots/batch-size-${system}.svg)`);
    assert.equal(images.length, 1, `${system}: ${images.length} images`);
  }
  const pendulumSection = report.slice(report.indexOf('### Batch size: pendulum'), report.indexOf('### Batch size: double-pendulum'));
  assert.ok(!pendulumSection.includes('batch-size-double-pendulum.svg'));
});
