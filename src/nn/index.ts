/** Layers: linear, activation names, and the five normalisations of TABN.md behind one registry. */
export { Linear } from './linear.js';
export { ACTIVATIONS, checkActivation } from './activation.js';
export type { ActivationName } from './activation.js';
export { NORMALIZATIONS, NORM_KINDS, checkNormKind, createNormalization, hasRunningStatistics, normDescriptor } from './registry.js';
export type { NormDescriptor, NormKind } from './registry.js';
export type { NormOptions, Normalization, NormRequest, StateArray } from './normalization.js';
export { NoNormalization } from './none.js';
export { MinibatchNorm } from './minibatch.js';
export { PopTiNorm } from './popti.js';
export { PopNorm } from './pop.js';
export { TemporalAdaptiveBatchNorm } from './tabn.js';
export { gridWeights, gridPoint } from './tabn-grid.js';
