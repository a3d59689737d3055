/** `physode train`: fit a Neural ODE to a dataset (src/train/trainer.ts does the work). */
import { parseArgs } from 'node:util';
import { basename, join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { ProgressBar } from '../progress-bar.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { DEFAULT_CONFIG, NORMS, stepsPerEpoch, type TrainConfig } from '../../train/config.js';
import { OPTIMIZERS } from '../../train/optimizer.js';
import { SCHEDULES } from '../../train/schedule.js';
import { parseChoice, parseInteger, parseNumber } from '../../train/cli-options.js';

const D = DEFAULT_CONFIG;

const usage = `usage: physode train --data DIR [--out RUN] [options]

Fits a Neural ODE to windows of the training split; validates with full-horizon rollouts on the
val split; writes RUN/config.json, metrics.jsonl, checkpoints/, model/ and SVG plots.

model:
  --norm tabn|minibatch|popti|pop|none   normalisation in the vector field (default ${D.model.norm})
  --depth L            hidden layers (default ${D.model.depth})
  --width H            hidden units (default ${D.model.width})
  --activation NAME    tanh, softplus, silu (default ${D.model.activation})
  --grid-size M        TA-BN grid intervals over the window (default ${D.model.gridSize}; see config.ts)
  --bn-momentum X      running-statistics momentum (default ${D.model.bnMomentum})
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
run:
  --out RUN            run folder (default runs/<dataset>-<norm>-s<seed>)
  --resume             continue RUN from checkpoints/last, bit for bit
  --backend NAME       auto, tensorflow, wasm, cpu (default auto)
  --workers N          data-parallel training steps over N worker threads, the batch split
                       between them (solver steps and batch statistics shared; default 1)
  --quiet              no progress bar

Environment: PHYSODE_BACKEND (as --backend), PHYSODE_KERNEL_THREADS=N (threads of the field's
WebAssembly kernels, 1–16; default 2 where there are 2 or more cores).`;

export function configFromOptions(v: Record<string, string | boolean | undefined>): { config: TrainConfig; epochs: number | null } {
  const s = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const num = (k: string, d: number): number => (s(k) !== undefined ? parseNumber(k, s(k)!) : d);
  const int = (k: string, d: number, min = 1): number => (s(k) !== undefined ? parseInteger(k, s(k)!, min) : d);
  if (s('steps') !== undefined && s('epochs') !== undefined) throw new InvalidArgumentError('give either --steps or --epochs, not both');
  const epochs = s('epochs') !== undefined ? parseNumber('epochs', s('epochs')!) : null;
  if (epochs !== null && !(epochs > 0)) throw new InvalidArgumentError(`--epochs must be positive, got ${epochs}`);
  const config: TrainConfig = {
    model: {
      norm: s('norm') !== undefined ? parseChoice('norm', s('norm')!, NORMS) : D.model.norm,
      depth: int('depth', D.model.depth),
      width: int('width', D.model.width),
      activation: s('activation') ?? D.model.activation,
      gridSize: int('grid-size', D.model.gridSize),
      bnMomentum: num('bn-momentum', D.model.bnMomentum),
      bnRecalibration: int('bn-recalibration', D.model.bnRecalibration, 0),
      bnFreeze: num('bn-freeze', D.model.bnFreeze),
    },
    solver: {
      method: s('method') ?? D.solver.method,
      rtol: num('rtol', D.solver.rtol),
      atol: num('atol', D.solver.atol),
      step: s('step') !== undefined ? parseNumber('step', s('step')!) : D.solver.step,
      maxSteps: s('max-steps') !== undefined ? parseInteger('max-steps', s('max-steps')!, 1) : null,
      adjoint: v.adjoint === true,
    },
    batchSize: int('batch-size', D.batchSize),
    window: int('window', D.window, 2),
    initialWindow: s('initial-window') !== undefined ? parseInteger('initial-window', s('initial-window')!, 2) : s('window') !== undefined && D.initialWindow !== null ? Math.min(D.initialWindow, int('window', D.window, 2)) : D.initialWindow,
    curriculumStart: num('curriculum-start', D.curriculumStart),
    curriculumEnd: num('curriculum-end', D.curriculumEnd),
    steps: int('steps', D.steps),
    epochs,
    optimizer: s('optimizer') !== undefined ? parseChoice('optimizer', s('optimizer')!, OPTIMIZERS) : D.optimizer,
    lr: num('lr', D.lr),
    weightDecay: num('weight-decay', D.weightDecay),
    schedule: s('schedule') !== undefined ? parseChoice('schedule', s('schedule')!, SCHEDULES) : D.schedule,
    warmup: int('warmup', D.warmup, 0),
    minLrFactor: D.minLrFactor,
    clip: num('clip', D.clip),
    seed: int('seed', D.seed, 0),
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
  async run(argv) {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
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
        'grid-size': { type: 'string' },
        'bn-momentum': { type: 'string' },
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
        workers: { type: 'string' },
        resume: { type: 'boolean' },
        quiet: { type: 'boolean' },
        // Testing aids, not in the usage text: plant a NaN loss at these steps; stop after N steps.
        'inject-nan-at': { type: 'string' },
        'stop-after': { type: 'string' },
      },
    });
    if (!values.data) throw new InvalidArgumentError('--data DIR is required', 'generate one with: physode generate pendulum --out datasets/pendulum');
    const { config: parsed, epochs } = configFromOptions(values);
    const dataDir = resolve(values.data);

    const { initBackend, parseBackendPreference } = await import('../../backend/backend.js');
    const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
    process.stderr.write(`backend: ${backend.detail}\n`);

    const { openDataSource } = await import('../../train/dataset-source.js');
    const data = await openDataSource(dataDir);
    let config = parsed;
    if (epochs !== null) {
      const trainBatch = await data.loadSplit('train');
      const [n, samples] = trainBatch.y.shape;
      config = { ...config, steps: Math.max(1, Math.round(epochs * stepsPerEpoch(n, samples, config.batchSize, config.window))) };
    }
    const out = resolve(values.out ?? join('runs', `${basename(dataDir)}-${config.model.norm}-s${config.seed}`));

    const { train } = await import('../../train/trainer.js');
    const { defaultModelFactory } = await import('../../train/default-factory.js');
    const workers = values.workers !== undefined ? parseInteger('workers', values.workers, 1) : 1;
    const factory = workers > 1 ? (await import('../../parallel/data-parallel-model.js')).dataParallelFactory(workers) : await defaultModelFactory();
    if (workers > 1) process.stderr.write(`data-parallel: ${workers} worker threads\n`);
    const bar = values.quiet ? null : new ProgressBar({ label: 'train' });
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    try {
      const result = await train({
        data,
        runDir: out,
        config,
        factory,
        resume: values.resume === true,
        backend: backend.detail,
        signal: abort.signal,
        stopAfterSteps: values['stop-after'] !== undefined ? parseInteger('stop-after', values['stop-after'], 1) : undefined,
        injectNanAtSteps: values['inject-nan-at'] !== undefined ? values['inject-nan-at'].split(',').map((x) => parseInteger('inject-nan-at', x, 1)) : undefined,
        onProgress: bar ? (e) => bar.update(e) : undefined,
        onEvent: (m) => {
          bar?.finish();
          process.stderr.write(`${m}\n`);
        },
      });
      bar?.finish();
      const summary = `run ${result.runDir}: ${result.steps}/${config.steps} steps, best val rollout MSE ${result.bestValMse.toExponential(3)} at step ${result.bestStep}, last loss ${result.lastLoss.toExponential(3)}${result.gridCoverage !== null ? `, TA-BN grid coverage ${(100 * result.gridCoverage).toFixed(0)} %` : ''}, ${result.wallSeconds.toFixed(1)} s`;
      process.stdout.write(`${summary}\n`);
      if (!result.completed) {
        process.stderr.write(`stopped at step ${result.steps}; continue with the same command and --resume\n`);
        return abort.signal.aborted ? 130 : 0;
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
    } finally {
      bar?.finish();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  },
};
