/**
 * Runs trajectory ranges on worker threads (node:worker_threads), or in this thread for one worker.
 * The worker file is the sibling of this module with this module's extension, so the same code
 * works under tsx (.ts sources; workers inherit `--import tsx` through execArgv) and from dist/ (.js).
 */
import type { SystemOptions } from '../../systems/system.js';
import { getSystem } from '../../systems/index.js';
import { startRpcWorker, type RpcClient, type WorkerCallError } from '../util/worker-rpc.js';
import { computeTrajectories, type TrajectoryChunk, type TrajectorySettings } from './trajectories.js';
import { IntegrationError } from './solve.js';

export interface WorkerInit {
  readonly system: string;
  readonly options: SystemOptions;
  readonly times: number[];
  readonly settings: TrajectorySettings;
}
/** One request to a generator worker (worker.ts): the trajectories [start, end). */
export interface WorkerTask {
  readonly start: number;
  readonly end: number;
}

/** Something that computes trajectory ranges; `workers` of them may run at once. */
export interface ChunkRunner {
  readonly workers: number;
  run(start: number, end: number): Promise<TrajectoryChunk>;
  close(): Promise<void>;
}

/** In-thread runner (one worker): yields to the event loop between ranges. */
export function inThreadRunner(init: WorkerInit): ChunkRunner {
  const system = getSystem(init.system).create(init.options);
  const times = Float64Array.from(init.times);
  return {
    workers: 1,
    async run(start, end) {
      await new Promise((r) => setImmediate(r));
      return computeTrajectories(system, times, start, end, init.settings);
    },
    async close() {},
  };
}

/** A pool of worker threads; each run() goes to an idle worker (callers keep at most `workers` in flight). */
export function workerPoolRunner(init: WorkerInit, workers: number): ChunkRunner {
  const all: RpcClient<WorkerTask, TrajectoryChunk>[] = [];
  for (let i = 0; i < workers; i++) all.push(startRpcWorker(import.meta.url, 'worker', 'a generator worker', { workerData: init }));
  const idle = [...all];
  return {
    workers,
    async run(start, end) {
      const w = idle.pop();
      if (!w) throw new Error('workerPoolRunner: more runs in flight than workers');
      try {
        return await w.call({ start, end });
      } catch (err) {
        // A trajectory the integrator could not solve is an IntegrationError, as in this thread.
        const e = err as WorkerCallError;
        throw e.remote?.physode ? new IntegrationError(e.message, e.hint) : e;
      } finally {
        idle.push(w);
      }
    },
    async close() {
      await Promise.all(all.map((w) => w.close()));
    },
  };
}
