import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeIdx, encodeIdx } from '../../src/data/idx.js';
import { DatasetNotFoundError, FASHION_MNIST_DIR, loadImageDataset } from '../../src/data/image-dataset.js';
import { CorruptFileError } from '../../src/util/errors.js';

/** An IDX header and payload written byte by byte, independent of encodeIdx. */
function handMade(typeCode: number, dims: number[], payload: number[]): Uint8Array {
  const head = [0, 0, typeCode, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...head, ...payload]);
}

const isCorrupt = (file: string, pattern: RegExp) => (e: unknown) => e instanceof CorruptFileError && e.message.startsWith(`${file}: `) && pattern.test(e.message);

describe('IDX reader', () => {
  test('reads a hand-made uint8 [2, 2, 3] file, raw and gzip-compressed', () => {
    const bytes = handMade(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    for (const b of [bytes, new Uint8Array(gzipSync(bytes))]) {
      const a = decodeIdx(b, 'x');
      assert.equal(a.type, 'uint8');
      assert.deepEqual(a.shape, [2, 2, 3]);
      assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });

  test('big-endian int32 and float32 payloads decode to their values', () => {
    const i32 = handMade(0x0c, [2], [0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00]);
    assert.deepEqual(Array.from(decodeIdx(i32, 'i').data), [-2, 256]);
    // 1.5 = 0x3fc00000, -2 = 0xc0000000
    const f32 = handMade(0x0d, [1, 2], [0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]);
    const a = decodeIdx(f32, 'f');
    assert.deepEqual(a.shape, [1, 2]);
    assert.deepEqual(Array.from(a.data), [1.5, -2]);
  });

  test('encodeIdx writes what the hand-made bytes say', () => {
    const bytes = handMade(0x08, [3], [7, 8, 9]);
    assert.deepEqual(encodeIdx({ type: 'uint8', shape: [3], data: Uint8Array.of(7, 8, 9) }), bytes);
  });

  test('bad magic, unknown type, rank 0, short header: CorruptFileError naming the file', () => {
    assert.throws(() => decodeIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'm'), isCorrupt('m', /bad IDX magic.*01 00/));
    assert.throws(() => decodeIdx(Uint8Array.of(0, 0, 0x42, 1, 0, 0, 0, 0), 't'), isCorrupt('t', /unknown IDX type code 42/));
    assert.throws(() => decodeIdx(Uint8Array.of(0, 0, 8, 0), 'r'), isCorrupt('r', /rank 0/));
    assert.throws(() => decodeIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1), 'h'), isCorrupt('h', /truncated header: rank 3 needs 16/));
    assert.throws(() => decodeIdx(Uint8Array.of(0, 0), 's'), isCorrupt('s', /shorter than an IDX header/));
    assert.throws(() => decodeIdx(new TextEncoder().encode('hello world, not idx'), 'txt'), isCorrupt('txt', /bad IDX magic/));
  });

  test('a truncated payload and trailing bytes are refused with the sizes', () => {
    const bytes = handMade(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
    assert.throws(() => decodeIdx(bytes.subarray(0, bytes.length - 1), 'cut'), isCorrupt('cut', /truncated: shape \[2, 3\] of uint8 needs 18 bytes, the file has 17/));
    assert.throws(() => decodeIdx(Uint8Array.from([...bytes, 0]), 'long'), isCorrupt('long', /1 bytes after the 6 values/));
  });

  test('a truncated and a corrupted gzip stream are refused as such', () => {
    const gz = new Uint8Array(gzipSync(handMade(0x08, [64], Array.from({ length: 64 }, (_, i) => i))));
    assert.throws(() => decodeIdx(gz.subarray(0, gz.length - 12), 'cut.gz'), isCorrupt('cut.gz', /gzip stream is truncated/));
    const bad = gz.slice();
    bad[gz.length - 6] ^= 0xff; // the CRC-32 / size trailer
    assert.throws(() => decodeIdx(bad, 'bad.gz'), isCorrupt('bad.gz', /gzip stream is (corrupt|truncated)/));
  });
});

describe('image dataset folder', () => {
  let dir: string;
  const count = 40;
  const testCount = 10;
  const images = (n: number, seed: number) => handMade(0x08, [n, 2, 2], Array.from({ length: n * 4 }, (_, i) => (i * 37 + seed) % 256));
  const labels = (n: number) => handMade(0x08, [n], Array.from({ length: n }, (_, i) => i % 10));
  const write = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, name), bytes);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'physode-idx-'));
    write('train-images-idx3-ubyte.gz', new Uint8Array(gzipSync(images(count, 0))));
    write('train-labels-idx1-ubyte.gz', new Uint8Array(gzipSync(labels(count))));
    write('t10k-images-idx3-ubyte', images(testCount, 5)); // uncompressed works too
    write('t10k-labels-idx1-ubyte.gz', new Uint8Array(gzipSync(labels(testCount))));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('splits, shapes and normalisation from the training split', async () => {
    const d = await loadImageDataset({ from: dir, verify: false, valCount: 8 });
    assert.equal(d.pixels, 4);
    assert.equal(d.train.count, 32);
    assert.equal(d.val.count, 8);
    assert.equal(d.test.count, testCount);
    assert.equal(d.train.images.length, 32 * 4);
    // The training split has mean 0 and standard deviation 1 over all its pixels.
    const xs = Array.from(d.train.images);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 1e-4, `std ${std}`);
    // Test image 0 is pixels 5, 42, 79, 116, normalised with the training statistics.
    const { mean: m, std: s } = d.normalisation;
    assert.deepEqual(Array.from(d.test.images.subarray(0, 4)).map((v) => +v.toFixed(4)), [5, 42, 79, 116].map((p) => +((p / 255 - m) / s).toFixed(4)));
    assert.deepEqual(Array.from(d.test.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The split is a fixed draw: the same seed gives the same split, train and val are disjoint.
    const again = await loadImageDataset({ from: dir, verify: false, valCount: 8 });
    assert.deepEqual(again.val.images, d.val.images);
    const key = (split: typeof d.train, i: number) => Array.from(split.images.subarray(4 * i, 4 * i + 4)).join(',') + `:${split.labels[i]}`;
    const trainKeys = new Set(Array.from({ length: 32 }, (_, i) => key(d.train, i)));
    for (let i = 0; i < 8; i++) assert.ok(!trainKeys.has(key(d.val, i)));
  });

  test('the standard checksums refuse other files, naming the file', async () => {
    await assert.rejects(loadImageDataset({ from: dir }), (e: unknown) => e instanceof CorruptFileError && /train-images-idx3-ubyte\.gz: not the standard Fashion-MNIST/.test(e.message) && /--no-verify/.test(e.hint ?? ''));
  });

  test('labels out of range and a label count that disagrees are refused', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'physode-idx-bad-'));
    try {
      for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte.gz']) writeFileSync(join(bad, f), new Uint8Array(gzipSync(f.startsWith('train') ? images(count, 0) : f.includes('images') ? images(testCount, 5) : labels(testCount))));
      writeFileSync(join(bad, 'train-labels-idx1-ubyte'), handMade(0x08, [count], Array.from({ length: count }, (_, i) => (i === 7 ? 12 : 0))));
      await assert.rejects(loadImageDataset({ from: bad, verify: false }), (e: unknown) => e instanceof CorruptFileError && /label 12 at index 7 is outside 0\.\.9/.test(e.message));
      writeFileSync(join(bad, 'train-labels-idx1-ubyte'), labels(count - 1));
      await assert.rejects(loadImageDataset({ from: bad, verify: false }), (e: unknown) => e instanceof CorruptFileError && /39 labels for 40 images/.test(e.message));
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  test('a missing folder or file names the Debian package', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'physode-idx-empty-'));
    mkdirSync(join(empty, 'x'));
    try {
      await assert.rejects(loadImageDataset({ from: join(empty, 'x') }), (e: unknown) => e instanceof DatasetNotFoundError && /no train-images-idx3-ubyte\.gz/.test(e.message) && /dataset-fashion-mnist/.test(e.hint ?? ''));
      await assert.rejects(loadImageDataset({ from: join(empty, 'none') }), (e: unknown) => e instanceof DatasetNotFoundError && /is not a folder/.test(e.message) && /apt-get install dataset-fashion-mnist/.test(e.hint ?? ''));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('Debian\'s Fashion-MNIST passes every check (when installed)', { skip: existsSync(FASHION_MNIST_DIR) ? false : `SKIPPED: ${FASHION_MNIST_DIR} absent (apt-get install dataset-fashion-mnist)` }, async () => {
    const d = await loadImageDataset({ trainLimit: 10, valLimit: 10, testLimit: 10 });
    assert.equal(d.height, 28);
    assert.equal(d.width, 28);
    assert.equal(d.train.count, 10);
    // The published training-set pixel statistics of Fashion-MNIST: mean 0.2860, std 0.3530.
    assert.ok(Math.abs(d.normalisation.mean - 0.286) < 0.002, `${d.normalisation.mean}`);
    assert.ok(Math.abs(d.normalisation.std - 0.353) < 0.002, `${d.normalisation.std}`);
  });
});
