/**
 * The task side of `physode train`, `eval` and `rollout`: `--task next-state` trains a
 * continuous-depth model on the next observation (src/tasks/next-state-run.ts), and `eval` /
 * `rollout` given such a run (config.json format 'physode-task-run') evaluate it. The trajectory
 * commands hand over to these when they see the flag or the run.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../util/errors.js';
import { checkWritableFolder } from '../util/fs.js';
import { SPLITS, type Split } from '../data/types.js';
import { NORM_KINDS } from '../nn/registry.js';
import { OPTIMIZERS } from '../train/optimizer.js';
import { parseChoice, parseCommandArgs, parseInteger, parseNumber, TOLERANCE, type Range } from './options.js';
import { runStoppable } from './stoppable.js';

export const TASKS = ['trajectory', 'next-state'] as const;
export type TaskName = (typeof TASKS)[number];

/** The --task value of a command line (default 'trajectory') and the command line without it. */
export function splitTaskFlag(argv: readonly string[]): { task: TaskName; argv: string[] } {
  const rest: string[] = [];
  let task: string = 'trajectory';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--task') {
      if (i + 1 >= argv.length) throw new InvalidArgumentError('--task needs a value', `one of: ${TASKS.join(', ')}`);
      task = argv[++i];
    } else if (a.startsWith('--task=')) task = a.slice('--task='.length);
    else rest.push(a);
  }
  return { task: parseChoice('task', task, TASKS), argv: rest };
}

/** Whether a positional of the command line is a task run folder. */
export function taskRunIn(argv: readonly string[]): boolean {
  return argv.some((a) => {
    if (a.startsWith('-')) return false;
    try {
      return (JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')) as { format?: unknown }).format === 'physode-task-run';
    } catch {
      return false;
    }
  });
}

export const NEXT_STATE_USAGE = `usage: physode train --task next-state --data DIR [--out RUN] [options]

Trains a continuous-depth Neural ODE that maps an observation to the next one (the ODE's time is
depth in [0, 1], not physical time), the TA-BN paper's Table 3 task. Examples are the transitions
inside the literature's windows (--seq-len rows every --stride rows). Loss: MAE of z-scored states.
Writes RUN/config.json, metrics.jsonl, summary.json and model/ (the best model by validation MAE).
Defaults are the paper's HalfCheetah setting.

  --norm tabn|minibatch|popti|pop|none   (default tabn)
  --norm-layers K      normalise the first K hidden layers only (default 5, or --depth if less)
  --depth L --width H  (default 12, 64)
  --activation NAME    tanh, softplus, silu (default tanh)
  --grid-intervals M   TA-BN grid intervals over the depth [0, 1] (default 100)
  --method NAME        dopri5 or a fixed-step method (default dopri5)
  --rtol R --atol A    (default 1e-3, 1e-4)
  --solver-steps N     fixed-step methods: steps over [0, 1] (default 4)
  --max-steps N        adaptive methods: step limit of each training solve (default 200); bounds
                       the memory of backpropagation; a solve past it fails the step (recovery,
                       then a one-line stop with NFE, t and h, exit code 1, best model kept)
  --adjoint            gradients by the adjoint method (memory independent of the steps)
  --batch-size B       (default 32)
  --epochs E           (default 10)
  --steps S            stop after S optimisation steps in all
  --lr LR              (default 1e-3)
  --optimizer NAME     adam, adamw, rmsprop (default rmsprop)
  --clip C             (default 0: off)
  --seq-len N --stride S   window cut (default 32, 10)
  --val-every N        validate every N steps besides each epoch's end
  --max-recoveries N   (default 3)
  --seed S --out RUN --backend NAME --quiet`;

const LEARNING_RATE: Range = { min: 0, minOpen: true, max: 1, example: '--lr 1e-3' };

export async function runNextStateTrain(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs('train', argv, {
    data: { type: 'string' }, out: { type: 'string' }, norm: { type: 'string' }, 'norm-layers': { type: 'string' },
    depth: { type: 'string' }, width: { type: 'string' }, activation: { type: 'string' }, 'grid-intervals': { type: 'string' },
    method: { type: 'string' }, rtol: { type: 'string' }, atol: { type: 'string' }, 'solver-steps': { type: 'string' },
    'max-steps': { type: 'string' }, adjoint: { type: 'boolean' }, 'batch-size': { type: 'string' }, epochs: { type: 'string' },
    steps: { type: 'string' }, lr: { type: 'string' }, optimizer: { type: 'string' }, clip: { type: 'string' },
    'seq-len': { type: 'string' }, stride: { type: 'string' }, 'val-every': { type: 'string' }, 'max-recoveries': { type: 'string' },
    seed: { type: 'string' }, backend: { type: 'string' }, quiet: { type: 'boolean' },
  });
  if (!values.data) throw new InvalidArgumentError('--data DIR is required', 'import one with: physode import halfcheetah');
  const { NEXT_STATE_DEFAULTS: D } = await import('../tasks/next-state-run.js');
  const { METHOD_NAMES } = await import('../ode/tableaux/index.js');
  const int = (k: keyof typeof values, d: number, min = 1): number => (typeof values[k] === 'string' ? parseInteger(k, values[k] as string, min) : d);
  const num = (k: keyof typeof values, d: number, r: Range): number => (typeof values[k] === 'string' ? parseNumber(k, values[k] as string, r) : d);
  const method = values.method ?? D.method;
  parseChoice('method', method, METHOD_NAMES);
  const settings = {
    ...D,
    norm: values.norm !== undefined ? parseChoice('norm', values.norm, NORM_KINDS) : D.norm,
    depth: int('depth', D.depth),
    // default: the first 5 layers, or all of a shallower field
    normLayers: int('norm-layers', Math.min(D.normLayers, int('depth', D.depth)), 0),
    width: int('width', D.width),
    activation: (values.activation !== undefined ? parseChoice('activation', values.activation, ['tanh', 'softplus', 'silu'] as const) : D.activation),
    gridIntervals: int('grid-intervals', D.gridIntervals),
    method: method as typeof D.method,
    rtol: num('rtol', D.rtol, TOLERANCE),
    atol: num('atol', D.atol, { ...TOLERANCE, example: '--atol 1e-4' }),
    solverSteps: int('solver-steps', D.solverSteps),
    trainMaxSteps: int('max-steps', D.trainMaxSteps),
    adjoint: values.adjoint === true,
    batchSize: int('batch-size', D.batchSize, 2),
    epochs: int('epochs', D.epochs),
    maxSteps: values.steps !== undefined ? parseInteger('steps', values.steps, 1) : null,
    lr: num('lr', D.lr, LEARNING_RATE),
    optimizer: values.optimizer !== undefined ? parseChoice('optimizer', values.optimizer, OPTIMIZERS) : D.optimizer,
    clip: num('clip', D.clip, { min: 0, example: '--clip 1' }),
    window: { length: int('seq-len', D.window.length), stride: int('stride', D.window.stride) },
    valEvery: int('val-every', D.valEvery, 0),
    maxRecoveries: int('max-recoveries', D.maxRecoveries, 0),
    seed: int('seed', D.seed, 0),
  };
  if (settings.normLayers > settings.depth) throw new InvalidArgumentError(`--norm-layers ${settings.normLayers} exceeds --depth ${settings.depth}`, 'normalise at most every hidden layer');
  const dataDir = resolve(values.data);
  const { openDataset } = await import('../data/dataset.js');
  await openDataset(dataDir);
  const out = resolve(values.out ?? join('runs', `${basename(dataDir)}-next-state-${settings.norm}-s${settings.seed}`));
  await checkWritableFolder(out, '--out');
  const { existsSync } = await import('node:fs');
  if (existsSync(join(out, 'config.json'))) throw new InvalidArgumentError(`run folder ${out} already holds a run`, 'choose another --out');
  const { initBackend, parseBackendPreference } = await import('../backend/backend.js');
  const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
  process.stderr.write(`backend: ${backend.detail}\n`);
  const { trainNextState } = await import('../tasks/next-state-run.js');
  const { result: r } = await runStoppable('train', { quiet: values.quiet === true }, ({ signal, onProgress, onEvent }) =>
    trainNextState({ dataDir, runDir: out, settings, signal, onProgress, onEvent }),
  );
  process.stdout.write(`run ${out}: ${r.steps} steps (${r.epochs} epochs), best val MAE ${r.best.maeRaw?.toPrecision(4)} raw (${r.best.mae?.toPrecision(4)} z-scored) at step ${r.bestStep}, NFE/step ${r.nfePerStep.toFixed(1)}, ${r.recoveries} recoveries, ${r.wallSeconds.toFixed(1)} s\n`);
  return r.completed ? 0 : 130;
}

export async function runNextStateEval(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('eval', argv, { data: { type: 'string' }, split: { type: 'string' }, 'batch-size': { type: 'string' }, 'rollout-steps': { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new InvalidArgumentError('give exactly one run folder', 'physode eval runs/<id> --data datasets/<name>');
  if (!values.data) throw new InvalidArgumentError('--data DIR is required', 'the dataset the run was trained on');
  const split = parseChoice('split', values.split ?? 'test', SPLITS) as Split;
  const batchSize = values['batch-size'] !== undefined ? parseInteger('batch-size', values['batch-size'], 1) : 256;
  const steps = values['rollout-steps'] !== undefined ? parseInteger('rollout-steps', values['rollout-steps'], 1) : undefined;
  const { initBackend, parseBackendPreference } = await import('../backend/backend.js');
  const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
  if (!values.json) process.stderr.write(`backend: ${backend.detail}\n`);
  const { evaluateNextState, writeNextStateEvaluation } = await import('../tasks/next-state-run.js');
  const runDir = resolve(positionals[0]);
  const e = await evaluateNextState(runDir, resolve(values.data), split, batchSize, steps);
  await writeNextStateEvaluation(runDir, e);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(e, null, 2)}\n`);
    return 0;
  }
  const f = (x: number) => x.toPrecision(4);
  const roll = e.rolloutMaeByStep;
  const lines = [
    `split                       ${split} (${e.transitions} transitions, batches of ${e.batchSize})`,
    `one-step MAE (raw units)    ${f(e.oneStep.maeRaw)}   z-scored ${f(e.oneStep.mae)}, MSE z-scored ${f(e.oneStep.mse)}`,
    `  predicting the mean       ${f(e.references.meanPredictor)}`,
    `  predicting no change      ${f(e.references.persistence)}`,
    `rollout MAE (raw) at step   1: ${f(roll[0])}, ${Math.ceil(roll.length / 4)}: ${f(roll[Math.ceil(roll.length / 4) - 1])}, ${roll.length}: ${f(roll[roll.length - 1])}`,
    `NFE per batch               ${e.nfePerBatch.toFixed(1)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!e.learned) process.stderr.write('warning: the model is no better than predicting the mean or no change: it did not learn the dynamics\n');
  return 0;
}

export async function runNextStateRollout(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('rollout', argv, { data: { type: 'string' }, split: { type: 'string' }, indices: { type: 'string' }, horizon: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new InvalidArgumentError('give exactly one run folder', 'physode rollout runs/<id> --data datasets/<name>');
  if (!values.data) throw new InvalidArgumentError('--data DIR is required');
  const split = parseChoice('split', values.split ?? 'test', SPLITS) as Split;
  const runDir = resolve(positionals[0]);
  const out = resolve(values.out ?? join(runDir, 'rollouts.npz'));
  await checkWritableFolder(dirname(out), '--out');
  const { parseIndexList } = await import('./options.js');
  const positions = values.indices !== undefined ? parseIndexList('indices', values.indices) : [0, 1, 2, 3];
  const { initBackend, parseBackendPreference } = await import('../backend/backend.js');
  const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
  process.stderr.write(`backend: ${backend.detail}\n`);
  const { nextStateRollouts } = await import('../tasks/next-state-rollout.js');
  const horizon = values.horizon !== undefined ? parseInteger('horizon', values.horizon, 1) : 100;
  const r = await nextStateRollouts(runDir, resolve(values.data), split, positions, horizon, out);
  process.stdout.write(`wrote ${out}: ${r.count} trajectories x ${r.samples} steps x ${r.dim} components (autoregressive from row 0)\n`);
  return 0;
}
