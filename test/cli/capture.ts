/**
 * Runs the physode CLI in this process through main(), capturing what it writes. Writes are told
 * apart by async context, so the test reporter's own output (on the same stdout) passes through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { main } from '../../src/cli/main.js';

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Capture {
  stdout: string;
  stderr: string;
  /** When set, writes to stdout throw this (to exercise main's handling of unexpected errors). */
  readonly stdoutFails?: unknown;
}

const capture = new AsyncLocalStorage<Capture>();
for (const stream of ['stdout', 'stderr'] as const) {
  const original = process[stream].write.bind(process[stream]) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  process[stream].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const store = capture.getStore();
    if (!store) return original(chunk, ...rest);
    if (stream === 'stdout' && store.stdoutFails !== undefined) throw store.stdoutFails;
    store[stream] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
}

/** `physode ...args`, in-process. */
export async function physode(...args: string[]): Promise<Outcome> {
  return physodeWith(args);
}

export async function physodeWith(args: readonly string[], options: { stdoutFails?: unknown } = {}): Promise<Outcome> {
  const store: Capture = { stdout: '', stderr: '', stdoutFails: options.stdoutFails };
  const code = await capture.run(store, () => main(args));
  return { code, stdout: store.stdout, stderr: store.stderr };
}
