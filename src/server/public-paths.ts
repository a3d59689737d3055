/**
 * No absolute server path leaves the server: run files (config.json records its dataset's folder)
 * and error messages (from the model loader, the file system) are rewritten before they are sent.
 * A path inside the datasets or runs folder becomes `datasets/...` or `runs/...`; any other
 * absolute path is cut to its last component.
 */
import { basename, relative, isAbsolute, sep } from 'node:path';

export interface PathRoot {
  /** Absolute folder. */
  readonly dir: string;
  /** What it is called in answers (e.g. 'datasets'). */
  readonly as: string;
}

/** Absolute POSIX (`/a/b`) or Windows (`C:\a`, `\\server\share`) paths inside a string. */
const ABSOLUTE = /(?<![\w.~%-])(?:[A-Za-z]:[\\/]|\\\\|\/)[^\s'"`<>|,;()[\]{}]*/g;

/** One absolute path in its public form. */
export function publicPath(path: string, roots: readonly PathRoot[]): string {
  for (const r of roots) {
    if (path === r.dir) return r.as;
    const rel = relative(r.dir, path);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return `${r.as}/${rel.split(sep).join('/')}`;
  }
  const last = basename(path.replace(/[\\/]+$/, '').replace(/\\/g, '/'));
  return last ? `.../${last}` : '...';
}

/** `text` with every absolute path in its public form. */
export function scrubText(text: string, roots: readonly PathRoot[]): string {
  return text.replace(ABSOLUTE, (m) => (m.length <= 1 ? m : publicPath(m, roots)));
}

/** A JSON-like value with every string scrubbed (keys kept). */
export function scrubValue<T>(value: T, roots: readonly PathRoot[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrubText(v, roots);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** `text` cut to at most `max` characters, saying how much was left out. */
export function bounded(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}
