/**
 * The linked charts under the scene (uPlot): error against time and energy (true, predicted)
 * against time. Both share a cursor (uPlot's sync) and draw the viewer's current time as a
 * vertical line; clicking a chart seeks to that time.
 */
import uPlot from 'uplot';

export interface PlotData {
  readonly t: ArrayLike<number>;
  /** Normalised error per sample, or null without a run. */
  readonly error: ArrayLike<number> | null;
  /** Null for a dataset without energy (phase space). */
  readonly trueEnergy: ArrayLike<number> | null;
  readonly predictedEnergy: ArrayLike<number> | null;
}

const AXIS = { stroke: '#aab4c0', grid: { stroke: '#2a3340', width: 1 }, ticks: { stroke: '#2a3340', width: 1 } };

export class Plots {
  private error: uPlot;
  private energy: uPlot;
  private readonly notes: { error: HTMLElement; energy: HTMLElement };
  private time = 0;
  /** Called with a time when the user clicks a chart. */
  onSeek: (t: number) => void = () => undefined;

  constructor(
    private readonly errorEl: HTMLElement,
    private readonly energyEl: HTMLElement,
  ) {
    const timeLine = (u: uPlot): void => {
      const x = u.valToPos(this.time, 'x', true);
      if (!Number.isFinite(x)) return;
      const { ctx, bbox } = u;
      ctx.save();
      ctx.setLineDash([]);
      ctx.strokeStyle = '#ffd166';
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.restore();
    };
    const common = (title: string, yLabel: string): Omit<uPlot.Options, 'series'> => ({
      title,
      width: Math.max(200, errorEl.clientWidth),
      height: 170,
      cursor: { sync: { key: 'physode-time' }, drag: { x: false, y: false } },
      scales: { x: { time: false } },
      axes: [
        { ...AXIS, label: 't' },
        { ...AXIS, label: yLabel, size: 60 },
      ],
      hooks: { draw: [timeLine] },
    });
    this.error = new uPlot(
      {
        ...common('prediction error', 'RMS / std'),
        series: [{ label: 't' }, { label: 'error', stroke: '#ff6b6b', width: 2 }],
      },
      [[], []],
      errorEl,
    );
    this.energy = new uPlot(
      {
        ...common('energy', 'E'),
        series: [{ label: 't' }, { label: 'true', stroke: '#4cc9f0', width: 2 }, { label: 'predicted', stroke: '#f4a261', width: 2, dash: [6, 4] }],
      },
      [[], [], []],
      energyEl,
    );
    const note = (el: HTMLElement): HTMLElement => {
      const div = document.createElement('div');
      div.className = 'plot-empty';
      div.hidden = true;
      el.style.position = 'relative';
      el.append(div);
      return div;
    };
    this.notes = { error: note(errorEl), energy: note(energyEl) };
    for (const u of [this.error, this.energy]) {
      u.over.addEventListener('click', () => {
        const left = u.cursor.left ?? -1;
        if (left >= 0) this.onSeek(u.posToVal(left, 'x'));
      });
    }
  }

  setData(d: PlotData): void {
    const t = Array.from(d.t);
    const none = t.map(() => null);
    this.error.setData([t, d.error ? Array.from(d.error) : none] as uPlot.AlignedData);
    this.energy.setData([t, d.trueEnergy ? Array.from(d.trueEnergy) : none, d.predictedEnergy ? Array.from(d.predictedEnergy) : none] as uPlot.AlignedData);
  }

  /**
   * A sentence over a chart that has nothing to draw (null: none). An empty grid alone does not
   * say whether data are missing, loading or failed.
   */
  setEmpty(chart: 'error' | 'energy', sentence: string | null): void {
    const el = this.notes[chart];
    el.textContent = sentence ?? '';
    el.hidden = sentence === null;
  }

  /** The sentences shown over the charts (for tests). */
  emptyNotes(): { error: string | null; energy: string | null } {
    const text = (el: HTMLElement) => (el.hidden ? null : el.textContent);
    return { error: text(this.notes.error), energy: text(this.notes.energy) };
  }

  /** Moves the time line (redraws without rebuilding paths). */
  setTime(t: number): void {
    this.time = t;
    this.error.redraw(false, false);
    this.energy.redraw(false, false);
  }

  resize(): void {
    const w = Math.max(200, this.errorEl.clientWidth);
    this.error.setSize({ width: w, height: 170 });
    this.energy.setSize({ width: Math.max(200, this.energyEl.clientWidth), height: 170 });
  }

  /** Number of finite points plotted per chart (for tests). */
  counts(): { error: number; energy: number } {
    const finite = (a: ArrayLike<number | null | undefined> | undefined) => Array.from(a ?? []).filter((v) => typeof v === 'number' && Number.isFinite(v)).length;
    return { error: finite(this.error.data[1]), energy: finite(this.energy.data[1]) + finite(this.energy.data[2]) };
  }
}
