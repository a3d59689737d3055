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
import { sigmoidGrad } from '../kernels/host-kernels.js';
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
  /** Batch-norm tanh path: z and s = sigmoid(2·norm(z)) on the host. */
  readonly zHost?: Float32Array;
  readonly sHost?: Float32Array;
}

/**
 * x [B, K] · w [1, K, N] + bias (+ activation) through TF.js's `_FusedMatMul` kernel directly:
 * one XNNPACK product with the bias (and sigmoid) fused, without tf.fused.matMul's op wrapper
 * (gradient bookkeeping and extra reshapes; measured 16 µs against 20 µs per call at 32×64×64).
 */
function fusedLinear(x: tf.Tensor2D, w3: tf.Tensor3D, bias: tf.Tensor1D, activation: 'linear' | 'sigmoid'): tf.Tensor2D {
  const [B, K] = x.shape;
  const a3 = tf.reshape(x, [1, B, K]);
  const out = tf.engine().runKernel('_FusedMatMul', { a: a3, b: w3, bias }, { transposeA: false, transposeB: false, activation }) as tf.Tensor3D;
  a3.dispose();
  const r = tf.reshape(out, [B, w3.shape[2]]) as tf.Tensor2D;
  out.dispose();
  return r;
}

class MlpTape implements FieldTape {
  /** Fused paths: the input y on the host (the first layer's x for the weight gradient). */
  yHost?: Float32Array;
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

/**
 * Largest tensor (elements) whose elementwise VJP work the fused tanh path does on the host.
 * Measured on this project's machine (Node 20): a JS loop over Float32Arrays costs ~4 ns per
 * element, TF.js's wasm SIMD kernels ~1.2 ns per element plus ~5–20 µs dispatch each: the host
 * wins for W1's 32×64 activations, the kernels for W2's 128×128.
 */
const HOST_ELEMENTWISE_MAX = 4096;

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
  private cache: { wt: tf.Tensor2D[]; fw: tf.Tensor3D[]; fb: tf.Tensor1D[]; bw: tf.Tensor2D[] } | null = null;
  /** Hidden layers take the fused path: linear → tanh with no normalisation. */
  private readonly fastTanh: boolean;
  /**
   * Hidden layers are linear → batch normalisation → tanh (minibatch, popti, pop, tabn), no time
   * input: the same s-carrying maps as fastTanh except that the 2 of sigmoid(2·) is folded into the
   * normalisation's per-feature scale and shift; statistics and the normalisation's backward run
   * on the host (BatchNormBase.hostForward/hostBackward): 4 kernels per layer forward, 1 backward.
   */
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
    const wt = tf.tidy(() => [...this.hidden.map((l) => l.linear.weight), this.output.weight].map((w) => tf.transpose(w) as tf.Tensor2D));
    const fw: tf.Tensor3D[] = [];
    const fb: tf.Tensor1D[] = [];
    const bw: tf.Tensor2D[] = [];
    if (this.fastTanh || this.bnTanh) {
      const layers = [...this.hidden.map((l) => l.linear), this.output];
      tf.tidy(() => {
        layers.forEach((lin, i) => {
          const out = i === layers.length - 1;
          const fromS = i > 0; // the input is s of the previous layer
          const inner = this.fastTanh && !out ? 2 : 1; // sigmoid(2z), unless a normalisation follows
          const wScale = (fromS ? 2 : 1) * inner;
          let b: tf.Tensor1D = lin.bias;
          if (fromS) b = tf.sub(b, tf.sum(lin.weight, 1)) as tf.Tensor1D;
          if (inner !== 1) b = tf.mul(b, inner) as tf.Tensor1D;
          fw.push(tf.keep(tf.reshape(tf.mul(wt[i], wScale), [1, ...wt[i].shape]) as tf.Tensor3D));
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
    return tf.fused.matMul({ a: x, b: this.cache!.wt[i], bias: lin.bias }) as tf.Tensor2D;
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
          let zHost: Float32Array | undefined;
          let sHost: Float32Array | undefined;
          if (this.fastTanh) {
            const cache = this.cache!;
            // s, not a; one fused kernel (XNNPACK matMul, bias and sigmoid) instead of three
            out = fusedLinear(x, cache.fw[i], cache.fb[i], 'sigmoid');
            saved = { a: out };
            if (req.record && out.size <= HOST_ELEMENTWISE_MAX) sHost = out.dataSync() as Float32Array; // for the VJP's host-side s(1 − s)
          } else if (this.bnTanh) {
            const cache = this.cache!;
            const z = fusedLinear(x, cache.fw[i], cache.fb[i], 'linear');
            const zh = z.dataSync() as Float32Array;
            let r: ReturnType<BatchNormBase['hostForward']>;
            try {
              r = (this.hidden[i].norm as BatchNormBase).hostForward(zh, z.shape[0], req);
            } catch (err) {
              z.dispose();
              throw err;
            }
            const scale2 = r.scale.map((v) => 2 * v);
            const shift2 = r.shift.map((v) => 2 * v);
            out = tf.tidy(() => tf.sigmoid(tf.add(tf.mul(z, tf.tensor1d(scale2)), tf.tensor1d(shift2))) as tf.Tensor2D); // s = (tanh(n) + 1) / 2
            z.dispose();
            saved = { a: out };
            normTape = r.tape ?? null;
            if (req.record) {
              zHost = zh;
              sHost = out.dataSync() as Float32Array;
            }
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
            layers.push({ x, normTape, act: saved, zHost, sHost });
          } else if (x !== input) x.dispose();
          x = out;
        }
        const L = this.hidden.length;
        const xl = x;
        const dy =
          this.fastTanh || this.bnTanh
          ? fusedLinear(xl, this.cache!.fw[L], this.cache!.fb[L], 'linear')
          : tf.tidy(() => this.linearForward(L, xl, req.t));
        if (!req.record) {
          if (x !== input) x.dispose();
          return { dy };
        }
        const tape = new MlpTape(req.t, layers, x, owned);
        if (this.bnTanh || (this.fastTanh && input.size <= HOST_ELEMENTWISE_MAX)) tape.yHost = input.dataSync() as Float32Array;
        return { dy, tape };
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
    if (this.bnTanh) return this.withCache(() => this.vjpBnTanh(tp, cotangent, sink, paramScale));
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

  /** Fused paths: the input of linear layer i (i = L: the output layer) on the host, [B, K]. */
  private hostInput(tp: MlpTape, i: number, rows: number): HostMatrix {
    const data = i === 0 ? tp.yHost! : tp.layers[i - 1].sHost!;
    return { data, rows, cols: data.length / rows };
  }

  /** The input of linear layer i for the weight gradient: its host copy if kept, else the tensor (handed over). */
  private inputOf(tp: MlpTape, i: number, rows: number): HostMatrix | tf.Tensor2D {
    const kept = i === 0 ? tp.yHost : tp.layers[i - 1].sHost;
    if (kept) return this.hostInput(tp, i, rows);
    return tp.take(i === this.hidden.length ? tp.last : tp.layers[i].x);
  }

  /** The fused path's VJP (see the cache comment): per layer one matMul and s(1 − s) (host or kernels). */
  private vjpFused(tp: MlpTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const c = this.cache!;
    const L = this.hidden.length;
    const fromS = { inputAffine: [2, -1] as const, takeX: true };
    const [B, D] = cotangent.shape;
    if (sink) {
      // Host matrices: the sink reads them without a kernel or a copy back from the backend.
      const g: HostMatrix = { data: cotangent.dataSync() as Float32Array, rows: B, cols: D };
      sink.addLinear(`${FIELD_PREFIX}output.weight`, `${FIELD_PREFIX}output.bias`, g, this.inputOf(tp, L, B), paramScale, L > 0 ? fromS : { takeX: true });
    }
    let ga = tf.matMul(cotangent, c.bw[L]) as tf.Tensor2D; // 4·dL/da (dL/dy when L = 0)
    for (let i = L - 1; i >= 0; i--) {
      const sH = tp.layers[i].sHost;
      if (!sH) {
        // Large activations: three SIMD kernels (see HOST_ELEMENTWISE_MAX).
        const s = tp.layers[i].act.a;
        const g = ga;
        const gz = tf.tidy(() => tf.mul(tf.mul(g, s), tf.sub(1, s)) as tf.Tensor2D); // dL/dz = 4 dL/da · s(1 − s)
        ga.dispose();
        const base = `${FIELD_PREFIX}layers.${i}.`;
        ga = tf.matMul(gz, c.bw[i]) as tf.Tensor2D;
        if (sink) sink.addLinear(`${base}linear.weight`, `${base}linear.bias`, gz, this.inputOf(tp, i, B), paramScale, i > 0 ? fromS : { takeX: true });
        else gz.dispose();
        continue;
      }
      // dL/dz = 4 dL/da · s(1 − s), on the host: one read and one upload instead of three
      // elementwise kernels (per-kernel dispatch dominates at these sizes).
      const gzH = sigmoidGrad(ga.dataSync() as Float32Array, sH);
      const F = ga.shape[1];
      const gz = tf.tensor2d(gzH, ga.shape);
      ga.dispose();
      const base = `${FIELD_PREFIX}layers.${i}.`;
      ga = tf.matMul(gz, c.bw[i]) as tf.Tensor2D;
      gz.dispose();
      if (sink) sink.addLinear(`${base}linear.weight`, `${base}linear.bias`, { data: gzH, rows: B, cols: F }, this.inputOf(tp, i, B), paramScale, i > 0 ? fromS : { takeX: true });
    }
    return ga;
  }

  /** The batch-norm tanh path's VJP (see bnTanh): per layer one matMul, the rest on the host. */
  private vjpBnTanh(tp: MlpTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const c = this.cache!;
    const L = this.hidden.length;
    const fromS = { inputAffine: [2, -1] as const, takeX: true };
    if (sink) {
      const g: HostMatrix = { data: cotangent.dataSync() as Float32Array, rows: cotangent.shape[0], cols: cotangent.shape[1] };
      sink.addLinear(`${FIELD_PREFIX}output.weight`, `${FIELD_PREFIX}output.bias`, g, this.hostInput(tp, L, cotangent.shape[0]), paramScale, L > 0 ? fromS : {});
    }
    let ga = tf.matMul(cotangent, c.bw[L]) as tf.Tensor2D; // 4·dL/da
    for (let i = L - 1; i >= 0; i--) {
      const lt = tp.layers[i];
      const [B, F] = ga.shape;
      const gaH = ga.dataSync() as Float32Array;
      ga.dispose();
      const base = `${FIELD_PREFIX}layers.${i}.`;
      // dL/dn = 4 dL/da · s(1 − s) (n the normalised z), applied inside hostBackward's first pass.
      const dz = (this.hidden[i].norm as BatchNormBase).hostBackward(lt.normTape as HostBnTape, gaH, lt.zHost!, B, sink, `${base}norm.`, paramScale, lt.sHost!);
      const gz = tf.tensor2d(dz, [B, F]);
      ga = tf.matMul(gz, c.bw[i]) as tf.Tensor2D;
      gz.dispose();
      if (sink) sink.addLinear(`${base}linear.weight`, `${base}linear.bias`, { data: dz, rows: B, cols: F }, this.hostInput(tp, i, B), paramScale, i > 0 ? fromS : {});
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
