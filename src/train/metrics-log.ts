/**
 * metrics.jsonl: one JSON object per line, appended as training goes. Every record has `step` and
 * `kind` ('train', 'val', 'event'). Nothing time-of-day or wall-clock goes in, so the same command
 * and seed give the same file. A line cut short by a kill is ignored on reading; on resume the log is
 * cut back to the checkpoint's step so that resumed and uninterrupted runs write the same lines.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.js';

export type MetricValue = number | string | boolean | null | readonly number[] | Readonly<Record<string, number>>;

export interface MetricRecord {
  readonly step: number;
  readonly kind: string;
  readonly [key: string]: MetricValue;
}

/** Serialises one record; non-finite numbers become null (JSON has no NaN). */
export function formatRecord(record: MetricRecord): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

/** Reads a metrics file; a missing file is empty; an unparsable last line (killed mid-write) is dropped. */
export async function readMetrics(path: string): Promise<MetricRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  const records: MetricRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as MetricRecord);
    } catch {
      if (i >= lines.length - 2) break; // a torn final line
      throw new SyntaxError(`${path}: line ${i + 1} is not JSON`);
    }
  }
  return records;
}

export class MetricsLog {
  constructor(readonly path: string) {}

  async append(record: MetricRecord): Promise<void> {
    await appendFile(this.path, `${formatRecord(record)}\n`);
  }

  /** Rewrites the file keeping only records with step <= `step` (atomically). Returns what was kept. */
  async truncateAfter(step: number): Promise<MetricRecord[]> {
    const kept = (await readMetrics(this.path)).filter((r) => r.step <= step);
    await writeFileAtomic(this.path, kept.map((r) => `${formatRecord(r)}\n`).join(''));
    return kept;
  }
}
