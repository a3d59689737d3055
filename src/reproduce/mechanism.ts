/**
 * Why batch statistics fail on low-dimensional state-space dynamics (issue 14, item 5), measured
 * on the pendulum with the trajectory trainer (src/train):
 *   - batch-shift invariance: shift every state of a batch by one vector and measure the change of
 *     the field's output, per normalisation and mode (Linear → BN on batch statistics removes the
 *     batch mean, so the field cannot see where the batch is);
 *   - train loss against batch size (32 / 128 / 512): the error the invariance leaves shrinks
 *     only as the batch grows;
 *   - dopri5's NFE per training step, and the batch covariance along a training-mode solve
 *     (smallest eigenvalue over the window) of the models trained with RK4 and with dopri5;
 *   - the share of a validation rollout that runs past TA-BN's grid (the grid spans the training
 *     window; rollouts span the whole trajectory and use the end point's statistics there).
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateDataset } from '../generate/generate.js';
import { NeuralODE } from '../model/neural-ode.js';
import type { MlpField } from '../model/mlp-field.js';
import type { NormKind } from '../nn/registry.js';
import { odeint } from '../ode/odeint.js';
import { SolverError } from '../ode/errors.js';
import { openDataSource } from '../train/dataset-source.js';
import { DEFAULT_CONFIG, type TrainConfig } from '../train/config.js';
import { defaultModelFactory } from '../train/default-factory.js';
import { train } from '../train/trainer.js';
import { prepareTrajectories } from '../train/trajectories.js';
import { sampleWindows, windowTimes } from '../train/windows.js';
import { checkStats } from '../train/normalise.js';
import { Rng } from '../util/rng.js';
import { PhysodeError } from '../util/errors.js';

/**
 * max |f(y + v) − f(y)| / max |f(y)| over a batch y [B, D] shifted by v: ~1e-7 (float32 rounding)
 * when the field is blind to the batch's position.
 */
export function batchShiftChange(field: MlpField, y: Float32Array, batch: number, shift: readonly number[], mode: 'train' | 'eval', t = 0.3): number {
  const D = field.dim;
  const shifted = Float32Array.from(y, (v, k) => v + shift[k % D]);
  const f = (x: Float32Array) => {
    const input = tf.tensor2d(x, [batch, D]);
    const out = field.evaluate(input, { t, index: 0, mode, updateStats: false, record: false });
    const data = out.dy.dataSync() as Float32Array;
    out.dy.dispose();
    input.dispose();
    return data;
  };
  const a = f(y);
  const b = f(shifted);
  let change = 0, scale = 0;
  for (let k = 0; k < a.length; k++) {
    change = Math.max(change, Math.abs(b[k] - a[k]));
    scale = Math.max(scale, Math.abs(a[k]));
  }
  return change / scale;
}

/** Eigenvalues of a symmetric matrix [n, n] (cyclic Jacobi rotations), ascending. */
export function symmetricEigenvalues(m: Float64Array, n: number): number[] {
  const a = Float64Array.from(m);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const tt = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(tt * tt + 1), s = tt * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]).sort((x, y) => x - y);
}

/** Eigenvalues of the (biased) covariance of a batch of states [B, D], ascending. */
export function batchCovarianceEigenvalues(states: ArrayLike<number>, batch: number, dim: number): number[] {
  const mean = new Float64Array(dim);
  for (let r = 0; r < batch; r++) for (let d = 0; d < dim; d++) mean[d] += states[r * dim + d] / batch;
  const cov = new Float64Array(dim * dim);
  for (let r = 0; r < batch; r++) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i * dim + j] += ((states[r * dim + i] - mean[i]) * (states[r * dim + j] - mean[j])) / batch;
  return symmetricEigenvalues(cov, dim);
}

export interface MechanismProfile {
  readonly trajectories: number;
  readonly norms: readonly NormKind[];
  readonly batchSizes: readonly number[];
  readonly steps: number;
  /** Steps of the dopri5 training whose NFE per step is logged. */
  readonly dopriSteps: number;
}

export const MECHANISM_PROFILES: Record<'full' | 'quick', MechanismProfile> = {
  full: { trajectories: 256, norms: ['none', 'minibatch', 'tabn'], batchSizes: [32, 128, 512], steps: 300, dopriSteps: 60 },
  quick: { trajectories: 64, norms: ['none', 'minibatch', 'tabn'], batchSizes: [32, 128], steps: 30, dopriSteps: 6 },
};

export interface MechanismResults {
  readonly profile: MechanismProfile;
  /** Relative output change under a batch shift, per normalisation: at initialisation and trained (batch 32), in both modes. */
  readonly shift: { norm: NormKind; initTrain: number; initEval: number; trainedTrain: number | null; trainedEval: number | null }[];
  /** Final training loss (mean of the last logged interval, MSE normalised) and best validation rollout MSE. */
  readonly lossByBatch: { norm: NormKind; batchSize: number; trainLoss: number | null; valMse: number | null; failure?: string }[];
  /** Smallest covariance eigenvalue of the batch along a training-mode dopri5 solve over the window, relative to t = 0. */
  readonly collapse: { norm: NormKind; trainedWith: 'rk4' | 'dopri5'; times: number[]; minEigRelative: number[]; nfe: number | null; failure?: string }[];
  /** dopri5 training: NFE per training step, step by step. */
  readonly dopri: { norm: NormKind; nfePerStep: number[]; failure?: string }[];
  /** TA-BN's grid span against the validation rollout's span. */
  readonly grid: { gridSpan: number; rolloutSpan: number; sharePast: number };
}

function trainConfig(norm: NormKind, batchSize: number, steps: number, method: 'rk4' | 'dopri5', logEvery: number): TrainConfig {
  // TA-BN exactly as TABN.md specifies (M = 100, batch statistics throughout training), not
  // physode train's default recalibrated, frozen TA-BN on one grid interval.
  return { ...DEFAULT_CONFIG, model: { ...DEFAULT_CONFIG.model, norm, gridIntervals: 100, bnRecalibration: 0, bnFreeze: 0 }, solver: { ...DEFAULT_CONFIG.solver, method }, batchSize, steps, logEvery, valEvery: steps, checkpointEvery: steps, seed: 1 };
}

async function records(runDir: string): Promise<{ kind: string; step: number; loss?: number; nfePerStep?: number; rolloutMse?: number }[]> {
  const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; step: number });
}

export async function runMechanism(out: string, p: MechanismProfile, onEvent?: (m: string) => void): Promise<MechanismResults> {
  const dataDir = join(out, 'pendulum');
  if (!existsSync(join(dataDir, 'manifest.json'))) await generateDataset({ system: 'pendulum', out: dataDir, count: p.trajectories, workers: 1, force: true });
  const data = await openDataSource(dataDir);
  const factory = await defaultModelFactory();
  const runDir = (norm: string, b: number, m = 'rk4') => join(out, 'runs', `${norm}-b${b}-${m}`);
  const lossByBatch: MechanismResults['lossByBatch'] = [];
  for (const norm of p.norms) {
    for (const b of p.batchSizes) {
      const dir = runDir(norm, b);
      let failure: string | undefined;
      if (!existsSync(join(dir, 'summary.json'))) {
        await rm(dir, { recursive: true, force: true });
        try {
          await train({ data, runDir: dir, config: trainConfig(norm, b, p.steps, 'rk4', Math.max(1, Math.floor(p.steps / 10))), factory, plots: false });
        } catch (err) {
          if (!(err instanceof PhysodeError)) throw err;
          failure = err.message;
        }
      }
      const rec = await records(dir);
      const last = rec.filter((r) => r.kind === 'train').pop();
      const val = rec.filter((r) => r.kind === 'val' && typeof r.rolloutMse === 'number').map((r) => r.rolloutMse!);
      lossByBatch.push({ norm, batchSize: b, trainLoss: last?.loss ?? null, valMse: val.length ? Math.min(...val) : null, failure });
      onEvent?.(`mechanism ${norm} batch ${b}: train loss ${last?.loss?.toExponential(2) ?? '–'}`);
    }
  }

  // Batch-shift invariance: 64 validation states at random samples, shifted by (0.5, −0.5) (normalised units).
  const stats = checkStats(data.stats, 2);
  const valSet = prepareTrajectories(await data.loadSplit('val'), stats);
  const trainSet = prepareTrajectories(await data.loadSplit('train'), stats);
  const rng = new Rng(7);
  const B = 64;
  const y = new Float32Array(B * 2);
  for (let r = 0; r < B; r++) {
    const i = rng.int(valSet.n), k = rng.int(valSet.samples);
    y.set(valSet.z.subarray((i * valSet.samples + k) * 2, (i * valSet.samples + k + 1) * 2), r * 2);
  }
  const v = [0.5, -0.5];
  const shift: MechanismResults['shift'] = [];
  for (const norm of ['none', 'minibatch', 'popti', 'tabn'] as NormKind[]) {
    const fresh = new NeuralODE({ dim: 2, norm, timeSpan: [0, 1], seed: 3 });
    const initTrain = batchShiftChange(fresh.field, y, B, v, 'train');
    const initEval = batchShiftChange(fresh.field, y, B, v, 'eval');
    fresh.dispose();
    let trainedTrain: number | null = null, trainedEval: number | null = null;
    const dir = join(runDir(norm, p.batchSizes[0]), 'model');
    if (existsSync(join(dir, 'config.json'))) {
      const m = await NeuralODE.load(dir);
      trainedTrain = batchShiftChange(m.field, y, B, v, 'train');
      trainedEval = batchShiftChange(m.field, y, B, v, 'eval');
      m.dispose();
    }
    shift.push({ norm, initTrain, initEval, trainedTrain, trainedEval });
  }

  // dopri5 training steps: NFE per step.
  const dopri: MechanismResults['dopri'] = [];
  for (const norm of p.norms) {
    const dir = runDir(norm, 32, 'dopri5');
    let failure: string | undefined;
    if (!existsSync(join(dir, 'summary.json'))) {
      await rm(dir, { recursive: true, force: true });
      try {
        await train({ data, runDir: dir, config: { ...trainConfig(norm, 32, p.dopriSteps, 'dopri5', 1), maxRecoveries: 0 }, factory, plots: false });
      } catch (err) {
        if (!(err instanceof PhysodeError)) throw err;
        failure = err.message;
      }
    }
    dopri.push({ norm, nfePerStep: (await records(dir)).filter((r) => r.kind === 'train').map((r) => r.nfePerStep ?? NaN), failure });
    onEvent?.(`mechanism dopri5 ${norm}: ${failure ?? 'done'}`);
  }
  // Batch covariance along a training-mode dopri5 solve of the trained batch-32 models over the window.
  const window = DEFAULT_CONFIG.window;
  const ts = windowTimes(trainSet.t, window);
  const span = ts[ts.length - 1];
  const times = Array.from({ length: 41 }, (_, k) => (span * k) / 40);
  const batch = sampleWindows(trainSet, ts, 32, new Rng(11));
  const collapse: MechanismResults['collapse'] = [];
  for (const [norm, trainedWith] of p.norms.flatMap((n) => [[n, 'rk4'], [n, 'dopri5']] as const)) {
    const dir = join(runDir(norm, trainedWith === 'rk4' ? p.batchSizes[0] : 32, trainedWith), 'model');
    if (!existsSync(join(dir, 'config.json'))) continue;
    const m = await NeuralODE.load(dir);
    const y0 = tf.tensor2d(batch.y0, [32, 2]);
    try {
      const sol = odeint(m.field, y0, times, { method: 'dopri5', rtol: 1e-5, atol: 1e-6, mode: 'train', maxSteps: 5000 });
      const ys = sol.ys.dataSync() as Float32Array;
      sol.ys.dispose();
      const eig = times.map((_, k) => batchCovarianceEigenvalues(ys.subarray(k * 64, (k + 1) * 64), 32, 2)[0]);
      collapse.push({ norm, trainedWith, times, minEigRelative: eig.map((e) => e / eig[0]), nfe: sol.stats.nfe });
    } catch (err) {
      if (!(err instanceof SolverError)) throw err;
      collapse.push({ norm, trainedWith, times: [], minEigRelative: [], nfe: err.nfe, failure: err.message });
    } finally {
      y0.dispose();
      m.dispose();
    }
  }

  const rolloutSpan = valSet.t[valSet.t.length - 1] - valSet.t[0];
  return { profile: p, shift, lossByBatch, collapse, dopri, grid: { gridSpan: span, rolloutSpan, sharePast: Math.max(0, (rolloutSpan - span) / rolloutSpan) } };
}
