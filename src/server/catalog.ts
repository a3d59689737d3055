/**
 * What the server can reach: the datasets and runs found by reading two folders. Requests name a
 * dataset or run; the name is checked (safe-name.ts) and then looked up in this listing, so only
 * folders the listing shows are ever opened. Listings are re-read on each request (they are small)
 * so that new datasets and runs appear without a restart.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import type { Manifest } from '../data/types.js';
import { checkName, nameProblem } from './safe-name.js';
import { notFound } from './http-error.js';

export interface DatasetEntry {
  /** Folder name under the datasets folder (the API's name for it). */
  readonly name: string;
  /** Absolute folder path (from readdir, never from a request). */
  readonly dir: string;
  readonly manifest: Manifest;
  /** manifest.json's modification time, to invalidate caches when a dataset is regenerated. */
  readonly mtimeMs: number;
}

export interface RunEntry {
  readonly id: string;
  readonly dir: string;
  /** config.json as written by training (shape owned by src/train). */
  readonly config: Record<string, unknown>;
  /** Newest modification time of config.json, model/ and checkpoints/last/ (invalidates caches). */
  readonly mtimeMs: number;
}

async function subfolders(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isDirectory() && nameProblem(e.name) === undefined)
    .map((e) => e.name)
    .sort();
}

async function readJson(file: string): Promise<{ value: unknown; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { value: JSON.parse(text) as unknown, mtimeMs: info.mtimeMs };
  } catch {
    return undefined;
  }
}

function isManifest(value: unknown): value is Manifest {
  const m = value as Partial<Manifest> | null;
  return (
    typeof m === 'object' && m !== null && m.format === 'physode-dataset' &&
    typeof m.system?.name === 'string' && typeof m.state?.dim === 'number' &&
    typeof m.generator?.count === 'number' && Array.isArray(m.shards)
  );
}

/** Datasets: subfolders of `datasetsDir` holding a readable physode manifest.json. */
export async function listDatasets(datasetsDir: string): Promise<DatasetEntry[]> {
  const root = resolve(datasetsDir);
  const found: DatasetEntry[] = [];
  for (const name of await subfolders(root)) {
    const dir = join(root, name);
    const json = await readJson(join(dir, 'manifest.json'));
    if (json && isManifest(json.value)) found.push({ name, dir, manifest: json.value, mtimeMs: json.mtimeMs });
  }
  return found;
}

/** Runs: subfolders of `runsDir` holding a config.json. */
export async function listRuns(runsDir: string): Promise<RunEntry[]> {
  const root = resolve(runsDir);
  const found: RunEntry[] = [];
  for (const id of await subfolders(root)) {
    const dir = join(root, id);
    const json = await readJson(join(dir, 'config.json'));
    if (json && typeof json.value === 'object' && json.value !== null && !Array.isArray(json.value)) {
      // The run's version: the newest of its config, saved model and last checkpoint.
      const times = await Promise.all(['model', join('checkpoints', 'last')].map((p) => stat(join(dir, p)).then((s) => s.mtimeMs, () => 0)));
      found.push({ id, dir, config: json.value as Record<string, unknown>, mtimeMs: Math.max(json.mtimeMs, ...times) });
    }
  }
  return found;
}

function listNames(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.slice(0, 20).join(', ') + (names.length > 20 ? ', ...' : '');
}

/** The listed dataset called `name`; 400 for a malformed name, 404 for one not in the listing. */
export async function findDataset(datasetsDir: string, name: string): Promise<DatasetEntry> {
  checkName('dataset', name);
  const all = await listDatasets(datasetsDir);
  const hit = all.find((d) => d.name === name);
  if (!hit) throw notFound(`unknown dataset '${name}'; known datasets: ${listNames(all.map((d) => d.name))}`);
  return hit;
}

/** The listed run called `id`; 400 for a malformed id, 404 for one not in the listing. */
export async function findRun(runsDir: string, id: string): Promise<RunEntry> {
  checkName('run', id);
  const all = await listRuns(runsDir);
  const hit = all.find((r) => r.id === id);
  if (!hit) throw notFound(`unknown run '${id}'; known runs: ${listNames(all.map((r) => r.id))}`);
  return hit;
}

/** A run's summary.json (final figures of its training), or undefined. */
export async function runSummaryFile(run: RunEntry): Promise<Record<string, unknown> | undefined> {
  try {
    const value = JSON.parse(await readFile(join(run.dir, 'summary.json'), 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Last parseable record of a run's metrics.jsonl (its final logged values), or undefined. */
export async function lastMetrics(run: RunEntry): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(join(run.dir, 'metrics.jsonl'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
    } catch {
      // a partly written last line: keep looking upward
    }
  }
  return undefined;
}

/**
 * The listed dataset a run was trained on: matched by the dataset folder recorded in its config
 * (`dataset.path` of config.json, as src/train writes it, or `data.path`; resolved against the working directory, then the runs
 * folder), else by folder name. Undefined when none matches.
 */
export function datasetOfRun(run: RunEntry, datasets: readonly DatasetEntry[], cwd = process.cwd()): DatasetEntry | undefined {
  const paths: string[] = [];
  for (const data of [run.config.dataset, run.config.data]) {
    if (typeof data === 'string') paths.push(data);
    else if (typeof data === 'object' && data !== null) {
      const path = (data as Record<string, unknown>).path ?? (data as Record<string, unknown>).dir;
      if (typeof path === 'string') paths.push(path);
    }
  }
  for (const p of paths) {
    const candidates = [resolve(cwd, p), resolve(run.dir, '..', p), resolve(run.dir, p)];
    const hit = datasets.find((d) => candidates.includes(d.dir));
    if (hit) return hit;
  }
  for (const p of paths) {
    const hit = datasets.find((d) => d.name === basename(p));
    if (hit) return hit;
  }
  return undefined;
}
