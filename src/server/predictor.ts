/**
 * The one call from the server into a trained model. `Predictor` is the seam: the default runs
 * `loadRun` + `predictTrajectories` (src/train/predict.ts) in a worker thread, so a long rollout
 * never blocks the server's event loop; tests may pass another implementation to `createApp`.
 */
import { PhysodeError } from '../util/errors.js';
import { startRpcWorker, WorkerCallError, type RpcClient } from '../util/worker-rpc.js';

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

/** A model failure that the API reports as 422 (e.g. a run whose state size does not match). */
export class ModelError extends PhysodeError {}

/** A rollout that took too long: the worker was restarted; the API answers 504. */
export class RolloutTimeoutError extends PhysodeError {}

/**
 * A predictor backed by one lazily started worker thread; requests queue inside the worker.
 * A request not answered within `timeoutMs` (default 120 s) fails, and the worker is restarted.
 */
export function workerPredictor(timeoutMs = 120_000): { predict: Predictor; prestart: () => void; close: () => Promise<void> } {
  let client: RpcClient<PredictRequest, Float64Array> | undefined;

  const start = (): RpcClient<PredictRequest, Float64Array> => {
    const c = startRpcWorker<PredictRequest, Float64Array>(import.meta.url, 'rollout-worker', 'the rollout worker');
    c.worker.unref();
    // A worker that died is started anew by the next request.
    c.worker.on('exit', () => {
      if (client === c) client = undefined;
    });
    return c;
  };

  const predict: Predictor = (req) =>
    new Promise((resolve, reject) => {
      const c = (client ??= start());
      const timer = setTimeout(() => {
        if (client === c) client = undefined;
        reject(new RolloutTimeoutError(`the rollout took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`, 'ask for a shorter horizon'));
        void c.close();
      }, timeoutMs);
      timer.unref();
      c.call(req).then(
        (d) => (clearTimeout(timer), resolve(d)),
        (e: unknown) => {
          clearTimeout(timer);
          // What the model code threw as an expected failure is a model error (HTTP 422); a bug in it
          // is a plain Error (a 500 that shows no message); the worker's own death stays a WorkerCallError.
          const remote = e instanceof WorkerCallError ? e.remote : undefined;
          reject(remote ? (remote.physode ? new ModelError(remote.message, remote.hint) : new Error(remote.message)) : e);
        },
      );
    });

  const close = async (): Promise<void> => {
    const c = client;
    client = undefined;
    if (c) await c.close();
  };
  /** Starts the worker now (it loads the model code), so that the first rollout does not pay for it. */
  const prestart = (): void => {
    client ??= start();
  };
  return { predict, prestart, close };
}
