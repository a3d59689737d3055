/**
 * Summary statistics over seeds: mean, sample standard deviation (n - 1), min, max, count.
 * Non-finite values are not averaged; they are counted separately so a report can say so.
 */

export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (Bessel's correction); 0 when n = 1, NaN when n = 0. */
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const ss = xs.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { n, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min: Math.min(...xs), max: Math.max(...xs) };
}

/** Formats a number for a report table: 3 significant digits, exponent for extremes. */
export function fmt(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  const a = Math.abs(value);
  return a < 1e-3 || a >= 1e4 ? value.toExponential(2) : value.toPrecision(3);
}

/** "mean ± std (n)" or "mean" when only one seed. */
export function fmtSummary(s: Summary): string {
  if (s.n === 0) return '–';
  return s.n === 1 ? fmt(s.mean) : `${fmt(s.mean)} ± ${fmt(s.std)}`;
}
