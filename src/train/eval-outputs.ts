/** What `physode eval` leaves in the run folder: eval-<split>.json and two plots. */
import { writeFileAtomic } from '../util/atomic.js';
import { version } from '../util/version.js';
import type { EvalResult } from './evaluate.js';
import { denormaliseStates, type NormStats } from './normalise.js';
import { energyPlot, rolloutErrorPlot } from './plots.js';
import { runPaths } from './run-folder.js';
import type { PhysicsProbe } from './training-data.js';
import { energiesOf } from './training-plots.js';
import type { Trajectories } from './trajectories.js';

/** The JSON document (also printed by --json). */
export function evalDocument(split: string, which: string, backend: string, r: EvalResult): Record<string, unknown> {
  return {
    format: 'physode-eval',
    version: 1,
    physodeVersion: version,
    backend,
    split,
    model: which,
    norm: r.norm,
    solver: r.solver,
    trajectories: r.trajectories,
    batchSize: r.batchSize,
    batches: r.batches,
    rolloutMse: r.rolloutMse,
    // The same MSE of the predictor that always answers the training mean, and whether the model
    // learned the dynamics (its MSE under half the mean predictor's; metrics.ts, LEARNED_MSE_RATIO).
    meanPredictorMse: r.baseline.meanPredictorMse,
    learnedDynamics: r.baseline.learned,
    mseAtHorizons: r.mseAtHorizons,
    validPredictionTime: r.validPredictionTime,
    validPredictionTimeMedian: r.validPredictionTimeMedian,
    threshold: r.threshold,
    energyDrift: r.energyDrift,
    energyDriftFinal: r.energyDriftFinal,
    energyDriftTruth: r.energyDriftTruth,
    momentumDrift: r.momentumDrift,
    nfePerRollout: r.nfePerRollout,
    wallSeconds: r.wallSeconds,
    outliers: r.outliers,
    mseByTime: Array.from(r.byTime),
  };
}

export async function writeEvalOutputs(runDir: string, split: string, which: string, backend: string, r: EvalResult, data: Trajectories, stats: NormStats, physics?: PhysicsProbe): Promise<Record<string, unknown>> {
  const paths = runPaths(runDir);
  const doc = evalDocument(split, which, backend, r);
  const suffix = r.batchSize !== r.trajectories || r.outliers.fraction > 0 ? `-b${r.batchSize}${r.outliers.fraction > 0 ? `-o${r.outliers.fraction}` : ''}` : '';
  await writeFileAtomic(paths.evalResult(`${split}${suffix}`), `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  await writeFileAtomic(paths.plot(`eval-${split}${suffix}-rollout-error`), rolloutErrorPlot(data.t, [{ name: `${split} (${which} model)`, byTime: r.byTime }], `Rollout error against time (${split} split)`));
  if (physics) {
    const { samples: T, dim: D, paramCount: P } = data;
    const shown = Array.from({ length: data.n }, (_, i) => i).filter((i) => !r.corrupted.includes(i)).slice(0, 3);
    const curves = shown.map((i) => {
      const y = denormaliseStates(r.predicted.subarray(i * T * D, (i + 1) * T * D), stats);
      const e = energiesOf(physics, y, data.params.subarray(i * P, (i + 1) * P), 1, T, D, P);
      return { label: `#${data.index[i]}`, truth: data.energy.subarray(i * T, (i + 1) * T), predicted: e };
    });
    await writeFileAtomic(paths.plot(`eval-${split}${suffix}-energy`), energyPlot(data.t, curves));
  }
  return doc;
}
