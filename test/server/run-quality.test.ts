/**
 * What the server says about a run against predicting the mean, from the run's metrics.jsonl
 * (validation rollout MSE in normalised units; the mean scores about 1 there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQuality } from '../../src/server/run-quality.js';
import { writeTrainedMarker } from '../../src/train/run-folder.js';

async function withMetrics(lines: string[], check: (q: Awaited<ReturnType<typeof runQuality>>) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'physode-quality-'));
  try {
    await writeFile(join(dir, 'metrics.jsonl'), lines.join('\n'));
    check(await runQuality({ id: 'r', dir, config: {}, mtimeMs: 0 }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const val = (step: number, rolloutMse: number | null) => JSON.stringify({ step, kind: 'val', rolloutMse, validPredictionTime: 1, nfePerRollout: 10 });
const train = (step: number) => JSON.stringify({ step, kind: 'train', loss: 0.1 });

test('a run whose best validation is worse than the mean is called no better than predicting the mean', async () => {
  // The three-body demo of issue 12: best 0.68 would be better; here the best is 1.3, the last 1.84.
  await withMetrics([train(10), val(50, 1.3), val(100, 1.84)], (q) => {
    assert.equal(q.verdict, 'no-better-than-mean');
    assert.equal(q.valMse, 1.3);
    assert.equal(q.valStep, 50);
    assert.equal(q.lastValMse, 1.84);
    assert.match(q.message, /validation MSE \(step 50\) 1\.30 is no better than predicting the mean \(1\.00\).*last validation, step 100, was worse: 1\.8/);
  });
});

test('a run better than the mean by less than half the variance did not learn, as train and eval say', async () => {
  // The three-body demo of issue 12: best 0.68, last 1.84.
  await withMetrics([val(50, 0.68), val(100, 1.84), '{"step": 150, "kind": "va'], (q) => {
    assert.equal(q.verdict, 'barely-better-than-mean');
    assert.equal(q.valMse, 0.68);
    assert.match(q.message, /^validation MSE \(step 50\) 0\.680 is 68 % of the mean predictor's \(1\.00\).*did not learn.*\(the last validation, step 100, was worse: 1\.8\)$/);
  });
});

test("a run that learned says its figure; the mean predictor's exact MSE comes from trained.json when training finished", async () => {
  await withMetrics([val(50, 0.004), val(100, 0.0038)], (q) => {
    assert.equal(q.verdict, 'learned');
    assert.match(q.message, /^validation MSE 3\.8e-3 at step 100 \(predicting the mean scores about 1\.0\)$/);
  });
  const dir = await mkdtemp(join(tmpdir(), 'physode-quality-'));
  try {
    await writeFile(join(dir, 'metrics.jsonl'), [val(50, 0.45)].join('\n'));
    await writeTrainedMarker(dir, { steps: 50, datasetSha256: 'x', bestValMse: 0.45, bestStep: 50, lastLoss: 0.1, meanPredictorValMse: 0.8, learnedDynamics: false });
    const q = await runQuality({ id: 'r', dir, config: {}, mtimeMs: 0 });
    assert.equal(q.baselineMse, 0.8);
    assert.equal(q.verdict, 'barely-better-than-mean', '0.45 is 56 % of 0.8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no finite validation recorded: unknown, and said so', async () => {
  await withMetrics([train(10), val(50, null)], (q) => {
    assert.equal(q.verdict, 'unknown');
    assert.equal(q.valMse, null);
    assert.match(q.message, /no validation recorded/);
  });
});

test('a next-state run (validated by its task metric) is said to be one, with where its comparison is', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'physode-quality-'));
  try {
    await writeFile(join(dir, 'metrics.jsonl'), JSON.stringify({ step: 10, kind: 'val', epoch: 0, mae: 0.4 }));
    const q = await runQuality({ id: 'r', dir, config: { format: 'physode-task-run' }, mtimeMs: 0 });
    assert.equal(q.verdict, 'unknown');
    assert.match(q.message, /next-state run.*physode eval/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
