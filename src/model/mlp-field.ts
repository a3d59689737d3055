/**
 * The MLP (mlp.ts) as the solver's VectorField, evaluated and differentiated in this project's
 * WebAssembly SIMD kernels (src/kernels: matrix products with fused bias and sigmoid, activations,
 * batch statistics and the batch norm's backward), one call per layer, on arrays resident in the
 * kernels' memory: TF.js only sees the field's input and output. The weights are prepared once
 * per solve (kernel-weights.ts); each normalisation layer is called through its interface
 * (src/nn/normalization.ts), and skipped when its descriptor says it is the identity or the layer
 * lies past the configured `normLayers`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalRequest, FieldOutput, FieldTape, VectorField } from '../ode/field.js';
import type { ActivationName } from '../nn/activation.js';
import type { Linear } from '../nn/linear.js';
import { normDescriptor } from '../nn/registry.js';
import type { NormTape, StateArray } from '../nn/normalization.js';
import {
  affineActivation,
  affineActivationGrad,
  intoResident,
  matmul,
  sigmoidGrad,
  withKernelThreads,
  type ColumnAffine,
  type KernelActivation,
  type PinnedArray,
} from '../kernels/host-kernels.js';
import { FIELD_PREFIX, Mlp, layerIsNormalised, type HiddenLayer, type MlpFieldConfig } from './mlp.js';
import { kernelWeights, type KernelWeights } from './kernel-weights.js';
import { KernelGradientSink, type HostMatrix } from './kernel-gradient-sink.js';

export { FIELD_PREFIX, type MlpFieldConfig } from './mlp.js';

/** A hidden layer's values, resident in the kernels' memory: its output, and what its backward needs. */
interface LayerTape {
  /** The layer's output: s = (a + 1) / 2 for tanh (see MlpField.hostWeights), else a. */
  readonly out: PinnedArray;
  /** z, the linear map's output (absent for tanh without normalisation, whose backward needs only s). */
  readonly z: PinnedArray | null;
  readonly normTape: NormTape | null;
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

/** The kernels' activation of hidden layers (tanh runs as a sigmoid: see MlpField.hostWeights). */
const KERNEL_ACTIVATION: Record<ActivationName, KernelActivation> = { tanh: 'sigmoid', softplus: 'softplus', silu: 'silu' };

export class MlpField implements VectorField<KernelGradientSink> {
  readonly dim: number;
  readonly config: MlpFieldConfig;
  readonly mlp: Mlp;
  /** tfjs variable name → logical name. */
  private readonly logicalOf = new Map<string, string>();
  /** Made once per solve (beginSolve … endSolve). */
  private cache: KernelWeights | null = null;
  /** tanh layers carry s = sigmoid(2z) = (tanh(z) + 1) / 2 (see kernel-weights.ts). */
  private readonly sForm: boolean;
  /** Per hidden layer: no normalisation follows its linear map. */
  private readonly identityNorm: readonly boolean[];
  private readonly activation: KernelActivation;
  /** Nesting depth of beginSolve/endSolve (a training step brackets its forward and backward solve once more). */
  private depthOfSolve = 0;

  constructor(config: MlpFieldConfig, variablePrefix: string) {
    this.mlp = new Mlp(config, variablePrefix);
    this.config = config;
    this.dim = config.dim;
    this.sForm = config.activation === 'tanh';
    const identity = normDescriptor(config.norm).identity;
    this.identityNorm = Array.from({ length: config.depth }, (_, i) => identity || !layerIsNormalised(config, i));
    this.activation = KERNEL_ACTIVATION[config.activation];
    for (const [name, v] of Object.entries(this.parameters())) this.logicalOf.set(v.name, name);
  }

  get hidden(): readonly HiddenLayer[] {
    return this.mlp.hidden;
  }

  get output(): Linear {
    return this.mlp.output;
  }

  /** Trainable variables by logical name. */
  parameters(): Record<string, tf.Variable> {
    return this.mlp.parameters();
  }

  /** Normalisation buffers by logical name. */
  buffers(): Record<string, StateArray> {
    return this.mlp.buffers();
  }

  setBuffers(state: Record<string, StateArray>): void {
    this.mlp.setBuffers(state);
  }

  gradientSink(): KernelGradientSink {
    return new KernelGradientSink();
  }

  beginSolve(): void {
    if (this.depthOfSolve++ > 0) return;
    for (const l of this.hidden) l.norm.beginSolve?.();
    this.cache = kernelWeights(this.mlp, this.sForm, this.identityNorm);
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
    if (this.identityNorm[i]) {
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
    let normTape: NormTape | null = null;
    try {
      const r = norm.forward(z, rows, req);
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
  vjp(tape: FieldTape, cotangent: tf.Tensor2D, sink: KernelGradientSink | null, paramScale: number): tf.Tensor2D {
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
  private layerBackward(i: number, lt: LayerTape, g: Float32Array | PinnedArray, rows: number, sink: KernelGradientSink | null, paramScale: number): PinnedArray {
    const size = rows * this.config.width;
    const width = this.config.width;
    const norm = this.hidden[i].norm;
    const prefix = `${FIELD_PREFIX}layers.${i}.norm.`;
    if (this.identityNorm[i]) {
      // tanh: 4 dL/da · s(1 − s); else dL/da · act'(z)
      return intoResident(size, (o) => (this.sForm ? sigmoidGrad(g, lt.out, o) : affineActivationGrad(g, lt.z!, rows, width, this.activation, null, o)));
    }
    if (this.sForm) {
      // the sigmoid's derivative is applied inside the normalisation's backward (one pass)
      return intoResident(size, (o) => norm.backward(lt.normTape!, g, lt.z!, rows, sink, prefix, paramScale, lt.out, o));
    }
    const gn = intoResident(size, (o) => affineActivationGrad(g, lt.z!, rows, width, this.activation, lt.affine, o));
    try {
      return intoResident(size, (o) => norm.backward(lt.normTape!, gn, lt.z!, rows, sink, prefix, paramScale, undefined, o));
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
    this.mlp.dispose();
  }
}
