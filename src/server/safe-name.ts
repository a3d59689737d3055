/**
 * Names that the API accepts for datasets and runs. A name is only ever looked up in a listing
 * made by reading the folder (never joined to a path as given); this check refuses the shapes of
 * path traversal early, with a clear message: `..`, slashes, backslashes, absolute paths,
 * drive letters, NUL and anything outside a conservative character set.
 */
import { badRequest, type HttpError } from './http-error.js';

/** Letters, digits, dot, dash, underscore; starts with a letter or digit; at most 128 characters. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Why `name` is not an acceptable dataset or run name, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes('..')) return "contains '..'";
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (!NAME.test(name)) return 'must be letters, digits, dots, dashes or underscores (at most 128), starting with a letter or digit';
  return undefined;
}

/** Throws a 400 naming `what` when `name` is not acceptable. */
export function checkName(what: string, name: string): void {
  const problem = nameProblem(name);
  if (problem) throw badRequest(`invalid ${what} name ${JSON.stringify(name.slice(0, 80))}: ${problem}`) as HttpError;
}

/**
 * True when a raw request path carries traversal shapes in any encoding: `..`, `%2e`, `%2f`,
 * `%5c`, a backslash, or a NUL (checked before express decodes parameters).
 */
export function rawPathIsSuspicious(rawPath: string): boolean {
  const lower = rawPath.toLowerCase();
  return (
    lower.includes('..') ||
    lower.includes('%2e') ||
    lower.includes('%2f') ||
    lower.includes('%5c') ||
    lower.includes('%00') ||
    lower.includes('\\') ||
    lower.includes('//')
  );
}
