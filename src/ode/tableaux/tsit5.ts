import type { ButcherTableau } from '../tableau.js';

/**
 * Tsitouras 5(4), FSAL: Ch. Tsitouras, "Runge–Kutta pairs of order 5(4) satisfying only the first
 * column simplifying assumption", Comput. Math. Appl. 62(2), 770–775 (2011), Table 1. The digits
 * are those of OrdinaryDiffEq.jl (`Tsit5ConstantCacheActual`, the paper's values to double
 * precision), also used by diffrax (`diffrax/_solver/tsit5.py`). Propagates the order-5 solution;
 * errorWeights are b − b̂ as listed there (`btilde`; the last one is 1/66).
 */
const b = [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0];

export const tsit5: ButcherTableau = {
  name: 'tsit5',
  order: 5,
  embeddedOrder: 4,
  c: [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1],
  a: [
    [],
    [0.161],
    [-0.008480655492356989, 0.335480655492357],
    [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
    [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
    [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
    b.slice(0, 6),
  ],
  b,
  errorWeights: [
    -0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995, -0.1447110071732629, 0.5823571654525552, -0.45808210592918697,
    1 / 66,
  ],
  fsal: true,
  citation: 'Tsitouras, Comput. Math. Appl. 62 (2011) 770–775, Table 1; digits as in OrdinaryDiffEq.jl and diffrax',
};
