/**
 * A least-recently-used cache bounded by the bytes its values hold (not by their number), with
 * concurrent requests for one key sharing one computation. A value larger than the whole budget is
 * returned but not kept.
 */
export class ByteCache<V> {
  private readonly done = new Map<string, { value: V; bytes: number }>();
  private readonly inflight = new Map<string, Promise<V>>();
  private held = 0;

  constructor(
    /** Most bytes the cached values may hold together. */
    readonly budget: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  /** Bytes the cached values hold now. */
  get bytes(): number {
    return this.held;
  }

  /** Computations in flight. */
  get pending(): number {
    return this.inflight.size;
  }

  /** The cached value for `key` (marked recently used), or undefined. */
  peek(key: string): V | undefined {
    const hit = this.done.get(key);
    if (!hit) return undefined;
    this.done.delete(key);
    this.done.set(key, hit);
    return hit.value;
  }

  /** The value computing for `key` now, or undefined. */
  running(key: string): Promise<V> | undefined {
    return this.inflight.get(key);
  }

  /** The cached value for `key`, else the shared result of `compute` (cached when it succeeds). */
  get(key: string, compute: () => Promise<V>): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let job = this.inflight.get(key);
    if (!job) {
      job = compute().finally(() => this.inflight.delete(key));
      this.inflight.set(key, job);
      job.then((v) => this.keep(key, v), () => undefined);
    }
    return job;
  }

  private keep(key: string, value: V): void {
    const bytes = this.sizeOf(value);
    if (bytes > this.budget) return;
    const old = this.done.get(key);
    if (old) {
      this.held -= old.bytes;
      this.done.delete(key);
    }
    this.done.set(key, { value, bytes });
    this.held += bytes;
    for (const [k, v] of this.done) {
      if (this.held <= this.budget) break;
      this.done.delete(k);
      this.held -= v.bytes;
    }
  }
}
