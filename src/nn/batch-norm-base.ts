/**
 * What `minibatch`, `popti`, `pop` and `tabn` share: batch statistics in training mode, staged
 * running-statistics updates (committed only when the solver says the evaluation belongs to an
 * accepted step), and the affine γ, β. Subclasses say where γ(t), β(t) come from, which
 * running statistics evaluation mode uses, and how a batch updates them.
 *
 * Arithmetic (Ioffe & Szegedy, "Batch Normalization", ICML 2015, §3): in training, x̂ = (z − μ_B)
 * / √(σ²_B + eps) with the biased batch variance; in evaluation, the running μ, σ²; out = γ x̂ + β,
 * returned as a per-feature scale γ/√(σ² + eps) and shift β − μ·scale. Batch moments are float64
 * sums in the WebAssembly kernels (src/kernels); the backward pass is the same paper's, expanded
 * to dz = g·A + z·C + D per feature.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../util/errors.js';
import type { HostGradientAccumulator, NormForward, NormOptions, NormRequest, NormTape, Normalization, StateArray } from './normalization.js';
import type { NormKind } from './registry.js';
import { batchNormSigmoidBackward, columnMoments, type KernelInput, type KernelOutput, type PinnedArray } from '../kernels/host-kernels.js';

/** γ(t), β(t) for one evaluation (host values), and how to send their gradients back to the parameters. */
export interface Affine {
  readonly gamma: Float32Array | null;
  readonly beta: Float32Array | null;
  /** Adds scale·dγ(t), scale·dβ(t) into the parameters' gradients (the sink's host accumulators). */
  distribute(dGamma: Float64Array, dBeta: Float64Array, sink: HostGradientAccumulator, prefix: string, scale: number): void;
}

/** What the backward pass needs: the statistics used (batch or running), 1/√(σ² + eps), γ·rstd, and where γ's and β's gradients go. */
class BnTape implements NormTape {
  constructor(
    readonly train: boolean,
    readonly mean: Float64Array,
    readonly rstd: Float64Array,
    readonly scale: Float64Array,
    readonly affine: Affine,
    readonly rows: number,
  ) {}
  dispose(): void {}
}

interface Staged {
  readonly t: number;
  readonly index: number;
  /** Batch mean and biased batch variance. */
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly n: number;
}

export abstract class BatchNormBase implements Normalization {
  abstract readonly kind: NormKind;
  readonly numFeatures: number;
  readonly eps: number;
  momentum: number | null;
  readonly affine: boolean;
  private staged: Staged[] = [];

  constructor(o: NormOptions) {
    if (!(Number.isInteger(o.numFeatures) && o.numFeatures > 0)) throw new InvalidArgumentError(`numFeatures must be a positive integer, got ${o.numFeatures}`);
    this.numFeatures = o.numFeatures;
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? true;
    if (!(this.eps > 0)) throw new InvalidArgumentError(`eps must be > 0, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum > 0 && this.momentum <= 1)) throw new InvalidArgumentError(`momentum must be in (0, 1] or null (cumulative average), got ${this.momentum}`);
  }

  abstract parameters(): Record<string, tf.Variable>;
  protected abstract affineFor(t: number, index: number): Affine;
  abstract statisticsAt(t: number, index: number): { mean: Float32Array; variance: Float32Array } | null;
  /** Moves the running statistics toward a batch's (mean, unbiased variance). */
  protected abstract update(t: number, index: number, mean: Float32Array, unbiasedVariance: Float32Array): void;
  abstract resetRunningStats(): void;
  abstract getState(): Record<string, StateArray>;
  abstract setState(state: Record<string, StateArray>): void;
  protected abstract disposeParameters(): void;

  affineAt(t: number, index: number): { gamma: Float32Array | null; beta: Float32Array | null } {
    const { gamma, beta } = this.affineFor(t, index);
    return { gamma, beta };
  }

  forward(z: KernelInput, rows: number, r: NormRequest): NormForward {
    const F = this.numFeatures;
    const running = r.mode === 'eval' ? this.statisticsAt(r.t, r.index) : null;
    if (running === null && r.mode === 'train' && rows < 2) {
      throw new InvalidArgumentError(`${this.kind} normalisation needs a batch of at least 2 in training mode, got ${rows}`, 'raise the batch size');
    }
    const affine = this.affineFor(r.t, r.index);
    const { gamma, beta } = affine;
    const mean = new Float64Array(F);
    const variance = new Float64Array(F);
    if (running === null) {
      // Float64 sums shifted by the first row (WebAssembly SIMD; see src/kernels).
      const m = columnMoments(z, rows, F);
      mean.set(m.mean);
      variance.set(m.variance);
      if (r.updateStats && r.mode === 'train') {
        this.staged.push({ t: r.t, index: r.index, mean: Float32Array.from(mean), variance: Float32Array.from(variance), n: rows });
      }
    } else {
      mean.set(running.mean);
      variance.set(running.variance);
    }
    const rstd = new Float64Array(F);
    const scale64 = new Float64Array(F);
    const scale = new Float32Array(F);
    const shift = new Float32Array(F);
    for (let f = 0; f < F; f++) {
      rstd[f] = 1 / Math.sqrt(variance[f] + this.eps);
      scale64[f] = (gamma ? gamma[f] : 1) * rstd[f];
      scale[f] = scale64[f];
      shift[f] = (beta ? beta[f] : 0) - mean[f] * scale64[f];
    }
    return { scale, shift, tape: r.record ? new BnTape(running === null, mean, rstd, scale64, affine, rows) : undefined };
  }

  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut?: KernelInput, out?: Float32Array): Float32Array;
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut: KernelInput | undefined, out: PinnedArray): PinnedArray;
  backward(tape: NormTape, gIn: KernelInput, z: KernelInput, rows: number, sink: HostGradientAccumulator | null, prefix: string, scale: number, sigmoidOut?: KernelInput, out?: KernelOutput): KernelOutput {
    const t = tape as BnTape;
    const F = this.numFeatures;
    const { mean, rstd } = t;
    const dGamma = new Float64Array(F); // Σ g x̂ with x̂ = (z − μ)·rstd
    // Two passes in WebAssembly SIMD (src/kernels): the column sums Σ g, Σ g z (g after the
    // sigmoid's derivative), then dz = g·A + z·C + D with per-feature A, C, D from those sums.
    const { dz, sumG } = batchNormSigmoidBackward(gIn, sigmoidOut ?? null, z, rows, F, (sg, sgz) => {
      for (let f = 0; f < F; f++) dGamma[f] = rstd[f] * (sgz[f] - mean[f] * sg[f]);
      const n = t.rows;
      const A = new Float32Array(F);
      const C = new Float32Array(F);
      const D = new Float32Array(F);
      for (let f = 0; f < F; f++) {
        const sc = t.scale[f];
        A[f] = sc;
        if (t.train) {
          const mgx = dGamma[f] / n;
          C[f] = -sc * rstd[f] * mgx;
          D[f] = sc * (mean[f] * rstd[f] * mgx - sg[f] / n);
        }
      }
      return { a: A, c: C, d: D };
    }, out);
    if (sink && this.affine) t.affine.distribute(dGamma, sumG, sink, prefix, scale);
    return dz;
  }

  commitStaged(): void {
    const staged = this.staged;
    this.staged = [];
    for (const s of staged) {
      const unbiased = new Float32Array(s.variance.length);
      const c = s.n / (s.n - 1); // PyTorch keeps the unbiased variance in its running statistics
      for (let i = 0; i < s.variance.length; i++) unbiased[i] = s.variance[i] * c;
      this.update(s.t, s.index, s.mean, unbiased);
    }
  }

  discardStaged(): void {
    this.staged = [];
  }

  /** Number of staged (not yet committed) updates; for tests and diagnostics. */
  stagedCount(): number {
    return this.staged.length;
  }

  dispose(): void {
    this.discardStaged();
    this.disposeParameters();
  }
}

/** γ and β as plain [F] vectors (minibatch, popti, pop). */
export class VectorAffine {
  readonly weight: tf.Variable<tf.Rank.R1> | null;
  readonly bias: tf.Variable<tf.Rank.R1> | null;
  constructor(features: number, affine: boolean, prefix = '') {
    this.weight = affine ? tf.variable(tf.ones([features]) as tf.Tensor1D, true, prefix ? `${prefix}weight` : undefined) : null;
    this.bias = affine ? tf.variable(tf.zeros([features]) as tf.Tensor1D, true, prefix ? `${prefix}bias` : undefined) : null;
  }
  parameters(): Record<string, tf.Variable> {
    return this.weight && this.bias ? { weight: this.weight, bias: this.bias } : {};
  }
  at(): Affine {
    return {
      gamma: this.weight ? (this.weight.dataSync() as Float32Array) : null,
      beta: this.bias ? (this.bias.dataSync() as Float32Array) : null,
      distribute(dGamma, dBeta, sink, prefix, scale) {
        const F = dGamma.length;
        const w = sink.hostAccumulator(`${prefix}weight`, [F]);
        const b = sink.hostAccumulator(`${prefix}bias`, [F]);
        for (let f = 0; f < F; f++) {
          w[f] += scale * dGamma[f];
          b[f] += scale * dBeta[f];
        }
      },
    };
  }
  dispose(): void {
    this.weight?.dispose();
    this.bias?.dispose();
  }
}

/**
 * The update factor of a batch that brings a statistic's received weight to `countAfter`: the
 * momentum, or with momentum null (cumulative average) weight / countAfter, which keeps the running
 * value equal to the weight-averaged batch values (PyTorch's BatchNorm with momentum=None uses
 * 1 / num_batches_tracked, the case weight = 1).
 */
export function updateFactor(momentum: number | null, weight: number, countAfter: number): number {
  return momentum === null ? weight / countAfter : momentum * weight;
}

/** running ← (1 − m) running + m batch, in float64 then stored as float32 (PyTorch's update). */
export function momentumUpdate(running: Float32Array, offset: number, batch: Float32Array, m: number): void {
  for (let i = 0; i < batch.length; i++) running[offset + i] = (1 - m) * running[offset + i] + m * batch[i];
}

export function checkStateArray(name: string, got: StateArray | undefined, shape: readonly number[]): StateArray {
  if (got === undefined) throw new InvalidArgumentError(`normalisation state is missing '${name}'`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (got.data.length !== n || got.shape.length !== shape.length || got.shape.some((s, i) => s !== shape[i])) {
    throw new InvalidArgumentError(`normalisation state '${name}' has shape [${got.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return got;
}
