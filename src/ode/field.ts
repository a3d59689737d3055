/**
 * The vector field contract between solvers and models. A field can be evaluated, and, for
 * gradients, it can record what it needs and apply its vector–Jacobian product. Solvers and
 * training only see this interface, so a fused implementation can replace an op-by-op one.
 */
import * as tf from '@tensorflow/tfjs-core';

export type FieldMode = 'train' | 'eval';

/** One evaluation request from the solver. */
export interface EvalRequest {
  /** Time of the evaluation (the same for the whole batch). */
  readonly t: number;
  /** 0-based evaluation index within this solve (the solver's NFE counter before the call). */
  readonly index: number;
  readonly mode: FieldMode;
  /**
   * True only in training-mode forward solves: the field may stage running-statistics updates,
   * which the solver then commits (the evaluation belongs to an accepted step) or discards.
   */
  readonly updateStats: boolean;
  /** True when the solver will later ask for the vector–Jacobian product of this evaluation. */
  readonly record: boolean;
}

/** What a recorded evaluation kept for its vector–Jacobian product. */
export interface FieldTape {
  dispose(): void;
}

export interface FieldOutput {
  /** dy/dt, [B, D]. */
  readonly dy: tf.Tensor2D;
  /** Present when the request had record: true. */
  readonly tape?: FieldTape;
}

export interface VectorField {
  /** State dimension D. */
  readonly dim: number;
  /** Called once before a solve (e.g. to transpose weights once) and after it. */
  beginSolve?(): void;
  endSolve?(): void;
  evaluate(y: tf.Tensor2D, request: EvalRequest): FieldOutput;
  /**
   * Vector–Jacobian product of a recorded evaluation: returns cotangentᵀ ∂f/∂y ([B, D]) and adds
   * `paramScale` · cotangentᵀ ∂f/∂θ into `sink` (skipped when sink is null). Does not dispose the tape.
   */
  vjp(tape: FieldTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D;
  /** Commit / drop the running-statistics updates staged since the last commit or discard. */
  commitStaged?(): void;
  discardStaged?(): void;
}

/** A row-major [rows, cols] matrix already on the host (no tensor to read back or dispose). */
export interface HostMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

type Matrix = tf.Tensor2D | HostMatrix;
const isHost = (m: Matrix): m is HostMatrix => !(m instanceof tf.Tensor);
const rowsOf = (m: Matrix): number => (isHost(m) ? m.rows : m.shape[0]);
const colsOf = (m: Matrix): number => (isHost(m) ? m.cols : m.shape[1]);
const dataOf = (m: Matrix): Float32Array => (isHost(m) ? m.data : (m.dataSync() as Float32Array));
const release = (m: Matrix): void => {
  if (!isHost(m)) m.dispose();
};

interface LinearTerm {
  readonly g: Matrix;
  readonly x: Matrix;
  readonly scale: number;
}

/** Options of GradientSink.addLinear. */
export interface LinearTermOptions {
  /** The layer input is `mul·x + add` (applied once to the concatenated inputs when settling). */
  readonly inputAffine?: readonly [mul: number, add: number];
  /** The sink takes ownership of x instead of keeping its own reference (saves an op). */
  readonly takeX?: boolean;
}

/** Two reusable host buffers (tf.tensor copies its input): large per-step allocations cost GC time. */
const scratchBuffers: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
function scratch(slot: 0 | 1, size: number): Float32Array {
  if (scratchBuffers[slot].length < size) scratchBuffers[slot] = new Float32Array(size);
  return scratchBuffers[slot].subarray(0, size);
}

/**
 * Σ_terms scale·gᵀx ([F, K]) and Σ_terms scale·Σ_rows g ([F]) for the deferred linear terms, as
 * one untransposed product. The host stacks the parts (one pass, no Concat kernel), transposes
 * the narrower of G [N, F] and X [N, K] (Gᵀ X, or (Xᵀ G)ᵀ with a small final transpose) and sums
 * G's rows in the same pass. Measured on TF.js's wasm backend (N = 10240, 128 columns): Transpose
 * ~10 ms, Sum over axis 0 ~8 ms and a Concat of 80 parts 1–5 ms per call, and a matMul with a
 * transpose flag runs a scalar loop (~190 ms).
 */
function linearGradient(terms: readonly LinearTerm[], affine: readonly [number, number] | null): { dw: tf.Tensor2D; db: Float32Array } {
  const F = colsOf(terms[0].g);
  const K = colsOf(terms[0].x);
  let N = 0;
  for (const t of terms) N += rowsOf(t.g);
  const transposeG = F <= K;
  const gOut = scratch(0, F * N); // Gᵀ [F, N] or G [N, F]
  const xOut = scratch(1, N * K); // X [N, K] or Xᵀ [K, N]
  const db = new Float64Array(F);
  const [m, add] = affine ?? [1, 0];
  let off = 0;
  for (const t of terms) {
    const rows = rowsOf(t.g);
    const g = dataOf(t.g);
    const xs = dataOf(t.x);
    const sc = t.scale;
    if (transposeG) {
      for (let f = 0; f < F; f++) {
        const dst = f * N + off;
        let acc = 0;
        for (let r = 0; r < rows; r++) {
          const v = g[r * F + f] * sc;
          gOut[dst + r] = v;
          acc += v;
        }
        db[f] += acc;
      }
      const base = off * K;
      if (affine) for (let i = 0; i < xs.length; i++) xOut[base + i] = xs[i] * m + add;
      else xOut.set(xs, base);
    } else {
      const base = off * F;
      for (let r = 0; r < rows; r++) {
        for (let f = 0; f < F; f++) {
          const v = g[r * F + f] * sc;
          gOut[base + r * F + f] = v;
          db[f] += v;
        }
      }
      for (let k = 0; k < K; k++) {
        const dst = k * N + off;
        for (let r = 0; r < rows; r++) xOut[dst + r] = xs[r * K + k] * m + add;
      }
    }
    off += rows;
  }
  const dw = tf.tidy(() =>
    transposeG
      ? (tf.matMul(tf.tensor2d(gOut, [F, N]), tf.tensor2d(xOut, [N, K])) as tf.Tensor2D)
      : (tf.transpose(tf.matMul(tf.tensor2d(xOut, [K, N]), tf.tensor2d(gOut, [N, F]))) as tf.Tensor2D),
  );
  return { dw, db: Float32Array.from(db) };
}

/**
 * Accumulates named parameter gradients; owns its tensors (outside any tidy scope).
 * Linear-layer gradients (Σ gᵀx and Σ g over many evaluations) are deferred and computed as one
 * large product when read: one matMul over the concatenated batches instead of one per
 * evaluation (per-op dispatch dominates small shapes in TF.js).
 */
export class GradientSink {
  private readonly grads = new Map<string, tf.Tensor>();
  private readonly linear = new Map<string, { bias: string | null; affine: readonly [number, number] | null; terms: LinearTerm[] }>();
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
   * grads[weight] += scale · gᵀx and (when bias is not null) grads[bias] += scale · Σ_rows g,
   * deferred. Takes ownership of g; keeps its own reference to x. Either may be a host matrix
   * (then it must not be modified afterwards): cheaper when the caller has the values on the host.
   */
  addLinear(weight: string, bias: string | null, g: tf.Tensor2D | HostMatrix, x: tf.Tensor2D | HostMatrix, scale = 1, options: LinearTermOptions = {}): void {
    let entry = this.linear.get(weight);
    if (!entry) {
      entry = { bias, affine: options.inputAffine ?? null, terms: [] };
      this.linear.set(weight, entry);
    }
    entry.terms.push({ g, x: options.takeX || isHost(x) ? x : x.clone(), scale });
  }

  private settle(): void {
    for (const [weight, { bias, affine, terms }] of this.linear) {
      const { dw, db } = linearGradient(terms, affine);
      for (const t of terms) {
        release(t.g);
        release(t.x);
      }
      this.add(weight, dw);
      dw.dispose();
      if (bias !== null) {
        const dbt = tf.tensor1d(db);
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

  /** Adds every gradient of another sink times scale. */
  addAll(other: GradientSink, scale = 1): void {
    other.settle();
    for (const [name, value] of other.grads) this.add(name, value, scale);
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
    for (const { terms } of this.linear.values()) {
      for (const t of terms) {
        release(t.g);
        release(t.x);
      }
    }
    this.linear.clear();
    this.host.clear();
    for (const v of this.grads.values()) v.dispose();
    this.grads.clear();
  }
}
