/**
 * Runs one child process to completion: exit code, captured stdout and stderr (tails kept),
 * wall time, and a kill after a timeout. Used to drive `physode generate/train/eval`.
 */
import { spawn } from 'node:child_process';

export interface ChildResult {
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly timedOut: boolean;
}

export interface ChildOptions {
  readonly cwd?: string;
  readonly timeoutSeconds?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Keep at most this many characters of each stream (the tail). Default 1 MB. */
  readonly maxChars?: number;
  /** Aborting sends the child SIGTERM (physode commands stop cleanly on it). */
  readonly signal?: AbortSignal;
}

export function runChild(file: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  const maxChars = options.maxChars ?? 1_000_000;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout = (stdout + d).slice(-maxChars);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-maxChars);
    });
    const timer =
      options.timeoutSeconds !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutSeconds * 1000)
        : undefined;
    const onAbort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - start) / 1000, timedOut });
    });
  });
}
