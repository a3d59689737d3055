/**
 * Categorical charts for the report: one point per (category, series) with an error bar
 * (mean ± spread over seeds), points of a series joined by a line, and a cross in the series'
 * colour above the plot where a cell failed (claim 4 counts failures as results, so they must show on the plot). src/plot's line
 * chart has numeric x and no error bars, so this local helper builds on its SVG primitives,
 * scales and palette instead.
 */
import { PALETTE } from '../plot/line-chart.js';
import { decade, linearScale, logScale, padDomain } from '../plot/scale.js';
import { element, formatCoordinate, textElement } from '../plot/svg.js';

export interface CategoryPoint {
  readonly mean: number;
  /** Half-height of the error bar (e.g. one standard deviation); 0 or absent: no bar. */
  readonly spread?: number;
  /** The cell failed (drawn as a cross at the top, whatever mean says). */
  readonly failed?: boolean;
}

export interface CategorySeries {
  readonly name: string;
  /** One point per category, in order; undefined where the series has no cell. */
  readonly points: readonly (CategoryPoint | undefined)[];
  /** CSS colour; a palette colour by position when absent. */
  readonly color?: string;
  /** Dashed line and hollow points (e.g. the stressed condition beside the reference). */
  readonly dashed?: boolean;
}

export interface CategoryChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly CategorySeries[];
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { left: 72, right: 170, top: 36, bottom: 48 };

function drawable(p: CategoryPoint | undefined, logY: boolean): p is CategoryPoint {
  return p !== undefined && !p.failed && Number.isFinite(p.mean) && (!logY || p.mean > 0);
}

export function renderCategoryChart(spec: CategoryChartSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 400;
  const logY = spec.logY ?? false;
  const left = MARGIN.left, right = width - MARGIN.right, top = MARGIN.top + 14, bottom = height - MARGIN.bottom;
  let lo = Infinity, hi = -Infinity;
  for (const s of spec.series) {
    for (const p of s.points) {
      if (!drawable(p, logY)) continue;
      const spread = p.spread ?? 0;
      const low = logY && p.mean - spread <= 0 ? p.mean : p.mean - spread;
      lo = Math.min(lo, low);
      hi = Math.max(hi, p.mean + spread);
    }
  }
  const padded = padDomain(lo, hi, logY);
  const domain: [number, number] = logY ? [decade(Math.floor(Math.log10(padded[0]))), decade(Math.ceil(Math.log10(padded[1])))] : padded;
  if (logY && domain[0] === domain[1]) domain[1] = domain[0] * 10;
  const ys = logY ? logScale(domain, [bottom, top]) : linearScale(domain, [bottom, top]);
  const n = Math.max(1, spec.categories.length);
  const band = (right - left) / n;
  const k = Math.max(1, spec.series.length);
  const xOf = (c: number, s: number) => left + band * (c + 0.5) + (k > 1 ? ((s - (k - 1) / 2) * band * 0.5) / k : 0);

  const parts: string[] = [];
  for (const v of ys.ticks()) {
    const py = ys.map(v);
    parts.push(element('line', { x1: left, y1: py, x2: right, y2: py, class: 'grid' }));
    parts.push(textElement({ x: left - 8, y: py + 4, 'text-anchor': 'end', class: 'tick-label y' }, ys.format(v)));
  }
  spec.categories.forEach((c, i) => {
    parts.push(textElement({ x: left + band * (i + 0.5), y: bottom + 18, 'text-anchor': 'middle', class: 'tick-label x' }, c));
  });
  const clampY = (y: number) => Math.min(bottom, Math.max(top, y));
  spec.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length];
    const path: string[] = [];
    let pen = false;
    s.points.forEach((p, ci) => {
      const x = xOf(ci, si);
      if (p?.failed) {
        const y = top - 8;
        parts.push(element('path', { d: `M${formatCoordinate(x - 4)} ${formatCoordinate(y - 4)} L${formatCoordinate(x + 4)} ${formatCoordinate(y + 4)} M${formatCoordinate(x - 4)} ${formatCoordinate(y + 4)} L${formatCoordinate(x + 4)} ${formatCoordinate(y - 4)}`, stroke: color, 'stroke-width': 2.5, class: 'failure', 'data-series': s.name }));
      }
      if (!drawable(p, logY)) {
        pen = false;
        return;
      }
      const y = ys.map(p.mean);
      path.push(`${pen ? 'L' : 'M'}${formatCoordinate(x)} ${formatCoordinate(y)}`);
      pen = true;
      const spread = p.spread ?? 0;
      if (spread > 0) {
        const y0 = clampY(ys.map(logY && p.mean - spread <= 0 ? domain[0] : p.mean - spread));
        const y1 = clampY(ys.map(p.mean + spread));
        parts.push(element('line', { x1: x, y1: y0, x2: x, y2: y1, stroke: color, 'stroke-width': 1.2, class: 'error-bar' }));
      }
      parts.push(element('circle', { cx: x, cy: y, r: 3.5, fill: s.dashed ? 'white' : color, stroke: color, 'stroke-width': 1.5, class: 'point', 'data-series': s.name }));
    });
    if (path.length > 1) parts.push(element('path', { d: path.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.4, 'stroke-opacity': 0.7, 'stroke-dasharray': s.dashed ? '5 3' : undefined, class: 'series' }));
  });
  const legend = spec.series.map((s, i) => {
    const y = top + 4 + i * 16;
    return element('g', { class: 'legend-item' },
      element('circle', { cx: right + 16, cy: y - 4, r: 4, fill: s.dashed ? 'white' : (s.color ?? PALETTE[i % PALETTE.length]), stroke: s.color ?? PALETTE[i % PALETTE.length], 'stroke-width': 1.5 }),
      textElement({ x: right + 26, y }, s.name));
  });
  const failedAny = spec.series.some((s) => s.points.some((p) => p?.failed));
  if (failedAny) {
    const y = top + 4 + spec.series.length * 16 + 6;
    legend.push(element('g', { class: 'legend-item' }, element('path', { d: `M${right + 12} ${y - 8} L${right + 20} ${y} M${right + 12} ${y} L${right + 20} ${y - 8}`, stroke: '#444', 'stroke-width': 2 }), textElement({ x: right + 26, y }, 'failed (series colour)')));
  }
  const style = element('style', {}, '.grid{stroke:#e5e5e5;stroke-width:1}text{font-family:sans-serif;font-size:11px;fill:#222}.title{font-size:14px;font-weight:bold}.axis{stroke:#333;stroke-width:1}');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    element('svg', { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}` },
      style,
      element('rect', { x: 0, y: 0, width, height, fill: 'white' }),
      ...parts,
      element('line', { x1: left, y1: bottom, x2: right, y2: bottom, class: 'axis' }),
      element('line', { x1: left, y1: top, x2: left, y2: bottom, class: 'axis' }),
      ...legend,
      textElement({ x: width / 2, y: 20, 'text-anchor': 'middle', class: 'title' }, spec.title),
      textElement({ x: (left + right) / 2, y: height - 10, 'text-anchor': 'middle', class: 'axis-label x' }, spec.xLabel),
      textElement({ x: 16, y: (top + bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 16 ${formatCoordinate((top + bottom) / 2)})`, class: 'axis-label y' }, spec.yLabel + (logY ? ' (log)' : '')),
    ) + '\n'
  );
}
