import type { ButcherTableau } from '../tableau.js';

/** The classical Runge–Kutta method, order 4 (Kutta 1901; Hairer, Nørsett & Wanner I, Table II.1.2, left). */
export const rk4: ButcherTableau = {
  name: 'rk4',
  order: 4,
  c: [0, 1 / 2, 1 / 2, 1],
  a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  fsal: false,
  citation: 'Kutta (1901); Hairer, Nørsett & Wanner, Solving ODEs I, Table II.1.2',
};
