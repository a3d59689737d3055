/**
 * The DynamicsModel port over the project's NeuralODE (src/model/neural-ode.ts): layouts converted
 * (training uses [B, T, D], the solver [T, B, D]), variables and gradients keyed by the model's
 * logical parameter names (stable across processes, unlike tfjs variable names), and the blueprint
 * mapped to the model's configuration.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NeuralODE } from '../model/neural-ode.js';
import type { NeuralOdeConfigInput } from '../model/config.js';
import type { ActivationName } from '../nn/activation.js';
import type { MethodName } from '../ode/tableaux/index.js';
import { tableauFor } from '../ode/tableaux/index.js';
import { isAdaptive } from '../ode/tableau.js';
import type { OdeOptions } from '../ode/options.js';
import type { NamedTensor } from './checkpoint.js';
import type { DynamicsModel, ModelBlueprint, ModelFactory, Prediction, RunningStats, SolverOverride, StepResult } from './model-port.js';
import type { TrainableVariable } from './optimizer.js';
import { recalibrateStatistics } from './recalibration.js';

/** Solver options for a call: the method's own kind decides between step sizes and tolerances. */
export function solverOptions(base: { method: string; rtol: number; atol: number; step?: number | null }, o: SolverOverride = {}, fallbackStep?: number): Partial<OdeOptions> {
  const method = (o.method ?? base.method) as MethodName;
  const adaptive = isAdaptive(tableauFor(method));
  if (adaptive) return { method, rtol: o.rtol ?? base.rtol, atol: o.atol ?? base.atol, step: undefined, steps: undefined, ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}) };
  // A fixed-step method always gets a step size (see neuralOdeConfig): the override's, the model's,
  // else the output grid's first interval.
  const step = o.step ?? base.step ?? fallbackStep;
  return { method, step: step ?? undefined, steps: undefined };
}

export function neuralOdeConfig(bp: ModelBlueprint): NeuralOdeConfigInput {
  const adaptive = isAdaptive(tableauFor(bp.solver.method as MethodName));
  return {
    dim: bp.dim,
    depth: bp.model.depth,
    width: bp.model.width,
    activation: bp.model.activation as ActivationName,
    norm: bp.model.norm,
    timeSpan: [bp.span[0], bp.span[1]],
    gridIntervals: bp.model.gridIntervals,
    momentum: bp.model.momentum,
    solver: adaptive
      ? { method: bp.solver.method as MethodName, rtol: bp.solver.rtol, atol: bp.solver.atol }
      : // An explicit step (the data's sample interval unless given), so that the step does not
        // depend on how the output times of a call are spaced (without one, the solver takes one
        // step per output interval).
        { method: bp.solver.method as MethodName, step: bp.solver.step ?? bp.defaultStep },
    adjoint: bp.solver.adjoint,
    seed: bp.seed,
  };
}

/** [A, B, D] flat -> [B, A, D] flat. */
function swapLeading(src: ArrayLike<number>, a: number, b: number, d: number): Float32Array {
  const out = new Float32Array(a * b * d);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < d; k++) out[(j * a + i) * d + k] = src[(i * b + j) * d + k];
  return out;
}

export class NeuralOdePort implements DynamicsModel {
  readonly variables: readonly TrainableVariable[];

  /**
   * `trainMaxSteps`: step limit of the training-mode solves (training steps and recalibration),
   * not of predictions: validation and evaluation roll out the whole horizon, many windows long.
   */
  constructor(
    readonly model: NeuralODE,
    private readonly trainMaxSteps?: number,
  ) {
    this.variables = Object.entries(model.variables()).map(([name, variable]) => ({ name, variable }));
  }

  /** Step limit of training-mode solves (undefined: the solver's default). */
  get trainStepLimit(): number | undefined {
    return this.trainMaxSteps;
  }

  private get trainSolver(): { maxSteps?: number } | undefined {
    return this.trainMaxSteps === undefined ? undefined : { maxSteps: this.trainMaxSteps };
  }

  lossAndGradients(y0: Float32Array, batch: number, ts: Float64Array, target: Float32Array, mode: 'train' | 'eval' = 'train'): StepResult {
    const dim = y0.length / batch;
    const W = ts.length;
    const y0t = tf.tensor2d(y0, [batch, dim]);
    const tgt = tf.tensor3d(swapLeading(target, batch, W, dim), [W, batch, dim]);
    try {
      const r = this.model.lossAndGradients(y0t, Array.from(ts), tgt, { mode, solver: this.trainSolver });
      const grads = new Map<string, tf.Tensor>();
      for (const v of this.variables) {
        const g = r.grads[v.variable.name];
        if (g) grads.set(v.name, g);
      }
      // Anything not matched to a variable is released here.
      for (const g of Object.values(r.grads)) if (![...grads.values()].includes(g)) g.dispose();
      return { loss: r.loss, grads, nfe: r.stats.nfe };
    } finally {
      y0t.dispose();
      tgt.dispose();
    }
  }

  async predict(y0: Float32Array, batch: number, ts: Float64Array, solver?: SolverOverride): Promise<Prediction> {
    const dim = y0.length / batch;
    const y0t = tf.tensor2d(y0, [batch, dim]);
    try {
      const cfg = this.model.config.solver;
      const opts = solver ? solverOptions({ method: cfg.method, rtol: cfg.rtol ?? 1e-5, atol: cfg.atol ?? 1e-6, step: cfg.step }, solver, ts.length > 1 ? ts[1] - ts[0] : undefined) : {};
      const sol = this.model.predict(y0t, Array.from(ts), opts);
      const data = await sol.ys.data();
      sol.ys.dispose();
      return { states: swapLeading(data, ts.length, batch, dim), nfe: sol.stats.nfe };
    } finally {
      y0t.dispose();
    }
  }

  recalibrate(batches: Iterable<{ readonly y0: Float32Array; readonly batch: number; readonly ts: Float64Array }>): number {
    const model = this.model;
    function* tensors() {
      for (const b of batches) {
        const y0 = tf.tensor2d(b.y0, [b.batch, b.y0.length / b.batch]);
        try {
          yield { y0, ts: Array.from(b.ts) };
        } finally {
          y0.dispose();
        }
      }
    }
    return recalibrateStatistics(model, tensors(), this.trainSolver);
  }

  getState(): NamedTensor[] {
    return Object.entries(this.model.getState()).map(([name, s]) => ({ name, dtype: 'float32' as const, shape: [...s.shape], data: s.data }));
  }

  setState(tensors: readonly NamedTensor[]): void {
    const state: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const t of tensors) state[t.name] = { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
    this.model.setState(state);
  }

  save(dir: string): Promise<void> {
    return this.model.save(dir);
  }

  runningStats(): RunningStats | null {
    const s = this.model.tabnStatistics()[0];
    if (!s) return null;
    return { layer: s.layer, t: s.times, mean: s.mean, variance: s.variance, features: s.features, count: s.count, coverage: s.coverage };
  }

  dispose(): void {
    this.model.dispose();
  }
}

export const neuralOdeFactory: ModelFactory = {
  create: async (bp) => {
    const adaptive = isAdaptive(tableauFor(bp.solver.method as MethodName));
    return new NeuralOdePort(new NeuralODE(neuralOdeConfig(bp)), adaptive ? (bp.solver.maxSteps ?? undefined) : undefined);
  },
  load: async (dir) => new NeuralOdePort(await NeuralODE.load(dir)),
};
