/**
 * The layout of a run folder (runs/<id>/), in one place:
 *
 *   config.json            full resolved configuration, dataset path and checksum, backend, versions
 *   metrics.jsonl          every logged value (src/train/metrics-log.ts)
 *   summary.json           final figures of the last `train` (wall time lives here, not in metrics)
 *   trained.json           written once training has run all its steps (readTrainedMarker): a run
 *                          without it is unfinished, whatever model/ holds; it also says whether
 *                          the model beats predicting the mean (`learnedDynamics`)
 *   model/                 the best model by validation metric (NeuralODE.save)
 *   checkpoints/last/      the latest checkpoint (src/train/checkpoint.ts)
 *   checkpoints/best/      the checkpoint with the best validation metric
 *   *.svg                  plots written by `train` and `eval`
 *   eval-<split>.json      metrics written by `eval`
 *   rollouts.npz           written by `rollout`
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

export interface RunPaths {
  readonly dir: string;
  readonly config: string;
  readonly metrics: string;
  readonly summary: string;
  readonly trained: string;
  readonly model: string;
  readonly checkpoints: string;
  readonly lastCheckpoint: string;
  readonly bestCheckpoint: string;
  readonly rollouts: string;
  plot(name: string): string;
  evalResult(split: string): string;
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    config: join(dir, 'config.json'),
    metrics: join(dir, 'metrics.jsonl'),
    summary: join(dir, 'summary.json'),
    trained: join(dir, 'trained.json'),
    model: join(dir, 'model'),
    checkpoints: join(dir, 'checkpoints'),
    lastCheckpoint: join(dir, 'checkpoints', 'last'),
    bestCheckpoint: join(dir, 'checkpoints', 'best'),
    rollouts: join(dir, 'rollouts.npz'),
    plot: (name) => join(dir, `${name}.svg`),
    evalResult: (split) => join(dir, `eval-${split}.json`),
  };
}

/** The completion marker `trained.json`: a run's training ran all its steps. */
export interface TrainedMarker {
  readonly format: 'physode-trained';
  readonly version: 1;
  /** Steps done, equal to the configured steps. */
  readonly steps: number;
  /** SHA-256 of the manifest of the dataset trained on. */
  readonly datasetSha256: string;
  readonly bestValMse: number;
  readonly bestStep: number;
  readonly lastLoss: number;
  /** Rollout MSE of always predicting the training mean, on the same val trajectories. */
  readonly meanPredictorValMse: number;
  /**
   * Whether the best model learned the dynamics: its val MSE below LEARNED_MSE_RATIO (metrics.ts,
   * 0.5) of meanPredictorValMse. False: no better, or barely better, than predicting the mean.
   */
  readonly learnedDynamics: boolean;
}

export async function writeTrainedMarker(dir: string, marker: Omit<TrainedMarker, 'format' | 'version'>): Promise<void> {
  const doc: TrainedMarker = { format: 'physode-trained', version: 1, ...marker };
  const json = JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  await writeFileAtomic(runPaths(dir).trained, `${json}\n`);
}

/** The run's completion marker, or null when its training has not finished (absent or unreadable marker). */
export async function readTrainedMarker(dir: string): Promise<TrainedMarker | null> {
  let text: string;
  try {
    text = await readFile(runPaths(dir).trained, 'utf8');
  } catch {
    return null;
  }
  try {
    const doc = JSON.parse(text) as Partial<TrainedMarker>;
    return doc.format === 'physode-trained' && typeof doc.steps === 'number' ? (doc as TrainedMarker) : null;
  } catch {
    return null;
  }
}
