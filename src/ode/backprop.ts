/**
 * Gradients by backpropagation through the solver (the discrete adjoint of the Runge–Kutta
 * scheme): the forward solve records every evaluation of accepted steps, and the reverse sweep
 * applies the field's vector–Jacobian products stage by stage, step by step, including the
 * Hermite interpolation of outputs inside steps. Exact for the discrete solution; memory grows
 * with the number of accepted steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FieldMode, FieldTape, VectorField } from './field.js';
import type { GradientSink } from './gradient-sink.js';
import type { OutputPlace, RkSystem, StageTag, State } from './integrate.js';
import type { ResolvedOptions } from './options.js';
import { hermiteWeights } from './hermite.js';
import { solve, stackOutputs } from './forward.js';
import type { GradientMethod } from './gradient-method.js';

interface Rec {
  tape: FieldTape;
  cot: tf.Tensor2D | null;
}

function addInto(cur: tf.Tensor2D | null, v: tf.Tensor2D, scale = 1): tf.Tensor2D {
  const next = tf.tidy(() => {
    const sv = scale === 1 ? v.clone() : (tf.mul(v, scale) as tf.Tensor2D);
    return cur === null ? sv : (tf.add(cur, sv) as tf.Tensor2D);
  });
  cur?.dispose();
  return next;
}

/** Records every evaluation of accepted steps for backpropagation through the solver. */
class RecordingSystem implements RkSystem {
  /** nodeEvals[n]: the evaluation whose input is the accepted state y_n (first stage of step n). */
  readonly nodeEvals: (Rec | null)[] = [null];
  readonly steps: { h: number; internal: Map<number, Rec> }[] = [];
  private current = new Map<number, Rec>();
  private pendingNext: Rec | null = null;
  private readonly s: number;

  constructor(
    private readonly field: VectorField<GradientSink>,
    private readonly mode: FieldMode,
    private readonly o: ResolvedOptions,
  ) {
    this.s = o.tableau.c.length;
  }

  derivative(t: number, state: State, tag: StageTag, index: number): State {
    const probe = tag.kind === 'probe';
    const out = this.field.evaluate(state[0], { t, index, mode: this.mode, updateStats: this.mode === 'train' && !probe, record: !probe });
    if (!probe) {
      const rec: Rec = { tape: out.tape!, cot: null };
      if (tag.kind === 'stage' && tag.stage === 0) this.nodeEvals[this.steps.length] = rec;
      else if (tag.kind === 'end' || (this.o.tableau.fsal && tag.stage === this.s - 1)) this.pendingNext = rec;
      else this.current.set(tag.stage, rec);
    }
    return [out.dy];
  }
  firstStageDone(): void {
    this.field.commitStaged?.();
  }
  stepEnd(accepted: boolean, h: number): void {
    if (accepted) {
      this.steps.push({ h, internal: this.current });
      this.nodeEvals[this.steps.length] = this.pendingNext;
      this.field.commitStaged?.();
    } else {
      for (const r of this.current.values()) r.tape.dispose();
      this.pendingNext?.tape.dispose();
      this.field.discardStaged?.();
    }
    this.current = new Map();
    this.pendingNext = null;
  }
  dispose(): void {
    const all = new Set<Rec>();
    for (const r of this.nodeEvals) if (r) all.add(r);
    for (const st of this.steps) for (const r of st.internal.values()) all.add(r);
    for (const r of this.current.values()) all.add(r);
    if (this.pendingNext) all.add(this.pendingNext);
    for (const r of all) {
      r.tape.dispose();
      r.cot?.dispose();
      r.cot = null;
    }
    this.nodeEvals.length = 0;
    this.steps.length = 0;
    this.current.clear();
    this.pendingNext = null;
  }
}

/** Reverse sweep over the recorded steps (discrete adjoint of the Runge–Kutta scheme). */
function backpropSweep(
  field: VectorField<GradientSink>,
  rec: RecordingSystem,
  places: readonly OutputPlace[],
  gradYs: tf.Tensor3D,
  o: ResolvedOptions,
  sink: GradientSink,
): { y0: tf.Tensor2D; vjps: number } {
  const tab = o.tableau;
  const s = tab.c.length;
  const N = rec.steps.length;
  const nodeBar: (tf.Tensor2D | null)[] = new Array(N + 1).fill(null);
  const gs = tf.unstack(gradYs) as tf.Tensor2D[];
  let vjps = 0;
  const vjp = (r: Rec, cot: tf.Tensor2D): tf.Tensor2D => {
    vjps++;
    return field.vjp(r.tape, cot, sink, 1);
  };
  places.forEach((p, i) => {
    const g = gs[i];
    if (p.kind === 'start') nodeBar[0] = addInto(nodeBar[0], g);
    else if (p.kind === 'end') nodeBar[p.step + 1] = addInto(nodeBar[p.step + 1], g);
    else {
      const w = hermiteWeights(p.theta, p.h);
      nodeBar[p.step] = addInto(nodeBar[p.step], g, w.y0);
      nodeBar[p.step + 1] = addInto(nodeBar[p.step + 1], g, w.y1);
      const r0 = rec.nodeEvals[p.step]!;
      const r1 = rec.nodeEvals[p.step + 1]!;
      r0.cot = addInto(r0.cot, g, w.f0);
      r1.cot = addInto(r1.cot, g, w.f1);
    }
  });
  for (const g of gs) g.dispose();
  const last = rec.nodeEvals[N];
  if (last && last.cot) {
    const yb = vjp(last, last.cot);
    nodeBar[N] = addInto(nodeBar[N], yb);
    yb.dispose();
  }
  const shape = gradYs.shape.slice(1) as [number, number];
  for (let n = N - 1; n >= 0; n--) {
    const { h, internal } = rec.steps[n];
    const gbar = nodeBar[n + 1] ?? tf.zeros(shape);
    nodeBar[n + 1] = null;
    const stageBar = new Map<number, tf.Tensor2D>();
    const cotangentOf = (i: number, own: tf.Tensor2D | null): tf.Tensor2D =>
      tf.tidy(() => {
        const terms: tf.Tensor2D[] = [];
        if (own) terms.push(own);
        if (tab.b[i] !== 0) terms.push(tf.mul(gbar, h * tab.b[i]));
        for (const [m, ym] of stageBar) {
          const a = tab.a[m][i] ?? 0;
          if (a !== 0) terms.push(tf.mul(ym, h * a));
        }
        return terms.length === 0 ? tf.zeros(shape) : terms.length === 1 ? terms[0].clone() : (tf.addN(terms) as tf.Tensor2D);
      });
    for (let i = s - 1; i >= 1; i--) {
      const r = internal.get(i);
      if (!r) continue; // the FSAL last stage: its input is y_{n+1}, already handled as a node
      const kbar = cotangentOf(i, r.cot);
      stageBar.set(i, vjp(r, kbar));
      kbar.dispose();
      r.tape.dispose();
      r.cot?.dispose();
      r.cot = null;
      internal.delete(i);
    }
    const r0 = rec.nodeEvals[n]!;
    const k0bar = cotangentOf(0, r0.cot);
    r0.cot?.dispose();
    r0.cot = null;
    const y0bar = vjp(r0, k0bar);
    k0bar.dispose();
    r0.tape.dispose();
    rec.nodeEvals[n] = null;
    const sum = tf.tidy(() => tf.addN([gbar, y0bar, ...stageBar.values()]) as tf.Tensor2D);
    nodeBar[n] = addInto(nodeBar[n], sum);
    sum.dispose();
    y0bar.dispose();
    gbar.dispose();
    for (const v of stageBar.values()) v.dispose();
  }
  return { y0: nodeBar[0] ?? tf.zeros(shape), vjps };
}

export const backprop: GradientMethod = {
  name: 'backprop',
  solve(field, y0, ts, o) {
    const recorder = new RecordingSystem(field, o.mode, o);
    let r;
    try {
      r = solve(field, recorder, y0, ts, o);
    } catch (err) {
      recorder.dispose();
      throw err;
    }
    const places = r.places;
    return {
      ys: stackOutputs(r),
      stats: { nfe: r.nfe, accepted: r.accepted, rejected: r.rejected },
      backward(gradYs, sink) {
        field.beginSolve?.();
        try {
          const g = backpropSweep(field, recorder, places, gradYs, o, sink);
          return { y0: g.y0, nfe: g.vjps };
        } finally {
          field.endSolve?.();
          recorder.dispose();
        }
      },
      dispose: () => recorder.dispose(),
    };
  },
};
