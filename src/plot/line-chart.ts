/**
 * Line charts rendered straight to SVG text (no browser, no dependency): axes with nice ticks,
 * grid lines, axis labels, a title, a legend, and an optional log-scale y axis (for losses).
 * Non-finite points, and non-positive ones on a log axis, break a line instead of corrupting it.
 */
import { element, textElement, formatCoordinate } from './svg.js';
import { decade, linearScale, logScale, padDomain, type Scale } from './scale.js';

/** One line on a chart. `x` and `y` have the same length. */
export interface Series {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** CSS colour; a palette colour by position when absent. */
  readonly color?: string;
  readonly dashed?: boolean;
}

export interface LineChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Base-10 logarithmic y axis (points <= 0 are left out). */
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Tableau 10 palette (Tableau Software; also matplotlib's default "tab10" colour cycle). */
export const PALETTE: readonly string[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
];

const MARGIN = { left: 72, right: 20, top: 36, bottom: 48 };

function usable(x: number, y: number, logY: boolean): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
}

function extent(series: readonly Series[], logY: boolean): { x: [number, number]; y: [number, number] } {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series) {
    const n = Math.min(s.x.length, s.y.length);
    for (let i = 0; i < n; i++) {
      const x = s.x[i], y = s.y[i];
      if (!usable(x, y, logY)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { x: padDomain(x0, x1, false), y: padDomain(y0, y1, logY) };
}

/** Path data for one series: a new subpath after every unusable point. */
export function seriesPath(s: Series, xs: Scale, ys: Scale, logY: boolean): string {
  const parts: string[] = [];
  let pen = false;
  const n = Math.min(s.x.length, s.y.length);
  for (let i = 0; i < n; i++) {
    const x = s.x[i], y = s.y[i];
    if (!usable(x, y, logY)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${formatCoordinate(xs.map(x))} ${formatCoordinate(ys.map(y))}`);
    pen = true;
  }
  return parts.join(' ');
}

/** Renders a complete, standalone SVG document. */
export function renderLineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const logY = spec.logY ?? false;
  const left = MARGIN.left, right = width - MARGIN.right, top = MARGIN.top, bottom = height - MARGIN.bottom;
  const ext = extent(spec.series, logY);
  // Log axes snap to whole decades so the ends are labelled.
  const yDomain: [number, number] = logY
    ? [decade(Math.floor(Math.log10(ext.y[0]))), decade(Math.ceil(Math.log10(ext.y[1])))]
    : ext.y;
  if (logY && yDomain[0] === yDomain[1]) yDomain[1] = yDomain[0] * 10;
  const xs = linearScale(ext.x, [left, right]);
  const ys = logY ? logScale(yDomain, [bottom, top]) : linearScale(yDomain, [bottom, top]);

  const grid: string[] = [];
  const labels: string[] = [];
  for (const v of xs.ticks()) {
    const px = xs.map(v);
    grid.push(element('line', { x1: px, y1: top, x2: px, y2: bottom, class: 'grid' }));
    grid.push(element('line', { x1: px, y1: bottom, x2: px, y2: bottom + 5, class: 'tick' }));
    labels.push(textElement({ x: px, y: bottom + 18, 'text-anchor': 'middle', class: 'tick-label x' }, xs.format(v)));
  }
  for (const v of ys.ticks()) {
    const py = ys.map(v);
    grid.push(element('line', { x1: left, y1: py, x2: right, y2: py, class: 'grid' }));
    grid.push(element('line', { x1: left - 5, y1: py, x2: left, y2: py, class: 'tick' }));
    labels.push(textElement({ x: left - 8, y: py + 4, 'text-anchor': 'end', class: 'tick-label y' }, ys.format(v)));
  }

  const lines = spec.series.map((s, i) =>
    element('path', {
      d: seriesPath(s, xs, ys, logY) || undefined,
      class: 'series',
      'data-series': s.name,
      fill: 'none',
      stroke: s.color ?? PALETTE[i % PALETTE.length],
      'stroke-width': 1.6,
      'stroke-dasharray': s.dashed ? '5 3' : undefined,
    }),
  );

  const legendItems = spec.series.map((s, i) => {
    const y = top + 14 + i * 16;
    const color = s.color ?? PALETTE[i % PALETTE.length];
    return element(
      'g',
      { class: 'legend-item' },
      element('line', { x1: right - 150, y1: y - 4, x2: right - 128, y2: y - 4, stroke: color, 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '5 3' : undefined }),
      textElement({ x: right - 122, y }, s.name),
    );
  });
  const legend = spec.series.length > 0
    ? element('g', { class: 'legend' },
      element('rect', { x: right - 156, y: top + 2, width: 152, height: 16 * spec.series.length + 6, fill: 'white', 'fill-opacity': 0.85, stroke: '#ccc' }),
      ...legendItems)
    : '';

  const style = element('style', {}, '.grid{stroke:#e5e5e5;stroke-width:1}.tick{stroke:#333}text{font-family:sans-serif;font-size:11px;fill:#222}.title{font-size:14px;font-weight:bold}.axis{stroke:#333;stroke-width:1}');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    element(
      'svg',
      { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}` },
      style,
      element('rect', { x: 0, y: 0, width, height, fill: 'white' }),
      element('g', { class: 'grid-lines' }, ...grid),
      element('line', { x1: left, y1: bottom, x2: right, y2: bottom, class: 'axis' }),
      element('line', { x1: left, y1: top, x2: left, y2: bottom, class: 'axis' }),
      element('g', { class: 'tick-labels' }, ...labels),
      element('g', { class: 'series-lines' }, ...lines),
      legend,
      textElement({ x: width / 2, y: 20, 'text-anchor': 'middle', class: 'title' }, spec.title),
      textElement({ x: (left + right) / 2, y: height - 10, 'text-anchor': 'middle', class: 'axis-label x' }, spec.xLabel),
      textElement({ x: 16, y: (top + bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 16 ${formatCoordinate((top + bottom) / 2)})`, class: 'axis-label y' }, spec.yLabel + (logY ? ' (log)' : '')),
    ) +
    '\n'
  );
}
