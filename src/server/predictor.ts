/**
 * The one call from the server into a trained model. `Predictor` is the seam: the default runs
 * `loadRun` + `predictTrajectories` (src/train/predict.ts) in a worker thread, so a long rollout
 * never blocks the server's event loop; tests may pass another implementation to `createApp`.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/worker.js';
import { PhysodeError } from '../util/errors.js';

export interface PredictRequest {
  /** Run folder (from the runs listing, never from a request). */
  readonly runDir: string;
  /** Changes when the run is rewritten, so that a loaded model is not reused stale. */
  readonly runVersion: number;
  /** Initial states [B, D], physical units, row-major. */
  readonly y0: Float64Array;
  readonly batch: number;
  readonly dim: number;
  /** Output times [T]. */
  readonly t: Float64Array;
}

/** Predicted states [B, T, D], physical units, row-major. */
export type Predictor = (req: PredictRequest) => Promise<Float64Array>;

/** Message from the worker (rollout-worker.ts). */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly data: Float64Array }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly hint?: string; readonly physode: boolean };

/** A model failure that the API reports as 422 (e.g. a run whose state size does not match). */
export class ModelError extends PhysodeError {}

/** A rollout that took too long: the worker was restarted; the API answers 504. */
export class RolloutTimeoutError extends PhysodeError {}

/**
 * A predictor backed by one lazily started worker thread; requests queue inside the worker.
 * A request not answered within `timeoutMs` (default 120 s) fails, and the worker is restarted.
 */
export function workerPredictor(timeoutMs = 120_000): { predict: Predictor; prestart: () => void; close: () => Promise<void> } {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (d: Float64Array) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = undefined;
  };

  const start = (): Worker => {
    const w = startModuleWorker(import.meta.url, 'rollout-worker');
    w.unref();
    w.on('message', (reply: WorkerReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.data);
      else p.reject(reply.physode ? new ModelError(reply.message, reply.hint) : new Error(reply.message));
    });
    w.on('error', (err) => {
      if (worker === w) failAll(err);
    });
    w.on('exit', (code) => {
      if (worker === w) failAll(new Error(`rollout worker exited with code ${code}`));
    });
    return w;
  };

  const predict: Predictor = (req) =>
    new Promise((resolve, reject) => {
      worker ??= start();
      const id = nextId++;
      const timer = setTimeout(() => {
        const w = worker;
        failAll(new RolloutTimeoutError(`the rollout took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`, 'ask for a shorter horizon'));
        void w?.terminate();
      }, timeoutMs);
      timer.unref();
      pending.set(id, {
        resolve: (d) => (clearTimeout(timer), resolve(d)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      worker.postMessage({ id, ...req });
    });

  const close = async (): Promise<void> => {
    const w = worker;
    worker = undefined;
    if (w) await w.terminate();
  };
  /** Starts the worker now (it loads the model code), so that the first rollout does not pay for it. */
  const prestart = (): void => {
    worker ??= start();
  };
  return { predict, prestart, close };
}
