/**
 * Puts jobs on the queue: one BullMQ job per spec with its deterministic id (an id already in the
 * queue, in any state, is not added again), retried with exponential backoff.
 */
import { Queue } from 'bullmq';
import { bullConnection, describeConnectionError, probeRedis, type RedisTarget } from './connection.js';
import { jobId, type JobSpec } from './jobs.js';

export interface QueueTarget {
  readonly redis: RedisTarget;
  readonly queue: string;
}

export interface SubmitSettings {
  /** Tries per job (default 3). */
  readonly attempts?: number;
  /** First retry delay in ms, doubled at each retry (default 2000). */
  readonly backoffMs?: number;
}

export interface SubmitSummary {
  readonly added: number;
  readonly alreadyQueued: number;
  readonly ids: readonly string[];
}

export function jobOptions(spec: JobSpec, settings: SubmitSettings = {}) {
  return { jobId: jobId(spec), attempts: settings.attempts ?? 3, backoff: { type: 'exponential', delay: settings.backoffMs ?? 2000 } };
}

export async function submitJobs(target: QueueTarget, specs: readonly JobSpec[], settings: SubmitSettings = {}): Promise<SubmitSummary> {
  await probeRedis(target.redis);
  const queue = new Queue(target.queue, { connection: bullConnection(target.redis) });
  queue.on('error', () => undefined); // failures surface through the awaited calls below
  try {
    const jobs = specs.map((spec) => ({ name: spec.kind, data: spec, opts: jobOptions(spec, settings) }));
    const states = await Promise.all(jobs.map((j) => queue.getJobState(j.opts.jobId)));
    const fresh = jobs.filter((_, i) => states[i] === 'unknown');
    if (fresh.length > 0) await queue.addBulk(fresh);
    return { added: fresh.length, alreadyQueued: jobs.length - fresh.length, ids: jobs.map((j) => j.opts.jobId) };
  } catch (err) {
    throw describeConnectionError(target.redis, err);
  } finally {
    await queue.close().catch(() => undefined);
  }
}
