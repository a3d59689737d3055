/**
 * The adjoint method (Pontryagin; Chen, Rubanova, Bettencourt & Duvenaud, "Neural Ordinary
 * Differential Equations", NeurIPS 2018, Algorithm 1): solve backwards in time
 *   y' = f(t, y),  a' = -aᵀ ∂f/∂y,  g' = -aᵀ ∂f/∂θ,
 * from each output time to the previous one, adding dL/dy(t_i) to a at t_i. Memory does not
 * grow with the number of steps: only the current step's stages are alive. The field runs in
 * the forward solve's mode but never updates normalisation statistics. The error norm covers
 * y and a but not g (the "seminorm" of Kidger, Chen & Lyons, "Hey, that's not an ODE", ICML 2021).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { VectorField } from './field.js';
import { addSink, sinkFor, type GradientSink } from './gradient-sink.js';
import { integrate, type RkSystem, type StageTag, type State } from './integrate.js';
import type { ResolvedOptions } from './options.js';
import { ForwardSystem, solve, stackOutputs } from './forward.js';
import type { GradientMethod } from './gradient-method.js';

class AdjointSystem implements RkSystem {
  /** Unscaled parameter VJPs of the current step's stages (FSAL: the last one carries over). */
  private stageSinks = new Map<number, GradientSink>();
  evaluations = 0;

  constructor(
    private readonly field: VectorField<GradientSink>,
    private readonly o: ResolvedOptions,
    private readonly total: GradientSink,
  ) {}

  derivative(t: number, state: State, tag: StageTag, index: number): State {
    const [y, a] = state;
    const out = this.field.evaluate(y, { t, index, mode: this.o.mode, updateStats: false, record: true });
    const tab = this.o.tableau;
    const s = tab.c.length;
    let sink: GradientSink | null = null;
    if (tag.kind === 'stage') {
      const needed = tab.b[tag.stage] !== 0 || (tab.fsal && tag.stage === s - 1 && tab.b[0] !== 0);
      if (needed) {
        sink = sinkFor(this.field);
        this.stageSinks.get(tag.stage)?.dispose();
        this.stageSinks.set(tag.stage, sink);
      }
    }
    const aJ = this.field.vjp(out.tape!, a, sink, 1);
    out.tape!.dispose();
    this.evaluations++;
    const aDot = tf.neg(aJ) as tf.Tensor2D;
    aJ.dispose();
    return [out.dy, aDot];
  }

  stepEnd(accepted: boolean, h: number): void {
    const tab = this.o.tableau;
    const s = tab.c.length;
    if (accepted) {
      // g_{n+1} = g_n + h Σ b_i (-aᵀ∂f/∂θ)_i, with h < 0 going backwards.
      for (const [i, sk] of this.stageSinks) if (tab.b[i] !== 0) addSink(this.total, sk, -h * tab.b[i]);
      const carry = tab.fsal ? this.stageSinks.get(s - 1) : undefined;
      for (const [i, sk] of this.stageSinks) if (!(tab.fsal && i === s - 1)) sk.dispose();
      this.stageSinks = new Map();
      if (carry) this.stageSinks.set(0, carry);
    } else {
      for (const [i, sk] of this.stageSinks) {
        if (i !== 0) {
          sk.dispose();
          this.stageSinks.delete(i);
        }
      }
    }
  }

  dispose(): void {
    for (const sk of this.stageSinks.values()) sk.dispose();
    this.stageSinks.clear();
  }
}

/** From the outputs ys and dL/dys, backwards interval by interval: dL/dy0 (returned) and dL/dθ (into total). */
function adjointBackward(
  field: VectorField<GradientSink>,
  ys: tf.Tensor3D,
  ts: readonly number[],
  gradYs: tf.Tensor3D,
  o: ResolvedOptions,
  total: GradientSink,
): { y0: tf.Tensor2D; nfe: number } {
  const yAt = tf.unstack(ys) as tf.Tensor2D[];
  const gAt = tf.unstack(gradYs) as tf.Tensor2D[];
  let a = gAt[gAt.length - 1].clone();
  let nfe = 0;
  field.beginSolve?.();
  try {
    for (let i = ts.length - 1; i >= 1; i--) {
      const system = new AdjointSystem(field, o, total);
      try {
        const r = integrate(system, [yAt[i], a], {
          t0: ts[i],
          t1: ts[i - 1],
          outputTimes: [ts[i - 1]],
          errorParts: 2,
          options: o,
          nfeOffset: nfe,
        });
        nfe += r.nfe;
        const [yBack, aBack] = r.outputs[0];
        yBack.dispose();
        a.dispose();
        a = tf.add(aBack, gAt[i - 1]) as tf.Tensor2D;
        aBack.dispose();
      } finally {
        system.dispose();
      }
    }
  } catch (err) {
    a.dispose();
    throw err;
  } finally {
    field.endSolve?.();
    for (const x of yAt) x.dispose();
    for (const x of gAt) x.dispose();
  }
  return { y0: a, nfe };
}

export const adjoint: GradientMethod = {
  name: 'adjoint',
  solve(field, y0, ts, o) {
    const r = solve(field, new ForwardSystem(field, o.mode), y0, ts, o);
    const ys = stackOutputs(r);
    const kept = ys.clone(); // the adjoint restarts from the outputs; the caller may dispose ys
    let released = false;
    const release = (): void => {
      if (!released) kept.dispose();
      released = true;
    };
    return {
      ys,
      stats: { nfe: r.nfe, accepted: r.accepted, rejected: r.rejected },
      backward(gradYs, sink) {
        try {
          return adjointBackward(field, kept, ts, gradYs, o, sink);
        } finally {
          release();
        }
      },
      dispose: release,
    };
  },
};
