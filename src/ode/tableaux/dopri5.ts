import type { ButcherTableau } from '../tableau.js';

/**
 * Dormand–Prince 5(4), FSAL: J. R. Dormand and P. J. Prince, "A family of embedded Runge–Kutta
 * formulae", J. Comput. Appl. Math. 6(1), 19–26 (1980); coefficients as in Hairer, Nørsett &
 * Wanner I, Table II.5.2. Propagates the order-5 solution (local extrapolation).
 */
const b = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const bHat = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40];

export const dopri5: ButcherTableau = {
  name: 'dopri5',
  order: 5,
  embeddedOrder: 4,
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b,
  errorWeights: b.map((bi, i) => bi - bHat[i]),
  fsal: true,
  citation: 'Dormand & Prince, J. Comput. Appl. Math. 6 (1980) 19–26; Hairer, Nørsett & Wanner I, Table II.5.2',
};
