/**
 * A lock on a shared folder between processes, possibly on other machines (a shared file system):
 * a lock file created exclusively, its modification time refreshed while held. A lock whose file
 * has not been refreshed for `staleMs` belongs to a process that died, and is taken over.
 * Used so that one process makes a sweep's dataset while the others wait for it.
 */
import { open, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LockOptions {
  /** A lock not refreshed for this long is stale (default 30 s; refreshed every third of it). */
  readonly staleMs?: number;
  /** Pause between tries while another process holds the lock (default 250 ms). */
  readonly pollMs?: number;
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    await handle.writeFile(JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString() }));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export async function withFolderLock<T>(file: string, body: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 30_000;
  const pollMs = options.pollMs ?? 250;
  await mkdir(dirname(file), { recursive: true });
  while (!(await tryCreate(file))) {
    const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > staleMs) await rm(file, { force: true });
    else await new Promise((r) => setTimeout(r, pollMs));
  }
  const refresh = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(staleMs / 3)));
  refresh.unref();
  try {
    return await body();
  } finally {
    clearInterval(refresh);
    await rm(file, { force: true });
  }
}
