/** Differentiable ODE solvers on tfjs tensors. */
export { odeint, odeintWithGradients } from './odeint.js';
export type { OdeSolution, DifferentiableSolution, Gradients, SolveStats } from './odeint.js';
export type { OdeOptions } from './options.js';
export { SolverError } from './errors.js';
export type { PartialSolution, SolverStopReason } from './errors.js';
export { TensorGradientSink, addSink } from './gradient-sink.js';
export type { GradientSink } from './gradient-sink.js';
export type { VectorField, EvalRequest, FieldMode, FieldOutput, FieldTape } from './field.js';
export { ConstantStepSize, PidController, rmsNorm } from './step-size.js';
export type { ErrorNorm, StepSizeController } from './step-size.js';
export { backprop } from './backprop.js';
export { adjoint } from './adjoint.js';
export type { GradientMethod } from './gradient-method.js';
export { TABLEAUX, METHOD_NAMES, tableauFor } from './tableaux/index.js';
export type { MethodName } from './tableaux/index.js';
export type { ButcherTableau } from './tableau.js';
