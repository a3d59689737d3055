/**
 * Per-component running statistics: Welford's single-pass mean and sum of squared deviations
 * (B. P. Welford, Technometrics 4 (1962) 419), combined across shards with the pairwise formula of
 * Chan, Golub & LeVeque (1979). Deterministic: shards are combined in index order.
 */
import type { ShardSummary } from './types.js';

/** Mean and m2 of each component over all [N * T] rows of a [N, T, D] array. */
export function summarize(y: Float64Array, dim: number, maxRelEnergyError: number): ShardSummary {
  const mean = new Array<number>(dim).fill(0);
  const m2 = new Array<number>(dim).fill(0);
  const rows = y.length / dim;
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dim; d++) {
      const x = y[r * dim + d];
      const delta = x - mean[d];
      mean[d] += delta / (r + 1);
      m2[d] += delta * (x - mean[d]);
    }
  }
  return { samples: rows, mean, m2, maxRelEnergyError };
}

export function combine(a: ShardSummary, b: ShardSummary): ShardSummary {
  const n = a.samples + b.samples;
  if (a.samples === 0) return b;
  if (b.samples === 0) return a;
  const mean = a.mean.map((ma, d) => ma + ((b.mean[d] - ma) * b.samples) / n);
  const m2 = a.m2.map((m, d) => m + b.m2[d] + ((b.mean[d] - a.mean[d]) ** 2 * a.samples * b.samples) / n);
  return { samples: n, mean, m2, maxRelEnergyError: Math.max(a.maxRelEnergyError, b.maxRelEnergyError) };
}

/** Population standard deviation per component. */
export function stdOf(s: ShardSummary): number[] {
  return s.m2.map((m) => (s.samples > 0 ? Math.sqrt(m / s.samples) : 0));
}
