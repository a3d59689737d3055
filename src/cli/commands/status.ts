/** `physode status --redis URL`: the queue's progress per job kind, with the progress bar of local work. */
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';
import { parseCommandArgs } from '../options.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { DEFAULT_QUEUE, parseRedisUrl } from '../../queue/connection.js';
import { JOB_KINDS } from '../../queue/jobs.js';
import { queueStatus, type QueueStatus } from '../../queue/status.js';

const usage = `usage: physode status --redis URL [--queue NAME] [--watch]

Shows the queue's jobs per kind (dataset shards, finalizing, trainings, report): done out of
all, with waiting, active and failed counts, and the reasons of failed jobs.

options:
  --redis URL    the Redis server (required)
  --queue NAME   queue name (default ${DEFAULT_QUEUE})
  --watch        refresh every 2 s until no job is waiting or active`;

function show(status: QueueStatus, bars: Map<string, ProgressBar>): void {
  for (const kind of JOB_KINDS) {
    const c = status.kinds[kind];
    const total = c.waiting + c.active + c.done + c.failed;
    if (total === 0) continue;
    let bar = bars.get(kind);
    if (!bar) bars.set(kind, (bar = new ProgressBar({ label: kind.padEnd(17), stream: process.stdout, plainInterval: 0 })));
    bar.update({ unit: 'jobs', done: c.done, total, fields: { waiting: c.waiting, active: c.active, failed: c.failed } });
    bar.finish();
  }
  for (const f of status.failures) process.stdout.write(`failed ${f.id}: ${f.reason}\n`);
}

export const command: Command = {
  name: 'status',
  summary: 'show the progress of the jobs on a Redis job queue',
  usage,
  async run(argv) {
    const { values } = parseCommandArgs('status', argv, { redis: { type: 'string' }, queue: { type: 'string' }, watch: { type: 'boolean' } });
    if (values.redis === undefined) throw new InvalidArgumentError('--redis is required', 'e.g. --redis redis://127.0.0.1:6379');
    const target = { redis: parseRedisUrl(values.redis), queue: values.queue ?? DEFAULT_QUEUE };
    const bars = new Map<string, ProgressBar>();
    for (;;) {
      const status = await queueStatus(target);
      const counts = Object.values(status.kinds);
      if (counts.every((c) => c.waiting + c.active + c.done + c.failed === 0)) process.stdout.write(`queue '${target.queue}' at ${target.redis.where} has no jobs\n`);
      else show(status, bars);
      if (!values.watch || counts.every((c) => c.waiting + c.active === 0)) return 0;
      await new Promise((r) => setTimeout(r, 2000));
      process.stdout.write('\n');
    }
  },
};
