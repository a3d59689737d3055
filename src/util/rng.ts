/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna 2018), seeded through SplitMix32.
 * Small, fast, with an explicit serialisable state so long jobs can checkpoint and resume.
 * Every random choice in physode takes one of these; none uses Math.random.
 */

export type RngState = readonly [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Mix two 32-bit integers into one seed (used to derive per-item seeds from a master seed). */
export function deriveSeed(master: number, index: number): number {
  const a = splitmix32((master >>> 0) ^ Math.imul(index >>> 0, 0x27d4eb2d))();
  const b = splitmix32(a ^ (Math.floor(index / 2 ** 32) >>> 0))();
  return b >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number | RngState) {
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
      const sm = splitmix32(Math.floor(seed) >>> 0);
      this.s0 = sm();
      this.s1 = sm();
      this.s2 = sm();
      this.s3 = sm();
      if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    } else {
      [this.s0, this.s1, this.s2, this.s3] = seed.map((v) => v >>> 0) as [number, number, number, number];
    }
  }

  /** The full generator state; `new Rng(rng.state())` continues the same stream. */
  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal deviate (Marsaglia polar method). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
