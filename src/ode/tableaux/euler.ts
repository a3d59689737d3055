import type { ButcherTableau } from '../tableau.js';

/** Forward Euler, order 1 (Euler 1768; Hairer, Nørsett & Wanner I, §I.7). */
export const euler: ButcherTableau = {
  name: 'euler',
  order: 1,
  c: [0],
  a: [[]],
  b: [1],
  fsal: false,
  citation: 'Euler (1768); Hairer, Nørsett & Wanner, Solving ODEs I, §I.7',
};
