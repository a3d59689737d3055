/**
 * Runs trajectory ranges on worker threads (node:worker_threads), or in this thread for one worker.
 * The worker file is the sibling of this module with this module's extension, so the same code
 * works under tsx (.ts sources; workers inherit `--import tsx` through execArgv) and from dist/ (.js).
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/worker.js';
import type { SystemOptions } from '../../systems/system.js';
import { getSystem } from '../../systems/index.js';
import { PhysodeError } from '../util/errors.js';
import { computeTrajectories, type TrajectoryChunk, type TrajectorySettings } from './trajectories.js';
import { IntegrationError } from './solve.js';

export interface WorkerInit {
  readonly system: string;
  readonly options: SystemOptions;
  readonly times: number[];
  readonly settings: TrajectorySettings;
}
export interface WorkerTask {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}
export type WorkerReply = { readonly id: number; readonly chunk: TrajectoryChunk } | { readonly id: number; readonly error: { message: string; hint?: string } };

/** Something that computes trajectory ranges; `workers` of them may run at once. */
export interface ChunkRunner {
  readonly workers: number;
  run(start: number, end: number): Promise<TrajectoryChunk>;
  close(): Promise<void>;
}

/** Starts a generator worker (worker.ts). */
function startWorker(init: WorkerInit): Worker {
  return startModuleWorker(import.meta.url, 'worker', { workerData: init });
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
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const waiting = new Map<number, { resolve: (c: TrajectoryChunk) => void; reject: (e: Error) => void; worker: Worker }>();
  let nextId = 0;
  let broken: Error | undefined;
  for (let i = 0; i < workers; i++) {
    const w = startWorker(init);
    w.on('message', (reply: WorkerReply) => {
      const job = waiting.get(reply.id);
      if (!job) return;
      waiting.delete(reply.id);
      idle.push(w);
      if ('error' in reply) job.reject(new IntegrationError(reply.error.message, reply.error.hint));
      else job.resolve(reply.chunk);
    });
    w.on('error', (err) => {
      broken = err;
      for (const [id, job] of waiting) {
        if (job.worker === w) {
          waiting.delete(id);
          job.reject(new PhysodeError(`a generator worker failed: ${err.message}`));
        }
      }
    });
    idle.push(w);
    all.push(w);
  }
  return {
    workers,
    run(start, end) {
      if (broken) return Promise.reject(new PhysodeError(`a generator worker failed: ${broken.message}`));
      const w = idle.pop();
      if (!w) return Promise.reject(new Error('workerPoolRunner: more runs in flight than workers'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject, worker: w });
        w.postMessage({ id, start, end } satisfies WorkerTask);
      });
    },
    async close() {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
