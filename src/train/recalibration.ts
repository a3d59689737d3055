/**
 * "Precise BN" (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", arXiv:2105.07576, 2021, §3;
 * PyTorch's torch.optim.swa_utils.update_bn): the running statistics are reset and recomputed with
 * the current weights as the cumulative average (momentum null) of training-mode forward solves
 * over `batches` (no gradients; only accepted steps' evaluations count, as in training), then the
 * momentum is restored. Removes the noise and the lag of the moving average.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { odeint } from '../ode/odeint.js';
import type { OdeOptions } from '../ode/options.js';
import { hasRunningStatistics } from '../nn/registry.js';
import type { NeuralODE } from '../model/neural-ode.js';

/** Recalibrates `model`'s running statistics in place; returns the NFE spent (0 without running statistics). */
export function recalibrateStatistics(model: NeuralODE, batches: Iterable<{ readonly y0: tf.Tensor2D; readonly ts: readonly number[] }>, solver: Partial<OdeOptions> = {}): number {
  if (!hasRunningStatistics(model.config.norm)) return 0;
  const norms = model.field.hidden.map((l) => l.norm);
  const saved = norms.map((n) => n.momentum);
  let nfe = 0;
  try {
    for (const n of norms) {
      n.resetRunningStats();
      n.momentum = null;
    }
    for (const b of batches) {
      const sol = odeint(model.field, b.y0, b.ts, model.solverOptions({ ...solver, mode: 'train' }));
      sol.ys.dispose();
      nfe += sol.stats.nfe;
    }
  } finally {
    norms.forEach((n, i) => {
      n.discardStaged();
      n.momentum = saved[i];
    });
  }
  return nfe;
}
