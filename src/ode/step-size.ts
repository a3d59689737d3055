/**
 * Step-size controllers, passed to the stepping routine as objects (as diffrax's
 * `ConstantStepSize` and `PIDController`):
 * - ConstantStepSize: a fixed number of equal steps over each integration span.
 * - PidController: error control for embedded (adaptive) tableaux. The error of a step is scaled
 *   componentwise by atol + rtol·max(|y_n|, |y_{n+1}|) and reduced by `norm` (default: the RMS;
 *   pass another to measure the error differently, as diffrax's `PIDController(norm=...)`).
 *   Initial step: Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed., §II.4, "Starting Step
 *   Size" (p. 169). PI control (Gustafsson 1991) as in Hairer's DOPRI5 code: fac = safety ·
 *   err^(−α) · errPrev^β with β = 0.04, α = 1/k − 0.75 β, k = q + 1, q = min(order, embedded
 *   order), errPrev initialised to 1e-4; after a rejection only the I-part is used.
 */

/** Reduces a vector of scaled errors (each |e_i| / (atol + rtol·|y_i|)) to one number; ≤ 1 accepts. */
export type ErrorNorm = (scaled: Float64Array) => number;

export const rmsNorm: ErrorNorm = (v) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s / v.length);
};

export class ConstantStepSize {
  readonly adaptive = false;
  /** Either a step size (rounded so that whole steps fill each span) or a number of steps per span; neither: one step per output interval. */
  constructor(
    readonly step?: number,
    readonly steps?: number,
  ) {}

  /** Number of steps over a span of length |span| with `intervals` output intervals. */
  stepsOver(span: number, intervals: number): number {
    if (this.steps !== undefined) return this.steps;
    if (this.step !== undefined) return Math.max(1, Math.ceil(Math.abs(span) / this.step - 1e-9));
    return Math.max(1, intervals);
  }
}

export interface PidOptions {
  readonly rtol: number;
  readonly atol: number;
  readonly safety?: number;
  readonly minFactor?: number;
  readonly maxFactor?: number;
  /** The first step (default: Hairer's selection). */
  readonly firstStep?: number;
  /** Smallest step allowed, absolute (default 1e-10 × |span|). */
  readonly minStep?: number;
  readonly norm?: ErrorNorm;
}

/** The step-size factor after each attempted step, with the controller's memory of the last error. */
export interface StepSizeAdapter {
  /** Factor by which to multiply h after a step with error norm err (accepted when err ≤ 1). */
  factor(err: number, accepted: boolean): number;
}

export class PidController {
  readonly adaptive = true;
  readonly rtol: number;
  readonly atol: number;
  readonly safety: number;
  readonly minFactor: number;
  readonly maxFactor: number;
  readonly firstStep?: number;
  readonly minStep?: number;
  readonly norm: ErrorNorm;

  constructor(o: PidOptions) {
    this.rtol = o.rtol;
    this.atol = o.atol;
    this.safety = o.safety ?? 0.9;
    this.minFactor = o.minFactor ?? 0.2;
    this.maxFactor = o.maxFactor ?? 10;
    this.firstStep = o.firstStep;
    this.minStep = o.minStep;
    this.norm = o.norm ?? rmsNorm;
  }

  /** Weighted norm of v (or of h·Σ w_j k_j) against the states a and b (host arrays of one part each). */
  scaledNorm(parts: readonly { v: ArrayLike<number>; a: ArrayLike<number>; b: ArrayLike<number> }[]): number {
    let n = 0;
    for (const p of parts) n += p.v.length;
    const scaled = new Float64Array(n);
    let o = 0;
    for (const { v, a, b } of parts) {
      for (let i = 0; i < v.length; i++) scaled[o + i] = v[i] / (this.atol + this.rtol * Math.max(Math.abs(a[i]), Math.abs(b[i])));
      o += v.length;
    }
    return this.norm(scaled);
  }

  /** A fresh adapter for one integration by a method whose error estimate has order `order` (k = order + 1). */
  start(order: number): StepSizeAdapter {
    const k = order + 1;
    const beta = 0.04;
    const alpha = 1 / k - 0.75 * beta;
    let errPrev = 1e-4; // Hairer's `facold`
    return {
      factor: (err, accepted) => {
        if (!Number.isFinite(err)) return this.minFactor;
        const e = Math.max(err, 1e-10);
        if (accepted) {
          const fac = this.safety * Math.pow(e, -alpha) * Math.pow(errPrev, beta);
          errPrev = Math.max(err, 1e-4);
          return Math.min(this.maxFactor, Math.max(this.minFactor, fac));
        }
        return Math.min(1, Math.max(this.minFactor, this.safety * Math.pow(e, -1 / k)));
      },
    };
  }
}

export type StepSizeController = ConstantStepSize | PidController;

/**
 * Hairer's initial step from d0 = ||y0||, d1 = ||f0||, d2 = ||f(t0+h0, y0+h0 f0) - f0|| / h0
 * (all in the controller's norm). `probe(h0)` returns d2 for a trial step h0.
 */
export function initialStep(d0: number, d1: number, order: number, span: number, probe: (h0: number) => number): number {
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
  h0 = Math.min(h0, Math.abs(span));
  const d2 = probe(h0);
  const m = Math.max(d1, d2);
  const h1 = m <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / m, 1 / (order + 1));
  return Math.min(100 * h0, h1, Math.abs(span));
}
