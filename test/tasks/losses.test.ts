import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, maeLoss, mseLoss, softmaxCrossEntropy } from '../../src/tasks/losses.js';
import type { LossValue } from '../../src/tasks/task.js';

/** Central differences of the loss, element by element, in float64 on a float32 prediction. */
function checkGradient(f: (p: Float32Array) => LossValue, p: Float32Array, what: string): void {
  const { gradient } = f(p);
  const eps = 1e-3;
  for (let i = 0; i < p.length; i++) {
    const up = Float32Array.from(p);
    const down = Float32Array.from(p);
    up[i] += eps;
    down[i] -= eps;
    const want = (f(up).value - f(down).value) / (up[i] - down[i]);
    assert.ok(Math.abs(gradient[i] - want) <= 1e-4 + 1e-3 * Math.abs(want), `${what}[${i}]: gradient ${gradient[i]}, central differences ${want}`);
  }
}

const pred = Float32Array.from([0.3, -1.2, 2.5, 0.05, -0.7, 1.1]);
const target = Float32Array.from([0.1, -1.0, 2.0, 0.5, -0.2, 1.6]);

test('MSE and MAE: values by hand and gradients against central differences', () => {
  assert.ok(Math.abs(mseLoss(pred, target).value - (0.04 + 0.04 + 0.25 + 0.2025 + 0.25 + 0.25) / 6) < 1e-7);
  assert.ok(Math.abs(maeLoss(pred, target).value - (0.2 + 0.2 + 0.5 + 0.45 + 0.5 + 0.5) / 6) < 1e-7);
  checkGradient((p) => mseLoss(p, target), pred, 'MSE');
  checkGradient((p) => maeLoss(p, target), pred, 'MAE');
});

test('softmax cross-entropy: value against log-softmax by hand, gradient against central differences, stable at large logits', () => {
  const labels = [2, 0];
  const l = softmaxCrossEntropy(pred, labels, 2);
  const lse = (a: number[]) => Math.log(a.reduce((s, x) => s + Math.exp(x), 0));
  const want = (lse([0.3, -1.2, 2.5]) - 2.5 + lse([0.05, -0.7, 1.1]) - 0.05) / 2;
  assert.ok(Math.abs(l.value - want) < 1e-6, `${l.value} vs ${want}`);
  checkGradient((p) => softmaxCrossEntropy(p, labels, 2), pred, 'cross-entropy');
  const big = softmaxCrossEntropy(Float32Array.from([1000, 0, -1000]), [0], 1);
  assert.ok(Number.isFinite(big.value) && big.value < 1e-6);
  assert.equal(accuracy(pred, labels, 2), 0.5);
  assert.throws(() => softmaxCrossEntropy(pred, [3, 0], 2), /label 3/);
  assert.throws(() => mseLoss(pred, target.subarray(1)), /6 values, target 5/);
});
