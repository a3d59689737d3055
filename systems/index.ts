/**
 * The registry of physical systems. Adding a system: write systems/<name>.ts exporting a
 * SystemDefinition, and add it to SYSTEMS below.
 */
import type { SystemDefinition, SystemInstance } from './system.js';
import type { Manifest } from '../src/data/types.js';
import { InvalidArgumentError } from '../src/util/errors.js';
import { pendulum } from './pendulum.js';
import { dampedPendulum } from './damped-pendulum.js';
import { doublePendulum } from './double-pendulum.js';
import { nbody } from './nbody.js';

export type { SystemDefinition, SystemInstance, SystemOptions, ParamSpec, InitialCondition } from './system.js';

const SYSTEMS: readonly SystemDefinition[] = [pendulum, dampedPendulum, doublePendulum, nbody];

export function listSystems(): readonly SystemDefinition[] {
  return SYSTEMS;
}

export function getSystem(name: string): SystemDefinition {
  const system = SYSTEMS.find((s) => s.name === name);
  if (!system) {
    throw new InvalidArgumentError(`unknown system '${name}'`, `systems: ${SYSTEMS.map((s) => s.name).join(', ')}`);
  }
  return system;
}

/** Recreates the system instance a dataset was generated with, from its manifest. */
export function systemFromManifest(manifest: Pick<Manifest, 'system'>): SystemInstance {
  return getSystem(manifest.system.name).create(manifest.system.options);
}
