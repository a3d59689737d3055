/**
 * The forward solve that every entry point shares: the field evaluated by the stepping routine
 * inside beginSolve/endSolve, with running-statistics updates committed for accepted steps only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FieldMode, VectorField } from './field.js';
import type { GradientSink } from './gradient-sink.js';
import { integrate, type IntegrateResult, type RkSystem, type StageTag, type State } from './integrate.js';
import type { ResolvedOptions } from './options.js';

/** Evaluates the field and commits normalisation updates of accepted steps. */
export class ForwardSystem implements RkSystem {
  constructor(
    private readonly field: VectorField<GradientSink>,
    private readonly mode: FieldMode,
  ) {}
  derivative(t: number, state: State, tag: StageTag, index: number): State {
    const out = this.field.evaluate(state[0], { t, index, mode: this.mode, updateStats: this.mode === 'train' && tag.kind !== 'probe', record: false });
    return [out.dy];
  }
  firstStageDone(): void {
    this.field.commitStaged?.();
  }
  stepEnd(accepted: boolean): void {
    if (accepted) this.field.commitStaged?.();
    else this.field.discardStaged?.();
  }
}

/** Integrates `system` from ts[0] through ts, inside the field's solve bracket. */
export function solve(field: VectorField<GradientSink>, system: RkSystem, y0: tf.Tensor2D, ts: readonly number[], o: ResolvedOptions): IntegrateResult {
  field.beginSolve?.();
  try {
    return integrate(system, [y0], { t0: ts[0], t1: ts[ts.length - 1], outputTimes: ts, options: o });
  } finally {
    field.discardStaged?.();
    field.endSolve?.();
  }
}

/** The outputs of a one-part solve as [T, B, D] (the outputs are released). */
export function stackOutputs(r: IntegrateResult): tf.Tensor3D {
  const ys = tf.stack(r.outputs.map((o) => o[0])) as tf.Tensor3D;
  for (const o of r.outputs) o[0].dispose();
  return ys;
}
