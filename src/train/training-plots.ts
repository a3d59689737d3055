/**
 * The plots `physode train` leaves in the run folder: loss.svg, validation.svg, and for the best
 * model rollout-error.svg, energy.svg, tabn-mean.svg and tabn-variance.svg (when the model has a
 * TA-BN layer).
 */
import { writeFileAtomic } from '../util/atomic.js';
import { hasCheckpoint, loadCheckpoint } from './checkpoint.js';
import type { MetricRecord } from './metrics-log.js';
import type { DynamicsModel } from './model-port.js';
import { denormaliseStates, type NormStats } from './normalise.js';
import { energyPlot, lossPlot, rolloutErrorPlot, runningStatsPlot, validationPlot } from './plots.js';
import type { RunPaths } from './run-folder.js';
import type { PhysicsProbe } from './training-data.js';
import type { Trajectories } from './trajectories.js';
import { rolloutFigures } from './rollout-figures.js';

/** Energies [N, T] of states [N, T, D] in physical units. */
export function energiesOf(physics: PhysicsProbe, y: Float64Array, params: Float64Array, n: number, samples: number, dim: number, paramCount: number): Float64Array {
  const out = new Float64Array(n * samples);
  for (let i = 0; i < n; i++) {
    const p = params.subarray(i * paramCount, (i + 1) * paramCount);
    for (let k = 0; k < samples; k++) {
      const base = (i * samples + k) * dim;
      out[i * samples + k] = physics.energy(y.subarray(base, base + dim), p);
    }
  }
  return out;
}

export interface TrainingPlotInputs {
  readonly paths: RunPaths;
  readonly records: readonly MetricRecord[];
  readonly model: DynamicsModel;
  readonly bestCheckpoint: string;
  readonly valSet: Trajectories;
  readonly stats: NormStats;
  readonly physics?: PhysicsProbe;
}

export async function writeTrainingPlots(inp: TrainingPlotInputs): Promise<string[]> {
  const { paths, model, valSet } = inp;
  const written: string[] = [];
  const put = async (name: string, svg: string): Promise<void> => {
    await writeFileAtomic(paths.plot(name), svg);
    written.push(paths.plot(name));
  };
  await put('loss', lossPlot(inp.records));
  await put('validation', validationPlot(inp.records));
  if (await hasCheckpoint(inp.bestCheckpoint)) {
    const best = await loadCheckpoint(inp.bestCheckpoint);
    model.setState(best.tensors.filter((t) => !t.name.startsWith('optimizer/')));
  }
  const fig = await rolloutFigures(model, valSet);
  await put('rollout-error', rolloutErrorPlot(valSet.t, [{ name: 'val (best model)', byTime: fig.byTime }], 'Validation rollout error against time (best model)'));
  if (inp.physics) {
    const { n, samples, dim, paramCount } = valSet;
    const predicted = denormaliseStates(fig.predicted, inp.stats);
    const e = energiesOf(inp.physics, predicted, valSet.params, n, samples, dim, paramCount);
    const shown = Math.min(3, n);
    await put('energy', energyPlot(valSet.t, Array.from({ length: shown }, (_, i) => ({
      label: `val #${valSet.index[i]}`,
      truth: valSet.energy.subarray(i * samples, (i + 1) * samples),
      predicted: e.subarray(i * samples, (i + 1) * samples),
    }))));
  }
  const rs = model.runningStats();
  if (rs) {
    await put('tabn-mean', runningStatsPlot(rs, 'mean'));
    await put('tabn-variance', runningStatsPlot(rs, 'variance'));
  }
  return written;
}
