/**
 * A queue worker: takes jobs from BullMQ and runs them (run-job.ts), `concurrency` at a time. The
 * computation happens off this thread, so BullMQ keeps renewing the job locks; a worker that dies
 * stops renewing, its jobs are found stalled after at most two lock durations and given to another
 * worker. A job whose spec is invalid, or whose options are refused, fails at once (no retries).
 * Losing Redis is reported once and waited out; the worker carries on when it is back.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { InvalidArgumentError, PhysodeError } from '../util/errors.js';
import { RunnerCache } from '../generate/index.js';
import { describeConnectionError, probeRedis } from './connection.js';
import { parseJobSpec, type JobResult, type JobSpec } from './jobs.js';
import { jobOptions, type QueueTarget } from './producer.js';
import { runJob } from './run-job.js';

export type WorkerEvent =
  | { readonly type: 'active'; readonly id: string; readonly kind: string }
  | { readonly type: 'completed'; readonly id: string; readonly kind: string; readonly result: JobResult }
  | { readonly type: 'failed'; readonly id: string; readonly kind: string; readonly message: string; readonly willRetry: boolean }
  | { readonly type: 'connection-lost'; readonly message: string }
  | { readonly type: 'connection-back' };

export interface QueueWorkerOptions {
  readonly target: QueueTarget;
  /** Jobs run at once by this process (default 1). */
  readonly concurrency?: number;
  /** BullMQ lock duration in ms; stalled jobs are looked for at the same interval (default 30000). */
  readonly lockDurationMs?: number;
  readonly onEvent?: (e: WorkerEvent) => void;
}

export interface QueueWorker {
  /** Stops taking jobs; waits for the jobs in flight unless `force`. */
  close(force?: boolean): Promise<void>;
}

function message(err: unknown): string {
  if (err instanceof PhysodeError) return err.hint ? `${err.message} (hint: ${err.hint})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { target } = options;
  const emit = options.onEvent ?? (() => undefined);
  await probeRedis(target.redis);
  const client = new Redis(target.redis.url, { maxRetriesPerRequest: null });
  let down = false;
  client.on('error', (err) => {
    if (down) return;
    down = true;
    emit({ type: 'connection-lost', message: describeConnectionError(target.redis, err).message });
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    emit({ type: 'connection-back' });
  });
  const followUps = new Queue(target.queue, { connection: client });
  followUps.on('error', () => undefined); // reported through the client's events
  const abort = new AbortController();
  // Generator threads outlive jobs: starting one per shard would cost more than the shard.
  const runners = new RunnerCache(Math.max(2, options.concurrency ?? 1));

  const processor = async (job: Job): Promise<JobResult> => {
    let spec: JobSpec;
    try {
      spec = parseJobSpec(job.data);
    } catch (err) {
      throw new UnrecoverableError(message(err));
    }
    emit({ type: 'active', id: job.id ?? '', kind: spec.kind });
    try {
      const outcome = await runJob(spec, abort.signal, runners);
      if (outcome.next) await followUps.add(outcome.next.kind, outcome.next, jobOptions(outcome.next));
      return outcome.result;
    } catch (err) {
      // Options the job was made with that physode refuses: retrying cannot help.
      if (err instanceof InvalidArgumentError) throw new UnrecoverableError(message(err));
      throw err instanceof Error ? err : new Error(String(err));
    }
  };

  const lockDuration = options.lockDurationMs ?? 30_000;
  const worker = new Worker(target.queue, processor, {
    connection: client,
    concurrency: options.concurrency ?? 1,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: 2,
  });
  worker.on('error', () => undefined); // connection trouble: reported once through the client's events
  worker.on('completed', (job, result: JobResult) => emit({ type: 'completed', id: job.id ?? '', kind: job.name, result }));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const willRetry = !(err instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
    emit({ type: 'failed', id: job.id ?? '', kind: job.name, message: err.message, willRetry });
  });
  await worker.waitUntilReady();
  return {
    async close(force = false) {
      if (force) abort.abort();
      await worker.close(force);
      await runners.close();
      await followUps.close();
      client.disconnect();
    },
  };
}
