import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPool } from '../../src/reproduce/pool.js';

test('the pool never runs more than its concurrency at once and keeps input order', async () => {
  let running = 0;
  let peak = 0;
  const out = await runPool([5, 1, 4, 2, 3], 2, async (x) => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, x * 3));
    running -= 1;
    return x * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
  await assert.rejects(runPool([1], 0, async (x) => x), RangeError);
});

test('after a job throws no new job starts, the running ones finish, and the error comes back', async () => {
  const started: number[] = [];
  const finished: number[] = [];
  await assert.rejects(
    runPool([0, 1, 2, 3, 4], 2, async (x) => {
      started.push(x);
      await new Promise((r) => setTimeout(r, x === 1 ? 30 : 5));
      if (x === 0) throw new Error('boom');
      finished.push(x);
      return x;
    }),
    /boom/,
  );
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(finished, [1]);
});
