/**
 * A model folder: `config.json` (the model's configuration, with the physode version) and
 * `model.safetensors` (its weights and normalisation buffers, PyTorch-readable). Every model kind
 * saves and loads through these two functions.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateArray } from '../nn/normalization.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CorruptFileError } from '../util/errors.js';
import { version } from '../util/version.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** What a model folder holds of a model. */
export interface SavableModel {
  getState(): Record<string, StateArray>;
  setState(state: Record<string, StateArray>): void;
  dispose(): void;
}

/** Writes the weights and `config` (each file atomically). */
export async function saveModelFolder(dir: string, model: SavableModel, config: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, WEIGHTS_FILE), model.getState(), { format: 'physode', version, layout: 'linear weight [out, in] as torch.nn.Linear' });
  await writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify({ physode: version, ...config }, null, 2) + '\n');
}

/**
 * Reads `config.json` (without its `physode` version entry), builds the model with `make` and
 * loads its weights; every failure names the file and says what was wrong. `what` names the
 * writer for hints, e.g. 'NeuralODE.save'.
 */
export async function loadModelFolder<M extends SavableModel>(dir: string, what: string, make: (config: Record<string, unknown>) => M): Promise<M> {
  const path = join(dir, CONFIG_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CorruptFileError(path, `cannot read the model config: ${err instanceof Error ? err.message : String(err)}`, `point to a folder written by ${what}`);
  }
  const { physode: _version, ...config } = raw;
  let model: M;
  try {
    model = make(config);
  } catch (err) {
    if (err instanceof CorruptFileError) throw err;
    throw new CorruptFileError(path, err instanceof Error ? err.message : String(err), 'the config was edited or written by another tool');
  }
  const { tensors } = await readSafetensors(join(dir, WEIGHTS_FILE));
  try {
    model.setState(tensors);
  } catch (err) {
    model.dispose();
    throw new CorruptFileError(join(dir, WEIGHTS_FILE), err instanceof Error ? err.message : String(err), 'weights and config.json do not match');
  }
  return model;
}
