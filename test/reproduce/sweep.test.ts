import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduce } from '../../src/reproduce/sweep.js';
import { planSweep } from '../../src/reproduce/plan.js';
import { QUICK, SMOKE } from '../../src/reproduce/profiles.js';
import { RESULTS_HEADER } from '../../src/reproduce/results-store.js';
import type { ProgressEvent } from '../../src/util/progress.js';
import { FakeExecutor, claimsHoldMse, rampStatistics } from './fake-executor.js';
import { checkSvg } from './svg-check.js';

const SYSTEMS = ['pendulum', 'nbody3'];

function options(out: string, executor: FakeExecutor, events: ProgressEvent[] = []) {
  return {
    out, profile: QUICK, systems: SYSTEMS, seeds: [1, 2], executor,
    onProgress: (e: ProgressEvent) => events.push(e),
    commandLine: 'physode reproduce --quick', environment: { physode: 'test' },
  };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'physode-reproduce-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the sweep with a stand-in for the CLI', () => {
  test('writes a row per planned run, a section per experiment, valid SVG plots and verdicts that follow the numbers', () =>
    withDir(async (out) => {
      const failDeep = (s: { norm: string; depth: number }) => (s.norm === 'none' && s.depth === 4 ? 'physode train: loss became NaN' : undefined);
      const executor = new FakeExecutor({ mse: claimsHoldMse, trainFailure: failDeep, stats: rampStatistics });
      const events: ProgressEvent[] = [];
      const summary = await reproduce(options(out, executor, events));
      const plan = planSweep({ profile: QUICK, systems: SYSTEMS, seeds: [1, 2] });

      const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n');
      assert.equal(csv[0], RESULTS_HEADER.join(','));
      assert.equal(csv.length - 1, plan.runs.length);
      // Each distinct training ran once, although several experiments share some.
      assert.equal(executor.trained.length, plan.tasks.length);
      assert.deepEqual(executor.generated.sort(), [...SYSTEMS].sort());
      // Failures are rows with a reason, not missing points.
      const failedRows = csv.filter((l) => l.includes(',failed,'));
      assert.equal(failedRows.length, summary.failed);
      assert.ok(failedRows.length > 0 && failedRows.every((l) => l.includes('divergence') && l.includes('loss became NaN')));

      const report = await readFile(join(out, 'report.md'), 'utf8');
      for (const title of ['## 1. Batch size', '## 2. Outliers', '## 3. Time dependence', '## 4. Depth', '## 5. Solvers', '## Failures', '## How this report was made']) {
        assert.ok(report.includes(title), title);
      }
      assert.match(report, /physode reproduce --quick/);
      assert.match(report, /fake-backend/);
      const verdicts = JSON.parse(await readFile(join(out, 'verdicts.json'), 'utf8')) as { experiment: string; overall: { verdict: string } }[];
      assert.deepEqual(verdicts.map((v) => [v.experiment, v.overall.verdict]), [
        ['batch-size', 'holds'], ['outliers', 'holds'], ['time-dependence', 'holds'], ['depth', 'holds'], ['solvers', 'holds'],
      ]);

      const plots = await readdir(join(out, 'plots'));
      for (const kind of ['batch-size', 'outliers', 'depth', 'depth-nfe', 'solvers', 'solvers-time', 'tabn-mean', 'tabn-var']) {
        assert.ok(plots.includes(`${kind}-pendulum.svg`), kind);
      }
      for (const p of plots) {
        const svg = await readFile(join(out, 'plots', p), 'utf8');
        assert.equal(checkSvg(svg), undefined, p);
        assert.ok(report.includes(`(plots/${p})`), `report links ${p}`);
      }
      const depthSvg = await readFile(join(out, 'plots', 'depth-pendulum.svg'), 'utf8');
      assert.match(depthSvg, /class="failure"/);

      const last = events[events.length - 1];
      assert.equal(last.unit, 'runs');
      assert.equal(last.done, plan.runs.length);
      assert.equal(last.total, plan.runs.length);
    }));

  test('verdicts follow the numbers when a claim fails: minibatch unaffected by batch 2', () =>
    withDir(async (out) => {
      const executor = new FakeExecutor({ mse: (s) => 0.01 * s.seed, stats: rampStatistics });
      await reproduce({ ...options(out, executor), experiments: ['batch-size'] });
      const verdicts = JSON.parse(await readFile(join(out, 'verdicts.json'), 'utf8')) as { overall: { verdict: string } }[];
      assert.equal(verdicts[0].overall.verdict, 'does not hold');
      assert.match(await readFile(join(out, 'report.md'), 'utf8'), /minibatch does not degrade/);
    }));

  test('an interrupted sweep resumes: finished runs are not redone', () =>
    withDir(async (out) => {
      const plan = planSweep({ profile: QUICK, systems: SYSTEMS, seeds: [1, 2] });
      const first = new FakeExecutor({ mse: claimsHoldMse, stats: rampStatistics });
      first.crashAfter = 5;
      await assert.rejects(reproduce(options(out, first)), /simulated kill/);
      const recorded = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n').length - 1;
      assert.ok(recorded > 0 && recorded < plan.runs.length);
      // A stopped sweep still leaves a report of what it recorded.
      assert.match(await readFile(join(out, 'report.md'), 'utf8'), new RegExp(`${recorded} of ${plan.runs.length} planned runs recorded`));

      const events: ProgressEvent[] = [];
      const second = new FakeExecutor({ mse: claimsHoldMse, stats: rampStatistics });
      const summary = await reproduce(options(out, second, events));
      assert.equal(first.trained.length + second.trained.length, plan.tasks.length);
      assert.equal(summary.ranNow, plan.runs.length - recorded);
      assert.equal(events[0].done, recorded);
      const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n');
      assert.equal(csv.length - 1, plan.runs.length);

      const third = new FakeExecutor({ mse: claimsHoldMse, stats: rampStatistics });
      assert.equal((await reproduce(options(out, third))).ranNow, 0);
      assert.equal(third.trained.length + third.evaluated.length, 0);
    }));

  test('a training already recorded is not redone when only its evaluations are missing', () =>
    withDir(async (out) => {
      const executor = new FakeExecutor({ mse: claimsHoldMse });
      await reproduce({ ...options(out, executor), experiments: ['outliers'] });
      const file = join(out, 'results.csv');
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      await writeFile(file, [lines[0], ...lines.slice(2)].join('\n') + '\n');
      const again = new FakeExecutor({ mse: claimsHoldMse });
      const summary = await reproduce({ ...options(out, again), experiments: ['outliers'] });
      assert.equal(summary.ranNow, 1);
      assert.equal(again.evaluated.length, 1);
      assert.equal(again.trained.length, 0);
    }));

  test('a folder holding a sweep of another profile is refused', () =>
    withDir(async (out) => {
      await reproduce({ ...options(out, new FakeExecutor({ mse: claimsHoldMse })), experiments: ['outliers'] });
      await assert.rejects(reproduce({ ...options(out, new FakeExecutor({ mse: claimsHoldMse })), profile: SMOKE }), /quick.*not 'smoke'|profile/);
    }));
});
