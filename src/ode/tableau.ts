/**
 * An explicit Runge–Kutta method as data: a Butcher tableau (Butcher 1964; Hairer, Nørsett &
 * Wanner, "Solving Ordinary Differential Equations I", 2nd ed., §II.1). One stepping routine
 * (integrate.ts) runs every tableau; adding a method is adding a file in tableaux/.
 */
export interface ButcherTableau {
  /** Registry name, e.g. 'dopri5'. */
  readonly name: string;
  /** Order of the propagated solution. */
  readonly order: number;
  /** Nodes c_i (c_0 = 0). */
  readonly c: readonly number[];
  /** Strictly lower-triangular coefficients: a[i] has i entries (a[0] is empty). */
  readonly a: readonly (readonly number[])[];
  /** Weights b_i of the propagated solution. */
  readonly b: readonly number[];
  /**
   * Adaptive methods only: weights of the error estimate, b_i - b̂_i, and the order of the
   * embedded solution (the controller's exponent uses min(order, embeddedOrder) + 1).
   */
  readonly errorWeights?: readonly number[];
  readonly embeddedOrder?: number;
  /** First Same As Last: the last stage is f(t + h, y_{n+1}) and serves as the next step's first. */
  readonly fsal: boolean;
  /** Where the coefficients come from. */
  readonly citation: string;
}

export function isAdaptive(tableau: ButcherTableau): boolean {
  return tableau.errorWeights !== undefined;
}
