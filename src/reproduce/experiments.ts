/**
 * The five experiments of issue 6 as data: which claim of TABN.md ("Claims") each tests, and
 * which trainings and evaluation conditions it needs for one system and seed. Adding an
 * experiment means adding an entry here (plus its verdict and table), nothing else.
 * Source of the claims: Zheng et al., "Improving Neural ODE Training with Temporal Adaptive
 * Batch Normalization", NeurIPS 2024, section 4 (as summarised in TABN.md).
 */
import type { SweepProfile } from './profiles.js';
import type { EvalCondition, ExperimentId, MethodName, NormName, TrainSpec } from './types.js';

/** One training an experiment needs, with the conditions it is evaluated under. */
export interface ExperimentCell {
  readonly train: TrainSpec;
  readonly evaluations: readonly EvalCondition[];
}

export interface ExperimentDefinition {
  readonly id: ExperimentId;
  readonly title: string;
  /** The claim's number in TABN.md and its text. */
  readonly claim: { readonly number: number; readonly text: string };
  /** What the experiment does, one paragraph for the report. */
  readonly method: string;
  cells(profile: SweepProfile, system: string, seed: number): ExperimentCell[];
}

function trainSpec(profile: SweepProfile, system: string, seed: number, over: Partial<TrainSpec> & { norm: NormName }): TrainSpec {
  return {
    system,
    method: profile.method,
    depth: profile.depth,
    width: profile.width,
    batchSize: profile.batchSize,
    steps: profile.steps,
    seed,
    ...over,
  };
}

function at(batchSize: number, method: MethodName, outliers = 0): EvalCondition {
  return { batchSize, outliers, method };
}

export const EXPERIMENTS: readonly ExperimentDefinition[] = [
  {
    id: 'batch-size',
    title: 'Batch size',
    claim: { number: 1, text: 'Small batches: with batch size 2 at test time, `minibatch` degrades; `tabn` does not.' },
    method:
      'Each normalisation is trained at each batch size, then evaluated at its training batch size and at the small evaluation batch size.',
    cells: (p, system, seed) =>
      p.norms.flatMap((norm) =>
        p.batchSizes.map((batchSize) => {
          const train = trainSpec(p, system, seed, { norm, batchSize });
          const evaluations = batchSize === p.smallEvalBatch ? [at(batchSize, train.method)] : [at(batchSize, train.method), at(p.smallEvalBatch, train.method)];
          return { train, evaluations };
        }),
      ),
  },
  {
    id: 'outliers',
    title: 'Outliers',
    claim: { number: 2, text: 'Outliers: one corrupted sample per test batch hurts `minibatch`; `tabn` is unaffected.' },
    method:
      'Models trained at the default batch size are evaluated on clean test batches and with one corrupted sample in a fraction of the test batches; metrics are on the clean samples only.',
    cells: (p, system, seed) =>
      p.norms.map((norm) => {
        const train = trainSpec(p, system, seed, { norm });
        return { train, evaluations: [at(p.batchSize, train.method), at(p.batchSize, train.method, p.outlierFraction)] };
      }),
  },
  {
    id: 'time-dependence',
    title: 'Time dependence',
    claim: { number: 3, text: "Time dependence: `popti` is erratic; the running statistics of `tabn` vary with t." },
    method:
      "`tabn`, `popti` and `pop` are trained with dopri5 (time grids that move from batch to batch) and `pop` also with rk4 (a fixed grid). TA-BN's running mean and variance of the first normalised layer are read from the saved model and plotted against t beside `popti`'s single pair.",
    cells: (p, system, seed) => {
      const specs: TrainSpec[] = [
        trainSpec(p, system, seed, { norm: 'tabn', method: 'dopri5' }),
        trainSpec(p, system, seed, { norm: 'popti', method: 'dopri5' }),
        trainSpec(p, system, seed, { norm: 'pop', method: 'dopri5' }),
        trainSpec(p, system, seed, { norm: 'pop', method: 'rk4' }),
      ];
      return specs.map((train) => ({ train, evaluations: [at(p.batchSize, train.method)] }));
    },
  },
  {
    id: 'depth',
    title: 'Depth',
    claim: { number: 4, text: 'Depth: backbones that fail or stall without normalisation train with `tabn`.' },
    method:
      'Backbones of increasing depth are trained with an adaptive solver with and without normalisation. Failures (non-zero exit, divergence, step-size underflow, NFE blow-up, non-finite metrics) are recorded as failures with their reason.',
    cells: (p, system, seed) =>
      p.depthNorms.flatMap((norm) =>
        p.depths.map((depth) => {
          const train = trainSpec(p, system, seed, { norm, depth, method: p.depthMethod });
          return { train, evaluations: [at(p.batchSize, train.method)] };
        }),
      ),
  },
  {
    id: 'solvers',
    title: 'Solvers',
    claim: { number: 5, text: 'Solver independence: the ranking holds with Euler, RK4 and dopri5.' },
    method: 'Each normalisation is trained and evaluated with each solver at the default batch size and depth.',
    cells: (p, system, seed) =>
      p.norms.flatMap((norm) =>
        p.methods.map((method) => {
          const train = trainSpec(p, system, seed, { norm, method });
          return { train, evaluations: [at(p.batchSize, method)] };
        }),
      ),
  },
];
