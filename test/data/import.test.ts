import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importTrajectories } from '../../src/data/import.js';
import { halfCheetahImport, halfCheetahSource, HALFCHEETAH_LABELS } from '../../src/data/halfcheetah.js';
import { openDataset } from '../../src/data/dataset.js';
import { encodeNpy, encodeNpz } from '../../src/data/npz.js';

/** The float64 data of a .npy file read without its parser: the last T·D·8 bytes (the header's length does not matter). */
async function rawTail(path: string, values: number): Promise<Float64Array> {
  const b = await readFile(path);
  const tail = b.subarray(b.length - values * 8);
  return new Float64Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
}

const sameBits = (a: Float64Array, b: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('HalfCheetah imports with the literature split and its arrays equal the .npy files bit for bit', async () => {
  const out = await mkdtemp(join(tmpdir(), 'physode-hc-'));
  try {
    const r = await importTrajectories(halfCheetahImport(out));
    assert.deepEqual(r.files.val, ['trace_0000.npy', 'trace_0001.npy', 'trace_0002.npy', 'trace_0003.npy', 'trace_0004.npy']);
    assert.equal(r.files.test[0], 'trace_0005.npy');
    assert.equal(r.files.test.length, 10);
    assert.deepEqual([r.files.train[0], r.files.train.length], ['trace_0015.npy', 10]);
    assert.equal(r.unused.length, 6);
    const ds = await openDataset(out);
    assert.deepEqual(ds.manifest.state.labels, HALFCHEETAH_LABELS);
    assert.equal((await ds.verify()).ok, true);
    for (const [split, names] of Object.entries(r.files) as ['train' | 'val' | 'test', string[]][]) {
      const batch = await ds.loadSplit(split);
      assert.deepEqual(batch.y.shape, [names.length, 1000, 17]);
      for (const [j, name] of names.entries()) {
        const want = await rawTail(join(halfCheetahSource(), name), 1000 * 17);
        const got = batch.y.data.subarray(j * 17000, (j + 1) * 17000);
        assert.ok(sameBits(Float64Array.from(got), want), `${split} ${name} differs`);
      }
    }
    // The statistics are the training traces' (15–24) population mean, computed here directly.
    const train = await ds.loadSplit('train');
    let m0 = 0;
    for (let r0 = 0; r0 < 10000; r0++) m0 += train.y.data[r0 * 17];
    assert.ok(Math.abs(ds.manifest.stats.mean[0] - m0 / 10000) < 1e-12);
    await assert.rejects(importTrajectories(halfCheetahImport(out)), /already holds a dataset/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('a folder of .npz / float32 .npy trajectories imports by fractions; bad folders are refused with a reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'physode-imp-'));
  try {
    const src = join(dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 10; i++) {
      const data = Float32Array.from({ length: 6 * 2 }, (_, k) => i + k / 7);
      const arr = { dtype: 'float32' as const, shape: [6, 2], data };
      await writeFile(join(src, `run${i}.${i % 2 ? 'npz' : 'npy'}`), i % 2 ? encodeNpz({ states: arr }) : encodeNpy(arr));
    }
    const r = await importTrajectories({ source: src, out: join(dir, 'ds'), fractions: [0.6, 0.2, 0.2], sampleInterval: 0.5 });
    assert.deepEqual([r.files.train.length, r.files.val.length, r.files.test.length], [6, 2, 2]);
    const ds = await openDataset(join(dir, 'ds'));
    assert.equal(ds.manifest.times.end, 2.5);
    const val = await ds.loadSplit('val');
    assert.equal(val.y.data[0], Math.fround(6)); // run6, row 0
    assert.equal(val.y.data[13], Math.fround(7 + 1 / 7)); // run7, row 0, column 1
    await writeFile(join(src, 'bad.npy'), encodeNpy({ dtype: 'float64', shape: [3], data: new Float64Array(3) }));
    await assert.rejects(importTrajectories({ source: src, out: join(dir, 'ds2') }), /shape \(3\)/);
    await assert.rejects(importTrajectories({ source: join(dir, 'nope'), out: join(dir, 'ds3') }), /cannot read the folder/);
    await assert.rejects(importTrajectories({ source: src, out: join(dir, 'ds4'), ranges: { train: [0, 5], val: [4, 6] } }), /both/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
