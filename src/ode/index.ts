/** Differentiable ODE solvers on tfjs tensors. */
export { odeint, odeintWithGradients } from './odeint.js';
export type { OdeSolution, DifferentiableSolution, Gradients, SolveStats } from './odeint.js';
export type { OdeOptions } from './options.js';
export { SolverError } from './errors.js';
export type { PartialSolution } from './errors.js';
export { GradientSink } from './field.js';
export type { VectorField, EvalRequest, FieldMode, FieldOutput, FieldTape } from './field.js';
export { TABLEAUX, METHOD_NAMES, tableauFor } from './tableaux/index.js';
export type { MethodName } from './tableaux/index.js';
export type { ButcherTableau } from './tableau.js';
