/** Helpers shared by the system files: drawing parameters from their specs, checking options. */
import type { ParamSpec, SystemOptions } from './system.js';
import type { Rng } from '../src/util/rng.js';
import { InvalidArgumentError } from '../src/util/errors.js';

/** Draws each parameter uniformly from its range (a fixed parameter, equal ends, costs no draw). */
export function sampleParams(specs: readonly ParamSpec[], rng: Rng): Float64Array {
  const out = new Float64Array(specs.length);
  specs.forEach((spec, i) => {
    const [lo, hi] = spec.range;
    out[i] = lo === hi ? lo : rng.range(lo, hi);
  });
  return out;
}

/** Refuses options a system does not know, naming the ones it does. */
export function checkOptions(system: string, options: SystemOptions, known: readonly string[]): void {
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `system '${system}' has no option '${key}'`,
        known.length ? `options of ${system}: ${known.join(', ')}` : `${system} takes no options`,
      );
    }
  }
}

/** Options without undefined entries, so that they serialise into a manifest unchanged. */
export function cleanOptions(options: SystemOptions): Readonly<Record<string, string | number | boolean>> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out;
}
