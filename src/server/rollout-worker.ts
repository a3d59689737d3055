/**
 * Worker thread behind predictor.ts: loads runs (once per run version) and predicts rollouts off
 * the server's event loop: trajectory Neural ODE runs (config.json format 'physode-run') with
 * src/train/predict.ts at the requested times; next-state runs (format 'physode-task-run', task
 * 'next-state') autoregressively from y0, one model step per requested time after the first
 * (src/tasks/next-state-rollout.ts). Requests are handled one at a time, in order.
 */
import { join } from 'node:path';
import ndarray from 'ndarray';
import { InvalidArgumentError } from '../util/errors.js';
import { serveRpc } from '../util/worker-rpc.js';
import type { PredictRequest } from './predictor.js';

type PredictModule = typeof import('../train/predict.js');
type TrajectoryRun = Awaited<ReturnType<PredictModule['loadRun']>>;
type ContinuousDepthModel = import('../model/continuous-depth.js').ContinuousDepthModel;
type NextStateRunConfig = import('../tasks/next-state-run.js').NextStateRunConfig;

/** A loaded run of either kind. */
type LoadedRun = { readonly kind: 'trajectory'; readonly run: TrajectoryRun } | { readonly kind: 'next-state'; readonly model: ContinuousDepthModel; readonly config: NextStateRunConfig };

let predictModule: Promise<PredictModule> | undefined;

/** The tfjs backend is chosen once per worker, the one way the project chooses it (src/backend). */
async function loadPredict(): Promise<PredictModule> {
  const { initBackend } = await import('../backend/backend.js');
  await initBackend('auto');
  return import('../train/predict.js');
}

/** The run's best model, or its last checkpoint while it has not validated yet. */
async function loadEitherModel(loadRun: PredictModule['loadRun'], dir: string): Promise<TrajectoryRun> {
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
/** A next-state run's config and saved model (RUN/model), or undefined when `dir` is not a next-state run. */
async function loadNextState(dir: string): Promise<LoadedRun | undefined> {
  const { readTaskRunConfig } = await import('../tasks/next-state-run.js');
  const config = await readTaskRunConfig(dir);
  if (config === null) return undefined;
  const { ContinuousDepthModel } = await import('../model/continuous-depth.js');
  return { kind: 'next-state', model: await ContinuousDepthModel.load(join(dir, 'model')), config };
}

async function loadAnyRun(loadRun: PredictModule['loadRun'], dir: string): Promise<LoadedRun> {
  return (await loadNextState(dir)) ?? { kind: 'trajectory', run: await loadEitherModel(loadRun, dir) };
}

const dispose = (r: LoadedRun): void => (r.kind === 'trajectory' ? r.run.dispose() : r.model.dispose());

const runs = new Map<string, { version: number; run: Promise<LoadedRun> }>();
// The model code loads as soon as the worker starts (predictor.ts may start it ahead of requests).
predictModule = loadPredict();
predictModule.catch(() => (predictModule = undefined));

async function handle(req: PredictRequest): Promise<Float64Array> {
  predictModule ??= loadPredict();
  const { loadRun, predictTrajectories } = await predictModule;
  let cached = runs.get(req.runDir);
  if (!cached || cached.version !== req.runVersion) {
    cached?.run.then(dispose, () => undefined);
    cached = { version: req.runVersion, run: loadAnyRun(loadRun, req.runDir) };
    cached.run.catch(() => runs.delete(req.runDir));
    runs.set(req.runDir, cached);
  }
  const loaded = await cached.run;
  if (loaded.kind === 'next-state') return nextStateRollout(loaded, req);
  const run = loaded.run;
  const y0 = ndarray(Float64Array.from(req.y0), [req.batch, req.dim]);
  const out = await predictTrajectories(run, y0, Float64Array.from(req.t));
  const [B, T, D] = out.shape;
  const data = new Float64Array(B * T * D);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) data[(b * T + i) * D + j] = out.get(b, i, j);
  return data;
}

/** Rows [B, T, D] of a next-state run: row 0 the start, then T - 1 autoregressive steps. */
async function nextStateRollout(r: Extract<LoadedRun, { kind: 'next-state' }>, req: PredictRequest): Promise<Float64Array> {
  const D = r.config.standardiser.mean.length;
  if (req.dim !== D) {
    throw new InvalidArgumentError(`the run predicts states of ${D} components; this dataset has ${req.dim}`, 'choose the dataset the run was trained on');
  }
  const { rolloutNextState } = await import('../tasks/next-state-rollout.js');
  return rolloutNextState((x, b) => r.model.predict(x, b).prediction, r.config.standardiser, Float64Array.from(req.y0), req.batch, Math.max(0, req.t.length - 1));
}

serveRpc<PredictRequest, Float64Array>(handle, (data) => [data.buffer as ArrayBuffer]);
