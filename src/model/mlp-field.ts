/**
 * The vector field backbone: an MLP whose hidden layers are linear → normalisation at time t →
 * activation, with an optional time input (t appended to the state) and a final linear layer.
 * Implements the solver's VectorField contract with a hand-written vector–Jacobian product that,
 * like the evaluation, runs entirely in this project's WebAssembly SIMD kernels (src/kernels:
 * matrix products with fused bias and sigmoid, activations, batch statistics and the batch
 * norm's backward), one call per layer, on arrays resident in the kernels' memory: TF.js only sees
 * the field's input and output. (Run op by op in TF.js, the ~1,000 kernel calls of a training step
 * cost 5–30 µs of dispatch each, and its wasm products ran at 10–27 GFLOP/s.)
 *
 * Logical parameter names (used for state, files and gradients):
 *   field.layers.{i}.linear.weight [out, in], field.layers.{i}.linear.bias [out],
 *   field.layers.{i}.norm.{weight,bias,running_mean,running_var,...}, field.output.{weight,bias}.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalRequest, FieldOutput, FieldTape, GradientSink, HostMatrix, VectorField } from '../ode/field.js';
import { Linear } from '../nn/linear.js';
import type { ActivationName } from '../nn/activation.js';
import { createNormalization } from '../nn/create.js';
import type { NormKind, Normalization, StateArray } from '../nn/normalization.js';
import { BatchNormBase, type HostBnTape } from '../nn/batch-norm-base.js';
import { InvalidArgumentError } from '../util/errors.js';
import {
  affineActivation,
  affineActivationGrad,
  intoResident,
  matmul,
  pinArrays,
  sigmoidGrad,
  withKernelThreads,
  type ColumnAffine,
  type KernelActivation,
  type PinnedArray,
  type PinnedSet,
} from '../kernels/host-kernels.js';
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
  /** NoNormalization or a batch normalisation (BatchNormBase: minibatch, popti, pop, tabn). */
  readonly norm: Normalization;
}

/** A hidden layer's values, resident in the kernels' memory: its output, and what its backward needs. */
interface LayerTape {
  /** The layer's output: s = (a + 1) / 2 for tanh (see MlpField.hostWeights), else a. */
  readonly out: PinnedArray;
  /** z, the linear map's output (absent for tanh without normalisation, whose backward needs only s). */
  readonly z: PinnedArray | null;
  readonly normTape: HostBnTape | null;
  /** The normalisation's per-column scale and shift (batch norms with softplus or SiLU). */
  readonly affine: ColumnAffine | null;
}

/** Frees layer tapes' arrays. */
function releaseLayers(layers: LayerTape[]): void {
  for (const l of layers) {
    l.normTape?.dispose();
    l.out.set.release();
    l.z?.set.release();
  }
  layers.length = 0;
}

/** What an evaluation keeps for its VJP: the first layer's input x₀ ([y, t] with time input) and the layer tapes. */
class MlpTape implements FieldTape {
  constructor(
    readonly x0: Float32Array,
    readonly rows: number,
    readonly layers: LayerTape[],
  ) {}
  dispose(): void {
    releaseLayers(this.layers);
  }
}

/**
 * The weights as the kernels use them, made once per solve from the parameters (see
 * MlpField.hostWeights) and pinned in the kernels' memory: per linear layer (the output layer
 * last) the forward map [in, out] and shift [out], and the backward map [out, in] (for the first
 * layer without the time column: the VJP is with respect to y).
 */
interface HostWeights {
  readonly forward: PinnedArray[];
  readonly shift: PinnedArray[];
  readonly backward: PinnedArray[];
  readonly pinned: PinnedSet;
}

export const FIELD_PREFIX = 'field.';

/** The kernels' activation of hidden layers (tanh runs as a sigmoid: see MlpField.hostWeights). */
const KERNEL_ACTIVATION: Record<ActivationName, KernelActivation> = { tanh: 'sigmoid', softplus: 'softplus', silu: 'silu' };

export class MlpField implements VectorField {
  readonly dim: number;
  readonly config: MlpFieldConfig;
  readonly hidden: HiddenLayer[] = [];
  readonly output: Linear;
  /** tfjs variable name → logical name. */
  private readonly logicalOf = new Map<string, string>();
  /** Made once per solve (beginSolve … endSolve). */
  private cache: HostWeights | null = null;
  /** tanh layers carry s = sigmoid(2z) = (tanh(z) + 1) / 2 (see hostWeights). */
  private readonly sForm: boolean;
  private readonly activation: KernelActivation;
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
    this.sForm = c.activation === 'tanh';
    this.activation = KERNEL_ACTIVATION[c.activation];
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
    this.cache = this.hostWeights();
  }

  /**
   * The kernels' maps. For tanh, hidden layers carry s = sigmoid(2z) instead of a = tanh(z) =
   * 2s − 1 (one fused kernel instead of an exp-based tanh), and the maps absorb the conversions
   * (with a normalisation, its scale and shift take the 2 instead):
   *   layer 0:  2z = x₀ (2W₀ᵀ) + 2b₀;   layer i > 0:  2z = s (4Wᵢᵀ) + 2(bᵢ − Wᵢ·1);
   *   output:   f = s (2W_oᵀ) + (b_o − W_o·1);
   * backward: tanh' = 1 − a² = 4 s (1 − s), the 4 absorbed in the backward map 4W (W₀ for layer 0).
   * Softplus and SiLU layers carry a itself: plain maps Wᵀ, b and W.
   */
  private hostWeights(): HostWeights {
    const layers = [...this.hidden.map((l) => l.linear), this.output];
    const forward: Float32Array[] = [];
    const shift: Float32Array[] = [];
    const backward: Float32Array[] = [];
    const noNorm = this.config.norm === 'none';
    layers.forEach((lin, i) => {
      const [nOut, nIn] = lin.weight.shape as [number, number];
      const w = lin.weight.dataSync() as Float32Array;
      const b = lin.bias.dataSync() as Float32Array;
      const fromS = this.sForm && i > 0; // the input is s of the previous layer
      const inner = this.sForm && noNorm && i < layers.length - 1 ? 2 : 1; // sigmoid(2z), unless a normalisation follows
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
      // The VJP is with respect to y: the first layer's time column (its last) is dropped.
      const nBack = i === 0 ? this.dim : nIn;
      const bw = new Float32Array(nOut * nBack);
      const bScale = fromS ? 4 : 1;
      for (let o = 0; o < nOut; o++) for (let k = 0; k < nBack; k++) bw[o * nBack + k] = bScale * w[o * nIn + k];
      backward.push(bw);
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
    this.cache?.pinned.release();
    this.cache = null;
  }

  private withCache<T>(fn: () => T): T {
    const had = this.cache !== null;
    if (!had) this.beginSolve();
    try {
      return withKernelThreads(fn);
    } finally {
      if (!had) this.endSolve();
    }
  }

  /** The first layer's input: y, or [y, t] with time input. */
  private firstInput(y: Float32Array, rows: number, t: number): Float32Array {
    if (!this.config.timeInput) return y;
    const D = this.dim;
    const x = new Float32Array(rows * (D + 1));
    for (let r = 0; r < rows; r++) {
      x.set(y.subarray(r * D, (r + 1) * D), r * (D + 1));
      x[r * (D + 1) + D] = t;
    }
    return x;
  }

  /** One hidden layer forward from x (rows × in), its values resident in the kernels' memory. */
  private layerForward(i: number, x: Float32Array | PinnedArray, rows: number, req: EvalRequest): LayerTape {
    const { forward, shift } = this.cache!;
    const size = rows * this.config.width;
    const width = this.config.width;
    const norm = this.hidden[i].norm;
    if (!(norm instanceof BatchNormBase)) {
      if (this.sForm) return { out: intoResident(size, (o) => matmul(x, rows, forward[i], width, shift[i], 'sigmoid', o)), z: null, normTape: null, affine: null };
      const z = intoResident(size, (o) => matmul(x, rows, forward[i], width, shift[i], 'linear', o));
      try {
        return { out: intoResident(size, (o) => affineActivation(z, rows, width, this.activation, null, o)), z, normTape: null, affine: null };
      } catch (err) {
        z.set.release();
        throw err;
      }
    }
    const z = intoResident(size, (o) => matmul(x, rows, forward[i], width, shift[i], 'linear', o));
    let normTape: HostBnTape | null = null;
    try {
      const r = norm.hostForward(z, rows, req);
      normTape = r.tape ?? null;
      // tanh: s = sigmoid(2·norm(z)) = (tanh(norm(z)) + 1) / 2; else a = act(norm(z))
      const affine = this.sForm ? { scale: r.scale.map((v) => 2 * v), shift: r.shift.map((v) => 2 * v) } : { scale: r.scale, shift: r.shift };
      const out = intoResident(size, (o) => affineActivation(z, rows, width, this.activation, affine, o));
      return { out, z, normTape, affine: this.sForm ? null : affine };
    } catch (err) {
      normTape?.dispose();
      z.set.release();
      throw err;
    }
  }

  evaluate(y: tf.Tensor2D, req: EvalRequest): FieldOutput {
    return this.withCache(() => {
      const { forward, shift } = this.cache!;
      const B = y.shape[0];
      const x0 = this.firstInput(y.dataSync() as Float32Array, B, req.t);
      const layers: LayerTape[] = [];
      let x: Float32Array | PinnedArray = x0;
      try {
        for (let i = 0; i < this.hidden.length; i++) {
          const layer = this.layerForward(i, x, B, req);
          layers.push(layer);
          if (!req.record && i > 0) releaseLayers(layers.splice(0, 1)); // x, the layer before, is consumed
          x = layer.out;
        }
        const L = this.hidden.length;
        const dy = tf.tensor2d(matmul(x, B, forward[L], this.dim, shift[L]), [B, this.dim]);
        if (!req.record) {
          releaseLayers(layers);
          return { dy };
        }
        return { dy, tape: new MlpTape(x0, B, layers) };
      } catch (err) {
        releaseLayers(layers);
        throw err;
      }
    });
  }

  /**
   * Per layer, from the output down: the activation's and the normalisation's backward, the
   * weight gradients into the sink (host matrices: nothing is read back), and a product with the
   * backward map.
   */
  vjp(tape: FieldTape, cotangent: tf.Tensor2D, sink: GradientSink | null, paramScale: number): tf.Tensor2D {
    const tp = tape as MlpTape;
    return this.withCache(() => {
      const { backward } = this.cache!;
      const L = this.hidden.length;
      const B = tp.rows;
      const size = B * this.config.width;
      const width = this.config.width;
      // The input of linear layer i (L: the output layer): x₀, or the layer before's output (for
      // tanh its s, whose a = 2s − 1 the sink applies after its product).
      const inputOf = (i: number): HostMatrix => {
        const data = i === 0 ? tp.x0 : tp.layers[i - 1].out;
        return { data, rows: B, cols: data.length / B };
      };
      const options = (i: number) => ({ inputAffine: i > 0 && this.sForm ? ([2, -1] as const) : undefined });
      // dL/df, then dL/dz of each layer; resident in the kernels' memory after the output layer
      let g: Float32Array | PinnedArray = cotangent.dataSync() as Float32Array;
      const release = (a: Float32Array | PinnedArray) => {
        if (!(a instanceof Float32Array)) a.set.release();
      };
      try {
        for (let i = L; i >= 0; i--) {
          if (i < L) {
            const gz = this.layerBackward(i, tp.layers[i], g, B, sink, paramScale);
            release(g);
            g = gz;
          }
          if (sink) {
            const name = i === L ? `${FIELD_PREFIX}output.` : `${FIELD_PREFIX}layers.${i}.linear.`;
            sink.addLinear(`${name}weight`, `${name}bias`, { data: g, rows: B, cols: g.length / B }, inputOf(i), paramScale, options(i));
          }
          if (i === 0) break;
          const gi = g;
          const next = intoResident(size, (o) => matmul(gi, B, backward[i], width, null, 'linear', o)); // dL/d(out) of the layer before
          release(g);
          g = next;
        }
        return tf.tensor2d(matmul(g, B, backward[0], this.dim, null), [B, this.dim]); // dL/dy, copied out
      } finally {
        release(g);
      }
    });
  }

  /** dL/dz of hidden layer i from g = dL/d(its output) (for tanh: 4·dL/da, see hostWeights). */
  private layerBackward(i: number, lt: LayerTape, g: Float32Array | PinnedArray, rows: number, sink: GradientSink | null, paramScale: number): PinnedArray {
    const size = rows * this.config.width;
    const width = this.config.width;
    const norm = this.hidden[i].norm;
    const prefix = `${FIELD_PREFIX}layers.${i}.norm.`;
    if (!(norm instanceof BatchNormBase)) {
      // tanh: 4 dL/da · s(1 − s); else dL/da · act'(z)
      return intoResident(size, (o) => (this.sForm ? sigmoidGrad(g, lt.out, o) : affineActivationGrad(g, lt.z!, rows, width, this.activation, null, o)));
    }
    if (this.sForm) {
      // the sigmoid's derivative is applied inside the normalisation's backward (one pass)
      return intoResident(size, (o) => norm.hostBackward(lt.normTape!, g, lt.z!, rows, sink, prefix, paramScale, lt.out, o));
    }
    const gn = intoResident(size, (o) => affineActivationGrad(g, lt.z!, rows, width, this.activation, lt.affine, o));
    try {
      return intoResident(size, (o) => norm.hostBackward(lt.normTape!, gn, lt.z!, rows, sink, prefix, paramScale, undefined, o));
    } finally {
      gn.set.release();
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
