/**
 * Test fixtures for training: analytic harmonic-oscillator trajectories (x = A cos(t + phi),
 * v = -A sin(t + phi), energy (x^2 + v^2) / 2) as an in-memory DataSource, and a tiny linear
 * dynamics model (dz/dt = A z + b, explicit Euler) that exercises the training loop in milliseconds.
 */
import * as tf from '@tensorflow/tfjs-core';
import ndarray from 'ndarray';
import type { TrajectoryBatch, Split } from '../../src/data/types.js';
import type { DataSource } from '../../src/train/training-data.js';
import type { DynamicsModel, ModelFactory, ModelBlueprint, StepResult, Prediction } from '../../src/train/model-port.js';
import type { NamedTensor } from '../../src/train/checkpoint.js';
import { Rng } from '../../src/util/rng.js';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export function oscillatorBatch(n: number, samples: number, tEnd: number, seed: number): TrajectoryBatch {
  const rng = new Rng(seed);
  const t = Float64Array.from({ length: samples }, (_, k) => (k * tEnd) / (samples - 1));
  const y = new Float64Array(n * samples * 2);
  const energy = new Float64Array(n * samples);
  for (let i = 0; i < n; i++) {
    const a = rng.range(0.5, 1.5);
    const phi = rng.range(0, 2 * Math.PI);
    for (let k = 0; k < samples; k++) {
      y[(i * samples + k) * 2] = a * Math.cos(t[k] + phi);
      y[(i * samples + k) * 2 + 1] = -a * Math.sin(t[k] + phi);
      energy[i * samples + k] = 0.5 * a * a;
    }
  }
  return {
    t,
    y: ndarray(y, [n, samples, 2]),
    params: ndarray(new Float64Array(n), [n, 1]),
    energy: ndarray(energy, [n, samples]),
    index: Int32Array.from({ length: n }, (_, i) => i + seed * 1000),
  };
}

export function oscillatorSource(): DataSource {
  const splits: Record<Split, TrajectoryBatch> = {
    train: oscillatorBatch(24, 41, 8, 1),
    val: oscillatorBatch(4, 41, 8, 2),
    test: oscillatorBatch(4, 41, 8, 3),
  };
  return {
    path: 'memory:oscillator',
    checksum: '0'.repeat(64),
    systemName: 'oscillator',
    stateLabels: ['x', 'v'],
    stats: { mean: [0, 0], std: [0.7, 0.7] },
    physics: { energy: (y) => 0.5 * (y[0] * y[0] + y[1] * y[1]) * 0.49 },
    loadSplit: async (split) => splits[split],
  };
}

/** dz/dt = A z + b integrated with explicit Euler, `substeps` per output interval. */
export class LinearModel implements DynamicsModel {
  readonly variables;
  nanOnPredict = false;
  constructor(readonly a: tf.Variable, readonly b: tf.Variable, readonly substeps = 2) {
    this.variables = [{ name: 'A', variable: a }, { name: 'b', variable: b }];
  }

  static create(dim: number, seed: number): LinearModel {
    const rng = new Rng(seed);
    const a = tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: dim * dim }, () => 0.1 * rng.normal()), [dim, dim]), true, `A-${seed}-${Math.random()}`));
    const b = tf.tidy(() => tf.variable(tf.zeros([1, dim]), true, `b-${seed}-${Math.random()}`));
    return new LinearModel(a, b);
  }

  /** Explicit Euler in plain float64 JavaScript: all substep states [S + 1][B * D], outputs every `substeps`. */
  private forward(a: Float32Array, b: Float32Array, z0: ArrayLike<number>, batch: number, dim: number, ts: Float64Array): Float64Array[] {
    const states: Float64Array[] = [Float64Array.from(z0)];
    for (let k = 1; k < ts.length; k++) {
      const h = (ts[k] - ts[k - 1]) / this.substeps;
      for (let s = 0; s < this.substeps; s++) {
        const z = states[states.length - 1];
        const next = new Float64Array(batch * dim);
        for (let i = 0; i < batch; i++) {
          for (let r = 0; r < dim; r++) {
            let f = b[r];
            for (let c = 0; c < dim; c++) f += a[r * dim + c] * z[i * dim + c];
            next[i * dim + r] = z[i * dim + r] + h * f;
          }
        }
        states.push(next);
      }
    }
    return states;
  }

  lossAndGradients(y0: Float32Array, batch: number, ts: Float64Array, target: Float32Array): StepResult {
    const dim = y0.length / batch;
    const a = this.a.dataSync() as Float32Array;
    const b = this.b.dataSync() as Float32Array;
    const states = this.forward(a, b, y0, batch, dim, ts);
    const W = ts.length;
    const scale = 1 / (batch * W * dim);
    let loss = 0;
    const outGrad = (k: number): Float64Array => {
      const g = new Float64Array(batch * dim);
      const z = states[k * this.substeps];
      for (let i = 0; i < batch; i++) for (let d = 0; d < dim; d++) {
        const e = z[i * dim + d] - target[(i * W + k) * dim + d];
        g[i * dim + d] = 2 * e * scale;
      }
      return g;
    };
    for (let k = 0; k < W; k++) {
      const z = states[k * this.substeps];
      for (let i = 0; i < batch; i++) for (let d = 0; d < dim; d++) {
        const e = z[i * dim + d] - target[(i * W + k) * dim + d];
        loss += e * e * scale;
      }
    }
    // Reverse sweep: z_{s+1} = z_s + h (A z_s + b).
    const gA = new Float64Array(dim * dim);
    const gb = new Float64Array(dim);
    let g = outGrad(W - 1);
    for (let k = W - 1; k >= 1; k--) {
      const h = (ts[k] - ts[k - 1]) / this.substeps;
      for (let s = this.substeps - 1; s >= 0; s--) {
        const zs = states[(k - 1) * this.substeps + s];
        const prev = Float64Array.from(g);
        for (let i = 0; i < batch; i++) for (let r = 0; r < dim; r++) {
          const gr = g[i * dim + r];
          gb[r] += h * gr;
          for (let c = 0; c < dim; c++) {
            gA[r * dim + c] += h * gr * zs[i * dim + c];
            prev[i * dim + c] += h * a[r * dim + c] * gr;
          }
        }
        g = prev;
      }
      const og = outGrad(k - 1);
      for (let j = 0; j < g.length; j++) g[j] += og[j];
    }
    const grads = new Map<string, tf.Tensor>([
      ['A', tf.tensor2d(Float32Array.from(gA), [dim, dim])],
      ['b', tf.tensor2d(Float32Array.from(gb), [1, dim])],
    ]);
    return { loss, grads, nfe: (W - 1) * this.substeps };
  }

  async predict(y0: Float32Array, batch: number, ts: Float64Array): Promise<Prediction> {
    const dim = y0.length / batch;
    const states = this.forward(this.a.dataSync() as Float32Array, this.b.dataSync() as Float32Array, y0, batch, dim, ts);
    const W = ts.length;
    const out = new Float32Array(batch * W * dim);
    for (let k = 0; k < W; k++) for (let i = 0; i < batch; i++) for (let d = 0; d < dim; d++) out[(i * W + k) * dim + d] = states[k * this.substeps][i * dim + d];
    if (this.nanOnPredict) out.fill(Number.NaN);
    return { states: out, nfe: (W - 1) * this.substeps };
  }

  getState(): NamedTensor[] {
    return [
      { name: 'A', dtype: 'float32', shape: this.a.shape, data: this.a.dataSync() as Float32Array },
      { name: 'b', dtype: 'float32', shape: this.b.shape, data: this.b.dataSync() as Float32Array },
    ];
  }

  setState(tensors: readonly NamedTensor[]): void {
    for (const t of tensors) {
      const v = t.name === 'A' ? this.a : this.b;
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, v.shape)));
    }
  }

  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'linear.json'), JSON.stringify(this.getState().map((t) => ({ ...t, data: Array.from(t.data) }))));
  }

  runningStats(): null {
    return null;
  }

  dispose(): void {
    this.a.dispose();
    this.b.dispose();
  }
}

export const linearFactory: ModelFactory = {
  create: async (bp: ModelBlueprint) => LinearModel.create(bp.dim, bp.seed),
  load: async (dir: string) => {
    const tensors = JSON.parse(await readFile(join(dir, 'linear.json'), 'utf8')) as Array<{ name: string; shape: number[]; data: number[] }>;
    const m = LinearModel.create(tensors[0].shape[0], 0);
    m.setState(tensors.map((t) => ({ name: t.name, dtype: 'float32', shape: t.shape, data: Float32Array.from(t.data) })));
    return m;
  },
};
