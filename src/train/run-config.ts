/** Reading a run's config.json (written by src/train/trainer.ts) with validation. */
import { readFile, stat } from 'node:fs/promises';
import { CorruptFileError, InvalidArgumentError } from '../util/errors.js';
import type { TrainConfig } from './config.js';
import type { NormStats } from './normalise.js';
import type { ModelBlueprint } from './model-port.js';
import { runPaths } from './run-folder.js';

export interface RunConfigDocument {
  readonly format: 'physode-run';
  readonly version: 1;
  readonly physodeVersion: string;
  readonly tfjsVersion: string;
  readonly backend: string;
  readonly dataset: { readonly path: string; readonly manifestSha256: string; readonly system: string; readonly stateLabels: readonly string[] };
  readonly normalisation: NormStats;
  readonly span: readonly [number, number];
  readonly defaultStep: number;
  readonly dim: number;
  readonly config: TrainConfig;
}

export async function readRunConfig(dir: string): Promise<RunConfigDocument> {
  const path = runPaths(dir).config;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new InvalidArgumentError(`${dir} is a file, not a run folder`, 'give the folder that `physode train --out` wrote');
    if (code === 'ENOENT' && !(await stat(dir).catch(() => null))) throw new InvalidArgumentError(`run folder ${dir} does not exist`, 'give the folder that `physode train --out` wrote');
    throw new CorruptFileError(path, 'missing: this folder is not a physode run', 'give the folder that `physode train --out` wrote');
  }
  let doc: RunConfigDocument;
  try {
    doc = JSON.parse(text) as RunConfigDocument;
  } catch (err) {
    throw new CorruptFileError(path, `not valid JSON (${(err as Error).message})`, 'the run folder is damaged; train again');
  }
  doc = withCurrentNames(doc);
  if (doc?.format !== 'physode-run' || doc.version !== 1) throw new CorruptFileError(path, 'not a physode run configuration (format/version)', 'give the folder that `physode train --out` wrote');
  if (!doc.normalisation || !Array.isArray(doc.normalisation.mean) || doc.normalisation.mean.length !== doc.dim || !doc.config) {
    throw new CorruptFileError(path, 'normalisation statistics or configuration missing', 'the run folder is damaged; train again');
  }
  return doc;
}

/** Older run folders name TA-BN's M `gridSize` and the momentum `bnMomentum`: the configuration with the current names. */
export function withCurrentModelNames(config: TrainConfig): TrainConfig {
  const model = config?.model as (TrainConfig['model'] & { gridSize?: number; bnMomentum?: number }) | undefined;
  if (!model || (model.gridSize === undefined && model.bnMomentum === undefined)) return config;
  const { gridSize, bnMomentum, ...rest } = model;
  return { ...config, model: { ...rest, gridIntervals: rest.gridIntervals ?? gridSize!, momentum: rest.momentum ?? bnMomentum! } };
}

function withCurrentNames(doc: RunConfigDocument): RunConfigDocument {
  return doc?.config ? { ...doc, config: withCurrentModelNames(doc.config) } : doc;
}

export function blueprintOf(doc: RunConfigDocument): ModelBlueprint {
  return { model: doc.config.model, solver: doc.config.solver, dim: doc.dim, span: doc.span, defaultStep: doc.defaultStep, seed: doc.config.seed };
}
