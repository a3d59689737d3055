/**
 * A continuous-depth model: input x → (optional linear lift) → z(0) → the MLP field's ODE over
 * depth t ∈ [0, 1] (TA-BN's grid spans [0, 1]) → z(1) → (optional linear head) → prediction.
 * The ODE's time is a depth variable, not physical time. What the prediction is scored against is
 * a task's business (src/tasks): `lossAndGradients` takes the task's loss as a function of the
 * prediction returning dL/dprediction, and carries it back through the head, the solve
 * (backpropagation or adjoint, src/ode) and the lift with hand-written linear-layer gradients.
 * A model folder holds config.json (with `kind: 'continuous-depth'`) and model.safetensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { odeint, odeintWithGradients } from '../ode/odeint.js';
import type { OdeOptions } from '../ode/options.js';
import type { FieldMode } from '../ode/field.js';
import { Linear } from '../nn/linear.js';
import type { StateArray } from '../nn/normalization.js';
import { CorruptFileError, InvalidArgumentError } from '../util/errors.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { NeuralODE, recordingStepLimit, type TabnStatistics } from './neural-ode.js';
import { CONFIG_FILE, loadModelFolder, saveModelFolder } from './model-folder.js';
import type { NeuralOdeConfig, NeuralOdeConfigInput } from './config.js';

export const CONTINUOUS_DEPTH_KIND = 'continuous-depth';

export interface ContinuousDepthConfig {
  readonly inputDim: number;
  /** 'linear': z(0) = x Wᵀ + b of width ode.dim; 'none': z(0) = x (ode.dim = inputDim). */
  readonly lift: 'none' | 'linear';
  /** 'linear': prediction = z(1) Wᵀ + b of width outputDim; 'none': prediction = z(1). */
  readonly head: 'none' | 'linear';
  readonly outputDim: number;
  /** The ODE over depth: field (dim = state width, depth, width, norm, normLayers...) and solver; timeSpan [0, 1]. */
  readonly ode: NeuralOdeConfig;
}

export interface ContinuousDepthConfigInput {
  readonly inputDim: number;
  readonly lift?: 'none' | 'linear';
  readonly head?: 'none' | 'linear';
  /** Width of z (default: inputDim). */
  readonly stateDim?: number;
  /** Default: the state width. */
  readonly outputDim?: number;
  readonly ode?: Omit<NeuralOdeConfigInput, 'dim' | 'timeSpan'>;
}

export interface ForwardResult {
  /** [batch, outputDim]. */
  readonly prediction: Float32Array;
  readonly nfe: number;
}

export interface ModelLossAndGradients {
  readonly loss: number;
  readonly prediction: Float32Array;
  /** Gradients by logical variable name (field.*, lift.*, head.*); the caller disposes them. */
  readonly grads: Map<string, tf.Tensor>;
  /** Forward and backward function evaluations. */
  readonly nfe: number;
  readonly nfeBackward: number;
}

export interface DepthTrainOptions {
  /** 'train' (default): batch statistics, running statistics updated; 'eval': frozen statistics. */
  readonly mode?: FieldMode;
  /** Step limit of this solve (default: recordingStepLimit for backpropagation); a SolverError 'max-steps' beyond it. */
  readonly maxSteps?: number;
}

let counter = 0;

function checkChoice(name: string, v: string): 'none' | 'linear' {
  if (v === 'none' || v === 'linear') return v;
  throw new InvalidArgumentError(`model ${name} must be 'none' or 'linear', got '${v}'`);
}

/** Defaults filled in and shapes checked (a lift or head 'none' fixes the widths). */
export function resolveDepthConfig(c: ContinuousDepthConfigInput): { config: ContinuousDepthConfig; odeInput: NeuralOdeConfigInput } {
  const lift = checkChoice('lift', c.lift ?? 'none');
  const head = checkChoice('head', c.head ?? 'none');
  if (!(Number.isInteger(c.inputDim) && c.inputDim >= 1)) throw new InvalidArgumentError(`model inputDim must be a positive integer, got ${c.inputDim}`);
  const stateDim = c.stateDim ?? c.inputDim;
  if (lift === 'none' && stateDim !== c.inputDim) throw new InvalidArgumentError(`without a lift the state width equals the input's (${c.inputDim}), got stateDim ${stateDim}`, 'add a linear lift or drop stateDim');
  const outputDim = c.outputDim ?? stateDim;
  if (head === 'none' && outputDim !== stateDim) throw new InvalidArgumentError(`without a head the output width equals the state's (${stateDim}), got outputDim ${outputDim}`, 'add a linear head or drop outputDim');
  const odeInput: NeuralOdeConfigInput = { ...c.ode, dim: stateDim, timeSpan: [0, 1] };
  return { config: { inputDim: c.inputDim, lift, head, outputDim, ode: null as unknown as NeuralOdeConfig }, odeInput };
}

/** y = x Wᵀ + b on tensors. */
function linearForward(l: Linear, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(x, l.weight, false, true), l.bias) as tf.Tensor2D);
}

/** dL/dW = gᵀx, dL/db = Σ_rows g, dL/dx = g W, into `grads` under prefix. */
function linearBackward(l: Linear, x: tf.Tensor2D, g: tf.Tensor2D, prefix: string, grads: Map<string, tf.Tensor>): tf.Tensor2D {
  grads.set(`${prefix}weight`, tf.matMul(g, x, true, false));
  grads.set(`${prefix}bias`, tf.sum(g, 0));
  return tf.matMul(g, l.weight);
}

export class ContinuousDepthModel {
  readonly config: ContinuousDepthConfig;
  readonly ode: NeuralODE;
  readonly lift: Linear | null;
  readonly head: Linear | null;

  constructor(input: ContinuousDepthConfigInput) {
    const { config, odeInput } = resolveDepthConfig(input);
    this.ode = new NeuralODE(odeInput);
    this.config = { ...config, ode: this.ode.config };
    const prefix = `physode-depth${counter++}/`;
    // Their own seeded streams, so the field's weights equal a NeuralODE's with the same seed.
    const seed = this.ode.config.seed;
    this.lift = config.lift === 'linear' ? new Linear(config.inputDim, this.ode.config.dim, new Rng(deriveSeed(seed, 1)), `${prefix}lift.`) : null;
    this.head = config.head === 'linear' ? new Linear(this.ode.config.dim, config.outputDim, new Rng(deriveSeed(seed, 2)), `${prefix}head.`) : null;
  }

  /** Trainable variables by logical name: field.*, lift.weight/bias, head.weight/bias. */
  variables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = { ...this.ode.variables() };
    if (this.lift) for (const [k, v] of Object.entries(this.lift.parameters())) out[`lift.${k}`] = v;
    if (this.head) for (const [k, v] of Object.entries(this.head.parameters())) out[`head.${k}`] = v;
    return out;
  }

  private checkInput(x: Float32Array, batch: number): void {
    if (!(Number.isInteger(batch) && batch >= 1) || x.length !== batch * this.config.inputDim) {
      throw new InvalidArgumentError(`input has ${x.length} values, expected batch ${batch} × ${this.config.inputDim}`);
    }
  }

  private solverOptions(extra: Partial<OdeOptions>): OdeOptions {
    return this.ode.solverOptions(extra);
  }

  /** Predictions in evaluation mode (running statistics, nothing updated). */
  predict(x: Float32Array, batch: number, solver: Partial<OdeOptions> = {}): ForwardResult {
    this.checkInput(x, batch);
    const xt = tf.tensor2d(x, [batch, this.config.inputDim]);
    const z0 = this.lift ? linearForward(this.lift, xt) : xt;
    try {
      const sol = odeint(this.ode.field, z0, [0, 1], this.solverOptions({ ...solver, mode: 'eval' }));
      const out = tf.tidy(() => {
        const z1 = tf.squeeze(tf.slice(sol.ys, [1, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
        return this.head ? linearForward(this.head, z1) : z1;
      });
      sol.ys.dispose();
      const prediction = out.dataSync() as Float32Array;
      out.dispose();
      return { prediction, nfe: sol.stats.nfe };
    } finally {
      if (z0 !== xt) z0.dispose();
      xt.dispose();
    }
  }

  /**
   * One training evaluation: the forward solve (training-mode statistics unless `mode: 'eval'`),
   * `loss(prediction)` → dL/dprediction, and the gradients of every variable. Nothing is applied.
   */
  lossAndGradients(x: Float32Array, batch: number, loss: (prediction: Float32Array) => { value: number; gradient: Float32Array }, opts: DepthTrainOptions = {}): ModelLossAndGradients {
    this.checkInput(x, batch);
    const field = this.ode.field;
    const grads = new Map<string, tf.Tensor>();
    const xt = tf.tensor2d(x, [batch, this.config.inputDim]);
    const z0 = this.lift ? linearForward(this.lift, xt) : xt;
    field.beginSolve();
    try {
      const cfg = this.ode.config;
      const maxSteps = opts.maxSteps ?? cfg.solver.maxSteps ?? (cfg.adjoint ? undefined : recordingStepLimit(cfg, batch));
      const solver = this.solverOptions({ mode: opts.mode ?? 'train', ...(maxSteps !== undefined ? { maxSteps } : {}) });
      const sol = odeintWithGradients(field, z0, [0, 1], solver);
      let z1: tf.Tensor2D;
      let prediction: Float32Array;
      let value: number;
      let gPred: tf.Tensor2D;
      try {
        z1 = tf.tidy(() => tf.squeeze(tf.slice(sol.ys, [1, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D);
        const out = this.head ? linearForward(this.head, z1) : z1;
        prediction = Float32Array.from(out.dataSync() as Float32Array);
        if (out !== z1) out.dispose();
        const l = loss(prediction);
        value = l.value;
        gPred = tf.tensor2d(l.gradient, [batch, this.config.outputDim]);
      } catch (err) {
        sol.dispose();
        throw err;
      } finally {
        sol.ys.dispose();
      }
      const gZ1 = this.head ? linearBackward(this.head, z1, gPred, 'head.', grads) : gPred;
      if (gZ1 !== gPred) gPred.dispose();
      z1.dispose();
      const gradYs = tf.tidy(() => tf.stack([tf.zerosLike(gZ1), gZ1]) as tf.Tensor3D);
      gZ1.dispose();
      const g = sol.backward(gradYs);
      gradYs.dispose();
      for (const [name, v] of Object.entries(this.ode.variables())) grads.set(name, g.params[name] ?? tf.zerosLike(v));
      for (const [name, t] of Object.entries(g.params)) if (grads.get(name) !== t) t.dispose();
      if (this.lift) linearBackward(this.lift, xt, g.y0, 'lift.', grads).dispose();
      g.y0.dispose();
      return { loss: value, prediction, grads, nfe: g.stats.nfe, nfeBackward: g.stats.nfeBackward ?? 0 };
    } catch (err) {
      for (const t of grads.values()) t.dispose();
      throw err;
    } finally {
      field.endSolve();
      if (z0 !== xt) z0.dispose();
      xt.dispose();
    }
  }

  /** Every weight and normalisation buffer (copies). */
  getState(): Record<string, StateArray> {
    const out = this.ode.getState();
    for (const [name, v] of Object.entries(this.variables())) {
      if (!name.startsWith('field.')) out[name] = { shape: v.shape, data: Float32Array.from(v.dataSync() as Float32Array) };
    }
    return out;
  }

  /** Restores what getState returned, bit for bit. */
  setState(state: Record<string, StateArray>): void {
    const own: Record<string, StateArray> = {};
    for (const [k, s] of Object.entries(state)) if (k.startsWith('field.')) own[k] = s;
    this.ode.setState(own);
    for (const [name, v] of Object.entries(this.variables())) {
      if (name.startsWith('field.')) continue;
      const s = state[name];
      if (!s || s.shape.join(',') !== v.shape.join(',')) {
        throw new InvalidArgumentError(`model state lacks '${name}' of shape [${v.shape.join(', ')}]`, 'the state comes from a model with another configuration');
      }
      const t = tf.tensor(s.data, [...s.shape], 'float32');
      v.assign(t);
      t.dispose();
    }
  }

  tabnStatistics(): TabnStatistics[] {
    return this.ode.tabnStatistics();
  }

  async save(dir: string): Promise<void> {
    const { ode, ...rest } = this.config;
    const { dim, timeSpan: _span, ...odeRest } = ode;
    await saveModelFolder(dir, this, { kind: CONTINUOUS_DEPTH_KIND, ...rest, stateDim: dim, ode: odeRest });
  }

  static load(dir: string): Promise<ContinuousDepthModel> {
    return loadModelFolder(dir, 'ContinuousDepthModel.save', (raw) => {
      if (raw.kind !== CONTINUOUS_DEPTH_KIND) throw new CorruptFileError(join(dir, CONFIG_FILE), `not a continuous-depth model (kind ${String(raw.kind)})`, 'a trajectory model loads with NeuralODE.load');
      const { kind: _kind, ...config } = raw;
      return new ContinuousDepthModel(config as unknown as ContinuousDepthConfigInput);
    });
  }

  dispose(): void {
    this.ode.dispose();
    this.lift?.dispose();
    this.head?.dispose();
  }
}
