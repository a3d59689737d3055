/**
 * `physode submit generate|reproduce ... --redis URL`: puts the work on a BullMQ queue, one job per
 * shard or per training, for `physode worker` processes to take (library: src/queue).
 */
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { parseInteger } from '../options.js';
import { DEFAULT_QUEUE, parseRedisUrl } from '../../queue/connection.js';
import { generateJobs, reproduceJobs, sweepJobSpec } from '../../queue/plan-jobs.js';
import { submitJobs } from '../../queue/producer.js';
import { parseGenerateArgs } from './generate.js';
import { parseReproduceArgs } from './reproduce.js';

const usage = `usage: physode submit generate <system> [generate options] --redis URL [--queue NAME]
       physode submit reproduce [reproduce options] --redis URL [--queue NAME]

Enqueues the work on a BullMQ queue in Redis: one job per dataset shard, or one per training of
the sweep (with its evaluations). \`physode worker\` processes, on this machine or others sharing
the output folder, take the jobs; the last one finishing writes the manifest or the report.
Jobs have deterministic ids: submitting the same command twice adds nothing. Redis holds only
the jobs' specs and small results; the arrays are written to --out, which workers must share.

options (besides those of physode generate / physode reproduce):
  --redis URL      the Redis server, e.g. redis://127.0.0.1:6379 (required)
  --queue NAME     queue name (default ${DEFAULT_QUEUE})
  --attempts N     tries per job before it counts as failed (default 3; retries back off exponentially)

then: physode worker --redis URL   (as many as you like)   and   physode status --redis URL`;

/** Takes --redis, --queue and --attempts out of argv (both --name value and --name=value). */
export function takeQueueFlags(argv: readonly string[], names: readonly string[]): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = names.find((n) => a === `--${n}` || a.startsWith(`--${n}=`));
    if (!name) {
      rest.push(a);
      continue;
    }
    const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    if (value === undefined) throw new InvalidArgumentError(`--${name} needs a value`, `e.g. --${name}=${name === 'redis' ? 'redis://127.0.0.1:6379' : '...'}`);
    flags[name] = value;
  }
  return { flags, rest };
}

export const command: Command = {
  name: 'submit',
  summary: 'enqueue a generation or a sweep on a Redis job queue (BullMQ) for physode workers',
  usage,
  async run(argv) {
    const [what, ...args] = argv;
    const { flags, rest } = takeQueueFlags(args, ['redis', 'queue', 'attempts']);
    if (what !== 'generate' && what !== 'reproduce') throw new InvalidArgumentError(`physode submit takes generate or reproduce, got '${what ?? ''}'`, 'e.g. physode submit generate pendulum --redis redis://127.0.0.1:6379');
    if (flags.redis === undefined) throw new InvalidArgumentError('--redis is required', 'e.g. --redis redis://127.0.0.1:6379');
    const redis = parseRedisUrl(flags.redis);
    const target = { redis, queue: flags.queue ?? DEFAULT_QUEUE };
    const attempts = flags.attempts === undefined ? undefined : parseInteger('attempts', flags.attempts, 1, { max: 100, example: '--attempts 3' });
    let specs;
    if (what === 'generate') {
      const { options, values } = parseGenerateArgs(rest);
      for (const flag of ['finalize', 'shard-index', 'shard-count', 'force'] as const) {
        if (values[flag] !== undefined) throw new InvalidArgumentError(`--${flag} is not for the queue`, flag === 'force' ? 'empty or remove the output folder first' : 'the queue finalizes by itself; job arrays use physode generate --shard-index');
      }
      specs = generateJobs(options);
    } else {
      const p = parseReproduceArgs(rest);
      for (const flag of ['shard-index', 'shard-count'] as const) if (p.values[flag] !== undefined) throw new InvalidArgumentError(`--${flag} is not for the queue`, 'job arrays use physode reproduce --shard-index');
      if (p.values.merge) throw new InvalidArgumentError('--merge is not for the queue', 'the queue writes the report by itself when the last training ends');
      specs = reproduceJobs(sweepJobSpec({ out: p.out, profile: p.profile.name, systems: p.systems, seeds: p.seeds, experiments: p.experiments, backend: p.values.backend }));
    }
    const summary = await submitJobs(target, specs, { attempts });
    process.stdout.write(
      `${what}: ${summary.added} job(s) added to queue '${target.queue}' at ${redis.where}` +
        `${summary.retried ? `, ${summary.retried} that had failed put back to waiting` : ''}` +
        `${summary.alreadyQueued ? `, ${summary.alreadyQueued} already there` : ''}\n` +
        `run workers: physode worker --redis ${flags.redis}${flags.queue ? ` --queue ${flags.queue}` : ''}\n`,
    );
    return 0;
  },
};
