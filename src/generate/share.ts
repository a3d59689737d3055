/**
 * A share of a job array: "task I of N" computes the items assigned to I. The index comes from the
 * flag or from the scheduler's environment (Kubernetes Indexed Jobs, Slurm arrays, AWS Batch array
 * jobs, or PHYSODE_SHARD_INDEX), so one command line serves every task of the array.
 */
import { InvalidArgumentError } from '../util/errors.js';

export interface Share {
  /** 0-based task index, < count. */
  readonly index: number;
  readonly count: number;
}

/** Environment variables holding a 0-based array index, in the order they are looked at. */
export const SHARD_INDEX_VARIABLES = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID', 'AWS_BATCH_JOB_ARRAY_INDEX', 'PHYSODE_SHARD_INDEX'] as const;

function nonNegativeInt(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError(`${what} must be an integer >= 0, got '${text}'`, 'shard indices count from 0: task I of N has 0 <= I < N');
  }
  return n;
}

/**
 * The share given by --shard-index/--shard-count, the index defaulting to the first set variable
 * of SHARD_INDEX_VARIABLES. Undefined when neither flag is given (the whole job on this machine).
 */
export function resolveShare(flags: { index?: string; count?: string }, env: NodeJS.ProcessEnv = process.env): Share | undefined {
  if (flags.index === undefined && flags.count === undefined) return undefined;
  if (flags.count === undefined) throw new InvalidArgumentError('--shard-index needs --shard-count', 'e.g. --shard-index 0 --shard-count 4');
  const count = nonNegativeInt(flags.count, '--shard-count');
  if (count < 1) throw new InvalidArgumentError('--shard-count must be at least 1', 'e.g. --shard-count 4');
  let index: number | undefined;
  if (flags.index !== undefined) index = nonNegativeInt(flags.index, '--shard-index');
  else {
    const name = SHARD_INDEX_VARIABLES.find((v) => env[v] !== undefined && env[v] !== '');
    if (!name) throw new InvalidArgumentError('--shard-count without a shard index', `give --shard-index, or run under a job array that sets one of ${SHARD_INDEX_VARIABLES.join(', ')}`);
    index = nonNegativeInt(env[name]!, name);
  }
  if (index >= count) {
    throw new InvalidArgumentError(`shard index ${index} is not below --shard-count ${count}`, 'indices run from 0 to N-1 (Slurm: --array=0-<N-1>; Kubernetes: completions: N)');
  }
  return { index, count };
}

/** Generation shards go round-robin: shard i belongs to share i mod N (each share gets every split). */
export function inShare(position: number, share: Share): boolean {
  return position % share.count === share.index;
}
