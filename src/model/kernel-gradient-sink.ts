/**
 * The MLP field's gradient sink: linear-layer gradients (Σ gᵀx and Σ g over many evaluations)
 * accumulate on the host in this project's WebAssembly SIMD kernels (src/kernels: gᵀx without
 * transposing either operand), and small per-evaluation gradients (normalisation γ, β) in float64
 * host arrays; both become tensors once, when the sink is read.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientSink } from '../ode/gradient-sink.js';
import type { HostGradientAccumulator } from '../nn/normalization.js';
import { accumulateWeightGradient, pinArrays, readPinned, type KernelInput, type PinnedArray, type PinnedSet } from '../kernels/host-kernels.js';
import { InvalidArgumentError } from '../util/errors.js';

/**
 * A row-major [rows, cols] matrix already on the host (no tensor to read back or dispose): a
 * JavaScript array or an array resident in the WebAssembly kernels' memory (src/kernels).
 */
export interface HostMatrix {
  readonly data: KernelInput;
  readonly rows: number;
  readonly cols: number;
}

type Matrix = tf.Tensor2D | HostMatrix;
const isHost = (m: Matrix): m is HostMatrix => !(m instanceof tf.Tensor);
const rowsOf = (m: Matrix): number => (isHost(m) ? m.rows : m.shape[0]);
const colsOf = (m: Matrix): number => (isHost(m) ? m.cols : m.shape[1]);
const dataOf = (m: Matrix): KernelInput => (isHost(m) ? m.data : (m.dataSync() as Float32Array));

/** Options of GradientSink.addLinear. */
export interface LinearTermOptions {
  /** The layer input is `mul·x + add`, x the matrix given (applied once, when the sink is read). */
  readonly inputAffine?: readonly [mul: number, add: number];
}

/**
 * A linear layer's gradients so far: Σ scale·gᵀx' [F, K] (pinned in the kernels' memory, updated in
 * place) and Σ scale·Σ_rows g [F] (x' before the input affine).
 */
interface LinearAccumulator {
  readonly bias: string | null;
  readonly affine: readonly [number, number] | null;
  readonly dw: PinnedArray;
  readonly pinned: PinnedSet;
  readonly db: Float64Array;
  readonly F: number;
  readonly K: number;
}

/** Accumulates named parameter gradients; owns its tensors (outside any tidy scope). */
export class KernelGradientSink implements GradientSink, HostGradientAccumulator {
  private readonly grads = new Map<string, tf.Tensor>();
  private readonly linear = new Map<string, LinearAccumulator>();
  private readonly host = new Map<string, { shape: number[]; acc: Float64Array }>();

  /**
   * A float64 host array that the caller adds gradient values into (row-major `shape`); it is
   * added to grads[name] when the sink is read. Saves kernels for small per-evaluation
   * gradients computed on the host (normalisation γ, β).
   */
  hostAccumulator(name: string, shape: readonly number[]): Float64Array {
    let e = this.host.get(name);
    if (!e) {
      e = { shape: [...shape], acc: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
      this.host.set(name, e);
    }
    return e.acc;
  }

  /** grads[name] += scale * value (value is not disposed). */
  add(name: string, value: tf.Tensor, scale = 1): void {
    const old = this.grads.get(name);
    let next: tf.Tensor;
    if (old === undefined) next = scale === 1 ? value.clone() : tf.mul(value, scale);
    else next = tf.tidy(() => tf.add(old, scale === 1 ? value : tf.mul(value, scale)));
    tf.keep(next);
    old?.dispose();
    this.grads.set(name, next);
  }

  /**
   * grads[weight] += scale · gᵀx and (when bias is not null) grads[bias] += scale · Σ_rows g, with
   * g [B, F] and x [B, K]. Reads both now and keeps neither (host matrices are cheaper when the
   * caller has the values on the host: nothing is read back).
   */
  addLinear(weight: string, bias: string | null, g: tf.Tensor2D | HostMatrix, x: tf.Tensor2D | HostMatrix, scale = 1, options: LinearTermOptions = {}): void {
    const F = colsOf(g);
    const K = colsOf(x);
    const affine = options.inputAffine ?? null;
    let acc = this.linear.get(weight);
    if (!acc) {
      const pinned = pinArrays([new Float32Array(F * K)]);
      acc = { bias, affine, dw: pinned.arrays[0], pinned, db: new Float64Array(F), F, K };
      this.linear.set(weight, acc);
    } else if (acc.F !== F || acc.K !== K || acc.bias !== bias || acc.affine?.[0] !== affine?.[0] || acc.affine?.[1] !== affine?.[1]) {
      throw new InvalidArgumentError(`gradient of ${weight}: a term of shape [${F}, ${K}] (bias ${bias}, input affine ${affine}) does not match the first [${acc.F}, ${acc.K}] (bias ${acc.bias}, input affine ${acc.affine})`);
    }
    accumulateWeightGradient(acc.dw, acc.db, dataOf(g), dataOf(x), rowsOf(g), scale);
  }

  /** Turns the host accumulators into gradient tensors (applying each input affine: gᵀ(m·x' + a) = m·gᵀx' + a·Σg⊗1). */
  private settle(): void {
    for (const [weight, { bias, affine, dw: pinnedDw, pinned, db, F, K }] of this.linear) {
      const dw = readPinned(pinnedDw);
      pinned.release();
      if (affine) {
        const [m, a] = affine;
        for (let f = 0; f < F; f++) {
          const add = a * db[f];
          for (let k = 0; k < K; k++) dw[f * K + k] = m * dw[f * K + k] + add;
        }
      }
      const dwt = tf.tensor2d(dw, [F, K]);
      this.add(weight, dwt);
      dwt.dispose();
      if (bias !== null) {
        const dbt = tf.tensor1d(Float32Array.from(db));
        this.add(bias, dbt);
        dbt.dispose();
      }
    }
    this.linear.clear();
    for (const [name, { shape, acc }] of this.host) {
      const v = tf.tensor(Float32Array.from(acc), shape);
      this.add(name, v);
      v.dispose();
    }
    this.host.clear();
  }

  entries(): Iterable<readonly [string, tf.Tensor]> {
    this.settle();
    return this.grads.entries();
  }

  get(name: string): tf.Tensor | undefined {
    this.settle();
    return this.grads.get(name);
  }

  names(): string[] {
    this.settle();
    return [...this.grads.keys()];
  }

  /** Hands the tensors over (the sink is empty afterwards). */
  take(): Record<string, tf.Tensor> {
    this.settle();
    const out: Record<string, tf.Tensor> = {};
    for (const [k, v] of this.grads) out[k] = v;
    this.grads.clear();
    return out;
  }

  dispose(): void {
    for (const { pinned } of this.linear.values()) pinned.release();
    this.linear.clear();
    this.host.clear();
    for (const v of this.grads.values()) v.dispose();
    this.grads.clear();
  }
}
