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

interface LinearTerm {
  readonly g: tf.Tensor2D;
  readonly x: tf.Tensor2D;
  readonly scale: number;
}

/** Options of GradientSink.addLinear. */
export interface LinearTermOptions {
  /** The layer input is `mul·x + add` (applied once to the concatenated inputs when settling). */
  readonly inputAffine?: readonly [mul: number, add: number];
  /** The sink takes ownership of x instead of keeping its own reference (saves an op). */
  readonly takeX?: boolean;
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
   * deferred. Takes ownership of g; keeps its own reference to x.
   */
  addLinear(weight: string, bias: string | null, g: tf.Tensor2D, x: tf.Tensor2D, scale = 1, options: LinearTermOptions = {}): void {
    let entry = this.linear.get(weight);
    if (!entry) {
      entry = { bias, affine: options.inputAffine ?? null, terms: [] };
      this.linear.set(weight, entry);
    }
    entry.terms.push({ g, x: options.takeX ? x : x.clone(), scale });
  }

  private settle(): void {
    for (const [weight, { bias, affine, terms }] of this.linear) {
      const [dw, db] = tf.tidy(() => {
        const gs = terms.map((t) => (t.scale === 1 ? t.g : (tf.mul(t.g, t.scale) as tf.Tensor2D)));
        const G = gs.length === 1 ? gs[0] : tf.concat(gs, 0);
        let X = terms.length === 1 ? terms[0].x : tf.concat(terms.map((t) => t.x), 0);
        if (affine) X = tf.add(tf.mul(X, affine[0]), affine[1]);
        // Explicit transpose: TF.js's wasm matMul runs transposed products in a scalar loop.
        return bias === null ? [tf.matMul(tf.transpose(G), X)] : [tf.matMul(tf.transpose(G), X), tf.sum(G, 0)];
      });
      for (const t of terms) {
        t.g.dispose();
        t.x.dispose();
      }
      this.add(weight, dw);
      dw.dispose();
      if (bias !== null && db) {
        this.add(bias, db);
        db.dispose();
      }
    }
    this.linear.clear();
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
        t.g.dispose();
        t.x.dispose();
      }
    }
    this.linear.clear();
    for (const v of this.grads.values()) v.dispose();
    this.grads.clear();
  }
}
