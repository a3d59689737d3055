/** manifest.json (DATASET.md): parsing with validation, and the shard expectations it implies. */
import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { CorruptFileError } from '../util/errors.js';
import type { Manifest, ShardEntry } from './types.js';
import type { ShardExpectations } from './shard.js';

export const MANIFEST_FILE = 'manifest.json';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().nonnegative();
const summary = z.object({ samples: count, mean: z.array(finite), m2: z.array(finite), maxRelEnergyError: finite });
const shard = z.object({
  file: z.string().regex(/^[A-Za-z0-9._-]+\.npz$/, 'must be a plain .npz file name'),
  count,
  indexRange: z.tuple([count, count]),
  split: z.enum(['train', 'val', 'test']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'),
  summary: summary.optional(),
});
const layoutValue = z.union([z.number(), z.string()]);
const schema = z.object({
  format: z.literal('physode-dataset'),
  version: z.literal(1),
  complete: z.boolean().optional(),
  system: z.object({
    name: z.string(),
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    paramLabels: z.array(z.string()),
    params: z.array(z.object({ name: z.string(), default: finite, range: z.tuple([finite, finite]) })),
    conservative: z.boolean(),
  }),
  state: z.object({ dim: z.number().int().positive(), labels: z.array(z.string()), layout: z.record(z.string(), layoutValue).optional() }),
  times: z.object({ start: finite, end: finite, count: z.number().int().positive() }),
  generator: z.object({
    integrator: z.string(),
    integratorVersion: z.string(),
    rtol: finite,
    atol: finite,
    seed: count,
    seedDerivation: z.string(),
    physodeVersion: z.string(),
    noise: finite,
    derivatives: z.boolean(),
    count,
    shardSize: z.number().int().positive(),
    split: z.tuple([finite, finite, finite]),
    interpolationDegree: z.number().int().optional(),
  }),
  shards: z.array(shard),
  stats: z.object({ mean: z.array(finite), std: z.array(finite), maxRelEnergyError: finite }),
});

/** Validates a parsed manifest, including its internal consistency; throws CorruptFileError naming the fault. */
export function parseManifest(value: unknown, file: string): Manifest {
  const hint = 'the manifest is damaged or from an unknown physode version: regenerate the dataset (physode generate ... --force)';
  if (typeof value === 'object' && value !== null && 'format' in value && (value as { format: unknown }).format === 'physode-dataset' && (value as { version?: unknown }).version !== 1) {
    throw new CorruptFileError(file, `unknown dataset format version ${JSON.stringify((value as { version?: unknown }).version)} (this physode reads version 1)`, 'upgrade physode or regenerate the dataset');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptFileError(file, `invalid manifest at ${issue.path.join('.') || '(root)'}: ${issue.message}`, hint);
  }
  const m = parsed.data as Manifest;
  const fail = (problem: string): never => {
    throw new CorruptFileError(file, problem, hint);
  };
  const D = m.state.dim;
  if (m.state.labels.length !== D) fail(`state.labels has ${m.state.labels.length} labels for dim ${D}`);
  if (m.stats.mean.length !== D || m.stats.std.length !== D) fail(`stats.mean and stats.std have ${m.stats.mean.length} and ${m.stats.std.length} entries for dim ${D}`);
  if (m.stats.std.some((s) => !(s >= 0))) fail('stats.std holds a negative value');
  if (m.times.count > 1 && !(m.times.end > m.times.start)) fail(`times.end ${m.times.end} is not after times.start ${m.times.start}`);
  for (const s of m.shards) {
    if (s.summary && (s.summary.mean.length !== D || s.summary.m2.length !== D)) fail(`shard ${s.file}: summary has ${s.summary.mean.length} means for dim ${D}`);
  }
  const files = new Set<string>();
  for (const s of m.shards) {
    if (files.has(s.file)) fail(`shard ${s.file} is listed twice`);
    files.add(s.file);
  }
  if (m.system.paramLabels.length !== m.system.params.length) fail('system.paramLabels and system.params differ in length');
  for (const s of m.shards) {
    if (s.indexRange[1] - s.indexRange[0] !== s.count) fail(`shard ${s.file}: count ${s.count} does not match indexRange [${s.indexRange.join(', ')})`);
    if (s.indexRange[1] > m.generator.count) fail(`shard ${s.file}: indexRange beyond generator.count ${m.generator.count}`);
  }
  if (m.complete !== false) {
    const total = m.shards.reduce((a, s) => a + s.count, 0);
    if (total !== m.generator.count) fail(`shards hold ${total} trajectories, generator.count says ${m.generator.count}`);
  }
  return m;
}

export async function readManifest(path: string, file = MANIFEST_FILE): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CorruptFileError(file, 'missing: not a physode dataset folder', 'generate one with: physode generate <system> --out <folder>');
    }
    if (code === 'ENOTDIR') throw new CorruptFileError(file, 'cannot be read: the dataset path is a file, not a folder', 'give the dataset folder (the one holding manifest.json)');
    throw new CorruptFileError(file, `cannot be read (${code ?? (err as Error).message})`, 'give the dataset folder (the one holding a readable manifest.json)');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON (${(err as Error).message})`, 'the manifest is damaged: regenerate the dataset');
  }
  return parseManifest(value, file);
}

export function shardExpectations(m: Manifest, s: ShardEntry): ShardExpectations {
  return {
    n: s.count,
    T: m.times.count,
    D: m.state.dim,
    P: m.system.paramLabels.length,
    firstIndex: s.indexRange[0],
    derivatives: m.generator.derivatives,
    noise: m.generator.noise > 0,
  };
}

/** The sample times a manifest describes: start + (end - start) k / (count - 1). */
export function sampleTimes(times: Manifest['times']): Float64Array {
  const { start, end, count } = times;
  return Float64Array.from({ length: count }, (_, k) => (count === 1 ? start : start + ((end - start) * k) / (count - 1)));
}
