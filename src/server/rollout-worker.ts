/**
 * Worker thread behind predictor.ts: loads runs (once per run version) and predicts rollouts with
 * src/train/predict.ts, off the server's event loop. Requests are handled one at a time, in order.
 */
import ndarray from 'ndarray';
import { serveRpc } from '../util/worker-rpc.js';
import type { PredictRequest } from './predictor.js';

type PredictModule = typeof import('../train/predict.js');
type LoadedRun = Awaited<ReturnType<PredictModule['loadRun']>>;

let predictModule: Promise<PredictModule> | undefined;

/** The tfjs backend is chosen once per worker, the one way the project chooses it (src/backend). */
async function loadPredict(): Promise<PredictModule> {
  const { initBackend } = await import('../backend/backend.js');
  await initBackend('auto');
  return import('../train/predict.js');
}

/** The run's best model, or its last checkpoint while it has not validated yet. */
async function loadEitherModel(loadRun: PredictModule['loadRun'], dir: string): Promise<LoadedRun> {
  try {
    return await loadRun(dir, 'best');
  } catch (best) {
    try {
      return await loadRun(dir, 'last');
    } catch {
      throw best;
    }
  }
}
const runs = new Map<string, { version: number; run: Promise<LoadedRun> }>();
// The model code loads as soon as the worker starts (predictor.ts may start it ahead of requests).
predictModule = loadPredict();
predictModule.catch(() => (predictModule = undefined));

async function handle(req: PredictRequest): Promise<Float64Array> {
  predictModule ??= loadPredict();
  const { loadRun, predictTrajectories } = await predictModule;
  let cached = runs.get(req.runDir);
  if (!cached || cached.version !== req.runVersion) {
    cached?.run.then((r) => r.dispose(), () => undefined);
    cached = { version: req.runVersion, run: loadEitherModel(loadRun, req.runDir) };
    cached.run.catch(() => runs.delete(req.runDir));
    runs.set(req.runDir, cached);
  }
  const run = await cached.run;
  const y0 = ndarray(Float64Array.from(req.y0), [req.batch, req.dim]);
  const out = await predictTrajectories(run, y0, Float64Array.from(req.t));
  const [B, T, D] = out.shape;
  const data = new Float64Array(B * T * D);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) data[(b * T + i) * D + j] = out.get(b, i, j);
  return data;
}

serveRpc<PredictRequest, Float64Array>(handle, (data) => [data.buffer as ArrayBuffer]);
