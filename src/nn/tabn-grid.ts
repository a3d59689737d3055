/**
 * TA-BN's time grid and interpolation weights, exactly as ../shared/design/TABN.md (from Zheng et
 * al., NeurIPS 2024, §4): M + 1 points t*_m = t0 + m (T − t0)/M; for t*_l <= t < t*_(l+1),
 * w_l = (t*_(l+1) − t)/h and w_(l+1) = (t − t*_l)/h; before t0 the first point alone, at or
 * after T the last point alone (clamping).
 */
export interface GridWeight {
  readonly index: number;
  readonly weight: number;
}

export function gridPoint(m: number, t0: number, T: number, M: number): number {
  return m === M ? T : t0 + (m * (T - t0)) / M;
}

/** The grid points that weigh on time t (one or two), with their weights (summing to 1). */
export function gridWeights(t: number, t0: number, T: number, M: number): GridWeight[] {
  if (Number.isNaN(t)) throw new RangeError('TA-BN: time is NaN');
  if (t < t0) return [{ index: 0, weight: 1 }];
  if (t >= T) return [{ index: M, weight: 1 }];
  let l = Math.min(M - 1, Math.max(0, Math.floor(((t - t0) / (T - t0)) * M)));
  // Guard against rounding: make t*_l <= t < t*_(l+1) hold for the computed grid values.
  while (l > 0 && gridPoint(l, t0, T, M) > t) l--;
  while (l < M - 1 && gridPoint(l + 1, t0, T, M) <= t) l++;
  const a = gridPoint(l, t0, T, M);
  const b = gridPoint(l + 1, t0, T, M);
  const h = b - a;
  const wl = (b - t) / h;
  const wr = (t - a) / h;
  return [
    { index: l, weight: wl },
    { index: l + 1, weight: wr },
  ];
}
