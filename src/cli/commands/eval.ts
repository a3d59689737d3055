/** `physode eval RUN --data DIR`: metrics of a trained run on a split (src/train/evaluate.ts). */
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { formatNumber } from '../../util/format.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { SPLITS, type Split } from '../../data/types.js';
import { parseChoice, parseCommandArgs, parseInteger, parseNumber, parseSolverOverride, SOLVER_OVERRIDE_OPTIONS } from '../options.js';

const usage = `usage: physode eval RUN --data DIR [options]

Full-horizon rollouts of RUN's best model on a split, in eval mode: rollout MSE (normalised), MSE at
10/25/50/100 % of the horizon, valid prediction time, relative energy drift (and momentum drift for
n-body), NFE per rollout, wall time. Writes RUN/eval-<split>.json and plots.

  --split train|val|test   (default test)
  --which best|last        which model of the run (default best)
  --batch-size B           trajectories per evaluation batch (default: the whole split)
  --outliers F             one corrupted sample (seeded) in a fraction F of the batches;
                           metrics on the clean samples only
  --outlier-seed S         (default 0)
  --method NAME --rtol R --atol A --step H   evaluate with another solver than training's
  --max-steps N                               adaptive methods: step limit of each solve (default 10000)
  --threshold X            valid-prediction-time threshold (default 0.5)
  --backend NAME           auto, tensorflow, wasm, cpu
  --json                   machine-readable output

A next-state run (train --task next-state): one-step MAE (raw and z-scored) against predicting the
mean and predicting no change, rollout MAE over --rollout-steps (default the window length);
options --split, --batch-size (default 256), --rollout-steps, --json.`;

function fmt(v: number | null): string {
  return v === null ? '-' : formatNumber(v);
}

export const command: Command = {
  name: 'eval',
  summary: 'evaluate a trained run on a split (rollout MSE, VPT, energy drift; batch-size and outlier stress tests)',
  usage,
  async run(argv) {
    // A next-state run (physode train --task next-state) has its own metrics (src/cli/task-commands.ts).
    const { taskRunIn, runNextStateEval } = await import('../task-commands.js');
    if (taskRunIn(argv)) return runNextStateEval(argv);
    const { values, positionals } = parseCommandArgs(
      'eval',
      argv,
      {
        data: { type: 'string' },
        split: { type: 'string' },
        which: { type: 'string' },
        'batch-size': { type: 'string' },
        outliers: { type: 'string' },
        'outlier-seed': { type: 'string' },
        ...SOLVER_OVERRIDE_OPTIONS,
        threshold: { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    );
    if (positionals.length !== 1) throw new InvalidArgumentError('give exactly one run folder', 'physode eval runs/<id> --data datasets/<name>');
    if (!values.data) throw new InvalidArgumentError('--data DIR is required', 'the dataset the run was trained on (or another of the same system)');
    const runDir = resolve(positionals[0]);
    const split = parseChoice('split', values.split ?? 'test', SPLITS) as Split;
    const which = parseChoice('which', values.which ?? 'best', ['best', 'last'] as const);
    const batchSize = values['batch-size'] !== undefined ? parseInteger('batch-size', values['batch-size'], 1) : 0;
    const outliers = values.outliers !== undefined ? parseNumber('outliers', values.outliers, { min: 0, max: 1, example: '--outliers 0.1' }) : 0;
    const solver = parseSolverOverride(values);
    const threshold = values.threshold !== undefined ? parseNumber('threshold', values.threshold, { min: 0, minOpen: true, example: '--threshold 0.5' }) : 0.5;

    // Refuse impossible settings before any loading.
    const { readRunConfig } = await import('../../train/run-config.js');
    const runConfig = await readRunConfig(runDir);
    const { checkEvalSettings } = await import('../../train/evaluate.js');
    checkEvalSettings(runConfig.config.model.norm, batchSize, outliers);

    const { initBackend, parseBackendPreference } = await import('../../backend/backend.js');
    const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
    if (!values.json) process.stderr.write(`backend: ${backend.detail}\n`);

    const { openDataSource } = await import('../../train/dataset-source.js');
    const { prepareTrajectories } = await import('../../train/trajectories.js');
    const { loadRun } = await import('../../train/predict.js');
    const { evaluateRun } = await import('../../train/evaluate.js');
    const { writeEvalOutputs } = await import('../../train/eval-outputs.js');
    const { meanPredictorWarning } = await import('../../train/metrics.js');
    const data = await openDataSource(resolve(values.data));
    if (data.checksum !== runConfig.dataset.manifestSha256 && !values.json) {
      process.stderr.write(`note: ${values.data} is not the dataset the run was trained on (manifest checksum differs); using the run's normalisation statistics\n`);
    }
    const run = await loadRun(runDir, which);
    try {
      const trajectories = prepareTrajectories(await data.loadSplit(split), run.stats);
      const result = await evaluateRun(run, trajectories, { batchSize, outliers, outlierSeed: values['outlier-seed'] !== undefined ? parseInteger('outlier-seed', values['outlier-seed']) : 0, solver, threshold, physics: data.physics });
      const doc = await writeEvalOutputs(runDir, split, which, backend.detail, result, trajectories, run.stats, data.physics);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      } else {
        const rows: Array<[string, string]> = [
          ['split', `${split} (${result.trajectories} trajectories, ${result.batches} batches of ${result.batchSize})`],
          ['model', `${which} (${result.norm}); solver ${result.solver.method}`],
          ['rollout MSE (normalised, full horizon)', fmt(result.rolloutMse)],
          ['  predicting the mean instead', `${fmt(result.baseline.meanPredictorMse)} (the model's MSE is ${fmt(100 * result.baseline.ratio)} % of it)`],
          ...result.mseAtHorizons.map((h): [string, string] => [`  MSE at t = ${h.t}`, fmt(h.mse)]),
          [`valid prediction time (threshold ${result.threshold})`, `${fmt(result.validPredictionTime)} mean, ${fmt(result.validPredictionTimeMedian)} median`],
          ['relative energy drift (max over t, mean)', `${fmt(result.energyDrift)} (final ${fmt(result.energyDriftFinal)}; ground truth ${fmt(result.energyDriftTruth)})`],
          ...(result.momentumDrift !== null ? [['momentum drift (max |P - P0|, mean)', fmt(result.momentumDrift)] as [string, string]] : []),
          ['NFE per rollout', fmt(result.nfePerRollout)],
          ['outliers', result.outliers.fraction > 0 ? `${result.outliers.corruptedBatches} corrupted batches, their corrupted samples excluded` : 'none'],
          ['wall time', `${result.wallSeconds.toFixed(2)} s`],
        ];
        const w = Math.max(...rows.map((r) => r[0].length));
        process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n');
        const warning = meanPredictorWarning(result.baseline, `${split} MSE`);
        if (warning !== null) process.stderr.write(`warning: ${warning}\n`);
      }
      return 0;
    } finally {
      run.dispose();
    }
  },
};
