/** The server's caches hold at most their byte budget, evicting the least recently used. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteCache } from '../../src/server/byte-cache.js';

const bytes = (n: number) => new Float64Array(n / 8);

test('values are kept up to the byte budget; the least recently used go first', async () => {
  const cache = new ByteCache<Float64Array>(1000, (v) => v.byteLength);
  await cache.get('a', async () => bytes(400));
  await cache.get('b', async () => bytes(400));
  assert.equal(cache.bytes, 800);
  assert.ok(cache.peek('a'), 'a used again: b is now the oldest');
  await cache.get('c', async () => bytes(400));
  assert.equal(cache.bytes, 800);
  assert.equal(cache.peek('b'), undefined);
  assert.ok(cache.peek('a') && cache.peek('c'));
});

test('a value larger than the budget is returned but not kept', async () => {
  const cache = new ByteCache<Float64Array>(1000, (v) => v.byteLength);
  const big = await cache.get('big', async () => bytes(2000));
  assert.equal(big.byteLength, 2000);
  assert.equal(cache.bytes, 0);
  assert.equal(cache.peek('big'), undefined);
});

test('concurrent requests for one key share one computation; a failure is not cached', async () => {
  const cache = new ByteCache<Float64Array>(1000, (v) => v.byteLength);
  let calls = 0;
  const compute = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 10));
    return bytes(80);
  };
  const [x, y] = await Promise.all([cache.get('k', compute), cache.get('k', compute)]);
  assert.equal(calls, 1);
  assert.equal(x, y);
  await assert.rejects(cache.get('bad', async () => Promise.reject(new Error('no'))));
  assert.equal(cache.peek('bad'), undefined);
  assert.equal(cache.pending, 0);
});
