/** RunnerCache: generator threads lent per init and reused across calls, results equal to in-thread ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerCache } from '../../src/generate/runner-cache.js';
import { computeTrajectories } from '../../src/generate/trajectories.js';
import { getSystem } from '../../systems/index.js';
import type { WorkerInit } from '../../src/generate/pool.js';

const init = (seed: number): WorkerInit => ({
  system: 'pendulum', options: {}, times: [0, 0.5, 1],
  settings: { seed, rtol: 1e-10, atol: 1e-10, noise: 0, derivatives: false },
});

test('a runner is reused for the same init, not for another, and computes what the library computes in-thread', async () => {
  const cache = new RunnerCache(1);
  try {
    const a = cache.acquire(init(1));
    const chunk = await a.run(3, 6);
    const expected = computeTrajectories(getSystem('pendulum').create({}), Float64Array.from([0, 0.5, 1]), 3, 6, init(1).settings);
    assert.deepEqual(Array.from(chunk.y), Array.from(expected.y));
    const b = cache.acquire(init(1));
    assert.notEqual(b, a, 'a lent runner is not lent twice');
    await cache.release(a);
    assert.equal(cache.acquire(init(1)), a, 'returned runner reused');
    assert.notEqual(cache.acquire(init(2)), a, 'another init gets its own thread');
    await cache.release(b, true);
    await assert.rejects(b.run(0, 1), 'a broken runner is closed, not kept');
  } finally {
    await cache.close();
  }
});
