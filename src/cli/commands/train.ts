/** `physode train`: fit a Neural ODE to a dataset (src/train/trainer.ts does the work). */
import { basename, join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { runStoppable } from '../stoppable.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { DEFAULT_CONFIG, NORMS, stepsPerEpoch, type TrainConfig } from '../../train/config.js';
import { OPTIMIZERS } from '../../train/optimizer.js';
import { SCHEDULES } from '../../train/schedule.js';
import { parseChoice, parseCommandArgs, parseInteger, parseNumber, STEP_SIZE, TOLERANCE, type Range } from '../options.js';
import { checkWritableFolder } from '../../util/fs.js';

const D = DEFAULT_CONFIG;

const usage = `usage: physode train --data DIR [--out RUN] [options]

Fits a Neural ODE to windows of the training split; validates with full-horizon rollouts on the
val split; writes RUN/config.json, metrics.jsonl, checkpoints/, model/ and SVG plots.

model:
  --norm tabn|minibatch|popti|pop|none   normalisation in the vector field (default ${D.model.norm})
  --depth L            hidden layers (default ${D.model.depth})
  --width H            hidden units (default ${D.model.width})
  --activation NAME    tanh, softplus, silu (default ${D.model.activation})
  --grid-intervals M  TA-BN grid intervals over the window (default ${D.model.gridIntervals}; see config.ts)
  --momentum X         running-statistics momentum (default ${D.model.momentum})
  --bn-recalibration K recompute running statistics before each validation from K batches
                       ("precise BN"; default ${D.model.bnRecalibration}, 0: off)
  --bn-freeze F        train the last share F of the steps through the running statistics,
                       recalibrated and frozen ("FrozenBN"; default ${D.model.bnFreeze}, 0: off)
solver:
  --method NAME        euler, midpoint, rk4, bosh3, dopri5 (default ${D.solver.method})
  --rtol R --atol A    adaptive tolerances (default ${D.solver.rtol}, ${D.solver.atol})
  --step H             fixed step size (default: the data's sample interval)
  --max-steps N        adaptive methods: step limit of each training solve (default 10000);
                       a solve past it counts as divergence (recovery, then failure)
  --adjoint            gradients by the adjoint method
training:
  --batch-size B       windows per step (default ${D.batchSize})
  --window W           samples per window (default ${D.window})
  --initial-window W0  horizon curriculum: windows of W0 samples until --curriculum-start,
                       growing to W by --curriculum-end (fractions of the steps)
                       (default ${D.initialWindow ?? 'off'}, ${D.curriculumStart}, ${D.curriculumEnd})
  --steps S            optimisation steps (default ${D.steps})
  --epochs E           instead of --steps: E x ceil(N T / (B W)) steps
  --lr LR              learning rate (default ${D.lr})
  --optimizer NAME     adam, adamw, rmsprop (default ${D.optimizer})
  --weight-decay WD    (default ${D.weightDecay}; decoupled for adamw)
  --schedule NAME      cosine, constant, step (default ${D.schedule})
  --warmup N           warm-up steps of the cosine schedule (default ${D.warmup})
  --clip C             global gradient-norm clip, 0 = off (default ${D.clip})
  --seed S             (default ${D.seed})
  --val-every N        validation interval in steps (default ${D.valEvery})
  --checkpoint-every N (default ${D.checkpointEvery})
  --log-every N        (default ${D.logEvery})
  --val-trajectories N validate on the first N val trajectories (default: all)
  --max-recoveries N   recoveries from divergence before giving up (default ${D.maxRecoveries})
task:
  --task trajectory|next-state   trajectory (default): the ODE in physical time over windows;
                       next-state: observation -> next observation over depth (the TA-BN
                       paper's Table 3; physode train --task next-state --help)
run:
  --out RUN            run folder (default runs/<dataset>-<norm>-s<seed>)
  --resume             continue RUN from checkpoints/last, bit for bit
  --backend NAME       auto, tensorflow, wasm, cpu (default auto)
  --quiet              no progress bar

Environment: PHYSODE_BACKEND (as --backend), PHYSODE_KERNEL_THREADS=N (threads of the field's
WebAssembly kernels, 1–16; default 2 where there are 2 or more cores).`;

/**
 * Learning rates the optimizers (Adam, AdamW, RMSProp) can use: above 1 a step moves the weights by
 * about the rate itself, which only diverges.
 */
const LEARNING_RATE: Range = { min: 0, minOpen: true, max: 1, example: '--lr 3e-3' };

export function configFromOptions(v: Record<string, string | boolean | undefined>): { config: TrainConfig; epochs: number | null } {
  const s = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const num = (k: string, d: number, range: Range = {}): number => (s(k) !== undefined ? parseNumber(k, s(k)!, range) : d);
  const int = (k: string, d: number, min = 1, max?: number): number => (s(k) !== undefined ? parseInteger(k, s(k)!, min, { max }) : d);
  if (s('steps') !== undefined && s('epochs') !== undefined) throw new InvalidArgumentError('give either --steps or --epochs, not both');
  const epochs = s('epochs') !== undefined ? parseNumber('epochs', s('epochs')!, { min: 0, minOpen: true, max: 1e6, example: '--epochs 10' }) : null;
  const config: TrainConfig = {
    model: {
      norm: s('norm') !== undefined ? parseChoice('norm', s('norm')!, NORMS) : D.model.norm,
      depth: int('depth', D.model.depth),
      width: int('width', D.model.width),
      activation: s('activation') ?? D.model.activation,
      gridIntervals: int('grid-intervals', D.model.gridIntervals),
      momentum: num('momentum', D.model.momentum, { min: 0, minOpen: true, max: 1, example: '--momentum 0.1' }),
      bnRecalibration: int('bn-recalibration', D.model.bnRecalibration, 0),
      bnFreeze: num('bn-freeze', D.model.bnFreeze, { min: 0, max: 1, maxOpen: true, example: '--bn-freeze 0.5' }),
    },
    solver: {
      method: s('method') ?? D.solver.method,
      rtol: num('rtol', D.solver.rtol, TOLERANCE),
      atol: num('atol', D.solver.atol, { ...TOLERANCE, example: '--atol 1e-7' }),
      step: s('step') !== undefined ? parseNumber('step', s('step')!, STEP_SIZE) : D.solver.step,
      maxSteps: s('max-steps') !== undefined ? parseInteger('max-steps', s('max-steps')!, 1) : null,
      adjoint: v.adjoint === true,
    },
    batchSize: int('batch-size', D.batchSize),
    window: int('window', D.window, 2),
    initialWindow: s('initial-window') !== undefined ? parseInteger('initial-window', s('initial-window')!, 2) : s('window') !== undefined && D.initialWindow !== null ? Math.min(D.initialWindow, int('window', D.window, 2)) : D.initialWindow,
    curriculumStart: num('curriculum-start', D.curriculumStart, { min: 0, max: 1, example: '--curriculum-start 0.1' }),
    curriculumEnd: num('curriculum-end', D.curriculumEnd, { min: 0, max: 1, example: '--curriculum-end 0.5' }),
    steps: int('steps', D.steps),
    epochs,
    optimizer: s('optimizer') !== undefined ? parseChoice('optimizer', s('optimizer')!, OPTIMIZERS) : D.optimizer,
    lr: num('lr', D.lr, LEARNING_RATE),
    weightDecay: num('weight-decay', D.weightDecay, { min: 0, max: 1, example: '--weight-decay 1e-4' }),
    schedule: s('schedule') !== undefined ? parseChoice('schedule', s('schedule')!, SCHEDULES) : D.schedule,
    warmup: int('warmup', D.warmup, 0),
    minLrFactor: D.minLrFactor,
    clip: num('clip', D.clip, { min: 0, example: '--clip 1' }),
    seed: int('seed', D.seed, 0, 2 ** 32 - 1),
    logEvery: int('log-every', D.logEvery),
    valEvery: int('val-every', D.valEvery),
    checkpointEvery: int('checkpoint-every', D.checkpointEvery),
    valTrajectories: int('val-trajectories', D.valTrajectories, 0),
    maxRecoveries: int('max-recoveries', D.maxRecoveries, 0),
    recoveryLrFactor: D.recoveryLrFactor,
  };
  return { config, epochs };
}

export const command: Command = {
  name: 'train',
  summary: 'train a Neural ODE (TA-BN by default) on a dataset',
  usage,
  async run(argvWithTask) {
    // --task next-state trains a continuous-depth model on the next observation (src/cli/task-commands.ts).
    const { splitTaskFlag, runNextStateTrain, NEXT_STATE_USAGE } = await import('../task-commands.js');
    const { task, argv } = splitTaskFlag(argvWithTask);
    if (task === 'next-state') return argv.includes('--help') ? (process.stdout.write(`${NEXT_STATE_USAGE}\n`), 0) : runNextStateTrain(argv);
    const { values } = parseCommandArgs(
      'train',
      argv,
      {
        data: { type: 'string' },
        out: { type: 'string' },
        norm: { type: 'string' },
        method: { type: 'string' },
        rtol: { type: 'string' },
        atol: { type: 'string' },
        step: { type: 'string' },
        'max-steps': { type: 'string' },
        adjoint: { type: 'boolean' },
        depth: { type: 'string' },
        width: { type: 'string' },
        activation: { type: 'string' },
        'grid-intervals': { type: 'string' },
        'momentum': { type: 'string' },
        'bn-recalibration': { type: 'string' },
        'bn-freeze': { type: 'string' },
        'batch-size': { type: 'string' },
        window: { type: 'string' },
        'initial-window': { type: 'string' },
        'curriculum-start': { type: 'string' },
        'curriculum-end': { type: 'string' },
        steps: { type: 'string' },
        epochs: { type: 'string' },
        lr: { type: 'string' },
        optimizer: { type: 'string' },
        'weight-decay': { type: 'string' },
        schedule: { type: 'string' },
        warmup: { type: 'string' },
        clip: { type: 'string' },
        seed: { type: 'string' },
        'val-every': { type: 'string' },
        'checkpoint-every': { type: 'string' },
        'log-every': { type: 'string' },
        'val-trajectories': { type: 'string' },
        'max-recoveries': { type: 'string' },
        backend: { type: 'string' },
        resume: { type: 'boolean' },
        quiet: { type: 'boolean' },
        // Testing aids, not in the usage text: plant a NaN loss at these steps; stop after N steps.
        'inject-nan-at': { type: 'string' },
        'stop-after': { type: 'string' },
      },
    );
    if (!values.data) throw new InvalidArgumentError('--data DIR is required', 'generate one with: physode generate pendulum --out datasets/pendulum');
    const { config: parsed, epochs } = configFromOptions(values);
    const stopAfterSteps = values['stop-after'] !== undefined ? parseInteger('stop-after', values['stop-after'], 1) : undefined;
    const injectNanAtSteps = values['inject-nan-at'] !== undefined ? values['inject-nan-at'].split(',').map((x) => parseInteger('inject-nan-at', x, 1)) : undefined;
    const { parseBackendPreference } = await import('../../backend/backend.js');
    const backendPreference = parseBackendPreference(values.backend ?? 'auto');
    const dataDir = resolve(values.data);

    // The dataset and the run folder are checked before the backend starts, so that a wrong path
    // is the only line printed.
    const { openDataSource } = await import('../../train/dataset-source.js');
    const data = await openDataSource(dataDir);
    let config = parsed;
    if (epochs !== null) {
      const trainBatch = await data.loadSplit('train');
      const [n, samples] = trainBatch.y.shape;
      config = { ...config, steps: Math.max(1, Math.round(epochs * stepsPerEpoch(n, samples, config.batchSize, config.window))) };
    }
    const out = resolve(values.out ?? join('runs', `${basename(dataDir)}-${config.model.norm}-s${config.seed}`));
    await checkWritableFolder(out, '--out');

    const { initBackend } = await import('../../backend/backend.js');
    const backend = await initBackend(backendPreference);
    process.stderr.write(`backend: ${backend.detail}\n`);

    const { train } = await import('../../train/trainer.js');
    const { defaultModelFactory } = await import('../../train/default-factory.js');
    const factory = await defaultModelFactory();
    const { result, stopped } = await runStoppable('train', { quiet: values.quiet === true }, ({ signal, onProgress, onEvent }) =>
      train({
        data,
        runDir: out,
        config,
        factory,
        resume: values.resume === true,
        backend: backend.detail,
        signal,
        stopAfterSteps,
        injectNanAtSteps,
        onProgress,
        onEvent,
      }),
    );
    const summary = `run ${result.runDir}: ${result.steps}/${config.steps} steps, best val rollout MSE ${result.bestValMse.toExponential(3)} at step ${result.bestStep}, last loss ${result.lastLoss.toExponential(3)}${result.gridCoverage !== null ? `, TA-BN grid coverage ${(100 * result.gridCoverage).toFixed(0)} %` : ''}, ${result.wallSeconds.toFixed(1)} s`;
    process.stdout.write(`${summary}\n`);
    if (!result.completed) {
      process.stderr.write(`stopped at step ${result.steps}; continue with the same command and --resume\n`);
      return stopped ? 130 : 0;
    }
    // The best model against always predicting the training mean, on the same val trajectories;
    // recorded with the completion marker (trained.json) for `physode start` and the viewer.
    const { valMeanPredictorMse } = await import('../../train/evaluate.js');
    const { compareWithMeanPredictor, meanPredictorWarning } = await import('../../train/metrics.js');
    const { writeTrainedMarker } = await import('../../train/run-folder.js');
    const baseline = compareWithMeanPredictor(result.bestValMse, await valMeanPredictorMse(data, config.valTrajectories));
    const warning = meanPredictorWarning(baseline, 'validation MSE');
    if (warning !== null) process.stderr.write(`warning: ${warning}\n`);
    else process.stdout.write(`best val rollout MSE ${baseline.mse.toExponential(3)} is ${(100 * baseline.ratio).toPrecision(3)} % of the mean predictor's (${baseline.meanPredictorMse.toPrecision(3)})\n`);
    await writeTrainedMarker(result.runDir, {
      steps: result.steps,
      datasetSha256: data.checksum,
      bestValMse: result.bestValMse,
      bestStep: result.bestStep,
      lastLoss: result.lastLoss,
      meanPredictorValMse: baseline.meanPredictorMse,
      learnedDynamics: baseline.learned,
    });
    return 0;
  },
};
