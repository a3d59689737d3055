/** The Neural ODE model and its vector field. */
export { NeuralODE, CONFIG_FILE, WEIGHTS_FILE, applyGradients } from './neural-ode.js';
export type { LossAndGradients, TrainOptions, TabnStatistics } from './neural-ode.js';
export { Mlp } from './mlp.js';
export type { MlpFieldConfig, HiddenLayer } from './mlp.js';
export { MlpField } from './mlp-field.js';
export { KernelGradientSink } from './kernel-gradient-sink.js';
export { resolveConfig } from './config.js';
export type { NeuralOdeConfig, NeuralOdeConfigInput, SolverConfig } from './config.js';
export { ContinuousDepthModel, CONTINUOUS_DEPTH_KIND, resolveDepthConfig } from './continuous-depth.js';
export type { ContinuousDepthConfig, ContinuousDepthConfigInput, ModelLossAndGradients, ForwardResult, DepthTrainOptions } from './continuous-depth.js';
