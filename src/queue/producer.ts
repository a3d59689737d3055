/**
 * Puts jobs on the queue: one BullMQ job per spec with its deterministic id, retried with
 * exponential backoff. Submitting again adds only what is not there: a job waiting, running or
 * done is left alone, and a job that failed all its tries goes back to waiting with its tries
 * counted afresh (the cause, a full disk say, may have been fixed since).
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
  /** Jobs that had failed all their tries and were put back to waiting. */
  readonly retried: number;
  /** Jobs waiting, running or done already: left alone. */
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
    const failed = jobs.filter((_, i) => states[i] === 'failed');
    for (const j of failed) await (await queue.getJob(j.opts.jobId))?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return { added: fresh.length, retried: failed.length, alreadyQueued: jobs.length - fresh.length - failed.length, ids: jobs.map((j) => j.opts.jobId) };
  } catch (err) {
    throw describeConnectionError(target.redis, err);
  } finally {
    await queue.close().catch(() => undefined);
  }
}
