/** Which samples of a series a response keeps: every k-th, always including the last one. */
export interface Downsample {
  readonly every?: number;
  readonly max?: number;
}

/** Stride that keeps at most `max` samples of `count` (or `every` as given; 1 by default). */
export function strideFor(count: number, opts: Downsample): number {
  if (opts.every !== undefined) return opts.every;
  if (opts.max !== undefined && count > opts.max) return Math.ceil((count - 1) / (opts.max - 1));
  return 1;
}

/** Indices 0, k, 2k, ... plus count - 1 when the stride skips it. */
export function sampleIndices(count: number, opts: Downsample): number[] {
  const k = strideFor(count, opts);
  const out: number[] = [];
  for (let i = 0; i < count; i += k) out.push(i);
  if (count > 0 && out[out.length - 1] !== count - 1) out.push(count - 1);
  return out;
}

/** Rows `indices` of a row-major [count, width] array, flattened. */
export function pickRows(data: ArrayLike<number>, width: number, indices: readonly number[]): number[] {
  const out = new Array<number>(indices.length * width);
  let o = 0;
  for (const i of indices) for (let j = 0; j < width; j++) out[o++] = data[i * width + j];
  return out;
}
