import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { ContinuousDepthModel } from '../../src/model/continuous-depth.js';
import { FIT_DEFAULTS, fit } from '../../src/tasks/fit.js';
import { ImageExamples, classificationTask, classifierConfig, evaluateClassifier, type LabelledImages } from '../../src/tasks/classification.js';
import type { NormKind } from '../../src/nn/registry.js';
import { Rng } from '../../src/util/rng.js';

/**
 * Gaussian clusters: class c has its mean at +offset along dimension c and −offset along
 * dimension c + classes, noise of standard deviation `noise` (offset 3, noise 0.5: separable, a
 * linear classifier reaches ~100 %; offset 1, noise 1: overlapping, so that predictions near the
 * boundaries move with what the field computes).
 */
function clusters(count: number, dim: number, classes: number, seed: number, offset = 3, noise = 0.5): LabelledImages {
  const rng = new Rng(seed);
  const images = new Float32Array(count * dim);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let p = 0; p < dim; p++) images[i * dim + p] = noise * rng.normal() + (p === c ? offset : p === c + classes ? -offset : 0);
  }
  return { images, labels, count };
}

let dir: string;
before(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'physode-classify-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function model(norm: NormKind, dim: number, classes: number, seed = 1): ContinuousDepthModel {
  return new ContinuousDepthModel(
    classifierConfig({ inputDim: dim, classes, lift: 'none', depth: 1, activation: 'tanh', norm, gridIntervals: 8, solver: { method: 'rk4', steps: 2 }, seed }),
  );
}

async function train(m: ContinuousDepthModel, data: LabelledImages, val: LabelledImages, name: string, epochs: number) {
  return fit({
    model: m,
    task: classificationTask(4),
    train: new ImageExamples(data),
    val: new ImageExamples(val),
    config: { ...FIT_DEFAULTS, epochs, batchSize: 32, optimizer: 'adamw', lr: 1e-2, weightDecay: 0, select: 'accuracy', higherIsBetter: true, evalBatchSize: 64 },
    runDir: join(dir, name),
  });
}

describe('continuous-depth classification', () => {
  test('the task: cross-entropy gradient and accuracy on hand-made logits', () => {
    const task = classificationTask(3);
    const logits = Float32Array.of(2, 0, 0, 0, 0, 5);
    const labels = Uint8Array.of(0, 1);
    const l = task.loss(logits, labels, 2);
    // row 0: log(e² + 2) − 2; row 1: log(2 + e⁵) − 0
    const want = (Math.log(Math.exp(2) + 2) - 2 + Math.log(2 + Math.exp(5))) / 2;
    assert.ok(Math.abs(l.value - want) < 1e-6);
    assert.deepEqual(task.metrics(logits, labels, 2).accuracy, 0.5);
  });

  test('a classifier learns a small separable set (held-out accuracy ≥ 0.95; chance is 0.25)', async () => {
    const data = clusters(256, 12, 4, 1);
    const held = clusters(128, 12, 4, 2);
    const m = model('none', 12, 4);
    try {
      const before = evaluateClassifier(m, held, { batchSize: 64 }).accuracy;
      const r = await train(m, data, held, 'learns', 4);
      assert.ok(r.completed);
      const after = evaluateClassifier(m, held, { batchSize: 64 });
      assert.ok(after.accuracy >= 0.95, `accuracy ${after.accuracy} (before training ${before})`);
      assert.equal(after.scored, 128);
    } finally {
      m.dispose();
    }
  });

  test('test batch size 2 and 256 give the same accuracy and predictions for tabn and popti, not for minibatch', async () => {
    const data = clusters(256, 16, 4, 3, 1, 1);
    const testSet = clusters(256, 16, 4, 4, 1, 1);
    for (const norm of ['tabn', 'popti', 'minibatch'] as const) {
      const m = model(norm, 16, 4, 7);
      try {
        await train(m, data, testSet, `batch-${norm}`, 2);
        const small = evaluateClassifier(m, testSet, { batchSize: 2 });
        const large = evaluateClassifier(m, testSet, { batchSize: 256 });
        assert.equal(small.scored, 256);
        if (norm === 'minibatch') {
          assert.notDeepEqual(small.predicted, large.predicted, 'minibatch predictions depend on the test batch');
          assert.notEqual(small.accuracy, large.accuracy);
        } else {
          assert.deepEqual(small.predicted, large.predicted, `${norm}: predictions at batch 2 and 256`);
          assert.equal(small.accuracy, large.accuracy);
          assert.ok(large.accuracy > 0.4, `${norm} learned (accuracy ${large.accuracy})`);
        }
      } finally {
        m.dispose();
      }
    }
  });

  test('one outlier per test batch: scored on the clean samples only; tabn unaffected, minibatch moved', async () => {
    const data = clusters(256, 16, 4, 5, 1, 1);
    const testSet = clusters(255, 16, 4, 6, 1, 1);
    for (const norm of ['tabn', 'minibatch'] as const) {
      const m = model(norm, 16, 4, 9);
      try {
        await train(m, data, testSet, `outlier-${norm}`, 2);
        const clean = evaluateClassifier(m, testSet, { batchSize: 255 });
        const dirty = evaluateClassifier(m, testSet, { batchSize: 256, outlierScale: 10, seed: 1 });
        assert.equal(dirty.scored, 255);
        assert.equal(dirty.batches, 1);
        if (norm === 'tabn') assert.deepEqual(dirty.predicted, clean.predicted);
        else assert.notDeepEqual(dirty.predicted, clean.predicted);
      } finally {
        m.dispose();
      }
    }
  });
});
