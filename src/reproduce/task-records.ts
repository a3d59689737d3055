/**
 * One file per finished training task, `<out>/tasks/<train key>.json`: the result rows it
 * produced. Shares of a job array and queue workers write these (never results.csv, which
 * several writers would race on); the merge step folds them into results.csv and the report.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { CorruptFileError } from '../util/errors.js';
import type { RunResult } from './types.js';

export function taskRecordFile(out: string, taskKey: string): string {
  return join(out, 'tasks', `${taskKey}.json`);
}

export async function writeTaskRecord(out: string, taskKey: string, results: readonly RunResult[]): Promise<void> {
  await writeFileAtomic(taskRecordFile(out, taskKey), JSON.stringify(results, null, 1) + '\n');
}

export async function readTaskRecord(out: string, taskKey: string): Promise<RunResult[] | undefined> {
  const file = taskRecordFile(out, taskKey);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a list of results');
    return parsed as RunResult[];
  } catch (err) {
    throw new CorruptFileError(file, (err as Error).message, 'delete it: its training is rerun');
  }
}

/** Keys of the task records present in the sweep folder. */
export async function listTaskRecords(out: string): Promise<string[]> {
  try {
    return (await readdir(join(out, 'tasks'))).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
