/**
 * Divergence that ends a training (src/train/recovery.ts): a loss that ran away while staying finite
 * is a failure, not a result; the messages point only at a model folder that exists; a resumed run
 * refuses a dataset other than its own; a solver's own failure is recognised by its type.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { train, TrainingDivergedError } from '../../src/train/trainer.js';
import { isSolverFailure, lossRunaway, DIVERGED_LOSS_RATIO } from '../../src/train/recovery.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';
import { SolverError } from '../../src/ode/errors.js';
import { InvalidArgumentError, PhysodeError } from '../../src/util/errors.js';
import { oscillatorSource, linearFactory } from './fixtures.js';

const base: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: { ...DEFAULT_CONFIG.model, norm: 'none' },
  batchSize: 4,
  window: 4,
  initialWindow: null,
  steps: 20,
  warmup: 0,
  logEvery: 1,
  valEvery: 10,
  checkpointEvery: 10,
  clip: 0,
  schedule: 'constant',
  maxRecoveries: 0,
};

describe('a training that ends diverged', () => {
  let root: string;
  before(async () => {
    await initBackend('cpu');
    root = await mkdtemp(join(tmpdir(), 'physode-recovery-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('a finite loss that ran away (lr 100: about 1e7 times the first) is refused with TrainingDivergedError', async () => {
    const dir = join(root, 'runaway');
    await assert.rejects(train({ data: oscillatorSource(), runDir: dir, config: { ...base, lr: 100 }, factory: linearFactory, plots: false }), (err: unknown) => {
      assert.ok(err instanceof TrainingDivergedError, String(err));
      assert.match(err.message, /training diverged: the final training loss .* times the first/);
      assert.match(err.hint ?? '', /smaller --lr/);
      return true;
    });
    // The losses really ran away while staying finite: the refusal is about them, not a NaN.
    const losses = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'train').map((r) => r.loss as number);
    assert.equal(losses.length, 20);
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses[19] > DIVERGED_LOSS_RATIO * losses[0], `${losses[0]} -> ${losses[19]}`);
  });

  test('the same training at a sane rate completes', async () => {
    const r = await train({ data: oscillatorSource(), runDir: join(root, 'sane'), config: { ...base, lr: 0.3 }, factory: linearFactory, plots: false });
    assert.equal(r.completed, true);
  });

  test('a divergence before any validation says that no model was saved, not where one would be', async () => {
    const dir = join(root, 'early');
    await assert.rejects(train({ data: oscillatorSource(), runDir: dir, config: { ...base, lr: 0.3 }, factory: linearFactory, injectNanAtSteps: [3], plots: false }), (err: unknown) => {
      assert.ok(err instanceof TrainingDivergedError);
      assert.match(err.hint ?? '', /no model was saved/);
      assert.doesNotMatch(err.hint ?? '', /kept in/);
      return true;
    });
    await assert.rejects(stat(join(dir, 'model')), { code: 'ENOENT' });
  });

  test('--resume with another dataset than the run was trained on is refused, naming how to start a new run', async () => {
    const dir = join(root, 'resumed');
    const config = { ...base, lr: 0.3 };
    const r = await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, plots: false, stopAfterSteps: 10 });
    assert.equal(r.completed, false);
    const other = { ...oscillatorSource(), checksum: 'f'.repeat(64) };
    const before = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
    await assert.rejects(train({ data: other, runDir: dir, config, factory: linearFactory, plots: false, resume: true }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /--resume with a different dataset/);
      assert.match(err.hint ?? '', /start a new run.*drop --resume and choose another --out/);
      return true;
    });
    assert.equal(await readFile(join(dir, 'metrics.jsonl'), 'utf8'), before);
    const resumed = await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, plots: false, resume: true });
    assert.equal(resumed.completed, true);
  });
});

describe('lossRunaway', () => {
  const rec = (losses: number[]) => losses.map((loss, i) => ({ step: i + 1, kind: 'train', loss }));
  test('a loss that fell or grew a little is no runaway', () => {
    assert.equal(lossRunaway(rec([1, 0.5, 0.1])), null);
    assert.equal(lossRunaway(rec([1, 50, 99])), null);
    assert.equal(lossRunaway(rec([1])), null);
  });
  test('a final loss above the ratio times the first is', () => {
    assert.match(lossRunaway(rec([1e-1, 5, 3.6e11]))!, /3\.600e\+11 is .* times the first/);
  });
  test('other records are ignored', () => {
    assert.equal(lossRunaway([{ step: 1, kind: 'train', loss: 1 }, { step: 2, kind: 'val', rolloutMse: 1e9 }, { step: 3, kind: 'train', loss: 2 }]), null);
  });
});

test('isSolverFailure recognises the solver error type, not other errors', () => {
  assert.equal(isSolverFailure(new SolverError('max-steps', { t: 1, h: 0.1, nfe: 10 }, 'raise maxSteps')), true);
  assert.equal(isSolverFailure(new PhysodeError('something else')), false);
  const named = new Error('x');
  named.name = 'MaxStepsError';
  assert.equal(isSolverFailure(named), false);
});
