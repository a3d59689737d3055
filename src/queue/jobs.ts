/**
 * The queue's vocabulary: four job kinds, their specs (small JSON; arrays never go to Redis, they
 * go to the shared output folder), their results, and deterministic job ids, so that submitting
 * the same work twice adds nothing. Specs are validated when a worker takes a job: a bad one
 * fails at once, with the reason, instead of being retried.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { datasetId, resolveOptions, type GenerateOptions } from '../generate/index.js';
import { InvalidArgumentError } from '../util/errors.js';

export const JOB_KINDS = ['generate-shard', 'generate-finalize', 'reproduce-task', 'reproduce-merge'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const generateOptions = z.object({
  system: z.string(),
  out: z.string(),
  count: z.number().optional(),
  samples: z.number().optional(),
  tEnd: z.number().optional(),
  preset: z.string().optional(),
  bodies: z.number().optional(),
  softening: z.number().optional(),
  eccentricity: z.number().optional(),
  seed: z.number().optional(),
  shardSize: z.number().optional(),
  integrator: z.enum(['odex', 'dop853']).optional(),
  rtol: z.number().optional(),
  atol: z.number().optional(),
  noise: z.number().optional(),
  split: z.tuple([z.number(), z.number(), z.number()]).optional(),
  derivatives: z.boolean().optional(),
  maxSteps: z.number().optional(),
  interpolationDegree: z.number().optional(),
}).strict();

const sweep = z.object({
  out: z.string(),
  profile: z.enum(['full', 'quick', 'smoke']),
  systems: z.array(z.string()).min(1),
  seeds: z.array(z.number().int().positive()).min(1),
  experiments: z.array(z.enum(['batch-size', 'outliers', 'time-dependence', 'depth', 'solvers'])).optional(),
  backend: z.string().optional(),
}).strict();

export const jobSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('generate-shard'), options: generateOptions, shard: z.number().int().nonnegative() }).strict(),
  z.object({ kind: z.literal('generate-finalize'), options: generateOptions }).strict(),
  z.object({ kind: z.literal('reproduce-task'), sweep, task: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('reproduce-merge'), sweep, commandLine: z.string() }).strict(),
]);

export type JobSpec = z.infer<typeof jobSpec>;
export type SweepJobSpec = z.infer<typeof sweep>;
export type GenerateJobOptions = z.infer<typeof generateOptions>;

/** Checks a job's data; the message says what is wrong with it. */
export function parseJobSpec(data: unknown): JobSpec {
  const r = jobSpec.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidArgumentError(`invalid job spec: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'submit jobs with `physode submit`, from the same physode version as the workers');
  }
  return r.data;
}

/** The generation options a job carries: absolute output folder, no machine-local settings (workers, force). */
export function generateJobOptions(o: GenerateOptions): GenerateJobOptions {
  const { workers: _w, force: _f, out, ...rest } = o;
  const r = resolveOptions(o);
  return generateOptions.parse(JSON.parse(JSON.stringify({ ...rest, out: resolve(out ?? r.out) })));
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** BullMQ job ids: no ':' (BullMQ's separator), the same for the same work. */
export function jobId(spec: JobSpec): string {
  switch (spec.kind) {
    case 'generate-shard': return `generate-${datasetId(resolveOptions(spec.options))}-shard-${spec.shard}`;
    case 'generate-finalize': return `generate-${datasetId(resolveOptions(spec.options))}-finalize`;
    case 'reproduce-task': return `reproduce-${sweepId(spec.sweep)}-${spec.task}`;
    case 'reproduce-merge': return `reproduce-${sweepId(spec.sweep)}-merge`;
  }
}

export function sweepId(s: SweepJobSpec): string {
  return shortHash(JSON.stringify([resolve(s.out), s.profile, s.systems, s.seeds, s.experiments ?? null, s.backend ?? null]));
}

/** What a finished job leaves in Redis (small JSON; the data are in the output folder). */
export type JobResult =
  | { readonly kind: 'generate-shard'; readonly file: string; readonly sha256: string; readonly trajectories: number; readonly computed: boolean }
  | { readonly kind: 'generate-finalize'; readonly dir: string; readonly shards: number; readonly maxRelEnergyError: number }
  | { readonly kind: 'reproduce-task'; readonly task: string; readonly runs: number; readonly failed: number; readonly computed: boolean }
  | { readonly kind: 'reproduce-merge'; readonly report: string; readonly runs: number; readonly failed: number };
