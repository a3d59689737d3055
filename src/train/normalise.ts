/**
 * Normalised coordinates: z = (y - mean) / std per state component, with the training split's
 * statistics recorded in the dataset manifest (DATASET.md `stats`). Training loss, validation and
 * the evaluation MSE are all measured in these coordinates, so that components with different units
 * weigh alike.
 */
import { InvalidArgumentError } from '../util/errors.js';

export interface NormStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * A component whose spread is below this (a constant component) is scaled by 1 instead of by its
 * std, so that normalising never divides by zero. Our decision, recorded in config.json.
 */
export const MIN_STD = 1e-12;

/** Checks the statistics against the state dimension and returns the scales actually used. */
export function checkStats(stats: NormStats, dim: number): NormStats {
  if (stats.mean.length !== dim || stats.std.length !== dim) {
    throw new InvalidArgumentError(
      `normalisation statistics have ${stats.mean.length} means and ${stats.std.length} stds for a state of dimension ${dim}`,
      'regenerate the dataset, or check that the manifest belongs to these shards',
    );
  }
  for (let d = 0; d < dim; d++) {
    if (!Number.isFinite(stats.mean[d]) || !Number.isFinite(stats.std[d]) || stats.std[d] < 0) {
      throw new InvalidArgumentError(`normalisation statistics of component ${d} are not usable (mean ${stats.mean[d]}, std ${stats.std[d]})`, 'regenerate the dataset');
    }
  }
  return { mean: [...stats.mean], std: stats.std.map((s) => (s < MIN_STD ? 1 : s)) };
}

/** Normalises states stored flat with the component as the fastest axis (any leading shape). */
export function normaliseStates(y: ArrayLike<number>, stats: NormStats): Float64Array {
  const dim = stats.mean.length;
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const d = i % dim;
    out[i] = (y[i] - stats.mean[d]) / stats.std[d];
  }
  return out;
}

/** Inverse of normaliseStates. */
export function denormaliseStates(z: ArrayLike<number>, stats: NormStats): Float64Array {
  const dim = stats.mean.length;
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const d = i % dim;
    out[i] = z[i] * stats.std[d] + stats.mean[d];
  }
  return out;
}
