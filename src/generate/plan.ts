/**
 * The plan of a dataset: its shards in index order (train, then val, then test, each split cut
 * into shards of shardSize). A shard's bytes depend only on the options and its trajectory range,
 * so any subset of the plan can be computed anywhere and the pieces put together afterwards.
 */
import type { Split } from '../data/types.js';

export interface PlannedShard {
  /** Position in the plan (the NNNNN of shard-NNNNN.npz). */
  readonly index: number;
  readonly file: string;
  /** Global trajectory indices [start, end). */
  readonly start: number;
  readonly end: number;
  readonly split: Split;
}

export const SHARD_PATTERN = /^shard-\d{5,}\.npz$/;

export function shardFile(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.npz`;
}

export function planShards(count: number, split: readonly [number, number, number], shardSize: number): PlannedShard[] {
  const nTrain = Math.round(count * split[0]);
  const nVal = Math.min(count - nTrain, Math.round(count * split[1]));
  const ranges: Array<[Split, number, number]> = [['train', 0, nTrain], ['val', nTrain, nTrain + nVal], ['test', nTrain + nVal, count]];
  const shards: PlannedShard[] = [];
  for (const [name, from, to] of ranges) {
    for (let s = from; s < to; s += shardSize) {
      shards.push({ index: shards.length, file: shardFile(shards.length), start: s, end: Math.min(to, s + shardSize), split: name });
    }
  }
  return shards;
}

export function trajectoriesIn(shards: readonly PlannedShard[]): number {
  return shards.reduce((a, p) => a + p.end - p.start, 0);
}
