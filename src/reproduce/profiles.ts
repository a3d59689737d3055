/**
 * Sweep sizes. `full` is the real reproduction (hours), `quick` the `--quick` flag (minutes),
 * `smoke` the smallest configuration that still exercises every experiment (used by tests).
 * Every number the sweep uses lives here, so a report can print its profile verbatim.
 */
import type { MethodName, NormName } from './types.js';

/** Size of the dataset generated per system (`physode generate --count --samples --t-end`). */
export interface DatasetSize {
  readonly count: number;
  readonly samples: number;
  readonly tEnd: number;
  /** Train/val/test fractions (`--split`): the test split must hold several of the largest
   * evaluation batches, so that batch-size and outlier conditions are meaningful. */
  readonly split: string;
}

export interface SweepProfile {
  readonly name: 'full' | 'quick' | 'smoke';
  /** Training steps per run (`physode train --steps`). */
  readonly steps: number;
  /** Hidden width of the backbone. */
  readonly width: number;
  /** Hidden layers of the backbone outside the depth experiment. */
  readonly depth: number;
  /** Learning rate (`physode train --lr`) and warm-up steps (`--warmup`), scaled to the steps. */
  readonly lr: number;
  readonly warmup: number;
  /** Validation interval in steps (`--val-every`): the best model is chosen among these. */
  readonly valEvery: number;
  /** Window length in samples (`physode train --window`). */
  readonly window: number;
  /** Default number of seeds (`--seeds` overrides). */
  readonly seeds: number;
  /** Training batch size outside the batch-size experiment. */
  readonly batchSize: number;
  /** Tolerances of the adaptive solver (dopri5), for training and evaluation. */
  readonly rtol: number;
  readonly atol: number;
  /** Solver outside the solver and time-dependence experiments. */
  readonly method: MethodName;
  /** Experiment 1: training batch sizes, and the small evaluation batch size. */
  readonly batchSizes: readonly number[];
  readonly smallEvalBatch: number;
  /** Experiment 2: fraction of evaluation batches holding one corrupted sample. */
  readonly outlierFraction: number;
  /** Experiment 4: depths, the normalisations compared, and the (adaptive) solver used. */
  readonly depths: readonly number[];
  readonly depthNorms: readonly NormName[];
  readonly depthMethod: MethodName;
  /** Experiment 5: solvers compared for each normalisation. */
  readonly methods: readonly MethodName[];
  /** Normalisations compared in experiments 1, 2 and 5. */
  readonly norms: readonly NormName[];
  /** NFE per evaluation rollout above which a run counts as an NFE blow-up (evaluation solves
   * stop at nfeBlowUp / 6 dopri5 steps). */
  readonly nfeBlowUp: number;
  /** Step limit of each adaptive training solve (`physode train --max-steps`): a field that turns
   * stiff fails fast instead of running for hours (measured on the pendulum with dopri5: batch-
   * statistics BN went from 108 to 10,493 NFE per training step within 20 steps; `none` at depth 12
   * needed 1,229 against 110 at depth 2). 200 steps, about 1,200 forward NFE per window, is ten
   * times what a depth-2 model needs: an NFE blow-up. */
  readonly trainMaxSteps: number;
  /** Seconds after which a child process is killed and its run recorded as a timeout. */
  readonly childTimeoutSeconds: number;
  /** Dataset per system. */
  readonly datasets: Readonly<Record<string, DatasetSize>>;
}

const ALL_NORMS: readonly NormName[] = ['tabn', 'minibatch', 'popti', 'none'];

/** The reproduction of issue 6 at full size: several hours on 2 cores. */
export const FULL: SweepProfile = {
  name: 'full',
  steps: 1000,
  lr: 3e-3,
  warmup: 50,
  valEvery: 100,
  width: 64,
  depth: 2,
  window: 10,
  seeds: 3,
  batchSize: 32,
  rtol: 1e-5,
  atol: 1e-6,
  method: 'rk4',
  batchSizes: [2, 8, 32, 128],
  smallEvalBatch: 2,
  outlierFraction: 0.5,
  depths: [2, 4, 8, 12],
  depthNorms: ['none', 'tabn', 'minibatch'],
  depthMethod: 'dopri5',
  methods: ['euler', 'rk4', 'dopri5'],
  norms: ALL_NORMS,
  nfeBlowUp: 20000,
  trainMaxSteps: 200,
  // A run past 5 minutes has stalled (recorded as a timeout): healthy depth-2 runs take 15-90 s
  // here; an unnormalised depth-12 dopri5 run needed about 20 minutes for its 1,000 steps.
  childTimeoutSeconds: 300,
  datasets: {
    pendulum: { count: 640, samples: 50, tEnd: 10, split: '0.5,0.1,0.4' },
    'double-pendulum': { count: 640, samples: 50, tEnd: 5, split: '0.5,0.1,0.4' },
    nbody3: { count: 640, samples: 50, tEnd: 2, split: '0.5,0.1,0.4' },
    'figure-eight': { count: 640, samples: 50, tEnd: 6.32591398, split: '0.5,0.1,0.4' },
  },
};

/** `--quick`: every experiment on a reduced grid, tiny data, few steps; minutes on 2 cores. */
export const QUICK: SweepProfile = {
  ...FULL,
  name: 'quick',
  // 150 steps at a high learning rate: enough for the pendulum to beat predicting the mean
  // (measured: tabn, 200 steps, test rollout MSE 0.23 after 3.5 s of training), so verdicts are
  // not void; fixed-step solvers outside the time-dependence and solver experiments, and one
  // training batch size (evaluated at 16 and at 2), to stay within minutes.
  steps: 150,
  lr: 1e-2,
  warmup: 10,
  valEvery: 50,
  width: 32,
  window: 5,
  seeds: 1,
  batchSize: 16,
  rtol: 1e-3,
  atol: 1e-4,
  batchSizes: [16],
  depths: [2, 4],
  depthMethod: 'rk4',
  methods: ['euler', 'rk4', 'dopri5'],
  nfeBlowUp: 5000,
  // A tiny run takes seconds; one still going after this is stalled (recorded as a timeout).
  childTimeoutSeconds: 90,
  datasets: {
    pendulum: { count: 100, samples: 12, tEnd: 3, split: '0.5,0.1,0.4' },
    'double-pendulum': { count: 100, samples: 12, tEnd: 2, split: '0.5,0.1,0.4' },
    nbody3: { count: 100, samples: 12, tEnd: 1, split: '0.5,0.1,0.4' },
    'figure-eight': { count: 100, samples: 12, tEnd: 1, split: '0.5,0.1,0.4' },
  },
};

/** The smoke test's configuration: one of everything, as small as the commands accept. */
export const SMOKE: SweepProfile = {
  ...QUICK,
  name: 'smoke',
  steps: 3,
  warmup: 0,
  valEvery: 3,
  width: 8,
  window: 4,
  seeds: 1,
  batchSize: 4,
  batchSizes: [4],
  depths: [2],
  depthNorms: ['none', 'tabn'],
  // Fixed-step solvers only outside the time-dependence experiment (which needs dopri5): an
  // adaptive solver on an untrained `minibatch` model can take minutes to hit its step limit.
  depthMethod: 'rk4',
  methods: ['euler', 'rk4'],
  norms: ['tabn', 'minibatch'],
  childTimeoutSeconds: 60,
  datasets: {
    pendulum: { count: 40, samples: 8, tEnd: 2, split: '0.5,0.2,0.3' },
    'double-pendulum': { count: 40, samples: 8, tEnd: 1, split: '0.5,0.2,0.3' },
    nbody3: { count: 40, samples: 8, tEnd: 0.5, split: '0.5,0.2,0.3' },
    'figure-eight': { count: 40, samples: 8, tEnd: 1, split: '0.5,0.2,0.3' },
  },
};

export const PROFILES: Readonly<Record<SweepProfile['name'], SweepProfile>> = { full: FULL, quick: QUICK, smoke: SMOKE };
