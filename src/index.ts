/**
 * physode's library entry (`import { ... } from 'physode'`): systems, ground truth and datasets,
 * solvers, normalisations, the Neural ODE, training and prediction. The CLI (src/cli) and the
 * server (src/server) are built on exactly these.
 */
export { getSystem, listSystems, systemFromManifest } from '../systems/index.js';
export type { SystemDefinition, SystemInstance, SystemOptions, ParamSpec, InitialCondition } from '../systems/index.js';

export { generateDataset, solveTrajectory, IntegrationError } from './generate/index.js';
export type { GenerateOptions, GenerateResult, SolveOptions, SolveResult } from './generate/index.js';
export { openDataset } from './data/dataset.js';
export type { Dataset } from './data/dataset.js';
export { encodeNpz, decodeNpz } from './data/npz.js';
export type { NpyArray } from './data/npz.js';
export type { Manifest, ShardEntry, Split, TrajectoryBatch } from './data/types.js';

export { initBackend } from './backend/backend.js';
export type { BackendInfo } from './backend/backend.js';
export { setKernelThreads, kernelThreadCount } from './kernels/kernel-threads.js';
export { odeint, odeintWithGradients, SolverError, TABLEAUX, METHOD_NAMES, ConstantStepSize, PidController, rmsNorm, backprop, adjoint, TensorGradientSink } from './ode/index.js';
export type { OdeOptions, OdeSolution, DifferentiableSolution, VectorField, GradientSink, GradientMethod, ErrorNorm, ButcherTableau, MethodName } from './ode/index.js';
export { NORMALIZATIONS, NORM_KINDS, createNormalization, TemporalAdaptiveBatchNorm, gridWeights } from './nn/index.js';
export type { Normalization, NormDescriptor, NormKind, NormOptions } from './nn/index.js';
export { NeuralODE, applyGradients } from './model/index.js';
export type { NeuralOdeConfig, NeuralOdeConfigInput } from './model/index.js';

export { train, TrainingDivergedError } from './train/trainer.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export { loadRun, predictTrajectories } from './train/predict.js';
export type { LoadedRun } from './train/predict.js';

export { Rng, deriveSeed } from './util/rng.js';
export { PhysodeError, InvalidArgumentError, CorruptFileError } from './util/errors.js';
