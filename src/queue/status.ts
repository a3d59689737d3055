/** How far the queue's work has got: job counts per kind and state, and the last failures. */
import { Queue, type Job } from 'bullmq';
import { bullConnection, describeConnectionError, probeRedis } from './connection.js';
import { JOB_KINDS, type JobKind } from './jobs.js';
import type { QueueTarget } from './producer.js';

export interface KindCounts {
  /** Waiting, delayed (backing off before a retry) or paused. */
  waiting: number;
  active: number;
  done: number;
  failed: number;
}

export interface QueueStatus {
  readonly kinds: Readonly<Record<JobKind, KindCounts>>;
  /** Failed jobs (at most 5): id and reason. */
  readonly failures: readonly { readonly id: string; readonly kind: string; readonly reason: string }[];
}

const GROUPS: ReadonlyArray<[keyof KindCounts, readonly ('wait' | 'delayed' | 'paused' | 'prioritized' | 'waiting-children' | 'active' | 'completed' | 'failed')[]]> = [
  ['waiting', ['wait', 'delayed', 'paused', 'prioritized', 'waiting-children']],
  ['active', ['active']],
  ['done', ['completed']],
  ['failed', ['failed']],
];

export async function queueStatus(target: QueueTarget): Promise<QueueStatus> {
  await probeRedis(target.redis);
  const queue = new Queue(target.queue, { connection: bullConnection(target.redis) });
  queue.on('error', () => undefined);
  try {
    const kinds = Object.fromEntries(JOB_KINDS.map((k) => [k, { waiting: 0, active: 0, done: 0, failed: 0 }])) as Record<JobKind, KindCounts>;
    let failedJobs: Job[] = [];
    for (const [group, states] of GROUPS) {
      const jobs = (await queue.getJobs([...states], 0, -1)).filter((j): j is Job => Boolean(j));
      for (const j of jobs) if (j.name in kinds) kinds[j.name as JobKind][group]++;
      if (group === 'failed') failedJobs = jobs;
    }
    const failures = failedJobs.slice(0, 5).map((j) => ({ id: j.id ?? '', kind: j.name, reason: j.failedReason ?? '' }));
    return { kinds, failures };
  } catch (err) {
    throw describeConnectionError(target.redis, err);
  } finally {
    await queue.close().catch(() => undefined);
  }
}
