/**
 * The one stepping routine: runs any Butcher tableau from t0 to t1 over a state made of one or
 * more [B, D] tensors (the forward solve has one part; the adjoint has two), the whole batch
 * with one step size. The step-size controller (step-size.ts) is an object in the options:
 * equal steps, or error control for embedded tableaux (the error norm over the batch and the
 * parts that count, Hairer's first step, PI control). States at requested times come from
 * cubic Hermite interpolation inside steps. Differentiation strategies plug in through
 * `RkSystem`; this file knows nothing about gradients or normalisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ButcherTableau } from './tableau.js';
import type { ResolvedOptions } from './options.js';
import { hermiteWeights } from './hermite.js';
import { initialStep, PidController } from './step-size.js';
import { SolverError, type SolverStopReason } from './errors.js';

export type State = tf.Tensor2D[];

/** Why the solver evaluates: a stage of the current step, the end point for interpolation, or a probe. */
export type StageTag =
  | { readonly kind: 'stage'; readonly stage: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'probe' };

export interface RkSystem {
  /** Derivative of every part at (t, state); the returned tensors belong to the integrator. */
  derivative(t: number, state: State, tag: StageTag, index: number): State;
  /** The first stage of a step (f at the current, accepted point) has been evaluated. */
  firstStageDone?(): void;
  /** A step attempt of size h finished, accepted or rejected. */
  stepEnd?(accepted: boolean, h: number): void;
}

/** Where an output time fell: at the start, exactly at the end of accepted step n, or inside it. */
export type OutputPlace =
  | { readonly kind: 'start' }
  | { readonly kind: 'end'; readonly step: number }
  | { readonly kind: 'inside'; readonly step: number; readonly theta: number; readonly h: number };

export interface IntegrateResult {
  /** States at the output times (each a State), owned by the caller. */
  readonly outputs: State[];
  readonly places: OutputPlace[];
  readonly nfe: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Step sizes of the accepted steps, in order. */
  readonly steps: number[];
}

export interface IntegrateParams {
  readonly t0: number;
  readonly t1: number;
  /** Output times in (t0, t1], in the direction of integration (t0 itself may be listed first). */
  readonly outputTimes: readonly number[];
  /** How many leading parts enter the error norm (default: all). */
  readonly errorParts?: number;
  readonly options: ResolvedOptions;
  /** Added to the NFE counter for evaluation indices (several intervals share one counter). */
  readonly nfeOffset?: number;
}

/**
 * Host copies of tensors read by the stepping arithmetic (tensors are immutable, so a copy stays
 * valid; entries go with their tensors). The state combinations below run on the host: for the
 * small [B, D] states of a Neural ODE, one kernel per term (TF.js's per-op dispatch, ~5–20 µs)
 * costs far more than the arithmetic.
 */
const hostCopies = new WeakMap<tf.Tensor, Float32Array>();
function hostOf(x: tf.Tensor): Float32Array {
  let v = hostCopies.get(x);
  if (v === undefined) {
    v = x.dataSync() as Float32Array;
    hostCopies.set(x, v);
  }
  return v;
}

/**
 * States at least this wide combine in TF.js ops instead: there the per-op dispatch is a small
 * share, while the host loops cost ~2 ns per element and term plus a fresh array per result
 * (measured: a 256 × 784 rk4 step's combinations 8.6 ms on the host). Chosen by the width, not
 * the batch, so that a model's results do not depend on its batch size.
 */
const TENSOR_COMBINE_MIN_COLUMNS = 64;

/** base + h Σ_j weights[j] ks[j], part by part (each term added to the float32 state in turn). */
function combine(base: State, h: number, weights: readonly number[], ks: readonly State[]): State {
  return base.map((b, p) => {
    if (b.shape[1] >= TENSOR_COMBINE_MIN_COLUMNS) {
      return tf.tidy(() => {
        let out: tf.Tensor2D = b;
        weights.forEach((w, j) => {
          if (w !== 0) out = tf.add(out, tf.mul(ks[j][p], h * w));
        });
        return out === b ? b.clone() : out;
      });
    }
    const out = Float32Array.from(hostOf(b));
    let terms = 0;
    for (let j = 0; j < weights.length; j++) {
      if (weights[j] === 0) continue;
      const c = h * weights[j];
      const k = hostOf(ks[j][p]);
      for (let i = 0; i < out.length; i++) out[i] += c * k[i];
      terms++;
    }
    if (terms === 0) return b.clone();
    const t = tf.tensor2d(out, b.shape);
    hostCopies.set(t, out);
    return t;
  });
}

function disposeState(s: State | null | undefined): void {
  if (s) for (const x of s) x.dispose();
}

/** The error norm of v = h Σ_j w_j ks[j] (or of the State v itself) over the first `parts` parts, scaled by the states a and b. */
function errorNorm(ctrl: PidController, v: State | { h: number; w: readonly number[]; ks: readonly State[] }, a: State, b: State, parts: number): number {
  const terms: { v: ArrayLike<number>; a: ArrayLike<number>; b: ArrayLike<number> }[] = [];
  for (let p = 0; p < parts; p++) {
    const av = hostOf(a[p]);
    const bv = a[p] === b[p] ? av : hostOf(b[p]);
    if (Array.isArray(v)) {
      terms.push({ v: hostOf(v[p]), a: av, b: bv });
      continue;
    }
    const { h, w, ks } = v as { h: number; w: readonly number[]; ks: readonly State[] };
    const e = new Float64Array(av.length);
    w.forEach((wj, j) => {
      if (wj === 0) return;
      const k = hostOf(ks[j][p]);
      const c = h * wj;
      for (let i = 0; i < e.length; i++) e[i] += c * k[i];
    });
    terms.push({ v: e, a: av, b: bv });
  }
  return ctrl.scaledNorm(terms);
}

function allFinite(s: State): boolean {
  for (const x of s) {
    const v = hostOf(x);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  }
  return true;
}

export function integrate(system: RkSystem, y0: State, params: IntegrateParams): IntegrateResult {
  const { t0, t1, options } = params;
  const tab: ButcherTableau = options.tableau;
  const s = tab.c.length;
  const dir = Math.sign(t1 - t0);
  const span = t1 - t0;
  const controller = options.controller;
  const pid = controller instanceof PidController ? controller : null;
  const errorParts = params.errorParts ?? y0.length;
  const minStep = pid?.minStep ?? 1e-10 * Math.abs(span);
  const adapter = pid?.start(Math.min(tab.order, tab.embeddedOrder ?? tab.order));
  const tolerances = pid ? `rtol/atol (now ${pid.rtol}/${pid.atol})` : 'the step size';
  const offset = params.nfeOffset ?? 0;

  const outputs: State[] = [];
  const places: OutputPlace[] = [];
  const stepSizes: number[] = [];
  let nfe = 0;
  let accepted = 0;
  let rejected = 0;
  const evalAt = (t: number, st: State, tag: StageTag): State => {
    const r = system.derivative(t, st, tag, offset + nfe);
    nfe++;
    return r;
  };

  let outIdx = 0;
  const outTimes = params.outputTimes;
  const tol = 1e-12 * Math.max(1, Math.abs(t0), Math.abs(t1));
  while (outIdx < outTimes.length && Math.abs(outTimes[outIdx] - t0) <= tol) {
    outputs.push(y0.map((x) => x.clone()));
    places.push({ kind: 'start' });
    outIdx++;
  }

  let t = t0;
  let y: State = y0; // y0 belongs to the caller: never disposed here
  let k1: State | null = null;

  const fail = (reason: SolverStopReason, h: number, hint: string): never => {
    let partial;
    if (options.returnPartial && outputs.length > 0 && outputs[0].length === 1) {
      const ys = tf.stack(outputs.map((o) => o[0])) as tf.Tensor3D;
      partial = { ts: outTimes.slice(0, outputs.length), ys };
    }
    for (const o of outputs) disposeState(o);
    if (y !== y0) disposeState(y);
    disposeState(k1);
    throw new SolverError(reason, { t, h, nfe }, hint, partial);
  };

  let h: number;
  let fixedCount = 0;
  if (!pid) {
    // Neither step nor steps: as many uniform steps as the output times have intervals (one step per
    // interval when they are evenly spaced), as OdeOptions documents.
    fixedCount = (controller as Exclude<typeof controller, PidController>).stepsOver(span, params.outputTimes.length - 1);
    h = span / fixedCount;
  } else if (pid.firstStep !== undefined) {
    h = dir * Math.min(pid.firstStep, Math.abs(span));
  } else {
    k1 = evalAt(t, y, { kind: 'stage', stage: 0 });
    system.firstStageDone?.();
    const f0 = k1;
    const norm = (v: State): number => errorNorm(pid, v, y, y, errorParts);
    const d0 = norm(y);
    const d1 = norm(f0);
    h =
      dir *
      initialStep(d0, d1, tab.order, span, (h0) => {
        const y1 = combine(y, dir * h0, [1], [f0]);
        const f1 = evalAt(t + dir * h0, y1, { kind: 'probe' });
        const diff = tf.tidy(() => f1.map((x, p) => tf.sub(x, f0[p]) as tf.Tensor2D));
        const d2 = norm(diff) / h0;
        disposeState(y1);
        disposeState(f1);
        disposeState(diff);
        return d2;
      });
  }

  let attempts = 0;
  let lastErrFinite = true;
  while (dir * (t1 - t) > tol) {
    if (attempts >= options.maxSteps) {
      fail('max-steps', h, `raise maxSteps (now ${options.maxSteps}) or loosen ${tolerances}`);
    }
    attempts++;
    let last = false;
    if (!pid) {
      last = accepted + 1 === fixedCount;
    } else if (dir * (t + h - t1) >= -tol * 10) {
      h = t1 - t;
      last = true;
    }
    if (Math.abs(h) < minStep) {
      if (!lastErrFinite) fail('non-finite', h, 'the field returned NaN or Inf at every step size tried: the model or its input has diverged');
      fail('step-underflow', h, `the problem may be stiff or blow up here; loosen ${tolerances} or lower minStep (now ${minStep.toExponential(2)})`);
    }
    if (k1 === null) {
      k1 = evalAt(t, y, { kind: 'stage', stage: 0 });
      system.firstStageDone?.();
    }
    const ks: State[] = [k1];
    let lastInput: State | null = null;
    for (let i = 1; i < s; i++) {
      const yi = combine(y, h, tab.a[i], ks);
      ks.push(evalAt(t + tab.c[i] * h, yi, { kind: 'stage', stage: i }));
      if (tab.fsal && i === s - 1) lastInput = yi;
      else disposeState(yi);
    }
    const y1 = lastInput ?? combine(y, h, tab.b, ks);
    let err = 0;
    if (pid) {
      err = errorNorm(pid, { h, w: tab.errorWeights!, ks }, y, y1, errorParts);
      lastErrFinite = Number.isFinite(err);
    } else if (!allFinite(y1)) {
      for (let i = 1; i < s; i++) disposeState(ks[i]);
      disposeState(y1);
      fail('non-finite', h, 'the state became NaN or Inf: use a smaller step, an adaptive method, or check the model for divergence');
    }
    const ok = !pid || err <= 1;
    const tNew = !pid ? (last ? t1 : t0 + (accepted + 1) * h) : last ? t1 : t + h;
    if (ok) {
      // Outputs inside (t, tNew]: exactly at the end, or by Hermite interpolation.
      let fEnd: State | null = tab.fsal ? ks[s - 1] : null;
      while (outIdx < outTimes.length && dir * (outTimes[outIdx] - tNew) <= tol) {
        const tau = outTimes[outIdx];
        if (Math.abs(tau - tNew) <= tol) {
          outputs.push(y1.map((x) => x.clone()));
          places.push({ kind: 'end', step: accepted });
        } else {
          if (fEnd === null) fEnd = evalAt(tNew, y1, { kind: 'end' });
          const theta = (tau - t) / (tNew - t);
          const w = hermiteWeights(theta, tNew - t);
          const f1 = fEnd;
          const k0 = ks[0];
          outputs.push(
            tf.tidy(() => y.map((yp, p) => tf.addN([tf.mul(yp, w.y0), tf.mul(y1[p], w.y1), tf.mul(k0[p], w.f0), tf.mul(f1[p], w.f1)]) as tf.Tensor2D)),
          );
          places.push({ kind: 'inside', step: accepted, theta, h: tNew - t });
        }
        outIdx++;
      }
      system.stepEnd?.(true, tNew - t);
      stepSizes.push(tNew - t);
      accepted++;
      for (let i = 0; i < s; i++) if (!(tab.fsal && i === s - 1)) disposeState(ks[i]);
      if (y !== y0) disposeState(y);
      y = y1;
      t = tNew;
      k1 = tab.fsal ? ks[s - 1] : fEnd;
    } else {
      system.stepEnd?.(false, h);
      rejected++;
      for (let i = 1; i < s; i++) disposeState(ks[i]);
      disposeState(y1);
    }
    if (adapter) h *= adapter.factor(err, ok);
  }
  disposeState(k1);
  if (y !== y0) disposeState(y);
  return { outputs, places, nfe, accepted, rejected, steps: stepSizes };
}
