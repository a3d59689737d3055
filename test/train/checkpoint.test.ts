import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.js';
import { CorruptFileError } from '../../src/util/errors.js';

async function fresh(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'physode-ckpt-'));
  await saveCheckpoint(dir, {
    step: 7,
    tensors: [
      { name: 'a', dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, Math.fround(0.1)) },
      { name: 'b', dtype: 'int32', shape: [3], data: Int32Array.of(-1, 0, 5) },
      { name: 'c', dtype: 'float64', shape: [1], data: Float64Array.of(Math.PI) },
    ],
    state: { rng: [1, 2, 3, 4], lrScale: 0.5 },
  });
  return dir;
}

describe('checkpoints', () => {
  test('a saved checkpoint loads back bit for bit', async () => {
    const dir = await fresh();
    const c = await loadCheckpoint(dir);
    assert.equal(c.step, 7);
    assert.deepEqual(c.state, { rng: [1, 2, 3, 4], lrScale: 0.5 });
    assert.deepEqual(Array.from(c.tensors[0].data), [1, 2, 3, Math.fround(0.1)]);
    assert.ok(c.tensors[1].data instanceof Int32Array);
    assert.equal(c.tensors[2].data[0], Math.PI);
    await rm(dir, { recursive: true });
  });

  test('saving again replaces the tensor file and leaves exactly one', async () => {
    const dir = await fresh();
    await saveCheckpoint(dir, { step: 8, tensors: [{ name: 'a', dtype: 'float32', shape: [1], data: Float32Array.of(9) }], state: {} });
    const bins = (await readdir(dir)).filter((f) => f.endsWith('.bin'));
    assert.equal(bins.length, 1);
    assert.equal((await loadCheckpoint(dir)).step, 8);
    await rm(dir, { recursive: true });
  });

  const corruptions: Array<[string, (dir: string) => Promise<void>, RegExp]> = [
    ['a flipped byte in the tensor file', async (dir) => {
      const bin = (await readdir(dir)).find((f) => f.endsWith('.bin'))!;
      const bytes = await readFile(join(dir, bin));
      bytes[3] ^= 0xff;
      await writeFile(join(dir, bin), bytes);
    }, /SHA-256 does not match/],
    ['a truncated tensor file', async (dir) => {
      const bin = (await readdir(dir)).find((f) => f.endsWith('.bin'))!;
      const bytes = await readFile(join(dir, bin));
      await writeFile(join(dir, bin), bytes.subarray(0, 10));
    }, /truncated/],
    ['a missing tensor file', async (dir) => {
      const bin = (await readdir(dir)).find((f) => f.endsWith('.bin'))!;
      await rm(join(dir, bin));
    }, /tensor file missing/],
    ['a truncated checkpoint.json', async (dir) => {
      const text = await readFile(join(dir, 'checkpoint.json'), 'utf8');
      await writeFile(join(dir, 'checkpoint.json'), text.slice(0, 40));
    }, /not valid JSON/],
    ['a foreign JSON file', async (dir) => {
      await writeFile(join(dir, 'checkpoint.json'), '{"hello": 1}');
    }, /not a physode checkpoint/],
  ];
  for (const [what, damage, message] of corruptions) {
    test(`${what} gives a CorruptFileError naming the problem`, async () => {
      const dir = await fresh();
      await damage(dir);
      await assert.rejects(loadCheckpoint(dir), (err: unknown) => {
        assert.ok(err instanceof CorruptFileError, String(err));
        assert.match(err.message, message);
        assert.ok(err.hint && err.hint.length > 0);
        return true;
      });
      await rm(dir, { recursive: true });
    });
  }

  test('a folder without a checkpoint gives a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'physode-ckpt-'));
    await assert.rejects(loadCheckpoint(dir), /no checkpoint here/);
    await rm(dir, { recursive: true });
  });
});
