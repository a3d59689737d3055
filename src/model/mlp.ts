/**
 * The vector field's backbone as a definition: an MLP whose hidden layers are linear →
 * normalisation at time t → activation, with an optional time input (t appended to the state)
 * and a final linear layer. Parameters and normalisation buffers by logical name:
 *   field.layers.{i}.linear.weight [out, in], field.layers.{i}.linear.bias [out],
 *   field.layers.{i}.norm.{weight,bias,running_mean,running_var,...}, field.output.{weight,bias}.
 * How it is evaluated and differentiated is mlp-field.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Linear } from '../nn/linear.js';
import type { ActivationName } from '../nn/activation.js';
import { createNormalization, type NormKind } from '../nn/registry.js';
import type { Normalization, StateArray } from '../nn/normalization.js';
import { InvalidArgumentError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export interface MlpFieldConfig {
  /** State dimension. */
  readonly dim: number;
  /** Number of hidden layers (each linear → norm → activation; default 2) and their width (default 64). */
  readonly depth: number;
  readonly width: number;
  readonly activation: ActivationName;
  readonly norm: NormKind;
  /** Append t to the input of the first layer. */
  readonly timeInput: boolean;
  /** The model's span [t0, T] (TA-BN's grid). */
  readonly timeSpan: readonly [number, number];
  /** TA-BN's M (default 100). */
  readonly gridIntervals: number;
  readonly eps: number;
  /** Running-statistics momentum; null: cumulative average (PyTorch's momentum=None). */
  readonly momentum: number | null;
  readonly affine: boolean;
  /** Seed of the weight initialisation. */
  readonly seed: number;
  /**
   * The normalisation sits in the first `normLayers` hidden layers only (the paper's HalfCheetah
   * field: 12 layers, normalised in the first 5); the others are plain linear → activation.
   * Absent: every hidden layer (configurations written before the option load unchanged).
   */
  readonly normLayers?: number;
}

/** Whether hidden layer i of a field with this configuration carries the configured normalisation. */
export function layerIsNormalised(config: Pick<MlpFieldConfig, 'depth' | 'normLayers'>, i: number): boolean {
  return i < (config.normLayers ?? config.depth);
}

export interface HiddenLayer {
  readonly linear: Linear;
  readonly norm: Normalization;
}

export const FIELD_PREFIX = 'field.';

export class Mlp {
  readonly hidden: HiddenLayer[] = [];
  readonly output: Linear;

  constructor(
    readonly config: MlpFieldConfig,
    variablePrefix: string,
  ) {
    const c = config;
    for (const [k, v] of [['dim', c.dim], ['depth', c.depth], ['width', c.width]] as const) {
      if (!(Number.isInteger(v) && v >= (k === 'depth' ? 0 : 1))) throw new InvalidArgumentError(`field ${k} must be a positive integer, got ${v}`);
    }
    if (c.normLayers !== undefined && !(Number.isInteger(c.normLayers) && c.normLayers >= 0 && c.normLayers <= c.depth)) {
      throw new InvalidArgumentError(`field normLayers must be an integer in [0, depth = ${c.depth}], got ${c.normLayers}`, 'normalise at most every hidden layer');
    }
    const rng = new Rng(c.seed);
    let inFeatures = c.dim + (c.timeInput ? 1 : 0);
    for (let i = 0; i < c.depth; i++) {
      const base = `${FIELD_PREFIX}layers.${i}.`;
      const linear = new Linear(inFeatures, c.width, rng, `${variablePrefix}${base}linear.`);
      const norm = createNormalization(layerIsNormalised(c, i) ? c.norm : 'none', {
        numFeatures: c.width,
        eps: c.eps,
        momentum: c.momentum,
        affine: c.affine,
        timeSpan: c.timeSpan,
        gridIntervals: c.gridIntervals,
        namePrefix: `${variablePrefix}${base}norm.`,
      });
      this.hidden.push({ linear, norm });
      inFeatures = c.width;
    }
    this.output = new Linear(inFeatures, c.dim, rng, `${variablePrefix}${FIELD_PREFIX}output.`);
  }

  /** Trainable variables by logical name. */
  parameters(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    this.hidden.forEach((l, i) => {
      for (const [k, v] of Object.entries(l.linear.parameters())) out[`${FIELD_PREFIX}layers.${i}.linear.${k}`] = v;
      for (const [k, v] of Object.entries(l.norm.parameters())) out[`${FIELD_PREFIX}layers.${i}.norm.${k}`] = v;
    });
    for (const [k, v] of Object.entries(this.output.parameters())) out[`${FIELD_PREFIX}output.${k}`] = v;
    return out;
  }

  /** Normalisation buffers by logical name. */
  buffers(): Record<string, StateArray> {
    const out: Record<string, StateArray> = {};
    this.hidden.forEach((l, i) => {
      for (const [k, v] of Object.entries(l.norm.getState())) out[`${FIELD_PREFIX}layers.${i}.norm.${k}`] = v;
    });
    return out;
  }

  setBuffers(state: Record<string, StateArray>): void {
    this.hidden.forEach((l, i) => {
      const prefix = `${FIELD_PREFIX}layers.${i}.norm.`;
      const mine: Record<string, StateArray> = {};
      for (const [k, v] of Object.entries(state)) if (k.startsWith(prefix)) mine[k.slice(prefix.length)] = v;
      l.norm.setState(mine);
    });
  }

  dispose(): void {
    for (const l of this.hidden) {
      l.linear.dispose();
      l.norm.dispose();
    }
    this.output.dispose();
  }
}
