/**
 * results.csv: every finished run of the sweep, one row each, rewritten atomically after each
 * finished training so that a killed sweep loses at most the runs in flight. The file is also
 * the resume state: a run whose key is present is not redone.
 */
import { readFile } from 'node:fs/promises';
import { CorruptFileError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { parseCsv, toCsv } from './csv.js';
import type { EvalMetrics, ExperimentId, FailureKind, MethodName, NormName, RunResult } from './types.js';

export const RESULTS_HEADER = [
  'key', 'experiment', 'system', 'norm', 'method', 'depth', 'width', 'train_batch_size', 'steps', 'seed',
  'eval_batch_size', 'outliers', 'eval_method', 'status', 'failure', 'reason',
  'mse', 'vpt', 'energy_drift', 'nfe', 'train_nfe', 'train_seconds', 'eval_seconds',
] as const;

function num(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

function parseNum(text: string): number | undefined {
  if (text === '') return undefined;
  const v = Number(text);
  return Number.isNaN(v) && text !== 'NaN' ? undefined : v;
}

export function resultToRow(r: RunResult): string[] {
  const t = r.train;
  const e = r.evaluation;
  return [
    r.key, r.experiment, t.system, t.norm, t.method, String(t.depth), String(t.width), String(t.batchSize), String(t.steps), String(t.seed),
    String(e.batchSize), String(e.outliers), e.method, r.status, r.failure ?? '', r.reason ?? '',
    num(r.metrics.mse), num(r.metrics.vpt), num(r.metrics.energyDrift), num(r.metrics.nfe), num(r.trainNfe), num(r.trainSeconds), num(r.evalSeconds),
  ];
}

export function rowToResult(row: readonly string[], file: string, line: number): RunResult {
  if (row.length !== RESULTS_HEADER.length) {
    throw new CorruptFileError(file, `line ${line} has ${row.length} fields, expected ${RESULTS_HEADER.length}`, 'delete the file to start the sweep afresh');
  }
  const f = Object.fromEntries(RESULTS_HEADER.map((h, i) => [h, row[i]])) as Record<(typeof RESULTS_HEADER)[number], string>;
  const metrics: EvalMetrics = withoutUndefined({ mse: parseNum(f.mse), vpt: parseNum(f.vpt), energyDrift: parseNum(f.energy_drift), nfe: parseNum(f.nfe) });
  return withoutUndefined({
    key: f.key,
    experiment: f.experiment as ExperimentId,
    train: {
      system: f.system, norm: f.norm as NormName, method: f.method as MethodName, depth: Number(f.depth), width: Number(f.width),
      batchSize: Number(f.train_batch_size), steps: Number(f.steps), seed: Number(f.seed),
    },
    evaluation: { batchSize: Number(f.eval_batch_size), outliers: Number(f.outliers), method: f.eval_method as MethodName },
    status: f.status === 'ok' ? 'ok' : 'failed',
    failure: f.failure === '' ? undefined : (f.failure as FailureKind),
    reason: f.reason === '' ? undefined : f.reason,
    metrics,
    trainNfe: parseNum(f.train_nfe),
    trainSeconds: parseNum(f.train_seconds),
    evalSeconds: parseNum(f.eval_seconds),
  });
}

/** Drops keys whose value is undefined, so a parsed row equals the row that was written. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function parseResultsCsv(text: string, file: string): RunResult[] {
  const rows = parseCsv(text).filter((r) => !(r.length === 1 && r[0] === ''));
  if (rows.length === 0) return [];
  const header = rows[0].join(',');
  if (header !== RESULTS_HEADER.join(',')) {
    throw new CorruptFileError(file, 'header does not match this version of physode reproduce', 'use another --out folder or delete the file');
  }
  return rows.slice(1).map((r, i) => rowToResult(r, file, i + 2));
}

export function formatResultsCsv(results: readonly RunResult[]): string {
  return toCsv(RESULTS_HEADER, results.map(resultToRow));
}

/** The sweep's finished runs, keyed for resume, persisted to one CSV file. */
export class ResultsStore {
  private readonly byKey = new Map<string, RunResult>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Opens the file if it exists (resume), else starts empty. */
  static async open(file: string): Promise<ResultsStore> {
    const store = new ResultsStore(file);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) for (const r of parseResultsCsv(text, file)) store.byKey.set(r.key, r);
    return store;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): RunResult | undefined {
    return this.byKey.get(key);
  }

  all(): RunResult[] {
    return [...this.byKey.values()];
  }

  /** Records finished runs and rewrites the file atomically (writes are serialised). */
  async add(results: readonly RunResult[]): Promise<void> {
    for (const r of results) this.byKey.set(r.key, r);
    // Sorted by key (experiment, then training, then condition): stable, diff-friendly files.
    const text = formatResultsCsv(this.all().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(this.file, text));
    await this.writing;
  }
}
