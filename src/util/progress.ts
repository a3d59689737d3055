/**
 * How the library reports progress: a callback receiving plain values. The library never prints;
 * the CLI turns these into a terminal bar (src/cli/progress-bar.ts) or plain lines.
 */
export interface ProgressEvent {
  /** What is being counted, e.g. "trajectories", "steps". */
  readonly unit: string;
  readonly done: number;
  readonly total: number;
  /** Extra figures to show beside the bar, e.g. { loss: 0.012, nfe: 26 }. */
  readonly fields?: Readonly<Record<string, number | string>>;
}

export type ProgressCallback = (event: ProgressEvent) => void;
