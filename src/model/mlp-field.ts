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
import type { EvalRequest, FieldOutput, FieldTape, GradientSink, VectorField } from '../ode/field.js';
import { Linear } from '../nn/linear.js';
import { activationBackward, activationForward, type ActivationName, type ActivationSaved } from '../nn/activation.js';
import { createNormalization } from '../nn/create.js';
import type { NormKind, Normalization, NormTape, StateArray } from '../nn/normalization.js';
import { InvalidArgumentError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export interface MlpFieldConfig {
  readonly dim: number;
  /** Number of hidden layers (each linear → norm → activation). */
  readonly depth: number;
  readonly width: number;
  readonly activation: ActivationName;
  readonly norm: NormKind;
  /** Append t to the input of the first layer. */
  readonly timeInput: boolean;
  /** The model's span [t0, T] (TA-BN's grid). */
  readonly timeSpan: readonly [number, number];
  readonly gridIntervals: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
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
  /** Hands one kept tensor over to the caller (the tape will not dispose it); clones if not owned. */
  take(x: tf.Tensor2D): tf.Tensor2D {
    if (this.owned.delete(x)) return x;
    return x.clone();
  }
  dispose(): void {
    for (const l of this.layers) l.normTape?.dispose();
    for (const x of this.owned) x.dispose();
    this.layers.length = 0;
    this.owned.clear();
  }
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
   * Made once per solve: transposed weights [in, out]. For tanh without normalisation (the fused
   * path) hidden layers carry s = sigmoid(2z) instead of a = tanh(z) = 2s − 1 (wasm's Tanh kernel
   * is scalar, Sigmoid is vectorised), and the affine maps absorb the conversions:
   *   layer 0:  2z = y (2W₀ᵀ) + 2b₀;   layer i > 0:  2z = s (4Wᵢᵀ) + 2(bᵢ − Wᵢ·1);
   *   output:   f = s (2W_oᵀ) + (b_o − W_o·1);
   * backward: tanh' = 1 − a² = 4 s (1 − s), the 4 absorbed in bw = 4W (bw₀ = W₀).
   */
  private cache: { wt: tf.Tensor2D[]; fw: tf.Tensor2D[]; fb: tf.Tensor1D[]; bw: tf.Tensor2D[] } | null = null;
  /** Hidden layers take the fused path: linear → tanh with no normalisation. */
  private readonly fastTanh: boolean;
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
    const wt = tf.tidy(() => [...this.hidden.map((l) => l.linear.weight), this.output.weight].map((w) => tf.transpose(w) as tf.Tensor2D));
    const fw: tf.Tensor2D[] = [];
    const fb: tf.Tensor1D[] = [];
    const bw: tf.Tensor2D[] = [];
    if (this.fastTanh) {
      const layers = [...this.hidden.map((l) => l.linear), this.output];
      tf.tidy(() => {
        layers.forEach((lin, i) => {
          const out = i === layers.length - 1;
          const fromS = i > 0; // the input is s of the previous layer
          const wScale = (fromS ? 2 : 1) * (out ? 1 : 2);
          let b: tf.Tensor1D = lin.bias;
          if (fromS) b = tf.sub(b, tf.sum(lin.weight, 1)) as tf.Tensor1D;
          if (!out) b = tf.mul(b, 2) as tf.Tensor1D;
          fw.push(tf.keep(tf.mul(wt[i], wScale) as tf.Tensor2D));
          fb.push(tf.keep(b === lin.bias ? (b.clone() as tf.Tensor1D) : b));
          bw.push(tf.keep(i === 0 ? (lin.weight.clone() as tf.Tensor2D) : (tf.mul(lin.weight, 4) as tf.Tensor2D)));
        });
      });
    }
    this.cache = { wt, fw, fb, bw };
  }

  endSolve(): void {
    if (--this.depthOfSolve > 0) return;
    this.depthOfSolve = 0;
    for (const l of this.hidden) l.norm.endSolve?.();
    if (this.cache) {
      for (const w of [...this.cache.wt, ...this.cache.fw, ...this.cache.fb, ...this.cache.bw]) w.dispose();
    }
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
      const wy = tf.slice(this.cache!.wt[0], [0, 0], [this.dim, -1]);
      const zy = tf.matMul(x, wy);
      const wtT = tf.slice(this.cache!.wt[0], [this.dim, 0], [1, -1]);
      return tf.add(zy, tf.add(lin.bias, tf.mul(tf.reshape(wtT, [-1]), t))) as tf.Tensor2D;
    }
    return tf.add(tf.matMul(x, this.cache!.wt[i]), lin.bias) as tf.Tensor2D;
  }

  evaluate(y: tf.Tensor2D, req: EvalRequest): FieldOutput {
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
          if (this.fastTanh) {
            const cache = this.cache!;
            const xi = x;
            out = tf.tidy(() => tf.sigmoid(tf.add(tf.matMul(xi, cache.fw[i]), cache.fb[i])) as tf.Tensor2D); // s, not a
            saved = { a: out };
          } else {
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
        const dy = this.fastTanh
          ? tf.tidy(() => tf.add(tf.matMul(xl, this.cache!.fw[L]), this.cache!.fb[L]) as tf.Tensor2D)
          : tf.tidy(() => this.linearForward(L, xl, req.t));
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

  vjp(tape: FieldTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const tp = tape as MlpTape;
    if (this.fastTanh) return this.withCache(() => this.vjpFused(tp, cotangent, sink, paramScale));
    const timeInput = this.config.timeInput;
    if (sink) sink.addLinear(`${FIELD_PREFIX}output.weight`, `${FIELD_PREFIX}output.bias`, cotangent.clone(), tp.last, paramScale);
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
      if (!sink) gz.dispose();
    }
    return gx;
  }

  /** The fused path's VJP (see the cache comment): 3 elementwise ops and one matMul per layer. */
  private vjpFused(tp: MlpTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const c = this.cache!;
    const L = this.hidden.length;
    const fromS = { inputAffine: [2, -1] as const, takeX: true };
    if (sink) {
      sink.addLinear(`${FIELD_PREFIX}output.weight`, `${FIELD_PREFIX}output.bias`, cotangent.clone(), tp.take(tp.last), paramScale, L > 0 ? fromS : { takeX: true });
    }
    let ga = tf.matMul(cotangent, c.bw[L]) as tf.Tensor2D; // 4·dL/da (dL/dy when L = 0)
    for (let i = L - 1; i >= 0; i--) {
      const s = tp.layers[i].act.a;
      const g = ga;
      const gz = tf.tidy(() => tf.mul(tf.mul(g, s), tf.sub(1, s)) as tf.Tensor2D); // dL/dz = 4 dL/da · s(1 − s)
      ga.dispose();
      const base = `${FIELD_PREFIX}layers.${i}.`;
      ga = tf.matMul(gz, c.bw[i]) as tf.Tensor2D;
      if (sink) sink.addLinear(`${base}linear.weight`, `${base}linear.bias`, gz, tp.take(tp.layers[i].x), paramScale, i > 0 ? fromS : { takeX: true });
      else gz.dispose();
    }
    return ga;
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
