/**
 * The registry of physical systems. Adding a system: write systems/<name>.ts exporting a
 * SystemDefinition, and add it to SYSTEMS below.
 */
import type { SystemDefinition, SystemInstance } from './system.js';
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

/** Recreates the system instance a dataset was generated with, from its manifest's `system` entry. */
export function systemFromManifest(manifest: { readonly system: { readonly name: string; readonly options: Readonly<Record<string, string | number | boolean>>; readonly [other: string]: unknown } }): SystemInstance {
  return getSystem(manifest.system.name).create(manifest.system.options);
}
