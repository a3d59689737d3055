/**
 * Renders ProgressEvents: a redrawn bar with rate and ETA on a terminal, plain periodic lines
 * otherwise (CI logs, pipes).
 */
import type { ProgressEvent } from '../util/progress.js';
import { formatNumber } from '../util/format.js';

export interface ProgressBarOptions {
  readonly label: string;
  readonly stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when the stream is not a terminal. */
  readonly plainInterval?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatField(value: number | string): string {
  return typeof value === 'string' ? value : formatNumber(value);
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly start = performance.now();
  private startDone: number | undefined;
  private lastDraw = 0;
  private lastPlain = -Infinity;
  private last: ProgressEvent | undefined;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Use as the library's ProgressCallback: `onProgress: (e) => bar.update(e)`. */
  update(event: ProgressEvent): void {
    this.startDone ??= event.done;
    this.last = event;
    const now = performance.now();
    const finished = event.done >= event.total;
    if (this.tty) {
      if (now - this.lastDraw < 100 && !finished) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[2K${this.render(event, now)}`);
    } else {
      const interval = (this.options.plainInterval ?? 5) * 1000;
      if (now - this.lastPlain < interval && !finished) return;
      this.lastPlain = now;
      this.stream.write(`${this.render(event, now)}\n`);
    }
  }

  /** Ends the bar's line (terminal) so later output starts cleanly. */
  finish(): void {
    if (this.tty && this.last) this.stream.write('\n');
  }

  private render(e: ProgressEvent, now: number): string {
    const elapsed = (now - this.start) / 1000;
    const doneHere = e.done - (this.startDone ?? 0);
    const rate = elapsed > 0 ? doneHere / elapsed : 0;
    const eta = rate > 0 ? (e.total - e.done) / rate : Infinity;
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 1;
    const fields = Object.entries(e.fields ?? {})
      .map(([k, v]) => `${k} ${formatField(v)}`)
      .join('  ');
    const counts = `${e.done}/${e.total} ${e.unit}`;
    const timing = `${rate.toFixed(rate < 10 ? 2 : 0)} ${e.unit}/s  ETA ${formatDuration(eta)}`;
    if (!this.tty) return `${this.options.label}: ${counts} (${(frac * 100).toFixed(0)}%)  ${timing}${fields ? `  ${fields}` : ''}`;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    return `${this.options.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${counts}  ${timing}${fields ? `  ${fields}` : ''}`;
  }
}
