import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromOptions } from '../../src/cli/commands/train.js';
import { command as evalCommand } from '../../src/cli/commands/eval.js';
import { parseIndexList, parseSolverOverride } from '../../src/cli/options.js';
import { neuralOdeFactory, solverOptions } from '../../src/train/neural-ode-port.js';
import { SolverError } from '../../src/ode/errors.js';
import { DEFAULT_CONFIG, validateConfig } from '../../src/train/config.js';
import { InvalidArgumentError } from '../../src/util/errors.js';
import { initBackend } from '../../src/backend/backend.js';
import { train } from '../../src/train/trainer.js';
import { oscillatorSource, linearFactory } from '../train/fixtures.js';

describe('command-line options of train, eval and rollout', () => {
  test('no options give the documented defaults', () => {
    const { config, epochs } = configFromOptions({});
    assert.deepEqual(config, DEFAULT_CONFIG);
    assert.equal(epochs, null);
  });

  test('options are parsed into the configuration', () => {
    const { config } = configFromOptions({ norm: 'minibatch', width: '32', lr: '1e-3', adjoint: true, method: 'dopri5', 'batch-size': '16', optimizer: 'adamw', 'weight-decay': '0.01' });
    assert.equal(config.model.norm, 'minibatch');
    assert.equal(config.model.width, 32);
    assert.equal(config.lr, 1e-3);
    assert.equal(config.solver.adjoint, true);
    assert.equal(config.solver.method, 'dopri5');
    assert.equal(config.batchSize, 16);
    assert.equal(config.optimizer, 'adamw');
    assert.equal(config.weightDecay, 0.01);
  });

  test('--max-steps bounds the adaptive training solves, not the full-horizon predictions', async () => {
    await initBackend('cpu');
    const { config } = configFromOptions({ method: 'dopri5', 'max-steps': '2', norm: 'none', width: '8' });
    assert.equal(config.solver.maxSteps, 2);
    const blueprint = { model: config.model, solver: config.solver, dim: 2, span: [0, 5] as [number, number], defaultStep: 0.5, seed: 0 };
    const port = await neuralOdeFactory.create(blueprint);
    const y0 = Float32Array.from([1, 0, 0, 1, -1, 0, 0, -1]);
    const ts = Float64Array.from({ length: 11 }, (_, i) => i / 2);
    // dopri5 at rtol 1e-5 cannot cover [0, 5] in two steps: the training solve stops with a SolverError ...
    assert.throws(() => port.lossAndGradients(y0, 4, ts, new Float32Array(4 * 11 * 2)), (err: unknown) => err instanceof SolverError && err.reason === 'max-steps');
    // ... while a prediction over the same span is not bounded by the training limit.
    const p = await port.predict(y0, 4, ts);
    assert.ok(p.nfe > 12, `prediction NFE ${p.nfe}`);
    assert.deepEqual(parseSolverOverride({ 'max-steps': '40' }).maxSteps, 40);
    assert.equal(solverOptions({ method: 'dopri5', rtol: 1e-5, atol: 1e-6 }, { maxSteps: 40 }).maxSteps, 40);
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ width: 'wide' }, /--width expects a number/],
    [{ depth: '1.5' }, /--depth expects an integer/],
    [{ norm: 'layer' }, /--norm 'layer' is not one of: none, minibatch, popti, pop, tabn/],
    [{ optimizer: 'sgd' }, /--optimizer 'sgd' is not one of/],
    [{ steps: '10', epochs: '2' }, /either --steps or --epochs/],
    [{ window: '1' }, /--window expects an integer >= 2/],
    [{ 'max-steps': '0' }, /--max-steps expects an integer >= 1/],
  ];
  for (const [opts, message] of bad) {
    test(`bad input ${JSON.stringify(opts)} gives a one-line error`, () => {
      assert.throws(() => configFromOptions(opts), (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message) && !err.message.includes('\n'));
    });
  }

  test('a batch of one cannot train batch normalisation', () => {
    assert.throws(() => validateConfig({ ...DEFAULT_CONFIG, batchSize: 1 }), /batch variance of one sample is zero/);
    assert.doesNotThrow(() => validateConfig({ ...DEFAULT_CONFIG, batchSize: 1, model: { ...DEFAULT_CONFIG.model, norm: 'none' } }));
  });

  test('index lists accept single values and ranges', () => {
    assert.deepEqual(parseIndexList('indices', '3,0-2,2'), [0, 1, 2, 3]);
    assert.throws(() => parseIndexList('indices', '2-1'), /runs backwards/);
    assert.throws(() => parseIndexList('indices', 'a'), /expects a number/);
  });
});

describe('physode eval refuses a batch of one for minibatch BN', () => {
  let dir: string;
  before(async () => {
    await initBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'physode-evalcli-'));
    const config = { ...DEFAULT_CONFIG, model: { ...DEFAULT_CONFIG.model, norm: 'minibatch' as const }, batchSize: 4, window: 4, steps: 5, warmup: 0, logEvery: 5, valEvery: 5, checkpointEvery: 5 };
    await train({ data: oscillatorSource(), runDir: dir, config, factory: linearFactory, plots: false });
  });

  test('with a clear message naming the reason and the way out', async () => {
    await assert.rejects(evalCommand.run([dir, '--data', join(dir, 'no-such-dataset'), '--batch-size', '1']), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /--batch-size 1 cannot evaluate a 'minibatch' model/);
      assert.match(err.hint ?? '', /--batch-size 2 or more/);
      return true;
    });
    await rm(dir, { recursive: true });
  });
});
