/** The server's JSON API as typed fetches (src/server/README.md documents it). */

export interface SystemSummary {
  readonly name: string;
  readonly stateLabels: readonly string[];
  readonly paramLabels: readonly string[];
  readonly pointCount: number;
  readonly conservative: boolean;
  /** False for a dataset of no registered system: its energy fields are null. */
  readonly hasEnergy: boolean;
  /** For a dataset of no registered system: the state components drawn as x, y, z (each over its training std); else null. */
  readonly phaseSpace: { readonly components: number[]; readonly labels: string[] } | null;
}

export interface DatasetInfo {
  readonly name: string;
  readonly system: string;
  readonly count: number;
  readonly dim: number;
  readonly splits: Record<string, number>;
  readonly times: { readonly start: number; readonly end: number; readonly count: number };
}

/** What the run's records say about its model against predicting the mean (src/server/run-quality.ts). */
export interface RunQuality {
  readonly valMse: number | null;
  readonly baselineMse: number;
  readonly verdict: 'learned' | 'barely-better-than-mean' | 'no-better-than-mean' | 'unknown';
  readonly message: string;
}

export interface RunInfo {
  readonly id: string;
  readonly dataset: string | null;
  /** ISO time of the run's last change. */
  readonly modified: string;
  readonly config: Record<string, unknown>;
  readonly metrics: Record<string, unknown> | null;
  /** summary.json, written when a training finishes; null while it has not. */
  readonly summary: Record<string, unknown> | null;
  readonly quality: RunQuality;
}

/** A dataset folder the server does not serve, and why. */
export interface SkippedDataset {
  readonly name: string;
  readonly reason: string;
}

export interface Trajectory {
  readonly dataset: string;
  readonly index: number;
  readonly split: string;
  readonly system: SystemSummary;
  readonly params: number[];
  readonly pointRadius: number[] | null;
  readonly dim: number;
  readonly pointCount: number;
  readonly samples: number;
  readonly t: number[];
  readonly states: number[];
  /** Null when the dataset has no energy (phase space). */
  readonly energy: number[] | null;
  /** [samples, pointCount, 3] row-major. */
  readonly positions: number[];
}

export interface Rollout {
  readonly run: string;
  readonly dataset: string;
  readonly index: number;
  readonly horizon: number;
  readonly samples: number;
  readonly t: number[];
  readonly predicted: number[];
  readonly predictedPositions: number[];
  readonly trueEnergy: number[] | null;
  readonly predictedEnergy: number[] | null;
  readonly error: number[];
  /** [samples, pointCount] row-major. */
  readonly pointError: number[];
  /** Mean squared normalised error of this rollout, and of predicting the dataset mean instead. */
  readonly mse: number | null;
  readonly meanBaselineMse: number | null;
  readonly computeMs: number;
  readonly cached: boolean;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

const enc = encodeURIComponent;

export const api = {
  datasets: () => getJson<{ datasets: DatasetInfo[]; skipped?: SkippedDataset[] }>('/api/datasets').then((r) => ({ datasets: r.datasets, skipped: r.skipped ?? [] })),
  runs: () => getJson<{ runs: RunInfo[] }>('/api/runs').then((r) => r.runs),
  trajectory: (dataset: string, index: number, max = 4000) =>
    getJson<Trajectory>(`/api/datasets/${enc(dataset)}/trajectories/${index}?max=${max}`),
  rollout: (run: string, dataset: string, index: number, max = 4000) =>
    getJson<Rollout>(`/api/runs/${enc(run)}/rollout?dataset=${enc(dataset)}&index=${index}&max=${max}`),
};
