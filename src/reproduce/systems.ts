/**
 * The physical systems a sweep can use, by the name the user types in `--systems`, and how
 * `physode generate` makes a dataset for each (systems/ and issue 2 define the generators).
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { SystemRecipe } from './types.js';

export const SYSTEM_RECIPES: Readonly<Record<string, SystemRecipe>> = {
  pendulum: { name: 'pendulum', generator: 'pendulum', generateArgs: [] },
  'double-pendulum': { name: 'double-pendulum', generator: 'double-pendulum', generateArgs: [] },
  /** Random bound three-body systems in the centre-of-mass frame (issue 2's `random` preset). */
  nbody3: { name: 'nbody3', generator: 'nbody', generateArgs: ['--preset', 'random', '--bodies', '3'] },
  /** Chenciner–Montgomery figure-eight (Simó's initial data), issue 2's `figure-eight` preset. */
  'figure-eight': { name: 'figure-eight', generator: 'nbody', generateArgs: ['--preset', 'figure-eight'] },
};

/** The systems of issue 6: the pendulum, the double pendulum and a three-body system. */
export const DEFAULT_SYSTEMS: readonly string[] = ['pendulum', 'double-pendulum', 'nbody3'];

/** Parses `--systems a,b,c`, refusing unknown names with the list of known ones. */
export function parseSystems(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('--systems is empty', `use e.g. --systems ${DEFAULT_SYSTEMS.join(',')}`);
  for (const name of names) {
    if (!(name in SYSTEM_RECIPES)) {
      throw new InvalidArgumentError(`unknown system '${name}'`, `known systems: ${Object.keys(SYSTEM_RECIPES).join(', ')}`);
    }
  }
  return [...new Set(names)];
}
