/**
 * The vector field backbone: an MLP whose hidden layers are linear → normalisation at time t →
 * activation, with an optional time input (t appended to the state) and a final linear layer.
 * Implements the solver's VectorField contract with a hand-written vector–Jacobian product:
 * no tf.grad tape, weights transposed once per solve, only untransposed matMul products (TF.js's
 * wasm BatchMatMul sends transposed products to a scalar loop).
 *
 * Logical parameter names (used for state, files and gradients):
 *   field.layers.{i}.linear.weight [out, in], field.layers.{i}.linear.bias [out],
 *   field.layers.{i}.norm.{weight,bias,running_mean,running_var,...}, field.output.{weight,bias}.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalRequest, FieldOutput, FieldTape, GradientSink, HostMatrix, VectorField } from '../ode/field.js';
import { Linear } from '../nn/linear.js';
import { activationBackward, activationForward, type ActivationName, type ActivationSaved } from '../nn/activation.js';
import { createNormalization } from '../nn/create.js';
import type { NormKind, Normalization, NormTape, StateArray } from '../nn/normalization.js';
import { BatchNormBase, type HostBnTape } from '../nn/batch-norm-base.js';
import { InvalidArgumentError } from '../util/errors.js';
import { affineSigmoid, intoResident, matmul, pinArrays, sigmoidGrad, withKernelThreads, type PinnedArray, type PinnedSet } from '../kernels/host-kernels.js';
import { Rng } from '../util/rng.js';

export interface MlpFieldConfig {
  /** State dimension. */
  readonly dim: number;
  /** Number of hidden layers (each linear → norm → activation; default 2) and their width (default 64). */
  readonly depth: number;
  readonly width: number;
  readonly activation: ActivationName;
  readonly norm: NormKind;
  /** Append t to the input of the first layer. */
  readonly timeInput: boolean;
  /** The model's span [t0, T] (TA-BN's grid). */
  readonly timeSpan: readonly [number, number];
  /** TA-BN's M (default 100). */
  readonly gridIntervals: number;
  readonly eps: number;
  /** Running-statistics momentum; null: cumulative average (PyTorch's momentum=None). */
  readonly momentum: number | null;
  readonly affine: boolean;
  /** Seed of the weight initialisation. */
  readonly seed: number;
}

interface HiddenLayer {
  readonly linear: Linear;
  readonly norm: Normalization;
}

interface LayerTape {
  /** Input of the layer's linear map. */
  readonly x: tf.Tensor2D;
  /** Null without normalisation. */
  readonly normTape: NormTape | null;
  readonly act: ActivationSaved;
}

class MlpTape implements FieldTape {
  constructor(
    readonly t: number,
    readonly layers: LayerTape[],
    /** Input of the output layer. */
    readonly last: tf.Tensor2D,
    /** Every intermediate this tape keeps alive (not y). */
    private readonly owned: Set<tf.Tensor>,
  ) {}
  dispose(): void {
    for (const l of this.layers) l.normTape?.dispose();
    for (const x of this.owned) x.dispose();
    this.layers.length = 0;
    this.owned.clear();
  }
}

/** A hidden layer's values kept in the kernels' memory (see residentArray): s, and z with a normalisation. */
interface HostLayerTape {
  readonly s: PinnedArray;
  readonly z: PinnedArray | null;
  readonly normTape: HostBnTape | null;
}

/** Frees a host path's layer arrays. */
function releaseLayers(layers: HostLayerTape[]): void {
  for (const l of layers) {
    l.normTape?.dispose();
    l.s.set.release();
    l.z?.set.release();
  }
  layers.length = 0;
}

/** What a host-path evaluation keeps: its input y and, per hidden layer, s (and z with a normalisation). */
class HostTape implements FieldTape {
  constructor(
    readonly y: Float32Array,
    readonly rows: number,
    readonly layers: HostLayerTape[],
  ) {}
  dispose(): void {
    releaseLayers(this.layers);
  }
}

/**
 * The host path's weights, made once per solve from the parameters (see MlpField.hostWeights) and
 * pinned in the kernels' memory: per linear layer (the output layer last) the forward map
 * [in, out] and shift [out], and the backward map [out, in].
 */
interface HostWeights {
  readonly forward: PinnedArray[];
  readonly shift: PinnedArray[];
  readonly backward: PinnedArray[];
  readonly pinned: PinnedSet;
}

export const FIELD_PREFIX = 'field.';

export class MlpField implements VectorField {
  readonly dim: number;
  readonly config: MlpFieldConfig;
  readonly hidden: HiddenLayer[] = [];
  readonly output: Linear;
  /** tfjs variable name → logical name. */
  private readonly logicalOf = new Map<string, string>();
  /**
   * Made once per solve: the op-by-op path's transposed weights [in, out] (TF.js tensors), or the
   * host path's maps (see hostWeights).
   */
  private cache: { wt: tf.Tensor2D[] | null; host: HostWeights | null } | null = null;
  /**
   * The host path: tanh without time input, and either no normalisation (fastTanh) or batch
   * normalisations (bnTanh: minibatch, popti, pop, tabn). Evaluation and VJP run entirely in this
   * project's WebAssembly SIMD kernels (src/kernels: matrix products, sigmoid, batch statistics),
   * one call per layer, on host arrays: TF.js only sees the field's input and output. Per-call
   * dispatch of TF.js kernels (5–30 µs each) dominated these small shapes; the kernels' products
   * run as fast as TF.js's XNNPACK at 128 × 128 and faster below.
   */
  private readonly fastTanh: boolean;
  private readonly bnTanh: boolean;
  private depthOfSolve = 0;

  constructor(config: MlpFieldConfig, variablePrefix: string) {
    const c = config;
    for (const [k, v] of [['dim', c.dim], ['depth', c.depth], ['width', c.width]] as const) {
      if (!(Number.isInteger(v) && v >= (k === 'depth' ? 0 : 1))) throw new InvalidArgumentError(`field ${k} must be a positive integer, got ${v}`);
    }
    this.config = c;
    this.dim = c.dim;
    const rng = new Rng(c.seed);
    let inFeatures = c.dim + (c.timeInput ? 1 : 0);
    for (let i = 0; i < c.depth; i++) {
      const base = `${FIELD_PREFIX}layers.${i}.`;
      const linear = new Linear(inFeatures, c.width, rng, `${variablePrefix}${base}linear.`);
      const norm = createNormalization(c.norm, {
        numFeatures: c.width,
        eps: c.eps,
        momentum: c.momentum,
        affine: c.affine,
        timeSpan: c.timeSpan,
        gridIntervals: c.gridIntervals,
        namePrefix: `${variablePrefix}${base}norm.`,
      });
      this.hidden.push({ linear, norm });
      inFeatures = c.width;
    }
    this.output = new Linear(inFeatures, c.dim, rng, `${variablePrefix}${FIELD_PREFIX}output.`);
    this.fastTanh = c.activation === 'tanh' && c.norm === 'none' && !c.timeInput;
    this.bnTanh = c.activation === 'tanh' && c.norm !== 'none' && !c.timeInput && this.hidden.every((l) => l.norm instanceof BatchNormBase);
    for (const [name, v] of Object.entries(this.parameters())) this.logicalOf.set(v.name, name);
  }

  /** Trainable variables by logical name. */
  parameters(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    this.hidden.forEach((l, i) => {
      for (const [k, v] of Object.entries(l.linear.parameters())) out[`${FIELD_PREFIX}layers.${i}.linear.${k}`] = v;
      for (const [k, v] of Object.entries(l.norm.parameters())) out[`${FIELD_PREFIX}layers.${i}.norm.${k}`] = v;
    });
    for (const [k, v] of Object.entries(this.output.parameters())) out[`${FIELD_PREFIX}output.${k}`] = v;
    return out;
  }

  /** Normalisation buffers by logical name. */
  buffers(): Record<string, StateArray> {
    const out: Record<string, StateArray> = {};
    this.hidden.forEach((l, i) => {
      for (const [k, v] of Object.entries(l.norm.getState())) out[`${FIELD_PREFIX}layers.${i}.norm.${k}`] = v;
    });
    return out;
  }

  setBuffers(state: Record<string, StateArray>): void {
    this.hidden.forEach((l, i) => {
      const prefix = `${FIELD_PREFIX}layers.${i}.norm.`;
      const mine: Record<string, StateArray> = {};
      for (const [k, v] of Object.entries(state)) if (k.startsWith(prefix)) mine[k.slice(prefix.length)] = v;
      l.norm.setState(mine);
    });
  }

  beginSolve(): void {
    if (this.depthOfSolve++ > 0) return;
    for (const l of this.hidden) l.norm.beginSolve?.();
    if (this.fastTanh || this.bnTanh) {
      this.cache = { wt: null, host: this.hostWeights() };
    } else {
      const wt = tf.tidy(() => [...this.hidden.map((l) => l.linear.weight), this.output.weight].map((w) => tf.transpose(w) as tf.Tensor2D));
      this.cache = { wt, host: null };
    }
  }

  /**
   * The host path's maps. Hidden layers carry s = sigmoid(2z) instead of a = tanh(z) = 2s − 1, and
   * the affine maps absorb the conversions (with a normalisation, its scale and shift take the 2):
   *   layer 0:  2z = y (2W₀ᵀ) + 2b₀;   layer i > 0:  2z = s (4Wᵢᵀ) + 2(bᵢ − Wᵢ·1);
   *   output:   f = s (2W_oᵀ) + (b_o − W_o·1);
   * backward: tanh' = 1 − a² = 4 s (1 − s), the 4 absorbed in the backward map 4W (W₀ for layer 0).
   */
  private hostWeights(): HostWeights {
    const layers = [...this.hidden.map((l) => l.linear), this.output];
    const forward: Float32Array[] = [];
    const shift: Float32Array[] = [];
    const backward: Float32Array[] = [];
    layers.forEach((lin, i) => {
      const [nOut, nIn] = lin.weight.shape as [number, number];
      const w = lin.weight.dataSync() as Float32Array;
      const b = lin.bias.dataSync() as Float32Array;
      const fromS = i > 0; // the input is s of the previous layer
      const inner = this.fastTanh && i < layers.length - 1 ? 2 : 1; // sigmoid(2z), unless a normalisation follows
      const wScale = (fromS ? 2 : 1) * inner;
      const fw = new Float32Array(nIn * nOut);
      const fb = new Float32Array(nOut);
      for (let o = 0; o < nOut; o++) {
        let rowSum = 0;
        for (let k = 0; k < nIn; k++) {
          fw[k * nOut + o] = wScale * w[o * nIn + k];
          rowSum += w[o * nIn + k];
        }
        fb[o] = inner * (b[o] - (fromS ? rowSum : 0));
      }
      forward.push(fw);
      shift.push(fb);
      backward.push(i === 0 ? w.slice() : w.map((v) => 4 * v));
    });
    const pinned = pinArrays([...forward, ...shift, ...backward]);
    const n = layers.length;
    const at = (j: number) => pinned.arrays.slice(j * n, (j + 1) * n);
    return { forward: at(0), shift: at(1), backward: at(2), pinned };
  }

  endSolve(): void {
    if (--this.depthOfSolve > 0) return;
    this.depthOfSolve = 0;
    for (const l of this.hidden) l.norm.endSolve?.();
    for (const w of this.cache?.wt ?? []) w.dispose();
    this.cache?.host?.pinned.release();
    this.cache = null;
  }

  private withCache<T>(fn: () => T): T {
    const had = this.cache !== null;
    if (!had) this.beginSolve();
    try {
      return fn();
    } finally {
      if (!had) this.endSolve();
    }
  }

  /** z = x Wᵀ + b (+ t · W[:, D] with time input, first layer only); inside tidy. */
  private linearForward(i: number, x: tf.Tensor2D, t: number): tf.Tensor2D {
    const lin = i < this.hidden.length ? this.hidden[i].linear : this.output;
    if (i === 0 && this.config.timeInput && this.hidden.length > 0) {
      // The time column of the weight is the transposed copy's last row; x holds only y.
      const wy = tf.slice(this.cache!.wt![0], [0, 0], [this.dim, -1]);
      const zy = tf.matMul(x, wy);
      const wtT = tf.slice(this.cache!.wt![0], [this.dim, 0], [1, -1]);
      return tf.add(zy, tf.add(lin.bias, tf.mul(tf.reshape(wtT, [-1]), t))) as tf.Tensor2D;
    }
    return tf.fused.matMul({ a: x, b: this.cache!.wt![i], bias: lin.bias }) as tf.Tensor2D;
  }

  evaluate(y: tf.Tensor2D, req: EvalRequest): FieldOutput {
    if (this.fastTanh || this.bnTanh) return this.withCache(() => withKernelThreads(() => this.evaluateHost(y, req)));
    return this.withCache(() => {
      const layers: LayerTape[] = [];
      const owned = new Set<tf.Tensor>();
      // A recorded tape keeps its own reference to the input (the solver disposes stage inputs).
      const input = req.record ? y.clone() : y;
      if (req.record) owned.add(input);
      let x = input;
      try {
        for (let i = 0; i < this.hidden.length; i++) {
          let out: tf.Tensor2D;
          let saved: ActivationSaved;
          let normTape: NormTape | null = null;
          {
            const z = tf.tidy(() => this.linearForward(i, x, req.t));
            let n: tf.Tensor2D = z;
            if (this.config.norm !== 'none') {
              const r = this.hidden[i].norm.forward(z, req);
              z.dispose();
              n = r.out;
              normTape = r.tape ?? null;
            }
            const [o, sa, sb] = tf.tidy(() => {
              const f = activationForward(this.config.activation, n);
              return f.saved.b ? [f.out, f.saved.a, f.saved.b] : [f.out, f.saved.a];
            }) as tf.Tensor2D[];
            out = o;
            saved = { a: sa, b: sb };
            if (req.record) owned.add(n);
            else if (n !== sa && n !== sb) n.dispose();
            if (!req.record) for (const t of new Set([sa, sb])) if (t && t !== out) t.dispose();
          }
          if (req.record) {
            for (const t of [out, saved.a, saved.b]) if (t) owned.add(t);
            layers.push({ x, normTape, act: saved });
          } else if (x !== input) x.dispose();
          x = out;
        }
        const L = this.hidden.length;
        const xl = x;
        const dy = tf.tidy(() => this.linearForward(L, xl, req.t));
        if (!req.record) {
          if (x !== input) x.dispose();
          return { dy };
        }
        return { dy, tape: new MlpTape(req.t, layers, x, owned) };
      } catch (err) {
        for (const l of layers) l.normTape?.dispose();
        for (const o of owned) o.dispose();
        throw err;
      }
    });
  }

  /**
   * The host path's evaluation (see fastTanh): one kernel call per layer; s (and z) stay in the
   * kernels' memory, for the next layer and for the VJP, so that only y and dy are copied.
   */
  private evaluateHost(y: tf.Tensor2D, req: EvalRequest): FieldOutput {
    const { forward, shift } = this.cache!.host!;
    const B = y.shape[0];
    const size = B * this.config.width;
    const input = y.dataSync() as Float32Array;
    const layers: HostLayerTape[] = [];
    let x: Float32Array | PinnedArray = input;
    try {
      for (let i = 0; i < this.hidden.length; i++) {
        let layer: HostLayerTape;
        if (this.fastTanh) {
          const xi = x;
          layer = { s: intoResident(size, (out) => matmul(xi, B, forward[i], this.config.width, shift[i], 'sigmoid', out)), z: null, normTape: null };
        } else {
          const xi = x;
          const z = intoResident(size, (out) => matmul(xi, B, forward[i], this.config.width, shift[i], 'linear', out));
          let r: ReturnType<BatchNormBase['hostForward']>;
          let s: PinnedArray;
          try {
            r = (this.hidden[i].norm as BatchNormBase).hostForward(z, B, req);
            // s = sigmoid(2·norm(z)) = (tanh(norm(z)) + 1) / 2
            s = intoResident(size, (out) => affineSigmoid(z, B, r.scale.map((v) => 2 * v), r.shift.map((v) => 2 * v), out));
          } catch (err) {
            z.set.release();
            throw err;
          }
          layer = { s, z, normTape: r.tape ?? null };
        }
        layers.push(layer);
        if (!req.record && i > 0) releaseLayers(layers.splice(0, 1)); // x, the layer before, is consumed
        x = layer.s;
      }
      const L = this.hidden.length;
      const dy = tf.tensor2d(matmul(x, B, forward[L], this.dim, shift[L]), [B, this.dim]);
      if (!req.record) {
        releaseLayers(layers);
        return { dy };
      }
      return { dy, tape: new HostTape(input, B, layers) };
    } catch (err) {
      releaseLayers(layers);
      throw err;
    }
  }

  vjp(tape: FieldTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const tp = tape as MlpTape;
    if (tape instanceof HostTape) return this.withCache(() => withKernelThreads(() => this.vjpHost(tape, cotangent, sink, paramScale)));
    const timeInput = this.config.timeInput;
    if (sink) sink.addLinear(`${FIELD_PREFIX}output.weight`, `${FIELD_PREFIX}output.bias`, cotangent, tp.last, paramScale);
    let gx = tf.matMul(cotangent, this.output.weight) as tf.Tensor2D;
    for (let i = this.hidden.length - 1; i >= 0; i--) {
      const lt = tp.layers[i];
      const { linear, norm } = this.hidden[i];
      const base = `${FIELD_PREFIX}layers.${i}.`;
      const gn = tf.tidy(() => activationBackward(this.config.activation, lt.act, gx));
      gx.dispose();
      let gz = gn;
      if (lt.normTape) {
        gz = norm.backward(lt.normTape, gn, sink, `${base}norm.`, paramScale);
        gn.dispose();
      }
      if (sink) {
        if (i === 0 && timeInput) {
          const xt = tf.tidy(() => tf.concat([lt.x, tf.fill([lt.x.shape[0], 1], tp.t)], 1) as tf.Tensor2D);
          sink.addLinear(`${base}linear.weight`, `${base}linear.bias`, gz, xt, paramScale);
          xt.dispose();
        } else {
          sink.addLinear(`${base}linear.weight`, `${base}linear.bias`, gz, lt.x, paramScale);
        }
      }
      gx = tf.tidy(() => {
        const full = tf.matMul(gz, linear.weight) as tf.Tensor2D;
        return i === 0 && timeInput ? (tf.slice(full, [0, 0], [-1, this.dim]) as tf.Tensor2D) : full;
      });
      gz.dispose();
    }
    return gx;
  }

  /**
   * The host path's VJP: per layer a product with the backward map and the activation's (and the
   * normalisation's) backward on host arrays; the weight gradients go to the sink as host matrices.
   */
  private vjpHost(tp: HostTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const { backward } = this.cache!.host!;
    const L = this.hidden.length;
    const B = tp.rows;
    // The input of linear layer i (L: the output layer): y, or s of the layer before, whose
    // a = 2s − 1 the sink applies after its product.
    const inputOf = (i: number): HostMatrix => {
      const data = i === 0 ? tp.y : tp.layers[i - 1].s;
      return { data, rows: B, cols: data.length / B };
    };
    const options = (i: number) => ({ inputAffine: i > 0 ? ([2, -1] as const) : undefined });
    const size = B * this.config.width;
    // dL/df, then dL/dz of each layer; resident in the kernels' memory after the output layer
    let g: Float32Array | PinnedArray = cotangent.dataSync() as Float32Array;
    const release = (a: Float32Array | PinnedArray) => {
      if (!(a instanceof Float32Array)) a.set.release();
    };
    try {
      for (let i = L; i >= 0; i--) {
        if (i < L) {
          const { s, z, normTape } = tp.layers[i];
          // dL/dz = 4 dL/da · s(1 − s) (the 4 is in the backward map), then the normalisation's backward
          const gi = g;
          const gz = intoResident(size, (out) =>
            this.fastTanh ? sigmoidGrad(gi, s, out) : (this.hidden[i].norm as BatchNormBase).hostBackward(normTape!, gi, z!, B, sink, `${FIELD_PREFIX}layers.${i}.norm.`, paramScale, s, out),
          );
          release(g);
          g = gz;
        }
        if (sink) {
          const name = i === L ? `${FIELD_PREFIX}output.` : `${FIELD_PREFIX}layers.${i}.linear.`;
          sink.addLinear(`${name}weight`, `${name}bias`, { data: g, rows: B, cols: g.length / B }, inputOf(i), paramScale, options(i));
        }
        if (i === 0) break;
        const gi = g;
        const next = intoResident(size, (out) => matmul(gi, B, backward[i], this.config.width, null, 'linear', out)); // 4·dL/da of the layer before
        release(g);
        g = next;
      }
      return tf.tensor2d(matmul(g, B, backward[0], this.dim, null), [B, this.dim]); // dL/dy, copied out
    } finally {
      release(g);
    }
  }

  commitStaged(): void {
    for (const l of this.hidden) l.norm.commitStaged();
  }

  discardStaged(): void {
    for (const l of this.hidden) l.norm.discardStaged();
  }

  /** Logical name of a tfjs variable name. */
  logicalName(variableName: string): string | undefined {
    return this.logicalOf.get(variableName);
  }

  dispose(): void {
    this.endSolve();
    for (const l of this.hidden) {
      l.linear.dispose();
      l.norm.dispose();
    }
    this.output.dispose();
  }
}
