/**
 * The layout of a run folder (runs/<id>/), in one place:
 *
 *   config.json            full resolved configuration, dataset path and checksum, backend, versions
 *   metrics.jsonl          every logged value (src/train/metrics-log.ts)
 *   summary.json           final figures of the last `train` (wall time lives here, not in metrics)
 *   model/                 the best model by validation metric (NeuralODE.save)
 *   checkpoints/last/      the latest checkpoint (src/train/checkpoint.ts)
 *   checkpoints/best/      the checkpoint with the best validation metric
 *   *.svg                  plots written by `train` and `eval`
 *   eval-<split>.json      metrics written by `eval`
 *   rollouts.npz           written by `rollout`
 */
import { join } from 'node:path';

export interface RunPaths {
  readonly dir: string;
  readonly config: string;
  readonly metrics: string;
  readonly summary: string;
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
    model: join(dir, 'model'),
    checkpoints: join(dir, 'checkpoints'),
    lastCheckpoint: join(dir, 'checkpoints', 'last'),
    bestCheckpoint: join(dir, 'checkpoints', 'best'),
    rollouts: join(dir, 'rollouts.npz'),
    plot: (name) => join(dir, `${name}.svg`),
    evalResult: (split) => join(dir, `eval-${split}.json`),
  };
}
