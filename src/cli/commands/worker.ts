/** `physode worker --redis URL`: takes jobs from the queue and runs them until stopped (library: src/queue). */
import type { Command } from '../command.js';
import { parseCommandArgs, parseInteger } from '../options.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { DEFAULT_QUEUE, parseRedisUrl } from '../../queue/connection.js';
import { startQueueWorker, type WorkerEvent } from '../../queue/worker.js';

const usage = `usage: physode worker --redis URL [--queue NAME] [--concurrency N] [--lock-duration MS]

Takes jobs submitted with \`physode submit\` and runs them: dataset shards on worker threads,
trainings as physode child processes, writing into the output folder named by each job (shared
by all workers). Runs until Ctrl-C (the jobs in flight finish first; a second Ctrl-C stops at
once, and those jobs go back to the queue). A worker that dies loses nothing: its jobs are
found stalled and taken by another worker.

options:
  --redis URL          the Redis server (required)
  --queue NAME         queue name (default ${DEFAULT_QUEUE})
  --concurrency N      jobs at once in this process (default 1)
  --lock-duration MS   how long a job stays locked without a renewal (default 30000); a dead
                       worker's jobs are taken over after at most twice this`;

function line(e: WorkerEvent): string {
  switch (e.type) {
    case 'active': return `started   ${e.kind} ${e.id}`;
    case 'completed': return `done      ${e.kind} ${e.id}`;
    case 'failed': return `failed    ${e.kind} ${e.id}: ${e.message}${e.willRetry ? ' (will retry)' : ''}`;
    case 'connection-lost': return `${e.message}; waiting for it to come back`;
    case 'connection-back': return 'Redis is back; carrying on';
  }
}

export const command: Command = {
  name: 'worker',
  summary: 'take jobs from a Redis job queue (physode submit) and run them',
  usage,
  async run(argv) {
    const { values } = parseCommandArgs('worker', argv, {
      redis: { type: 'string' }, queue: { type: 'string' }, concurrency: { type: 'string' }, 'lock-duration': { type: 'string' },
    });
    if (values.redis === undefined) throw new InvalidArgumentError('--redis is required', 'e.g. --redis redis://127.0.0.1:6379');
    const redis = parseRedisUrl(values.redis);
    const queue = values.queue ?? DEFAULT_QUEUE;
    const concurrency = values.concurrency === undefined ? 1 : parseInteger('concurrency', values.concurrency, 1, { max: 256, example: '--concurrency 2' });
    const lockDurationMs = values['lock-duration'] === undefined ? undefined : parseInteger('lock-duration', values['lock-duration'], 500, { max: 3_600_000, example: '--lock-duration 30000' });
    const say = (text: string): void => void process.stderr.write(`physode worker: ${text}\n`);
    const worker = await startQueueWorker({ target: { redis, queue }, concurrency, lockDurationMs, onEvent: (e) => say(line(e)) });
    say(`taking jobs from queue '${queue}' at ${redis.where} (${concurrency} at a time, pid ${process.pid})`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (): void => {
        if (stopping) {
          say('stopping now; the jobs in flight go back to the queue');
          void worker.close(true).finally(resolve);
          return;
        }
        stopping = true;
        say('finishing the jobs in flight (Ctrl-C again to stop at once)');
        void worker.close().finally(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
