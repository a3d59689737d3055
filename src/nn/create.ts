/** Builds a normalisation by name. */
import type { NormKind, NormOptions, Normalization } from './normalization.js';
import { NoNormalization } from './none.js';
import { MinibatchNorm } from './minibatch.js';
import { PopTiNorm } from './popti.js';
import { PopNorm } from './pop.js';
import { TemporalAdaptiveBatchNorm } from './tabn.js';

export function createNormalization(kind: NormKind, options: NormOptions): Normalization {
  switch (kind) {
    case 'none':
      return new NoNormalization(options.numFeatures);
    case 'minibatch':
      return new MinibatchNorm(options);
    case 'popti':
      return new PopTiNorm(options);
    case 'pop':
      return new PopNorm(options);
    case 'tabn':
      return new TemporalAdaptiveBatchNorm(options);
  }
}
