import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { CorruptFileError } from '../../src/util/errors.js';

test('safetensors bytes follow the format: u64 LE header length, JSON header, little-endian F32 data', () => {
  const bytes = encodeSafetensors(
    { 'field.output.bias': { shape: [2], data: new Float32Array([1.5, -2]) }, 'a.w': { shape: [1, 1], data: new Float32Array([3]) } },
    { format: 'physode' },
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'header padded to 8 bytes');
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  assert.deepEqual(header.__metadata__, { format: 'physode' });
  assert.deepEqual(header['a.w'], { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] });
  assert.deepEqual(header['field.output.bias'], { dtype: 'F32', shape: [2], data_offsets: [4, 12] });
  assert.equal(view.getFloat32(8 + n + 4, true), 1.5);
  assert.equal(view.getFloat32(8 + n + 8, true), -2);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(back.tensors['field.output.bias'].data), [1.5, -2]);
  assert.deepEqual(back.tensors['a.w'].shape, [1, 1]);
});

test('a truncated or foreign file is a CorruptFileError', () => {
  const bytes = encodeSafetensors({ x: { shape: [4], data: new Float32Array(4) } });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 3), 'm.safetensors'), CorruptFileError);
  assert.throws(() => decodeSafetensors(new Uint8Array(4), 'm.safetensors'), CorruptFileError);
});
