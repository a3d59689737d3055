/**
 * Using a trained run: load its model (best or last) with the dataset statistics it was trained
 * with, and predict trajectories in physical units. The server (src/server/) calls these.
 */
import ndarray, { type NdArray } from 'ndarray';
import { InvalidArgumentError } from '../util/errors.js';
import { hasCheckpoint, loadCheckpoint } from './checkpoint.js';
import type { DynamicsModel, ModelFactory, SolverOverride } from './model-port.js';
import { denormaliseStates, normaliseStates, type NormStats } from './normalise.js';
import { runPaths } from './run-folder.js';
import { blueprintOf, readRunConfig, type RunConfigDocument } from './run-config.js';
import { defaultModelFactory } from './default-factory.js';
import { CorruptFileError } from '../util/errors.js';
import { pathExists } from '../util/fs.js';


export interface LoadedRun {
  readonly dir: string;
  readonly which: 'best' | 'last';
  readonly config: RunConfigDocument;
  readonly stats: NormStats;
  readonly dim: number;
  readonly stateLabels: readonly string[];
  readonly model: DynamicsModel;
  /** Releases the model's tensors. */
  dispose(): void;
}

export async function loadRun(dir: string, which: 'best' | 'last' = 'best', factory?: ModelFactory): Promise<LoadedRun> {
  const f = factory ?? (await defaultModelFactory());
  const config = await readRunConfig(dir);
  const paths = runPaths(dir);
  let model: DynamicsModel;
  const fromCheckpoint = async (ckptDir: string): Promise<DynamicsModel> => {
    const ckpt = await loadCheckpoint(ckptDir);
    const m = await f.create(blueprintOf(config));
    try {
      m.setState(ckpt.tensors.filter((t) => !t.name.startsWith('optimizer/')));
    } catch (err) {
      m.dispose();
      throw err;
    }
    return m;
  };
  if (which === 'best') {
    if (await pathExists(paths.model)) model = await f.load(paths.model);
    // A kill while model/ was being replaced leaves it missing; the best checkpoint holds the same weights.
    else if (await hasCheckpoint(paths.bestCheckpoint)) model = await fromCheckpoint(paths.bestCheckpoint);
    else throw new CorruptFileError(paths.model, 'no best model yet (the run has not validated once)', "use which = 'last', or train longer");
  } else {
    model = await fromCheckpoint(paths.lastCheckpoint);
  }
  return {
    dir,
    which,
    config,
    stats: config.normalisation,
    dim: config.dim,
    stateLabels: config.dataset.stateLabels,
    model,
    dispose: () => model.dispose(),
  };
}

/**
 * Predicts states at times t (integration from t[0]) for initial states y0 [B, D] in physical units;
 * returns [B, T, D] in physical units. Normalises with the run's recorded statistics, solves in eval
 * mode, denormalises. TA-BN evaluated past its training span clamps to its last grid point (TABN.md).
 */
export async function predictTrajectories(run: LoadedRun, y0: NdArray<Float64Array>, t: Float64Array, solver?: SolverOverride): Promise<NdArray<Float64Array>> {
  const [batch, dim] = y0.shape;
  if (y0.shape.length !== 2 || dim !== run.dim) {
    throw new InvalidArgumentError(`initial states have shape [${y0.shape}], expected [B, ${run.dim}]`, `give ${run.dim} components per state (${run.stateLabels.join(', ')})`);
  }
  if (t.length < 1) throw new InvalidArgumentError('no output times', 'give at least one time');
  for (let k = 1; k < t.length; k++) {
    if (!(t[k] > t[k - 1])) throw new InvalidArgumentError('output times must increase strictly', 'sort the times and remove duplicates');
  }
  const flat = new Float64Array(batch * dim);
  for (let i = 0; i < batch; i++) for (let d = 0; d < dim; d++) flat[i * dim + d] = y0.get(i, d);
  const z0 = Float32Array.from(normaliseStates(flat, run.stats));
  const ts = Float64Array.from(t, (v) => v - t[0]);
  const { states } = await run.model.predict(z0, batch, ts, solver);
  return ndarray(denormaliseStates(states, run.stats), [batch, t.length, dim]);
}
