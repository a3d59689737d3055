import type { ButcherTableau } from '../tableau.js';

/** Explicit midpoint rule, order 2 (Runge 1895; Hairer, Nørsett & Wanner I, §II.1, eq. 1.3). */
export const midpoint: ButcherTableau = {
  name: 'midpoint',
  order: 2,
  c: [0, 1 / 2],
  a: [[], [1 / 2]],
  b: [0, 1],
  fsal: false,
  citation: 'Runge (1895); Hairer, Nørsett & Wanner, Solving ODEs I, §II.1',
};
