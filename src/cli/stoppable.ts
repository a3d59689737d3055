/**
 * How a command runs a long library call: a progress bar (none with --quiet), Ctrl-C and SIGTERM
 * turned into the call's stop signal (the library stops at a safe point and keeps what it has; a
 * second Ctrl-C ends the process at once), messages printed on their own line below the bar. The bar is finished and the signal handlers
 * removed however the call ends.
 */
import type { ProgressEvent } from '../util/progress.js';
import { ProgressBar } from './progress-bar.js';

export interface JobHooks {
  readonly signal: AbortSignal;
  readonly onProgress?: (e: ProgressEvent) => void;
  /** Prints one message on stderr, below the bar. */
  readonly onEvent: (message: string) => void;
}

export interface StoppableOptions {
  /** No progress bar. */
  readonly quiet?: boolean;
  /** Called once when a stop is asked (e.g. to say how to resume). */
  readonly onStop?: () => void;
}

/** Runs `job`; returns its result, and whether a stop was asked while it ran. */
export async function runStoppable<T>(label: string, options: StoppableOptions, job: (hooks: JobHooks) => Promise<T>): Promise<{ readonly result: T; readonly stopped: boolean }> {
  const bar = options.quiet ? null : new ProgressBar({ label });
  const abort = new AbortController();
  const onSignal = (): void => {
    if (!abort.signal.aborted) options.onStop?.();
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await job({
      signal: abort.signal,
      onProgress: bar ? (e) => bar.update(e) : undefined,
      onEvent: (message) => {
        bar?.finish();
        process.stderr.write(`${message}\n`);
      },
    });
    return { result, stopped: abort.signal.aborted };
  } finally {
    bar?.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
