/**
 * Generator threads kept between calls: a long-running process (a queue worker) computes one shard
 * per job, and starting a worker thread (module loading, system set-up) for each would cost more
 * than many shards. Runners are kept per WorkerInit (same system, times and settings), lent to one
 * call at a time, and the least recently returned are closed beyond `maxIdle`.
 */
import { workerPoolRunner, type ChunkRunner, type WorkerInit } from './pool.js';

export class RunnerCache {
  private readonly idle: Array<{ key: string; runner: ChunkRunner }> = [];
  private readonly lent = new Map<ChunkRunner, string>();

  constructor(private readonly maxIdle = 4) {}

  /** A one-thread runner for `init`: an idle one with the same init, or a new one. */
  acquire(init: WorkerInit): ChunkRunner {
    const key = JSON.stringify(init);
    const at = this.idle.findIndex((e) => e.key === key);
    const runner = at >= 0 ? this.idle.splice(at, 1)[0].runner : workerPoolRunner(init, 1);
    this.lent.set(runner, key);
    return runner;
  }

  /** Gives a runner back; `broken` ones (after a failure) are closed rather than kept. */
  async release(runner: ChunkRunner, broken = false): Promise<void> {
    const key = this.lent.get(runner);
    this.lent.delete(runner);
    if (key === undefined || broken) return runner.close();
    this.idle.push({ key, runner });
    while (this.idle.length > this.maxIdle) await this.idle.shift()!.runner.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.idle.splice(0).map((e) => e.runner.close()), ...[...this.lent.keys()].map((r) => r.close())]);
    this.lent.clear();
  }
}
