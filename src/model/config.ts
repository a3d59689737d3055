/** The Neural ODE's configuration: what config.json holds. */
import { checkActivation } from '../nn/activation.js';
import { checkNormKind } from '../nn/registry.js';
import type { MethodName } from '../ode/tableaux/index.js';
import { tableauFor } from '../ode/tableaux/index.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { MlpFieldConfig } from './mlp-field.js';

export interface SolverConfig {
  readonly method: MethodName;
  readonly rtol?: number;
  readonly atol?: number;
  readonly step?: number;
  readonly steps?: number;
  readonly maxSteps?: number;
}

/** The model: its vector field (MlpFieldConfig: dim, depth, width, activation, norm, timeSpan, TA-BN grid...) and its solver. */
export interface NeuralOdeConfig extends MlpFieldConfig {
  readonly solver: SolverConfig;
  /** Gradients by the adjoint method (default false: backpropagation through the solver). */
  readonly adjoint: boolean;
}

export type NeuralOdeConfigInput = Partial<Omit<NeuralOdeConfig, 'solver'>> & { dim: number; solver?: Partial<SolverConfig> };

export function resolveConfig(c: NeuralOdeConfigInput): NeuralOdeConfig {
  const cfg: NeuralOdeConfig = {
    dim: c.dim,
    depth: c.depth ?? 2,
    width: c.width ?? 64,
    activation: checkActivation(c.activation ?? 'tanh'),
    norm: checkNormKind(c.norm ?? 'none'),
    timeInput: c.timeInput ?? false,
    timeSpan: c.timeSpan ?? [0, 1],
    gridIntervals: c.gridIntervals ?? 100,
    eps: c.eps ?? 1e-5,
    momentum: c.momentum === undefined ? 0.1 : c.momentum,
    affine: c.affine ?? true,
    solver: { ...c.solver, method: c.solver?.method ?? 'dopri5' },
    adjoint: c.adjoint ?? false,
    seed: c.seed ?? 0,
    ...(c.normLayers !== undefined ? { normLayers: c.normLayers } : {}),
  };
  for (const k of ['dim', 'depth', 'width', 'gridIntervals'] as const) {
    if (!(Number.isInteger(cfg[k]) && cfg[k] >= 1)) throw new InvalidArgumentError(`model ${k} must be a positive integer, got ${String(cfg[k])}`);
  }
  const [t0, T] = cfg.timeSpan;
  if (!(Array.isArray(cfg.timeSpan) && cfg.timeSpan.length === 2 && Number.isFinite(t0) && Number.isFinite(T) && T > t0)) {
    throw new InvalidArgumentError(`model timeSpan must be [t0, T] with t0 < T, got ${JSON.stringify(cfg.timeSpan)}`);
  }
  if (cfg.normLayers !== undefined && !(Number.isInteger(cfg.normLayers) && cfg.normLayers >= 0 && cfg.normLayers <= cfg.depth)) {
    throw new InvalidArgumentError(`model normLayers must be an integer in [0, depth = ${cfg.depth}], got ${String(cfg.normLayers)}`, 'normalise at most every hidden layer');
  }
  if (!Number.isInteger(cfg.seed)) throw new InvalidArgumentError(`model seed must be an integer, got ${cfg.seed}`);
  tableauFor(cfg.solver.method);
  return cfg;
}
