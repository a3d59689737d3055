import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, toCsv } from '../../src/reproduce/csv.js';
import { RESULTS_HEADER, ResultsStore, formatResultsCsv, parseResultsCsv } from '../../src/reproduce/results-store.js';
import { CorruptFileError } from '../../src/util/errors.js';
import type { RunResult } from '../../src/reproduce/types.js';

const ok: RunResult = {
  key: 'batch-size/pendulum_tabn_rk4_d2_w16_b16_n20_s1/b2_o0_rk4',
  experiment: 'batch-size',
  train: { system: 'pendulum', norm: 'tabn', method: 'rk4', depth: 2, width: 16, batchSize: 16, steps: 20, seed: 1 },
  evaluation: { batchSize: 2, outliers: 0, method: 'rk4' },
  status: 'ok',
  metrics: { mse: 0.0123, vpt: 2.5, energyDrift: 1e-3, nfe: 40 },
  trainNfe: 16,
  trainSeconds: 3.2,
  evalSeconds: 1.1,
};
const failed: RunResult = {
  ...ok,
  key: 'depth/pendulum_none_dopri5_d12_w16_b16_n20_s1/b16_o0_dopri5',
  experiment: 'depth',
  status: 'failed',
  failure: 'step-underflow',
  reason: 'train: step size 1e-14 underflowed at t=0.3, "NFE" 5000\nsecond line',
  metrics: {},
};

describe('results.csv', () => {
  test('CSV quoting follows RFC 4180: commas, quotes and newlines survive a round trip', () => {
    const rows = [['a,b', 'say "hi"', 'two\nlines', '']];
    assert.equal(toCsv(['x', 'y', 'z', 'w'], rows), 'x,y,z,w\n"a,b","say ""hi""","two\nlines",\n');
    assert.deepEqual(parseCsv(toCsv(['x', 'y', 'z', 'w'], rows)), [['x', 'y', 'z', 'w'], ...rows]);
  });

  test('a run, finished or failed, reads back as it was written', () => {
    const text = formatResultsCsv([ok, failed]);
    assert.equal(text.split('\n')[0], RESULTS_HEADER.join(','));
    const back = parseResultsCsv(text, 'results.csv');
    assert.deepEqual(back[0], ok);
    assert.equal(back[1].status, 'failed');
    assert.equal(back[1].failure, 'step-underflow');
    assert.equal(back[1].reason, failed.reason);
    assert.equal(back[1].metrics.mse, undefined);
  });

  test('a file with another header is refused with the file named', () => {
    assert.throws(() => parseResultsCsv('a,b\n1,2\n', '/x/results.csv'), (err: unknown) => err instanceof CorruptFileError && err.message.includes('/x/results.csv'));
  });

  test('the store persists every added run and a reopened store knows them (resume)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'physode-store-'));
    try {
      const file = join(dir, 'results.csv');
      const store = await ResultsStore.open(file);
      assert.equal(store.has(ok.key), false);
      await Promise.all([store.add([ok]), store.add([failed])]);
      const again = await ResultsStore.open(file);
      assert.equal(again.has(ok.key), true);
      assert.equal(again.get(failed.key)?.status, 'failed');
      assert.equal((await readFile(file, 'utf8')).trim().split('\n').length, 1 + 2 + 1 /* quoted newline in reason */);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a truncated row gives an error naming the line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'physode-store-'));
    try {
      const file = join(dir, 'results.csv');
      await writeFile(file, `${RESULTS_HEADER.join(',')}\nbatch-size,pendulum\n`);
      await assert.rejects(ResultsStore.open(file), /line 2 has 2 fields/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
