/** The Neural ODE model and its vector field. */
export { NeuralODE, CONFIG_FILE, WEIGHTS_FILE, applyGradients } from './neural-ode.js';
export type { LossAndGradients, TrainOptions, TabnStatistics } from './neural-ode.js';
export { MlpField } from './mlp-field.js';
export type { MlpFieldConfig } from './mlp-field.js';
export { resolveConfig } from './config.js';
export type { NeuralOdeConfig, NeuralOdeConfigInput, SolverConfig } from './config.js';
