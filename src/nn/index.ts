/** Layers: linear, activations, and the five normalisations of TABN.md. */
export { Linear } from './linear.js';
export { ACTIVATIONS, activate, checkActivation } from './activation.js';
export type { ActivationName } from './activation.js';
export { NORM_KINDS, checkNormKind } from './normalization.js';
export type { NormKind, NormOptions, Normalization, NormRequest, StateArray } from './normalization.js';
export { createNormalization } from './create.js';
export { NoNormalization } from './none.js';
export { MinibatchNorm } from './minibatch.js';
export { PopTiNorm } from './popti.js';
export { PopNorm } from './pop.js';
export { TemporalAdaptiveBatchNorm } from './tabn.js';
export { gridWeights, gridPoint } from './tabn-grid.js';
