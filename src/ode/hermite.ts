/**
 * Cubic Hermite dense output inside a step [t, t + h] from y0, y1 and the derivatives f0, f1
 * (Hairer, Nørsett & Wanner I, §II.6, eq. (6.7)): y(t + θh) = h00 y0 + h01 y1 + h (h10 f0 + h11 f1).
 * Third-order accurate: for the FSAL methods f1 is free; otherwise it is the next step's first stage.
 */
export interface HermiteWeights {
  readonly y0: number;
  readonly y1: number;
  /** Already multiplied by h. */
  readonly f0: number;
  readonly f1: number;
}

export function hermiteWeights(theta: number, h: number): HermiteWeights {
  const t2 = theta * theta;
  const t3 = t2 * theta;
  return {
    y0: 2 * t3 - 3 * t2 + 1,
    y1: -2 * t3 + 3 * t2,
    f0: h * (t3 - 2 * t2 + theta),
    f1: h * (t3 - t2),
  };
}
