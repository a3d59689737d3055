/**
 * `physode classify`: trains a continuous-depth image classifier on Fashion-MNIST (or another
 * folder of the four IDX files) and evaluates it for TA-BN's claims; writes a run folder with
 * the best model, metrics.jsonl and eval.json (src/tasks/classification-run.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../../util/errors.js';
import { checkWritableFolder } from '../../util/fs.js';
import { NORM_KINDS } from '../../nn/registry.js';
import { METHOD_NAMES } from '../../ode/tableaux/index.js';
import { OPTIMIZERS } from '../../train/optimizer.js';
import type { Command } from '../command.js';
import { parseChoice, parseCommandArgs, parseInteger, parseNumber, TOLERANCE } from '../options.js';
import { runStoppable } from '../stoppable.js';
import { CLASSIFICATION_DEFAULTS as D, type ClassificationSettings } from '../../tasks/classification-run.js';
import { FASHION_MNIST_DIR } from '../../data/image-dataset.js';

const usage = `usage: physode classify [--out RUN] [--from DIR] [options]

Trains a continuous-depth classifier on Fashion-MNIST: the state is the image (784 pixels, or a
linear lift of it), the ODE over depth [0, 1] runs an MLP field (two linear layers as wide as the
state, the normalisation after the first: the TA-BN paper's MNIST field), a linear head gives the
10 logits; softmax cross-entropy, AdamW. Then scores the best model (by validation accuracy) on
the test split at each --eval-batch-sizes, with one outlier per test batch, and writes
RUN/eval.json (accuracies, misclassified images, TA-BN's running statistics against t).

options:
  --from DIR             the four IDX files (default ${FASHION_MNIST_DIR}: apt-get install dataset-fashion-mnist)
  --no-verify            skip the check against the standard Fashion-MNIST checksums (other IDX data)
  --out RUN              run folder (default runs/fashion-mnist-NORM-METHOD-sSEED)
  --norm N               ${NORM_KINDS.join(', ')} (default ${D.norm})
  --lift none|linear     the state: the image itself, or a linear lift to --state-dim (default none)
  --state-dim N          state width with --lift linear (default 784)
  --width N              hidden width (default: the state's)
  --method M             ${METHOD_NAMES.join(', ')} (default ${D.method})
  --rtol X, --atol X     adaptive tolerances (default ${D.rtol}, ${D.atol})
  --steps N              fixed-step methods: steps over [0, 1] (default ${D.solverSteps})
  --grid-intervals M     TA-BN's grid (default ${D.gridIntervals})
  --epochs N             (default ${D.epochs})   --max-steps N  cap on optimisation steps
  --batch-size N         training batch size (default ${D.batchSize})
  --lr X                 (default ${D.lr})   --optimizer ${OPTIMIZERS.join('|')} (default ${D.optimizer})   --weight-decay X (default ${D.weightDecay})
  --seed N               weights, shuffling and outliers (default ${D.seed})
  --train-limit N, --val-limit N, --test-limit N   use the first N images of a split (quick runs)
  --eval-batch-sizes L   test batch sizes, comma-separated (default ${D.evalBatchSizes.join(',')}; the training batch size is added)
  --outlier-scale X      std of the one noise image per test batch (default ${D.outlierScale}; 0: no outlier evaluation)
  --backend B            tensor backend (auto, wasm, cpu, tensorflow)
  --quiet                no progress bar`;

function list(name: string, text: string): number[] {
  const out = text.split(',').map((s) => parseInteger(name, s.trim(), 1, { max: 100_000 }));
  if (out.length === 0) throw new InvalidArgumentError(`--${name} is empty`, `e.g. --${name} 2,256`);
  return out;
}

export const command: Command = {
  name: 'classify',
  summary: 'train and evaluate a continuous-depth image classifier on Fashion-MNIST (TA-BN claims in their home regime)',
  usage,
  async run(argv) {
    const { values } = parseCommandArgs('classify', argv, {
      from: { type: 'string' },
      'no-verify': { type: 'boolean', default: false },
      out: { type: 'string' },
      norm: { type: 'string' },
      lift: { type: 'string' },
      'state-dim': { type: 'string' },
      width: { type: 'string' },
      method: { type: 'string' },
      rtol: { type: 'string' },
      atol: { type: 'string' },
      steps: { type: 'string' },
      'grid-intervals': { type: 'string' },
      epochs: { type: 'string' },
      'max-steps': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      optimizer: { type: 'string' },
      'weight-decay': { type: 'string' },
      seed: { type: 'string' },
      'train-limit': { type: 'string' },
      'val-limit': { type: 'string' },
      'test-limit': { type: 'string' },
      'eval-batch-sizes': { type: 'string' },
      'outlier-scale': { type: 'string' },
      backend: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    });
    const int = (name: keyof typeof values, fallback: number, min = 1, max = 1_000_000) => (values[name] === undefined ? fallback : parseInteger(name, String(values[name]), min, { max }));
    const num = (name: keyof typeof values, fallback: number, range = {}) => (values[name] === undefined ? fallback : parseNumber(name, String(values[name]), range));
    const lift = parseChoice('lift', values.lift ?? D.lift, ['none', 'linear'] as const);
    if (lift === 'none' && values['state-dim'] !== undefined) throw new InvalidArgumentError('--state-dim needs --lift linear', 'the state is the image without a lift');
    const settings: ClassificationSettings = {
      ...D,
      norm: parseChoice('norm', values.norm ?? D.norm, NORM_KINDS),
      lift,
      stateDim: values['state-dim'] === undefined ? null : int('state-dim', 784),
      width: values.width === undefined ? null : int('width', 784),
      method: parseChoice('method', values.method ?? D.method, METHOD_NAMES),
      rtol: num('rtol', D.rtol, TOLERANCE),
      atol: num('atol', D.atol, TOLERANCE),
      solverSteps: int('steps', D.solverSteps),
      gridIntervals: int('grid-intervals', D.gridIntervals),
      epochs: int('epochs', D.epochs),
      maxSteps: values['max-steps'] === undefined ? null : int('max-steps', 1),
      batchSize: int('batch-size', D.batchSize, 2),
      lr: num('lr', D.lr, { min: 0, max: 1, minOpen: true }),
      optimizer: parseChoice('optimizer', values.optimizer ?? D.optimizer, OPTIMIZERS),
      weightDecay: num('weight-decay', D.weightDecay, { min: 0 }),
      seed: int('seed', D.seed, 0),
      evalBatchSizes: values['eval-batch-sizes'] === undefined ? D.evalBatchSizes : list('eval-batch-sizes', values['eval-batch-sizes']),
      outlierScale: num('outlier-scale', D.outlierScale, { min: 0 }),
    };
    const limits = { trainLimit: values['train-limit'], valLimit: values['val-limit'], testLimit: values['test-limit'] };
    const out = resolve(values.out ?? join('runs', `fashion-mnist-${settings.norm}-${settings.method}-s${settings.seed}`));
    await checkWritableFolder(out, '--out');
    if (existsSync(join(out, 'config.json'))) throw new InvalidArgumentError(`run folder ${out} already holds a run`, 'choose another --out');
    const { loadImageDataset } = await import('../../data/image-dataset.js');
    const dataset = await loadImageDataset({
      from: values.from === undefined ? undefined : resolve(values.from),
      verify: !values['no-verify'],
      trainLimit: limits.trainLimit === undefined ? undefined : int('train-limit', 0),
      valLimit: limits.valLimit === undefined ? undefined : int('val-limit', 0),
      testLimit: limits.testLimit === undefined ? undefined : int('test-limit', 0),
    });
    if (dataset.train.count < settings.batchSize) throw new InvalidArgumentError(`${dataset.train.count} training images, fewer than one batch of ${settings.batchSize}`, 'raise --train-limit or lower --batch-size');
    const { initBackend, parseBackendPreference } = await import('../../backend/backend.js');
    const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
    if (!values.quiet) process.stderr.write(`backend: ${backend.detail}\ndata: ${dataset.name} (train ${dataset.train.count}, val ${dataset.val.count}, test ${dataset.test.count})\n`);
    const { runClassification } = await import('../../tasks/classification-run.js');
    const { result: r } = await runStoppable('classify', { quiet: values.quiet === true }, ({ signal, onProgress, onEvent }) =>
      runClassification({
        dataset,
        runDir: out,
        settings,
        signal,
        onProgress,
        onEvent: (m) => {
          if (!values.quiet) onEvent(m);
        },
      }),
    );
    if (r === null) {
      process.stderr.write(`physode classify: stopped; ${out} holds the best model so far, not evaluated\n`);
      return 130;
    }
    const acc = Object.entries(r.test).map(([b, v]) => `batch ${b}: ${(100 * v.accuracy).toFixed(2)} %`).join(', ');
    const outl = r.outliers ? `; one outlier per batch of ${r.outliers.batchSize}: ${(100 * r.outliers.accuracy).toFixed(2)} %` : '';
    process.stdout.write(`run ${out}: ${r.fit.steps} steps (${r.fit.epochs} epochs), NFE/step ${r.fit.nfePerStep.toFixed(1)}, ${r.seconds.train.toFixed(0)} s training\ntest accuracy ${acc}${outl}\n`);
    return r.fit.completed ? 0 : 130;
  },
};
