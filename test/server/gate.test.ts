/** The server's gate runs at most its number of tasks at once, in arrival order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gate } from '../../src/server/gate.js';

test('at most `slots` tasks run at once; all finish, in arrival order; a failure frees its slot', async () => {
  const gate = new Gate(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const task = (i: number) => async () => {
    started.push(i);
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    if (i === 4) throw new Error('task 4 fails');
    return i;
  };
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => gate.run(task(i))));
  assert.equal(most, 3);
  assert.deepEqual(started, Array.from({ length: 12 }, (_, i) => i));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 11);
  assert.equal(await gate.run(async () => 'free'), 'free');
});
