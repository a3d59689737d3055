/**
 * A DataSource over a dataset folder (src/data/dataset.ts): manifest statistics, its SHA-256, the
 * system rebuilt from the manifest (for energies and invariants), and split loading.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../data/dataset.js';
import { systemFromManifest } from '../../systems/index.js';
import type { DataSource } from './training-data.js';

export async function openDataSource(dir: string): Promise<DataSource> {
  const dataset = await openDataset(dir);
  const manifest = dataset.manifest;
  const checksum = createHash('sha256').update(await readFile(join(dir, 'manifest.json'))).digest('hex');
  let physics: DataSource['physics'];
  try {
    physics = systemFromManifest(manifest);
  } catch {
    physics = undefined; // an unknown system: metrics without energies
  }
  return {
    path: dir,
    checksum,
    systemName: manifest.system.name,
    stateLabels: manifest.state.labels,
    stats: { mean: manifest.stats.mean, std: manifest.stats.std },
    physics,
    loadSplit: (split) => dataset.loadSplit(split),
  };
}
