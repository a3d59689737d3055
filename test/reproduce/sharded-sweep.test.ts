/**
 * The sweep split into job-array shares: each share runs the trainings hash(key) mod N assigns
 * it, the merge writes results.csv and the report; results equal those of one machine. With the
 * stand-in executor, so every number is known.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduce } from '../../src/reproduce/sweep.js';
import { mergeShares, reproduceShare } from '../../src/reproduce/sharded-sweep.js';
import { planSweep } from '../../src/reproduce/plan.js';
import { shareOfKey } from '../../src/reproduce/share.js';
import { QUICK } from '../../src/reproduce/profiles.js';
import { FakeExecutor, claimsHoldMse, rampStatistics } from './fake-executor.js';

const SPEC = { profile: QUICK, systems: ['pendulum', 'nbody3'], seeds: [1, 2] };

async function withDirs(body: (local: string, sharded: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'physode-shards-'));
  try {
    await body(join(root, 'local'), join(root, 'sharded'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const merge = (out: string, shardCount?: number) =>
  mergeShares({ ...SPEC, out, commandLine: 'physode reproduce --quick --merge', commands: ['physode train (fake)'], environment: { physode: 'test' }, shardCount });

describe('reproduce --shard-index/--shard-count and --merge', () => {
  test('shares run disjoint trainings covering the plan; the merged results.csv equals a one-machine sweep', () =>
    withDirs(async (local, sharded) => {
      const rules = { mse: claimsHoldMse, stats: rampStatistics };
      await reproduce({ ...SPEC, out: local, executor: new FakeExecutor(rules), commandLine: 'physode reproduce --quick', environment: { physode: 'test' } });
      const N = 3;
      const executors = Array.from({ length: N }, () => new FakeExecutor(rules));
      const parts = [];
      for (let index = 0; index < N; index++) parts.push(await reproduceShare({ ...SPEC, out: sharded, selection: { index, count: N }, executor: executors[index] }));
      const plan = planSweep(SPEC);
      const trainedPerShare = executors.map((e) => e.trained.length);
      assert.equal(trainedPerShare.reduce((a, b) => a + b, 0), plan.tasks.length, 'each training runs once in all');
      assert.ok(trainedPerShare.every((n) => n > 0), `every share has work: ${trainedPerShare.join(', ')}`);
      const keys = parts.flatMap((p) => p.tasks);
      assert.deepEqual([...keys].sort(), plan.tasks.map((t) => t.key).sort());
      for (let index = 0; index < N; index++) for (const k of parts[index].tasks) assert.equal(shareOfKey(k, N), index);

      const merged = await merge(sharded, N);
      assert.equal(merged.results.length, plan.runs.length);
      assert.equal(await readFile(join(sharded, 'results.csv'), 'utf8'), await readFile(join(local, 'results.csv'), 'utf8'));
      assert.equal(await readFile(join(sharded, 'verdicts.json'), 'utf8'), await readFile(join(local, 'verdicts.json'), 'utf8'));
      assert.match(await readFile(join(sharded, 'report.md'), 'utf8'), /## 1\. Batch size/);

      // A share rerun does nothing more.
      const again = new FakeExecutor(rules);
      assert.equal((await reproduceShare({ ...SPEC, out: sharded, selection: { index: 1, count: N }, executor: again })).ranNow, 0);
      assert.equal(again.trained.length + again.evaluated.length, 0);
    }));

  test('the merge refuses to write a report while a share is missing, and names it', () =>
    withDirs(async (_local, sharded) => {
      const rules = { mse: claimsHoldMse, stats: rampStatistics };
      await reproduceShare({ ...SPEC, out: sharded, selection: { index: 0, count: 2 }, executor: new FakeExecutor(rules) });
      await assert.rejects(merge(sharded, 2), /runs have no result yet .*the report was not written/);
      await assert.rejects(merge(sharded, 2), (e: unknown) => /rerun --shard-index 1 of --shard-count 2/.test(String((e as { hint?: string }).hint)));
      await assert.rejects(readFile(join(sharded, 'report.md')), /ENOENT/);
      await reproduceShare({ ...SPEC, out: sharded, selection: { index: 1, count: 2 }, executor: new FakeExecutor(rules) });
      assert.equal((await merge(sharded, 2)).results.length, planSweep(SPEC).runs.length);
    }));

  test('a training key names one share whatever the plan: the assignment is stable', () => {
    assert.equal(shareOfKey('pendulum_tabn_rk4_d2_w8_b4_n3_s1', 4), shareOfKey('pendulum_tabn_rk4_d2_w8_b4_n3_s1', 4));
    const plan = planSweep(SPEC);
    const small = planSweep({ ...SPEC, seeds: [1] });
    for (const t of small.tasks) assert.ok(plan.tasks.some((u) => u.key === t.key));
    const counts = [0, 0, 0, 0];
    for (const t of plan.tasks) counts[shareOfKey(t.key, 4)]++;
    assert.ok(counts.every((c) => c > 0), `spread: ${counts.join(', ')}`);
  });
});
