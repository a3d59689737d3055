/**
 * The safetensors format (https://github.com/huggingface/safetensors, "Format"): an unsigned
 * 64-bit little-endian header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`
 * (offsets relative to the byte buffer after the header), then the raw little-endian data.
 * physode writes float32 ("F32") tensors only, named by layer path, and pads the header with
 * spaces to a multiple of 8 bytes, as the reference implementation does.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.js';
import { CorruptFileError } from '../util/errors.js';

export interface NamedArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface SafetensorsContent {
  readonly tensors: Record<string, NamedArray>;
  readonly metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name];
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new RangeError(`safetensors: tensor '${name}' has ${data.length} values but shape [${shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  while (enc.encode(json).length % 8 !== 0) json += ' ';
  const headerBytes = enc.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    else for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i], true);
    pos += data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, file = '<bytes>'): SafetensorsContent {
  const bad = (problem: string): never => {
    throw new CorruptFileError(file, problem, 'the file is not a float32 safetensors file, or it is truncated; re-save the model');
  };
  if (bytes.length < 8) bad('shorter than the 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) bad(`header length ${n} exceeds the file size ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch {
    return bad('the header is not valid JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, NamedArray> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32') bad(`tensor '${name}' has dtype ${String(e.dtype)}; physode reads F32 only`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor '${name}' has an invalid shape`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) bad(`tensor '${name}' has invalid data_offsets`);
    const shape = e.shape as number[];
    const [begin, end] = e.data_offsets as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end <= dataLength && end - begin === 4 * count)) {
      bad(`tensor '${name}' data_offsets [${begin}, ${end}] do not fit shape [${shape.join(', ')}] or the file (${dataLength} data bytes)`);
    }
    const data = new Float32Array(count);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, 4 * count);
    for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

export async function writeSafetensors(path: string, tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<SafetensorsContent> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CorruptFileError(path, `cannot read: ${err instanceof Error ? err.message : String(err)}`, 'check the path');
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
