/**
 * Running statistics of the first normalised layer of a saved model, for claim 3 (TA-BN's
 * statistics vary with t; `popti` keeps one pair). Read from the model's .safetensors file
 * (src/io/safetensors.ts), without loading the model or a tensor backend, by
 * tensor names (issue 3: "float32 tensors named by layer path"): a tensor whose path ends in
 * running_mean / running_var (any spelling), the lowest layer index first; a tensor named
 * like a grid gives the times of TA-BN's grid points; else the model's config.json beside the
 * weights does (`timeSpan` [t0, T] and `gridIntervals` M: t*_m = t0 + m (T - t0) / M, TABN.md).
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readSafetensors } from '../io/safetensors.js';

/** A named array as src/io/safetensors.ts reads it. */
export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface NormStatistics {
  /** Layer path prefix the statistics came from. */
  readonly layer: string;
  /** Grid times (TA-BN), or undefined for a single pair (popti) or when the grid is not saved. */
  readonly t?: readonly number[];
  /** mean[g][f]: running mean at grid point g (one row for popti) of feature f. */
  readonly mean: readonly (readonly number[])[];
  readonly variance: readonly (readonly number[])[];
  /** Weight received by each grid point, when saved (grid coverage). */
  readonly count?: readonly number[];
}

function compact(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function layerIndex(prefix: string): number {
  const m = prefix.match(/\d+/);
  return m ? Number(m[0]) : Number.MAX_SAFE_INTEGER;
}

function rows(t: StoredTensor): number[][] {
  const features = t.shape.length >= 2 ? t.shape[t.shape.length - 1] : t.data.length;
  const out: number[][] = [];
  for (let i = 0; i < t.data.length; i += features) out.push(Array.from({ length: features }, (_, f) => t.data[i + f]));
  return out;
}

/** Picks the first normalised layer's statistics out of a model's tensors, if it has any. */
export function normStatisticsFromTensors(tensors: Readonly<Record<string, StoredTensor>>): NormStatistics | undefined {
  const layers = new Map<string, { mean?: StoredTensor; variance?: StoredTensor; grid?: StoredTensor; count?: StoredTensor }>();
  for (const [name, tensor] of Object.entries(tensors)) {
    const cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('/'));
    const prefix = cut >= 0 ? name.slice(0, cut) : '';
    const leaf = compact(cut >= 0 ? name.slice(cut + 1) : name);
    const entry = layers.get(prefix) ?? {};
    if (leaf === 'runningmean' || leaf === 'mean') entry.mean = tensor;
    else if (leaf === 'runningvar' || leaf === 'runningvariance' || leaf === 'var' || leaf === 'variance') entry.variance = tensor;
    else if (leaf.includes('grid') || leaf === 'times' || leaf === 'tgrid') entry.grid = tensor;
    else if (leaf.includes('count') || leaf.includes('weight') && leaf.includes('received')) entry.count = tensor;
    layers.set(prefix, entry);
  }
  const candidates = [...layers.entries()].filter(([, e]) => e.mean && e.variance).sort((a, b) => layerIndex(a[0]) - layerIndex(b[0]) || a[0].localeCompare(b[0]));
  if (candidates.length === 0) return undefined;
  const [layer, e] = candidates[0];
  const mean = rows(e.mean!);
  const variance = rows(e.variance!);
  const t = e.grid && e.grid.data.length === mean.length ? Array.from(e.grid.data) : undefined;
  const count = e.count && e.count.data.length === mean.length ? Array.from(e.count.data) : undefined;
  return { layer, t, mean, variance, count };
}

/** All .safetensors files under a run folder, the best checkpoint first, then the last. */
export async function findWeightFiles(runDir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    if (depth > 4) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      const p = join(dir, d.name);
      if (d.isDirectory()) await walk(p, depth + 1);
      else if (d.name.endsWith('.safetensors')) found.push(p);
    }
  }
  await walk(runDir, 0);
  const rank = (p: string): number => (/best/i.test(p) ? 0 : /last/i.test(p) ? 1 : 2);
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** TA-BN's grid times from a model config ({ timeSpan: [t0, T], gridIntervals: M }), if it fits. */
export function gridFromConfig(config: unknown, points: number): number[] | undefined {
  const c = config as { timeSpan?: unknown; gridIntervals?: unknown } | null;
  if (!c || !Array.isArray(c.timeSpan) || c.timeSpan.length !== 2) return undefined;
  const [t0, T] = c.timeSpan as number[];
  const M = typeof c.gridIntervals === 'number' ? c.gridIntervals : points - 1;
  if (!Number.isFinite(t0) || !Number.isFinite(T) || M + 1 !== points || M < 1) return undefined;
  return Array.from({ length: points }, (_, m) => (m === M ? T : t0 + (m * (T - t0)) / M));
}

export async function readNormStatistics(runDir: string): Promise<NormStatistics | undefined> {
  for (const file of await findWeightFiles(runDir)) {
    const stats = normStatisticsFromTensors((await readSafetensors(file)).tensors);
    if (!stats) continue;
    if (stats.t || stats.mean.length < 2) return stats;
    try {
      const t = gridFromConfig(JSON.parse(await readFile(join(dirname(file), 'config.json'), 'utf8')), stats.mean.length);
      return t ? { ...stats, t } : stats;
    } catch {
      return stats;
    }
  }
  return undefined;
}

/**
 * How much the running mean moves along t, relative to the feature's spread. The covered grid
 * points (count > 0 when counts are known) are split into `bins` contiguous groups and averaged
 * in each, so that the noise of individual momentum updates averages out and a trend remains;
 * for each feature, the standard deviation of the bin averages divided by the square root of
 * the average running variance; averaged over features. 0 for a single pair (popti).
 */
export function relativeVariation(stats: NormStatistics, bins = 5): number {
  const used = stats.mean.map((_, g) => g).filter((g) => !stats.count || stats.count[g] > 0);
  if (used.length < 2) return 0;
  const groups: number[][] = [];
  const k = Math.min(bins, used.length);
  for (let b = 0; b < k; b++) groups.push(used.slice(Math.floor((b * used.length) / k), Math.floor(((b + 1) * used.length) / k)));
  const features = stats.mean[0].length;
  let total = 0;
  for (let f = 0; f < features; f++) {
    const ms = groups.map((g) => g.reduce((a, i) => a + stats.mean[i][f], 0) / g.length);
    const m = ms.reduce((a, b) => a + b, 0) / ms.length;
    const sd = Math.sqrt(ms.reduce((a, b) => a + (b - m) ** 2, 0) / ms.length);
    const v = used.reduce((a, i) => a + stats.variance[i][f], 0) / used.length;
    total += sd / Math.sqrt(Math.max(v, 1e-12));
  }
  return total / features;
}
