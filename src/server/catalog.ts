/**
 * What the server can reach: the datasets and runs found by reading two folders. Requests name a
 * dataset or run; the name is checked (safe-name.ts) and then looked up in this listing, so only
 * folders the listing shows are ever opened. Listings are re-read on each request (they are small)
 * so that new datasets and runs appear without a restart; what is costly (parsing a manifest,
 * hashing a shard) is redone only when the file changes.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve, basename, dirname } from 'node:path';
import type { Manifest } from '../data/types.js';
import { MANIFEST_FILE, parseManifest, shardExpectations } from '../data/manifest.js';
import { PhysodeError } from '../util/errors.js';
import { listSystems, systemFromManifest } from '../../systems/index.js';
import { ShardProblem, verifiedLayout } from './shard-rows.js';
import { checkName, nameProblem } from './safe-name.js';
import { HttpError, notFound } from './http-error.js';

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

/** Listings being read now, by folder: requests arriving meanwhile share one reading. */
const reading = new Map<string, Promise<unknown>>();

/**
 * The listing being read for `key`, or a new reading. A request always gets a listing read after
 * it arrived or while it waited, so new folders show at once; concurrent requests read it once.
 */
function shared<T>(key: string, read: () => Promise<T>): Promise<T> {
  const running = reading.get(key) as Promise<T> | undefined;
  if (running) return running;
  const p = read().finally(() => reading.delete(key));
  reading.set(key, p);
  return p;
}

/** A dataset folder left out of the listing, and why (the reason names no server path). */
export interface SkippedDataset {
  readonly name: string;
  readonly reason: string;
}

export interface DatasetListing {
  readonly datasets: DatasetEntry[];
  readonly skipped: SkippedDataset[];
}

/** Parsed manifests by file, kept while the file's size and modification time stay the same. */
const manifests = new Map<string, { size: number; mtimeMs: number; result: Manifest | string }>();

/** The folder's manifest, validated (src/data/manifest.ts), or why it is not one; undefined without one. */
async function manifestOf(name: string, dir: string): Promise<{ manifest: Manifest; mtimeMs: number } | { problem: string } | undefined> {
  const file = join(dir, MANIFEST_FILE);
  let info;
  try {
    info = await stat(file);
  } catch {
    return undefined;
  }
  if (!info.isFile()) return { problem: `${MANIFEST_FILE} is not a file` };
  let known = manifests.get(file);
  if (!known || known.size !== info.size || known.mtimeMs !== info.mtimeMs) {
    let result: Manifest | string;
    if (info.size > 16 * 1024 * 1024) result = `${MANIFEST_FILE} is ${info.size} bytes, too large for a manifest`;
    else {
      try {
        result = parseManifest(JSON.parse(await readFile(file, 'utf8')) as unknown, `${name}/${MANIFEST_FILE}`);
      } catch (err) {
        result = err instanceof PhysodeError ? err.message : `${name}/${MANIFEST_FILE}: not valid JSON`;
      }
    }
    known = { size: info.size, mtimeMs: info.mtimeMs, result };
    manifests.set(file, known);
  }
  return typeof known.result === 'string' ? { problem: known.result } : { manifest: known.result, mtimeMs: known.mtimeMs };
}

/** Whether the manifest names a registered physical system (else the server shows its phase space, phase-space.ts). */
export function isRegisteredSystem(manifest: Manifest): boolean {
  return listSystems().some((s) => s.name === manifest.system.name);
}

/**
 * Why the dataset cannot be served (unfinished, a registered system's options it refuses, a shard
 * outside its folder, missing or damaged), or undefined.
 */
async function datasetProblem(name: string, dir: string, manifest: Manifest): Promise<string | undefined> {
  if (manifest.complete === false) return 'its generation did not finish (rerun the same physode generate command to complete it)';
  if (isRegisteredSystem(manifest)) {
    try {
      systemFromManifest(manifest);
    } catch (err) {
      return `system ${manifest.system.name}: ${(err as Error).message}`;
    }
  }
  for (const s of manifest.shards) {
    const path = resolve(dir, s.file);
    if (dirname(path) !== dir) return `shard name ${JSON.stringify(s.file.slice(0, 60))} leaves the dataset folder`;
    try {
      await verifiedLayout(path, `${name}/${s.file}`, s.sha256, shardExpectations(manifest, s));
    } catch (err) {
      if (err instanceof ShardProblem) return `${err.message} (regenerate the dataset with physode generate)`;
      throw err;
    }
  }
  return undefined;
}

/**
 * Datasets: subfolders of `datasetsDir` holding a valid manifest.json whose shards all verify
 * (checksum, layout, indices; each shard once per file version). Folders with a manifest that
 * fail are listed in `skipped` with the reason; folders without one are not datasets.
 */
export function listDatasets(datasetsDir: string): Promise<DatasetListing> {
  return shared(`datasets:${resolve(datasetsDir)}`, () => readDatasets(datasetsDir));
}

async function readDatasets(datasetsDir: string): Promise<DatasetListing> {
  const root = resolve(datasetsDir);
  const datasets: DatasetEntry[] = [];
  const skipped: SkippedDataset[] = [];
  for (const name of await subfolders(root)) {
    const dir = join(root, name);
    const m = await manifestOf(name, dir);
    if (m === undefined) continue;
    if ('problem' in m) {
      skipped.push({ name, reason: m.problem });
      continue;
    }
    const problem = await datasetProblem(name, dir, m.manifest);
    if (problem) skipped.push({ name, reason: problem });
    else datasets.push({ name, dir, manifest: m.manifest, mtimeMs: m.mtimeMs });
  }
  return { datasets, skipped };
}

/** Runs: subfolders of `runsDir` holding a config.json. */
export function listRuns(runsDir: string): Promise<RunEntry[]> {
  return shared(`runs:${resolve(runsDir)}`, () => readRuns(runsDir));
}

async function readRuns(runsDir: string): Promise<RunEntry[]> {
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
  const { datasets, skipped } = await listDatasets(datasetsDir);
  const hit = datasets.find((d) => d.name === name);
  if (hit) return hit;
  const bad = skipped.find((d) => d.name === name);
  if (bad) throw new HttpError(409, `dataset '${name}' cannot be served: ${bad.reason}`);
  throw notFound(`unknown dataset '${name}'; known datasets: ${listNames(datasets.map((d) => d.name))}`);
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
