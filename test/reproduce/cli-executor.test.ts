import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { evalArgs, trainArgs } from '../../src/reproduce/cli-executor.js';
import { FULL } from '../../src/reproduce/profiles.js';
import type { TrainSpec } from '../../src/reproduce/types.js';

const spec = (method: TrainSpec['method']): TrainSpec => ({ system: 'pendulum', norm: 'tabn', method, depth: 2, width: 64, batchSize: 32, steps: 1000, seed: 1 });
const valueOf = (args: readonly string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

describe('the sweep\'s physode command lines', () => {
  test('adaptive trainings carry the tolerances and the step limit that turns a stiff field into a fast failure', () => {
    const args = trainArgs(spec('dopri5'), FULL, 'data', 'run');
    assert.equal(valueOf(args, '--max-steps'), String(FULL.trainMaxSteps));
    assert.equal(valueOf(args, '--rtol'), String(FULL.rtol));
    assert.equal(valueOf(args, '--method'), 'dopri5');
    assert.equal(trainArgs(spec('rk4'), FULL, 'data', 'run').includes('--max-steps'), false);
  });

  test('training follows TABN.md exactly: a grid point per sample of the window, no recalibration, no freezing', () => {
    const args = trainArgs(spec('rk4'), FULL, 'data', 'run');
    assert.equal(valueOf(args, '--grid-intervals'), String(FULL.window - 1));
    assert.equal(valueOf(args, '--bn-recalibration'), '0');
    assert.equal(valueOf(args, '--bn-freeze'), '0');
  });

  test('adaptive evaluations stop where a rollout would pass the NFE blow-up limit', () => {
    const args = evalArgs('run', 'data', { batchSize: 2, outliers: 0, method: 'dopri5' }, FULL);
    assert.equal(Number(valueOf(args, '--max-steps')) * 6 >= FULL.nfeBlowUp, true);
    assert.equal(valueOf(args, '--batch-size'), '2');
  });
});
