/**
 * Solver options, torchdiffeq vocabulary, with defaults suited to float32 tensors, resolved into
 * the objects the solver runs: a tableau, a step-size controller and a gradient method.
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { FieldMode } from './field.js';
import { tableauFor, type MethodName } from './tableaux/index.js';
import { isAdaptive, type ButcherTableau } from './tableau.js';
import { ConstantStepSize, PidController, type ErrorNorm, type StepSizeController } from './step-size.js';

export interface OdeOptions {
  /** Default 'dopri5'. */
  readonly method?: MethodName;
  /** Adaptive methods: relative and absolute tolerance (defaults 1e-5, 1e-6: float32 has ~7 digits). */
  readonly rtol?: number;
  readonly atol?: number;
  /**
   * Fixed steps: the step size (rounded so that an integer number of steps fills the span)...
   * Given to an adaptive method, it runs that tableau with fixed steps (no error control).
   */
  readonly step?: number;
  /** ...or the number of steps over [ts[0], ts[last]]. Neither: as many uniform steps as ts has intervals (one per interval when evenly spaced). */
  readonly steps?: number;
  /** Adaptive methods: the first step (default: Hairer's selection). */
  readonly firstStep?: number;
  /** Maximum number of attempted steps (default 10000). */
  readonly maxSteps?: number;
  /** Smallest step size allowed, absolute (default 1e-10 × |span|). */
  readonly minStep?: number;
  /** Step-size controller safety factor and bounds on the change per step (0.9, 0.2, 10). */
  readonly safety?: number;
  readonly minFactor?: number;
  readonly maxFactor?: number;
  /** Normalisation mode of the field: 'eval' (default) or 'train' (batch statistics, updates). */
  readonly mode?: FieldMode;
  /** Attach the solution reached so far to a SolverError. */
  readonly returnPartial?: boolean;
  /** Gradients by the adjoint method instead of backpropagation through the solver. */
  readonly adjoint?: boolean;
  /** Adaptive methods: how a step's scaled error is reduced to one number (default: RMS). */
  readonly norm?: ErrorNorm;
}

export interface ResolvedOptions {
  readonly tableau: ButcherTableau;
  /** Error control for adaptive tableaux; equal steps for the others or when step/steps is given. */
  readonly controller: StepSizeController;
  readonly maxSteps: number;
  readonly mode: FieldMode;
  readonly returnPartial: boolean;
  readonly adjoint: boolean;
}

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
    throw new InvalidArgumentError(`ODE option ${name} must be a positive number, got ${v}`, `set ${name} > 0`);
  }
}

export function resolveOptions(o: OdeOptions = {}): ResolvedOptions {
  const tableau = tableauFor(o.method ?? 'dopri5');
  for (const k of ['rtol', 'atol', 'step', 'firstStep', 'minStep', 'safety', 'minFactor', 'maxFactor'] as const) positive(k, o[k]);
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps > 0)) {
    throw new InvalidArgumentError(`ODE option steps must be a positive integer, got ${o.steps}`);
  }
  if (o.maxSteps !== undefined && !(Number.isInteger(o.maxSteps) && o.maxSteps > 0)) {
    throw new InvalidArgumentError(`ODE option maxSteps must be a positive integer, got ${o.maxSteps}`);
  }
  if (o.step !== undefined && o.steps !== undefined) {
    throw new InvalidArgumentError('ODE options step and steps are exclusive', 'give either the step size or the number of steps');
  }
  const fixed = !isAdaptive(tableau) || o.step !== undefined || o.steps !== undefined;
  const controller = fixed
    ? new ConstantStepSize(o.step, o.steps)
    : new PidController({
        rtol: o.rtol ?? 1e-5,
        atol: o.atol ?? 1e-6,
        safety: o.safety,
        minFactor: o.minFactor,
        maxFactor: o.maxFactor,
        firstStep: o.firstStep,
        minStep: o.minStep,
        norm: o.norm,
      });
  return {
    tableau,
    controller,
    maxSteps: o.maxSteps ?? 10000,
    mode: o.mode ?? 'eval',
    returnPartial: o.returnPartial ?? false,
    adjoint: o.adjoint ?? false,
  };
}

/** The tolerances of a resolved solve, for messages (fixed steps have none). */
export function describeTolerances(o: ResolvedOptions): string {
  return o.controller instanceof PidController ? `rtol/atol ${o.controller.rtol}/${o.controller.atol}` : 'fixed steps';
}

/** Checks a time grid: finite, at least two points, strictly monotone in one direction. */
export function checkTimes(ts: readonly number[]): void {
  if (ts.length < 2) throw new InvalidArgumentError(`odeint needs at least 2 times, got ${ts.length}`, 'pass [t0, ..., T]');
  const dir = Math.sign(ts[1] - ts[0]);
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isFinite(ts[i])) throw new InvalidArgumentError(`time ts[${i}] is not finite`);
    if (i > 0 && Math.sign(ts[i] - ts[i - 1]) !== dir || dir === 0) {
      throw new InvalidArgumentError(`times must be strictly increasing (or strictly decreasing); ts[${i}] = ${ts[i]} breaks it`);
    }
  }
}
