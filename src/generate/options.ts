/** Options of `generateDataset` (mirroring `physode generate`), their defaults and their checks. */
import os from 'node:os';
import { join } from 'node:path';
import type { SystemInstance, SystemOptions } from '../../systems/system.js';
import { getSystem } from '../../systems/index.js';
import { InvalidArgumentError } from '../util/errors.js';
import { INTEGRATORS, type IntegratorName } from './solve.js';

export interface GenerateOptions {
  readonly system: string;
  /** Output folder; default datasets/<system or preset>. */
  readonly out?: string;
  readonly count?: number;
  readonly samples?: number;
  readonly tEnd?: number;
  readonly preset?: string;
  readonly bodies?: number;
  readonly softening?: number;
  readonly eccentricity?: number;
  readonly seed?: number;
  /** Trajectories per shard; default: as many as fit in about 32 MiB of states, at most 10,000. */
  readonly shardSize?: number;
  readonly workers?: number;
  /** Ground-truth integrator; default: the system's (odex for all but the Pythagorean preset). */
  readonly integrator?: IntegratorName;
  readonly rtol?: number;
  readonly atol?: number;
  readonly noise?: number;
  readonly split?: readonly [number, number, number];
  readonly derivatives?: boolean;
  /** Replace a different dataset in the output folder. */
  readonly force?: boolean;
  readonly maxSteps?: number;
  readonly interpolationDegree?: number;
}

export interface ResolvedOptions {
  readonly instance: SystemInstance;
  readonly systemOptions: SystemOptions;
  readonly out: string;
  readonly count: number;
  readonly samples: number;
  readonly tEnd: number;
  readonly seed: number;
  readonly shardSize: number;
  readonly workers: number;
  readonly integrator: IntegratorName;
  readonly rtol: number;
  readonly atol: number;
  readonly noise: number;
  readonly split: readonly [number, number, number];
  readonly derivatives: boolean;
  readonly force: boolean;
  readonly maxSteps?: number;
  readonly interpolationDegree: number;
}

export const DEFAULT_TOLERANCE = 1e-12;
const SHARD_BYTES = 32 * 2 ** 20;
const MAX_SHARD_SIZE = 10_000;

function check(ok: boolean, message: string, hint: string): void {
  if (!ok) throw new InvalidArgumentError(message, hint);
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 64));
}

export function resolveOptions(o: GenerateOptions): ResolvedOptions {
  const definition = getSystem(o.system);
  if (o.preset !== undefined && definition.presets.length === 0) {
    throw new InvalidArgumentError(`system '${o.system}' has no presets`, 'drop --preset (presets belong to nbody)');
  }
  const systemOptions: SystemOptions = { preset: o.preset, bodies: o.bodies, softening: o.softening, eccentricity: o.eccentricity };
  const instance = definition.create(systemOptions);
  const d = instance.defaults ?? { count: 256, samples: 100, tEnd: 10 };
  const count = o.count ?? d.count;
  const samples = o.samples ?? d.samples;
  const tEnd = o.tEnd ?? d.tEnd;
  check(Number.isInteger(count) && count >= 1 && count <= 2 ** 31 - 1, `--count must be a positive integer, got ${count}`, 'e.g. --count 1000');
  check(Number.isInteger(samples) && samples >= 2 && samples <= 10_000_000, `--samples must be an integer >= 2, got ${samples}`, 'e.g. --samples 100');
  check(Number.isFinite(tEnd) && tEnd > 0, `--t-end must be a positive number, got ${tEnd}`, 'e.g. --t-end 10');
  const seed = o.seed ?? 0;
  check(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, `--seed must be an integer in [0, 2^32), got ${seed}`, 'e.g. --seed 42');
  const integrator = o.integrator ?? d.integrator ?? 'odex';
  check(INTEGRATORS.includes(integrator), `unknown integrator '${integrator}' (--integrator)`, `use one of: ${INTEGRATORS.join(', ')}`);
  const rtol = o.rtol ?? d.tolerance ?? DEFAULT_TOLERANCE;
  const atol = o.atol ?? d.tolerance ?? DEFAULT_TOLERANCE;
  check(rtol > 0 && rtol < 1, `--rtol must be in (0, 1), got ${rtol}`, 'e.g. --rtol 1e-12');
  check(atol > 0 && atol < 1, `--atol must be in (0, 1), got ${atol}`, 'e.g. --atol 1e-12');
  const noise = o.noise ?? 0;
  check(Number.isFinite(noise) && noise >= 0, `--noise must be a number >= 0, got ${noise}`, 'e.g. --noise 0.01 (1% of each component\'s spread)');
  const split = o.split ?? [0.8, 0.1, 0.1];
  check(split.length === 3 && split.every((f) => Number.isFinite(f) && f >= 0) && Math.abs(split[0] + split[1] + split[2] - 1) < 1e-9,
    `--split must be three fractions >= 0 summing to 1, got ${split.join(',')}`, 'e.g. --split 0.8,0.1,0.1');
  const bytesPerTrajectory = samples * instance.dim * 8 * (1 + (o.derivatives ? 1 : 0) + (noise > 0 ? 1 : 0)) + samples * 8;
  const shardSize = o.shardSize ?? Math.max(1, Math.min(MAX_SHARD_SIZE, Math.floor(SHARD_BYTES / bytesPerTrajectory)));
  check(Number.isInteger(shardSize) && shardSize >= 1, `--shard-size must be a positive integer, got ${shardSize}`, 'e.g. --shard-size 1000');
  check(shardSize * bytesPerTrajectory < 2 ** 31, `--shard-size ${shardSize} makes shards over 2 GiB`, 'use a smaller --shard-size');
  const workers = o.workers ?? defaultWorkers();
  check(Number.isInteger(workers) && workers >= 1 && workers <= 256, `--workers must be an integer in [1, 256], got ${workers}`, 'e.g. --workers 2');
  const interpolationDegree = o.interpolationDegree ?? 5;
  check(Number.isInteger(interpolationDegree) && interpolationDegree >= 1 && interpolationDegree <= 6, `interpolationDegree must be 1..6, got ${interpolationDegree}`, 'odex MUDIF, default 5');
  const name = typeof instance.options.preset === 'string' ? instance.options.preset : instance.name;
  return {
    instance, systemOptions, out: o.out ?? join('datasets', name), count, samples, tEnd, seed, shardSize,
    workers, integrator, rtol, atol, noise, split, derivatives: o.derivatives ?? false, force: o.force ?? false,
    maxSteps: o.maxSteps, interpolationDegree,
  };
}
