import type { ButcherTableau } from '../tableau.js';

/**
 * Bogacki–Shampine 3(2), FSAL: P. Bogacki and L. F. Shampine, "A 3(2) pair of Runge–Kutta
 * formulas", Appl. Math. Lett. 2(4), 321–325 (1989). Propagates the order-3 solution.
 */
const b = [2 / 9, 1 / 3, 4 / 9, 0];
const bHat = [7 / 24, 1 / 4, 1 / 3, 1 / 8];

export const bosh3: ButcherTableau = {
  name: 'bosh3',
  order: 3,
  embeddedOrder: 2,
  c: [0, 1 / 2, 3 / 4, 1],
  a: [[], [1 / 2], [0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
  b,
  errorWeights: b.map((bi, i) => bi - bHat[i]),
  fsal: true,
  citation: 'Bogacki & Shampine, Appl. Math. Lett. 2 (1989) 321–325',
};
