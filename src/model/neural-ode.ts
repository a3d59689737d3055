/**
 * A Neural ODE: the MLP vector field with its solver settings. `predict` solves in evaluation
 * mode; `lossAndGradients` runs one training-mode solve (statistics updated from accepted steps),
 * the MSE loss against a target trajectory, and the gradients of every trainable variable, ready
 * for any tf optimizer's applyGradients. State (weights and normalisation buffers) is explicit,
 * and a model folder holds config.json plus model.safetensors (PyTorch-readable).
 */
import * as tf from '@tensorflow/tfjs-core';
import { odeint, odeintWithGradients, type OdeSolution, type SolveStats } from '../ode/odeint.js';
import type { OdeOptions } from '../ode/options.js';
import type { FieldMode } from '../ode/field.js';
import { MlpField } from './mlp-field.js';
import { resolveConfig, type NeuralOdeConfig, type NeuralOdeConfigInput } from './config.js';
import { tableauFor } from '../ode/tableaux/index.js';
import { isAdaptive } from '../ode/tableau.js';
import { TemporalAdaptiveBatchNorm } from '../nn/tabn.js';
import type { StateArray } from '../nn/normalization.js';
import { InvalidArgumentError } from '../util/errors.js';
import { loadModelFolder, saveModelFolder } from './model-folder.js';

export { CONFIG_FILE, WEIGHTS_FILE } from './model-folder.js';

let modelCounter = 0;

/**
 * Bytes of the kernels' memory (1 GiB in all, src/kernels/kernel-module.ts) that the tapes one
 * training solve records for backpropagation may take: half of it, the rest for everything else.
 */
export const RECORDING_BUDGET_BYTES = 512 * 2 ** 20;

/**
 * The step limit under which backpropagation through an adaptive solve of `batch` states stays in
 * RECORDING_BUDGET_BYTES: every accepted step records (stages + 1) evaluations, each keeping per
 * hidden layer at most three [batch, width] float32 arrays (output, pre-activation, normalisation
 * tape). A solve that needs more steps (a field turned stiff) stops with SolverError 'max-steps',
 * which training treats as divergence, instead of running the kernels out of memory. Undefined
 * for fixed steps (their count is set by the step size).
 */
export function recordingStepLimit(config: Pick<NeuralOdeConfig, 'depth' | 'width' | 'solver'>, batch: number): number | undefined {
  const s = config.solver;
  if (!isAdaptive(tableauFor(s.method)) || s.step !== undefined || s.steps !== undefined) return undefined; // fixed steps: their number is the user's
  const evaluations = tableauFor(config.solver.method).c.length + 1;
  const perEvaluation = 3 * batch * Math.max(1, config.width) * 4 * Math.max(1, config.depth);
  return Math.max(1, Math.min(10000, Math.floor(RECORDING_BUDGET_BYTES / (perEvaluation * evaluations))));
}

export interface TrainOptions {
  /** Override the model's gradient method. */
  readonly adjoint?: boolean;
  /** Override solver settings for this call. */
  readonly solver?: Partial<OdeOptions>;
  /**
   * Normalisation mode of the solve (default 'train': batch statistics, running statistics
   * updated). 'eval' trains through the running statistics, frozen ("FrozenBN"; Wu & Johnson,
   * "Rethinking 'Batch' in BatchNorm", 2021, §5: population statistics in training).
   */
  readonly mode?: FieldMode;
}

export interface LossAndGradients {
  /** MSE over the outputs. */
  readonly loss: number;
  /** Gradients keyed by tfjs variable name (pass to optimizer.applyGradients); the caller disposes them. */
  readonly grads: tf.NamedTensorMap;
  readonly stats: SolveStats;
}

/** Running statistics of one TA-BN layer against the grid times (for plots and coverage). */
export interface TabnStatistics {
  readonly layer: string;
  readonly times: Float64Array;
  /** [gridPoints, features], row-major. */
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly count: Float32Array;
  readonly features: number;
  /** Share of grid points that ever received weight. */
  readonly coverage: number;
}

/**
 * Applies gradients from lossAndGradients with any tfjs optimizer (its applyGradients accepts a
 * NamedTensorMap at run time, but is typed for variables only; this passes the typed list form).
 * Does not dispose the gradients.
 */
export function applyGradients(optimizer: tf.Optimizer, grads: tf.NamedTensorMap): void {
  optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
}

export class NeuralODE {
  readonly config: NeuralOdeConfig;
  readonly field: MlpField;

  constructor(config: NeuralOdeConfigInput) {
    this.config = resolveConfig(config);
    this.field = new MlpField(this.config, `physode${modelCounter++}/`);
  }

  /** Solver options of the model (method, tolerances, steps). */
  solverOptions(extra: Partial<OdeOptions> = {}): OdeOptions {
    const s = this.config.solver;
    return { method: s.method, rtol: s.rtol, atol: s.atol, step: s.step, steps: s.steps, maxSteps: s.maxSteps, ...extra };
  }

  /** States at `ts` from y0 [B, D] in evaluation mode; the caller owns `ys` [T, B, D]. */
  predict(y0: tf.Tensor2D, ts: readonly number[], opts: Partial<OdeOptions> = {}): OdeSolution {
    return odeint(this.field, y0, ts, this.solverOptions({ ...opts, mode: 'eval' }));
  }

  /**
   * One training evaluation: training-mode solve from y0 [B, D] over ts (length W), MSE against
   * target [W, B, D], and gradients. Nothing is applied; tensors created here are released.
   */
  lossAndGradients(y0: tf.Tensor2D, ts: readonly number[], target: tf.Tensor3D, opts: TrainOptions = {}): LossAndGradients {
    if (target.rank !== 3 || target.shape[0] !== ts.length || target.shape[1] !== y0.shape[0] || target.shape[2] !== y0.shape[1]) {
      throw new InvalidArgumentError(`target must have shape [${ts.length}, ${y0.shape[0]}, ${y0.shape[1]}], got [${target.shape.join(', ')}]`);
    }
    // One solve's worth of prepared weights for the forward and the backward solve (same weights).
    this.field.beginSolve();
    try {
      return this.lossAndGradientsInSolve(y0, ts, target, opts);
    } finally {
      this.field.endSolve();
    }
  }

  private lossAndGradientsInSolve(y0: tf.Tensor2D, ts: readonly number[], target: tf.Tensor3D, opts: TrainOptions): LossAndGradients {
    const adjoint = opts.adjoint ?? this.config.adjoint;
    const maxSteps = opts.solver?.maxSteps ?? this.config.solver.maxSteps ?? (adjoint ? undefined : recordingStepLimit(this.config, y0.shape[0]));
    const sol = odeintWithGradients(this.field, y0, ts, this.solverOptions({ ...opts.solver, mode: opts.mode ?? 'train', adjoint, ...(maxSteps !== undefined ? { maxSteps } : {}) }));
    let lossValue: number;
    let gradYs: tf.Tensor3D;
    try {
      [lossValue, gradYs] = tf.tidy(() => {
        const diff = tf.sub(sol.ys, target);
        const loss = tf.mean(tf.square(diff));
        return [loss.dataSync()[0], tf.mul(diff, 2 / diff.size) as tf.Tensor3D] as const;
      });
    } catch (err) {
      sol.dispose();
      sol.ys.dispose();
      throw err;
    }
    sol.ys.dispose();
    const g = sol.backward(gradYs);
    gradYs.dispose();
    g.y0.dispose();
    const logical = g.params;
    const grads: tf.NamedTensorMap = {};
    const params = this.field.parameters();
    for (const [name, v] of Object.entries(params)) {
      grads[v.name] = logical[name] ?? tf.zerosLike(v);
    }
    return { loss: lossValue, grads, stats: g.stats };
  }

  /** Trainable variables by logical name (e.g. field.layers.0.linear.weight). */
  variables(): Record<string, tf.Variable> {
    return this.field.parameters();
  }

  /** Every weight and normalisation buffer as named Float32Arrays (copies). */
  getState(): Record<string, StateArray> {
    const out: Record<string, StateArray> = {};
    for (const [name, v] of Object.entries(this.field.parameters())) out[name] = { shape: v.shape, data: Float32Array.from(v.dataSync() as Float32Array) };
    return { ...out, ...this.field.buffers() };
  }

  /** Restores what getState returned (exactly, bit for bit). */
  setState(state: Record<string, StateArray>): void {
    const params = this.field.parameters();
    for (const [name, v] of Object.entries(params)) {
      const s = state[name];
      if (!s) throw new InvalidArgumentError(`model state is missing '${name}'`, 'the state comes from a model with another configuration');
      if (s.shape.length !== v.shape.length || s.shape.some((d, i) => d !== v.shape[i])) {
        throw new InvalidArgumentError(`model state '${name}' has shape [${s.shape.join(', ')}], expected [${v.shape.join(', ')}]`);
      }
    }
    const buffers: Record<string, StateArray> = {};
    for (const [k, s] of Object.entries(state)) if (!(k in params)) buffers[k] = s;
    this.field.setBuffers(buffers);
    for (const [name, v] of Object.entries(params)) {
      const s = state[name];
      const t = tf.tensor(s.data, [...s.shape], 'float32');
      v.assign(t);
      t.dispose();
    }
  }

  /** Running statistics of every TA-BN layer (empty for other normalisations). */
  tabnStatistics(): TabnStatistics[] {
    const out: TabnStatistics[] = [];
    this.field.hidden.forEach((l, i) => {
      if (!(l.norm instanceof TemporalAdaptiveBatchNorm)) return;
      const s = l.norm.getState();
      out.push({
        layer: `field.layers.${i}.norm`,
        times: l.norm.gridTimes(),
        mean: s.running_mean.data,
        variance: s.running_var.data,
        count: s.count.data,
        features: l.norm.numFeatures,
        coverage: l.norm.coverage(),
      });
    });
    return out;
  }

  /** Grid coverage of the first TA-BN layer (share of grid points that received weight), or null. */
  gridCoverage(): number | null {
    return this.tabnStatistics()[0]?.coverage ?? null;
  }

  /** Writes config.json and model.safetensors into dir (atomically, each file). */
  async save(dir: string): Promise<void> {
    await saveModelFolder(dir, this, this.config);
  }

  static load(dir: string): Promise<NeuralODE> {
    return loadModelFolder(dir, 'NeuralODE.save', (config) => new NeuralODE(config as unknown as NeuralOdeConfigInput));
  }

  dispose(): void {
    this.field.dispose();
  }
}
