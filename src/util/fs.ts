/** Small file-system helpers shared across the library. */
import { access, mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from './errors.js';

/** Whether something exists at `path` (file or folder). */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Creates `path` and its missing parents, one folder at a time; resolves to the first folder it
 * created (undefined when `path` already was a folder). Node's own `mkdir(path, { recursive: true })`
 * never settles on some paths whose parent refuses new entries (e.g. /proc/x on Linux): this walks up
 * to the nearest existing folder and fails with that folder's error instead.
 */
export async function makeFolders(path: string): Promise<string | undefined> {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    const info = await stat(at).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
    if (info !== null) {
      if (!info.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: at });
      break;
    }
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing.reverse()) {
    await mkdir(folder).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
  }
  return missing[0];
}

/**
 * Checks that `path` is, or can become, a folder this process may write in, and leaves the disk as
 * it found it: the folders it created for the check are removed again while they are empty (never
 * recursively: another process, e.g. a job-array share, may already be writing there; the work that
 * follows creates its folders as it writes). Fails at once with a message naming the path (instead
 * of failing, or waiting, deep inside the work that writes there). `flag` names the option that
 * gave the path, e.g. '--out'.
 */
export async function checkWritableFolder(path: string, flag: string): Promise<void> {
  const refuse = (problem: string, hint = `give ${flag} a folder you may write to`): never => {
    throw new InvalidArgumentError(`${flag} ${path}: ${problem}`, hint);
  };
  const info = await stat(path).catch(() => null);
  if (info && !info.isDirectory()) refuse('is a file, not a folder', `give ${flag} a folder (or a path that does not exist yet)`);
  // A folder that another process's check creates and removes again can vanish between our look
  // and our probe: then look again (a few times).
  for (let attempt = 1; ; attempt++) {
    let created: string | undefined;
    try {
      try {
        created = await makeFolders(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR' || code === 'EEXIST') refuse('a file stands where a folder of this path should be', `give ${flag} a path whose parents are folders`);
        const why: Record<string, string> = { ENOENT: 'its parent does not accept new folders', EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left' };
        refuse(`cannot be created (${(code && why[code]) ?? code ?? (err as Error).message})`);
      }
      const probe = join(path, `.physode-write-check-${process.pid}`);
      try {
        await access(path, constants.W_OK);
        await writeFile(probe, '');
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && attempt < 5) continue;
        refuse(`cannot be written (${code ?? (err as Error).message})`);
      } finally {
        await rm(probe, { force: true }).catch(() => undefined);
      }
    } finally {
      if (created !== undefined) await removeEmptyFolders(path, created);
    }
  }
}

/** Removes `path` and its parents up to and including `top` while they are empty (rmdir fails on a folder with entries). */
async function removeEmptyFolders(path: string, top: string): Promise<void> {
  for (let at = path; ; at = dirname(at)) {
    if (!(await rmdir(at).then(() => true, () => false))) return;
    if (at === top || dirname(at) === at) return;
  }
}
