/**
 * Axis scales for the SVG charts: linear and base-10 logarithmic maps from data to pixels, with
 * "nice" tick values (1, 2, 5 times a power of ten: Heckbert, "Nice numbers for graph labels",
 * Graphics Gems, 1990).
 */

export interface Scale {
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  readonly log: boolean;
  /** Data value to pixel. */
  map(value: number): number;
  /** Tick values inside the domain. */
  ticks(): number[];
  /** Tick label text. */
  format(value: number): string;
}

/** The nice number near x: 1, 2, 5 or 10 times a power of ten (Heckbert 1990). */
export function niceNumber(x: number, round: boolean): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}

/** Nice tick values covering [lo, hi] with about `count` ticks (Heckbert's loose labelling). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const range = niceNumber(hi - lo, false);
  const step = niceNumber(range / Math.max(1, count - 1), true);
  const first = Math.ceil(lo / step - 1e-9);
  const ticks: number[] = [];
  // Multiply rather than accumulate, and round to 12 digits, so that ticks read 0.6, not 0.6000000000000001.
  for (let k = first; k * step <= hi + step * 1e-9; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return ticks;
}

/** Widens a degenerate or non-finite domain so that a scale can be built from it. */
export function padDomain(lo: number, hi: number, log: boolean): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return log ? [0.1, 10] : [0, 1];
  if (hi > lo) return [lo, hi];
  if (log) return [lo / 10, hi * 10];
  const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - pad, hi + pad];
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(6)));
}

/** 10^e exactly as the decimal literal reads (10 ** -4 is 0.00009999999999999999 in IEEE doubles). */
export function decade(e: number): number {
  return Number(`1e${e}`);
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const niceDomain: [number, number] = [d0, d1];
  return {
    domain: niceDomain,
    range,
    log: false,
    map: (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0),
    ticks: () => niceTicks(d0, d1, 6),
    format: formatTick,
  };
}

/** Base-10 log scale; the domain must be positive. Ticks at powers of ten (thinned to at most ~8). */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const l0 = Math.log10(domain[0]);
  const l1 = Math.log10(domain[1]);
  const [r0, r1] = range;
  return {
    domain,
    range,
    log: true,
    map: (v) => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0),
    ticks: () => {
      const first = Math.ceil(l0 - 1e-9);
      const last = Math.floor(l1 + 1e-9);
      const span = last - first + 1;
      if (span < 2) return niceTicks(domain[0], domain[1], 4);
      const stride = Math.ceil(span / 8);
      const ticks: number[] = [];
      for (let e = first; e <= last; e += stride) ticks.push(decade(e));
      return ticks;
    },
    format: (v) => {
      const e = Math.log10(v);
      return Number.isInteger(Math.round(e * 1e9) / 1e9) ? `1e${Math.round(e)}` : formatTick(v);
    },
  };
}
