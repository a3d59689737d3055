/**
 * What identifies a dataset: the manifest minus its shards and statistics (the "skeleton"). Two
 * runs with the same skeleton write the same bytes; resume, sharded runs and the finalizer compare
 * skeletons (without the physode version) to refuse mixing shards of different datasets.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { version as physodeVersion } from '../util/version.js';
import type { Manifest } from '../data/types.js';
import { SEED_DERIVATION } from './trajectories.js';
import type { IntegratorName } from './solve.js';
import type { ResolvedOptions } from './options.js';

export type Skeleton = Omit<Manifest, 'shards' | 'stats'>;

const ODEX_VERSION: string = (createRequire(import.meta.url)('odex/package.json') as { version: string }).version;
/** The manifest's record of the ground-truth integrator. */
const INTEGRATOR_DESCRIPTIONS: Readonly<Record<IntegratorName, { integrator: string; integratorVersion: string }>> = {
  odex: { integrator: 'odex (Hairer-Wanner GBS extrapolation, dense output)', integratorVersion: ODEX_VERSION },
  dop853: { integrator: 'dop853 (Dormand-Prince 8(5,3), Hairer-Wanner step control, 7th-order dense output, compensated summation)', integratorVersion: `physode ${physodeVersion}` },
};

/** The manifest minus shards and stats, from resolved options. */
export function skeleton(r: ResolvedOptions): Skeleton {
  const s = r.instance;
  return {
    format: 'physode-dataset',
    version: 1,
    complete: false,
    system: {
      name: s.name,
      options: s.options as Record<string, string | number | boolean>,
      paramLabels: s.paramLabels,
      params: s.params.map((p) => ({ name: p.name, default: p.default, range: p.range })),
      conservative: s.conservative,
    },
    state: { dim: s.dim, labels: s.stateLabels, ...(s.layout ? { layout: s.layout } : {}) },
    times: { start: 0, end: r.tEnd, count: r.samples },
    generator: {
      ...INTEGRATOR_DESCRIPTIONS[r.integrator],
      rtol: r.rtol,
      atol: r.atol,
      seed: r.seed,
      seedDerivation: SEED_DERIVATION,
      physodeVersion,
      noise: r.noise,
      derivatives: r.derivatives,
      count: r.count,
      shardSize: r.shardSize,
      split: r.split,
      ...(r.integrator === 'odex' ? { interpolationDegree: r.interpolationDegree } : {}),
    } as Manifest['generator'],
  };
}

/** The comparable part of a manifest or skeleton: no completeness flag, shards, stats or physode version. */
export function identity(m: Skeleton & Partial<Pick<Manifest, 'shards' | 'stats'>>): string {
  const { complete: _c, shards: _s, stats: _t, generator, ...rest } = m;
  const { physodeVersion: _v, ...gen } = generator;
  return canonicalJson({ ...rest, generator: gen });
}

/** A short stable name for "this dataset in this folder" (queue job ids). */
export function datasetId(r: ResolvedOptions): string {
  return createHash('sha256').update(identity(skeleton(r))).update('\0').update(resolve(r.out)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so that key order (e.g. after validation) does not matter. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
