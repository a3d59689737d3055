/**
 * A fixed-size pool: runs async jobs with at most `concurrency` in flight (each job here drives
 * child processes, so two jobs use both cores). Results come back in input order. When a job
 * throws, no new job starts; the pool waits for the jobs in flight, then rethrows the first
 * error (so nothing keeps running behind the caller's back).
 */

export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  job: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (next < items.length && !failure) {
      const i = next;
      next += 1;
      try {
        results[i] = await job(items[i], i);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, () => worker()));
  if (failure) throw failure.error;
  return results;
}
