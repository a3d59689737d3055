/**
 * Which trainings a share of a job array runs: a training (and every result row that depends on
 * it) belongs to share hash(key) mod N, the hash being the first 32 bits of SHA-256 of the
 * training's key. The assignment depends only on the key, not on the plan's order or size.
 */
import { createHash } from 'node:crypto';
import type { Share } from '../generate/share.js';

export function shareOfKey(key: string, count: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}

export function keyInShare(key: string, share: Share): boolean {
  return shareOfKey(key, share.count) === share.index;
}
