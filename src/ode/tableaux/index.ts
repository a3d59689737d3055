/** The solver registry: method name → tableau. A new method is a new file plus one line here. */
import type { ButcherTableau } from '../tableau.js';
import { euler } from './euler.js';
import { midpoint } from './midpoint.js';
import { rk4 } from './rk4.js';
import { bosh3 } from './bosh3.js';
import { dopri5 } from './dopri5.js';
import { tsit5 } from './tsit5.js';
import { InvalidArgumentError } from '../../util/errors.js';

export const TABLEAUX = { euler, midpoint, rk4, bosh3, dopri5, tsit5 } as const satisfies Record<string, ButcherTableau>;
export type MethodName = keyof typeof TABLEAUX;
export const METHOD_NAMES = Object.keys(TABLEAUX) as MethodName[];

export function tableauFor(method: string): ButcherTableau {
  const t = (TABLEAUX as Record<string, ButcherTableau>)[method];
  if (t === undefined) {
    throw new InvalidArgumentError(`unknown ODE method '${method}'`, `use one of: ${METHOD_NAMES.join(', ')}`);
  }
  return t;
}
