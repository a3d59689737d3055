/** Ground-truth generation: the public entry points. */
export { generateDataset, generateShare, type GenerateHooks, type GenerateResult, type ShareHooks, type ShareResult, type ShardSelection } from './generate.js';
export { finalizeDataset, type FinalizeOptions } from './finalize.js';
export { planShards, type PlannedShard } from './plan.js';
export { RunnerCache } from './runner-cache.js';
export { resolveShare, inShare, SHARD_INDEX_VARIABLES, type Share } from './share.js';
export { datasetId } from './identity.js';
export { resolveOptions, defaultWorkers, DEFAULT_TOLERANCE, type GenerateOptions, type ResolvedOptions } from './options.js';
export { solveTrajectory, IntegrationError, INTEGRATORS, DEFAULT_INTERPOLATION_DEGREE, type IntegratorName, type SolveOptions, type SolveResult } from './solve.js';
export { dop853, type Dop853Options, type Dop853Result } from './dop853.js';
export type { RightHandSide } from './integrator.js';
export { computeTrajectories, relativeEnergyError, SEED_DERIVATION, type TrajectoryChunk, type TrajectorySettings } from './trajectories.js';
