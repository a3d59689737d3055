/**
 * Step-size selection for adaptive Runge–Kutta methods.
 * - Initial step: Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed., §II.4, "Starting Step Size" (p. 169).
 * - PI controller (Gustafsson 1991) as in Hairer's DOPRI5 code (Hairer, Nørsett & Wanner I,
 *   §II.4 and the code's defaults): fac = safety · err^(−α) · errPrev^β with β = 0.04,
 *   α = 1/k − 0.75 β, k = q + 1, q = min(order, embedded order), errPrev initialised to 1e-4;
 *   after a rejection only the I-part is used and errPrev is kept.
 */
export interface ControllerState {
  /** Error norm of the last accepted step (Hairer's `facold`, initialised to 1e-4). */
  errPrev: number;
}

export function newController(): ControllerState {
  return { errPrev: 1e-4 };
}

export interface ControllerParams {
  readonly k: number;
  readonly safety: number;
  readonly minFactor: number;
  readonly maxFactor: number;
}

/** The factor by which to multiply h after a step with error norm err (accepted when err <= 1). */
export function nextStepFactor(err: number, accepted: boolean, state: ControllerState, p: ControllerParams): number {
  if (!Number.isFinite(err)) return p.minFactor;
  const beta = 0.04;
  const alpha = 1 / p.k - 0.75 * beta;
  const e = Math.max(err, 1e-10);
  if (accepted) {
    const fac = p.safety * Math.pow(e, -alpha) * Math.pow(state.errPrev, beta);
    state.errPrev = Math.max(err, 1e-4);
    return Math.min(p.maxFactor, Math.max(p.minFactor, fac));
  }
  const fac = p.safety * Math.pow(e, -1 / p.k);
  return Math.min(1, Math.max(p.minFactor, fac));
}

/**
 * Hairer's initial step from d0 = ||y0||, d1 = ||f0||, d2 = ||f(t0+h0, y0+h0 f0) - f0|| / h0
 * (all in the weighted RMS norm). `probe(h0)` returns d2 for a trial step h0.
 */
export function initialStep(d0: number, d1: number, order: number, span: number, probe: (h0: number) => number): number {
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
  h0 = Math.min(h0, Math.abs(span));
  const d2 = probe(h0);
  const m = Math.max(d1, d2);
  const h1 = m <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / m, 1 / (order + 1));
  return Math.min(100 * h0, h1, Math.abs(span));
}
