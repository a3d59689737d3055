/**
 * What `minibatch`, `popti`, `pop` and `tabn` share: batch statistics in training mode, staged
 * running-statistics updates (committed only when the solver says the evaluation belongs to an
 * accepted step), and the affine γ, β. Subclasses say where γ(t), β(t) come from, which
 * running statistics evaluation mode uses, and how a batch updates them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FieldMode, GradientSink } from '../ode/field.js';
import { InvalidArgumentError } from '../util/errors.js';
import { batchNormEval, batchNormEvalBackward, batchNormTrain, batchNormTrainBackward } from './batch-norm-math.js';
import type { NormKind, NormOptions, NormRequest, NormTape, Normalization, StateArray } from './normalization.js';
import { batchNormSigmoidBackward, columnMoments, type KernelInput, type KernelOutput, type PinnedArray } from '../kernels/host-kernels.js';
import type { Collective } from '../parallel/collective.js';

/**
 * Turns one replica's batch moments (mean, biased variance over `rows`) into the moments of all
 * replicas' rows, in place (Chan, Golub & LeVeque's pairwise combination, summed over replicas:
 * M2 = Σ n_i v_i + Σ n_i m_i² − n m²); returns the total row count.
 */
function combineMoments(collective: Collective, rows: number, mean: Float64Array, variance: Float64Array): number {
  const F = mean.length;
  const parts = new Float64Array(1 + 3 * F);
  parts[0] = rows;
  for (let f = 0; f < F; f++) {
    parts[1 + f] = rows * mean[f];
    parts[1 + F + f] = rows * variance[f];
    parts[1 + 2 * F + f] = rows * mean[f] * mean[f];
  }
  const total = collective.sum(parts);
  const n = total[0];
  for (let f = 0; f < F; f++) {
    const m = total[1 + f] / n;
    mean[f] = m;
    variance[f] = Math.max(0, (total[1 + F + f] + total[1 + 2 * F + f] - n * m * m) / n);
  }
  return n;
}

/** γ(t), β(t) for one evaluation, and how to send their gradients back to the parameters. */
export interface Affine {
  readonly gamma: tf.Tensor1D | null;
  readonly beta: tf.Tensor1D | null;
  /** γ(t), β(t) on the host when the normalisation computed them there (saves reading them back). */
  readonly gammaValues?: Float32Array;
  readonly betaValues?: Float32Array;
  /** True when gamma/beta were computed for this call (and must be disposed with it). */
  readonly owned: boolean;
  distribute(dGamma: tf.Tensor1D, dBeta: tf.Tensor1D, sink: GradientSink, prefix: string, scale: number): void;
  /** The same for gradients computed on the host (adds into the sink's host accumulators). */
  distributeHost(dGamma: Float64Array, dBeta: Float64Array, sink: GradientSink, prefix: string, scale: number): void;
  dispose(): void;
}

/**
 * What the host-statistics path keeps for the backward pass: the statistics used (batch or
 * running), 1/√(σ² + eps), γ·rstd, and where γ's and β's gradients go.
 */
export class HostBnTape implements NormTape {
  constructor(
    readonly train: boolean,
    readonly mean: Float64Array,
    readonly rstd: Float64Array,
    readonly scale: Float64Array,
    readonly affine: Affine,
    /** Rows the batch statistics were taken over (all replicas' with a collective). */
    readonly rows: number,
    /** Data-parallel replicas whose batch shares the statistics; null: this batch alone. */
    readonly collective: Collective | null,
  ) {}
  dispose(): void {}
}

interface Staged {
  readonly t: number;
  readonly index: number;
  /** Batch mean and biased batch variance, as tensors (tensor path) or host arrays (host path). */
  readonly mean: tf.Tensor1D | Float32Array;
  readonly variance: tf.Tensor1D | Float32Array;
  readonly n: number;
}

const hostOf = (x: tf.Tensor1D | Float32Array): Float32Array => (x instanceof Float32Array ? x : (x.dataSync() as Float32Array));
const disposeStat = (x: tf.Tensor1D | Float32Array): void => {
  if (!(x instanceof Float32Array)) x.dispose();
};

class BnTape implements NormTape {
  constructor(
    readonly train: boolean,
    readonly xhat: tf.Tensor2D,
    readonly scale: tf.Tensor1D,
    readonly affine: Affine,
  ) {}
  dispose(): void {
    this.xhat.dispose();
    this.scale.dispose();
    this.affine.dispose();
  }
}

export abstract class BatchNormBase implements Normalization {
  abstract readonly kind: NormKind;
  readonly numFeatures: number;
  readonly eps: number;
  /**
   * Running-statistics momentum; null: cumulative moving average (PyTorch `momentum=None`).
   * Mutable, like PyTorch's attribute: recalibration (src/model/neural-ode.ts) switches it to null.
   */
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
  protected abstract affineAt(t: number, index: number): Affine;
  /** Statistics for evaluation mode at (t, index); null means batch statistics (`minibatch`). */
  protected abstract runningAt(t: number, index: number): { mean: Float32Array; variance: Float32Array } | null;
  /** Moves the running statistics toward a batch's (mean, unbiased variance). */
  protected abstract update(t: number, index: number, mean: Float32Array, unbiasedVariance: Float32Array): void;
  /** Running statistics back to mean 0, variance 1, counts 0 (PyTorch's reset_running_stats). */
  abstract resetRunningStats(): void;
  abstract getState(): Record<string, StateArray>;
  abstract setState(state: Record<string, StateArray>): void;
  protected abstract disposeParameters(): void;

  forward(x: tf.Tensor2D, r: NormRequest): { out: tf.Tensor2D; tape?: NormTape } {
    const affine = this.affineAt(r.t, r.index);
    const running = r.mode === 'eval' ? this.runningAt(r.t, r.index) : null;
    if (running === null) {
      if (r.collective && r.collective.size > 1) {
        affine.dispose();
        throw new InvalidArgumentError(
          `the tensor forward of a ${this.kind} layer takes statistics over its own batch only; data-parallel batch statistics need hostForward`,
          'call hostForward (as the vector field does), or drop the collective',
        );
      }
      if (r.mode === 'train' && x.shape[0] < 2) {
        affine.dispose();
        throw new InvalidArgumentError(`${this.kind} normalisation needs a batch of at least 2 in training mode, got ${x.shape[0]}`, 'raise the batch size');
      }
      const f = tf.tidy(() => batchNormTrain(x, affine.gamma, affine.beta, this.eps));
      if (r.updateStats && r.mode === 'train') this.staged.push({ t: r.t, index: r.index, mean: f.mean, variance: f.variance, n: x.shape[0] });
      else {
        f.mean.dispose();
        f.variance.dispose();
      }
      if (r.record) return { out: f.out, tape: new BnTape(true, f.xhat, f.scale, affine) };
      if (f.xhat !== f.out) f.xhat.dispose();
      f.scale.dispose();
      affine.dispose();
      return { out: f.out };
    }
    const f = tf.tidy(() => {
      const mean = tf.tensor1d(running.mean);
      const variance = tf.tensor1d(running.variance);
      return batchNormEval(x, mean, variance, affine.gamma, affine.beta, this.eps);
    });
    if (r.record) return { out: f.out, tape: new BnTape(false, f.xhat, f.scale, affine) };
    if (f.xhat !== f.out) f.xhat.dispose();
    f.scale.dispose();
    affine.dispose();
    return { out: f.out };
  }

  backward(tape: NormTape, g: tf.Tensor2D, sink: GradientSink | null, prefix: string, scale: number): tf.Tensor2D {
    const t = tape as BnTape;
    const r = tf.tidy(() => (t.train ? batchNormTrainBackward(g, t.xhat, t.scale) : batchNormEvalBackward(g, t.xhat, t.scale)));
    if (sink && this.affine) t.affine.distribute(r.dGamma, r.dBeta, sink, prefix, scale);
    r.dGamma.dispose();
    r.dBeta.dispose();
    return r.dx;
  }

  /**
   * Host-statistics path (same arithmetic as forward/backward, for a fused caller): given the
   * layer's pre-normalisation values z [B, F] on the host, returns per-feature scale and shift
   * with out = z·scale + shift (batch statistics, computed in float64 in two passes, in
   * training mode; running statistics in evaluation mode), staging the statistics update like
   * forward(). The caller applies them (two elementwise kernels, or folded into its activation).
   */
  hostForward(z: KernelInput, rows: number, r: NormRequest): { scale: Float32Array; shift: Float32Array; tape?: HostBnTape } {
    const F = this.numFeatures;
    const running = r.mode === 'eval' ? this.runningAt(r.t, r.index) : null;
    const collective = running === null && r.collective && r.collective.size > 1 ? r.collective : null;
    if (running === null && r.mode === 'train' && rows < 2 && !collective) {
      throw new InvalidArgumentError(`${this.kind} normalisation needs a batch of at least 2 in training mode, got ${rows}`, 'raise the batch size');
    }
    const affine = this.affineAt(r.t, r.index);
    const gamma = affine.gammaValues ?? (affine.gamma ? (affine.gamma.dataSync() as Float32Array) : null);
    const beta = affine.betaValues ?? (affine.beta ? (affine.beta.dataSync() as Float32Array) : null);
    affine.dispose(); // the host copies are all this path needs (distributeHost keeps no tensors)
    const mean = new Float64Array(F);
    const variance = new Float64Array(F);
    let n = rows;
    if (running === null) {
      // Float64 sums shifted by the first row (WebAssembly SIMD; see src/kernels).
      const m = columnMoments(z, rows, F);
      mean.set(m.mean);
      variance.set(m.variance);
      if (collective) n = combineMoments(collective, rows, mean, variance);
      if (r.updateStats && r.mode === 'train') {
        this.staged.push({ t: r.t, index: r.index, mean: Float32Array.from(mean), variance: Float32Array.from(variance), n });
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
    return { scale, shift, tape: r.record ? new HostBnTape(running === null, mean, rstd, scale64, affine, n, collective) : undefined };
  }

  /**
   * Backward of hostForward: dL/dz from g = dL/dout, both [B, F] on the host (Ioffe & Szegedy
   * 2015, §3, as in batch-norm-math.ts, expanded to dz = g·A + z·C + D per feature); adds
   * scale·dL/dγ, dL/dβ into the sink's host accumulators.
   */
  hostBackward(tape: HostBnTape, gIn: KernelInput, z: KernelInput, rows: number, sink: GradientSink | null, prefix: string, scale: number, sigmoidOut?: KernelInput, out?: Float32Array): Float32Array;
  hostBackward(tape: HostBnTape, gIn: KernelInput, z: KernelInput, rows: number, sink: GradientSink | null, prefix: string, scale: number, sigmoidOut: KernelInput | undefined, out: PinnedArray): PinnedArray;
  hostBackward(
    tape: HostBnTape,
    gIn: KernelInput,
    z: KernelInput,
    rows: number,
    sink: GradientSink | null,
    prefix: string,
    scale: number,
    /** When given, g = gIn · s(1 − s) (a sigmoid's derivative applied first, in the same pass). */
    sigmoidOut?: KernelInput,
    /** Where to write dL/dz ([rows, F]): a JavaScript or resident array; a new array when absent. */
    out?: KernelOutput,
  ): KernelOutput {
    const F = this.numFeatures;
    const { mean, rstd } = tape;
    const dGamma = new Float64Array(F); // Σ g x̂ with x̂ = (z − μ)·rstd
    // Two passes in WebAssembly SIMD (src/kernels): the column sums Σ g, Σ g z (g after the
    // sigmoid's derivative), then dz = g·A + z·C + D with per-feature A, C, D from those sums.
    // With replicas, dz needs the sums over the whole batch; γ's and β's gradients take this
    // replica's own (the replicas' gradients are added afterwards).
    const { dz, sumG: sg } = batchNormSigmoidBackward(gIn, sigmoidOut ?? null, z, rows, F, (sg, sgz) => {
      for (let f = 0; f < F; f++) dGamma[f] = rstd[f] * (sgz[f] - mean[f] * sg[f]);
      let allG = sg;
      let allGamma = dGamma;
      if (tape.collective && tape.train) {
        const both = new Float64Array(2 * F);
        both.set(sg);
        both.set(sgz, F);
        const total = tape.collective.sum(both);
        allG = total.subarray(0, F);
        allGamma = new Float64Array(F);
        for (let f = 0; f < F; f++) allGamma[f] = rstd[f] * (total[F + f] - mean[f] * allG[f]);
      }
      const n = tape.rows;
      const A = new Float32Array(F);
      const C = new Float32Array(F);
      const D = new Float32Array(F);
      for (let f = 0; f < F; f++) {
        const sc = tape.scale[f];
        A[f] = sc;
        if (tape.train) {
          const mgx = allGamma[f] / n;
          C[f] = -sc * rstd[f] * mgx;
          D[f] = sc * (mean[f] * rstd[f] * mgx - allG[f] / n);
        }
      }
      return { a: A, c: C, d: D };
    }, out);
    if (sink && this.affine) tape.affine.distributeHost(dGamma, sg, sink, prefix, scale);
    return dz;
  }

  apply(x: tf.Tensor2D, t: number, mode: FieldMode, index = 0): tf.Tensor2D {
    return this.forward(x, { t, index, mode, updateStats: false, record: false }).out;
  }

  commitStaged(): void {
    const staged = this.staged;
    this.staged = [];
    for (const s of staged) {
      const mean = hostOf(s.mean);
      const biased = hostOf(s.variance);
      const unbiased = new Float32Array(biased.length);
      const c = s.n / (s.n - 1); // PyTorch keeps the unbiased variance in its running statistics
      for (let i = 0; i < biased.length; i++) unbiased[i] = biased[i] * c;
      this.update(s.t, s.index, mean, unbiased);
      disposeStat(s.mean);
      disposeStat(s.variance);
    }
  }

  discardStaged(): void {
    for (const s of this.staged) {
      disposeStat(s.mean);
      disposeStat(s.variance);
    }
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
      gamma: this.weight,
      beta: this.bias,
      owned: false,
      distribute(dGamma, dBeta, sink, prefix, scale) {
        sink.add(`${prefix}weight`, dGamma, scale);
        sink.add(`${prefix}bias`, dBeta, scale);
      },
      distributeHost(dGamma, dBeta, sink, prefix, scale) {
        const F = dGamma.length;
        const w = sink.hostAccumulator(`${prefix}weight`, [F]);
        const b = sink.hostAccumulator(`${prefix}bias`, [F]);
        for (let f = 0; f < F; f++) {
          w[f] += scale * dGamma[f];
          b[f] += scale * dBeta[f];
        }
      },
      dispose() {},
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
