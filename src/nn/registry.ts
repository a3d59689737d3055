/**
 * The normalisations physode knows, one descriptor each: what the CLI offers, what training and
 * `reproduce` ask of a normalisation, and how to build it. Adding a normalisation is its own file
 * (a class implementing Normalization and its descriptor) and one line in NORMALIZATIONS.
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { NormOptions, Normalization } from './normalization.js';
import { noneDescriptor } from './none.js';
import { minibatchDescriptor } from './minibatch.js';
import { poptiDescriptor } from './popti.js';
import { popDescriptor } from './pop.js';
import { tabnDescriptor } from './tabn.js';

export interface NormDescriptor {
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  /** The identity (no statistics, no parameters): a field skips it. */
  readonly identity: boolean;
  /**
   * What evaluation mode normalises with: nothing (identity), the batch's own statistics, one
   * running pair, a pair per solver-evaluation index, or pairs on a time grid interpolated at t.
   */
  readonly evalStatistics: 'none' | 'batch' | 'single' | 'per-evaluation' | 'time-grid';
  /** Smallest batch a training-mode evaluation accepts (batch statistics need 2 rows). */
  readonly minTrainBatch: number;
  create(options: NormOptions): Normalization;
}

export const NORMALIZATIONS = {
  none: noneDescriptor,
  minibatch: minibatchDescriptor,
  popti: poptiDescriptor,
  pop: popDescriptor,
  tabn: tabnDescriptor,
} as const satisfies Record<string, NormDescriptor>;

export type NormKind = keyof typeof NORMALIZATIONS;
export const NORM_KINDS = Object.keys(NORMALIZATIONS) as readonly NormKind[];

export function checkNormKind(name: string): NormKind {
  if (Object.hasOwn(NORMALIZATIONS, name)) return name as NormKind;
  throw new InvalidArgumentError(`unknown normalisation '${name}'`, `use one of: ${NORM_KINDS.join(', ')}`);
}

export function normDescriptor(kind: NormKind): NormDescriptor {
  return NORMALIZATIONS[kind];
}

/** True when the normalisation keeps running statistics that evaluation uses (recalibration, freezing, plots). */
export function hasRunningStatistics(kind: NormKind): boolean {
  const s = NORMALIZATIONS[kind].evalStatistics;
  return s === 'single' || s === 'per-evaluation' || s === 'time-grid';
}

export function createNormalization(kind: NormKind, options: NormOptions): Normalization {
  return NORMALIZATIONS[kind].create(options);
}
