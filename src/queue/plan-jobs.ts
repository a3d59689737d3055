/**
 * The jobs of a submission: one per shard of a dataset, or one per training of a sweep (with the
 * rows that depend on it). The finalizing job (manifest, or report) is added by the worker that
 * finishes the last piece, under its own deterministic id.
 */
import { resolve } from 'node:path';
import { planShards, resolveOptions, type GenerateOptions } from '../generate/index.js';
import { planSweep } from '../reproduce/plan.js';
import { PROFILES } from '../reproduce/profiles.js';
import type { ExperimentId } from '../reproduce/types.js';
import { generateJobOptions, type JobSpec, type SweepJobSpec } from './jobs.js';

export function generateJobs(options: GenerateOptions): JobSpec[] {
  const r = resolveOptions(options);
  const jobOptions = generateJobOptions(options);
  return planShards(r.count, r.split, r.shardSize).map((p) => ({ kind: 'generate-shard', options: jobOptions, shard: p.index }));
}

export function sweepJobSpec(s: { out: string; profile: SweepJobSpec['profile']; systems: readonly string[]; seeds: readonly number[]; experiments?: readonly ExperimentId[]; backend?: string }): SweepJobSpec {
  return {
    out: resolve(s.out), profile: s.profile, systems: [...s.systems], seeds: [...s.seeds],
    ...(s.experiments ? { experiments: [...s.experiments] } : {}), ...(s.backend ? { backend: s.backend } : {}),
  };
}

export function reproduceJobs(sweep: SweepJobSpec): JobSpec[] {
  const plan = planSweep({ profile: PROFILES[sweep.profile], systems: sweep.systems, seeds: sweep.seeds, experiments: sweep.experiments });
  return plan.tasks.map((t) => ({ kind: 'reproduce-task', sweep, task: t.key }));
}
