/** The server's JSON API as typed fetches (src/server/README.md documents it). */

export interface SystemSummary {
  readonly name: string;
  readonly stateLabels: readonly string[];
  readonly paramLabels: readonly string[];
  readonly pointCount: number;
  readonly conservative: boolean;
}

export interface DatasetInfo {
  readonly name: string;
  readonly system: string;
  readonly count: number;
  readonly dim: number;
  readonly splits: Record<string, number>;
  readonly times: { readonly start: number; readonly end: number; readonly count: number };
}

export interface RunInfo {
  readonly id: string;
  readonly dataset: string | null;
  readonly config: Record<string, unknown>;
  readonly metrics: Record<string, unknown> | null;
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
  readonly energy: number[];
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
  readonly trueEnergy: number[];
  readonly predictedEnergy: number[];
  readonly error: number[];
  /** [samples, pointCount] row-major. */
  readonly pointError: number[];
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
  datasets: () => getJson<{ datasets: DatasetInfo[] }>('/api/datasets').then((r) => r.datasets),
  runs: () => getJson<{ runs: RunInfo[] }>('/api/runs').then((r) => r.runs),
  trajectory: (dataset: string, index: number, max = 4000) =>
    getJson<Trajectory>(`/api/datasets/${enc(dataset)}/trajectories/${index}?max=${max}`),
  rollout: (run: string, dataset: string, index: number, max = 4000) =>
    getJson<Rollout>(`/api/runs/${enc(run)}/rollout?dataset=${enc(dataset)}&index=${index}&max=${max}`),
};
