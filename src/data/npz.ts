/**
 * numpy's .npy and .npz formats, enough for physode's float64, float32 and int32 arrays.
 * .npy: NEP 1 / numpy.lib.format, version 1.0: magic "\x93NUMPY", version bytes 1 0, a little-endian
 * uint16 header length, an ASCII Python-dict header padded with spaces and a newline so that the data
 * start at a multiple of 64 bytes, then the raw little-endian C-order data.
 * .npz: a zip archive (PKWARE APPNOTE.TXT 6.3) of `<key>.npy` entries; we write STORED (uncompressed)
 * entries with CRC-32 (ISO 3309 polynomial 0xEDB88320), which numpy.load reads directly.
 * Decoding validates every field and throws CorruptFileError naming the file and the fault.
 */
import { CorruptFileError } from '../util/errors.js';

export type NpyDtype = 'float64' | 'float32' | 'int32';

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  readonly data: Float64Array | Float32Array | Int32Array;
}

const DESCR: Record<NpyDtype, string> = { float64: '<f8', float32: '<f4', int32: '<i4' };
const ITEM_SIZE: Record<NpyDtype, number> = { float64: 8, float32: 4, int32: 4 };
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

// ---- CRC-32 ------------------------------------------------------------------------------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- .npy --------------------------------------------------------------------------------------
function checkArray(name: string, a: NpyArray): void {
  const expected = a.shape.reduce((p, n) => p * n, 1);
  if (!a.shape.every((n) => Number.isInteger(n) && n >= 0)) throw new RangeError(`${name}: bad shape [${a.shape.join(', ')}]`);
  if (a.data.length !== expected) throw new RangeError(`${name}: shape [${a.shape.join(', ')}] needs ${expected} values, data has ${a.data.length}`);
  const ok = (a.dtype === 'float64' && a.data instanceof Float64Array) || (a.dtype === 'float32' && a.data instanceof Float32Array) || (a.dtype === 'int32' && a.data instanceof Int32Array);
  if (!ok) throw new TypeError(`${name}: data is not a typed array of dtype ${a.dtype}`);
}

function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Encodes one array as .npy version 1.0 (little-endian, C order). */
export function encodeNpy(a: NpyArray, name = 'array'): Uint8Array {
  checkArray(name, a);
  let header = `{'descr': '${DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shapeText(a.shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const dataBytes = a.data.length * ITEM_SIZE[a.dtype];
  const out = new Uint8Array(10 + header.length + dataBytes);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const d = a.data;
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, dataBytes), 10 + header.length);
    return out;
  }
  const view = new DataView(out.buffer, 10 + header.length);
  if (a.dtype === 'float64') for (let i = 0; i < d.length; i++) view.setFloat64(8 * i, d[i], true);
  else if (a.dtype === 'float32') for (let i = 0; i < d.length; i++) view.setFloat32(4 * i, d[i], true);
  else for (let i = 0; i < d.length; i++) view.setInt32(4 * i, d[i], true);
  return out;
}

/** Decodes a .npy file (versions 1.0-3.0) of dtype <f8, <f4 or <i4 in C order. */
export function decodeNpy(bytes: Uint8Array, fileName: string, entry = 'array'): NpyArray {
  const fail = (problem: string): never => {
    throw new CorruptFileError(fileName, `${entry}: ${problem}`, 'regenerate the file (physode generate ... rewrites missing or damaged shards)');
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy array (bad magic)');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number, start: number;
  if (major === 1) {
    headerLength = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header');
    headerLength = dv.getUint32(8, true);
    start = 12;
  } else {
    return fail(`unsupported .npy version ${major}`);
  }
  if (start + headerLength > bytes.length) fail('truncated header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) return fail(`malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('Fortran-order arrays are not supported');
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((k) => DESCR[k] === descr || (descr === '|i4' && k === 'int32'));
  if (!dtype) return fail(`unsupported dtype '${descr}' (expected <f8, <f4 or <i4)`);
  const shape = shapeMatch[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (!shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`bad shape (${shapeMatch[1]})`);
  const count = shape.reduce((p, n) => p * n, 1);
  const dataStart = start + headerLength;
  const need = count * ITEM_SIZE[dtype];
  if (bytes.length - dataStart < need) fail(`truncated data: shape [${shape.join(', ')}] needs ${need} bytes, found ${bytes.length - dataStart}`);
  if (bytes.length - dataStart > need) fail(`${bytes.length - dataStart - need} unexpected bytes after the data`);
  const copy = new Uint8Array(need); // an aligned copy of the data
  copy.set(bytes.subarray(dataStart, dataStart + need));
  let data: Float64Array | Float32Array | Int32Array;
  if (LITTLE_ENDIAN_HOST) {
    data = dtype === 'float64' ? new Float64Array(copy.buffer) : dtype === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  } else {
    const le = new DataView(copy.buffer);
    if (dtype === 'float64') {
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = le.getFloat64(8 * i, true);
    } else if (dtype === 'float32') {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = le.getFloat32(4 * i, true);
    } else {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = le.getInt32(4 * i, true);
    }
  }
  return { dtype, shape, data };
}

// ---- .npz (zip, STORED) ------------------------------------------------------------------------
const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
/** DOS date 1980-01-01 00:00: fixed, so that the same arrays give the same bytes. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** Encodes arrays as an .npz archive (entries `<key>.npy`, stored, in the order given). */
export function encodeNpz(entries: Record<string, NpyArray>): Uint8Array {
  const files = Object.entries(entries).map(([key, a]) => {
    const name = new TextEncoder().encode(`${key}.npy`);
    const data = encodeNpy(a, key);
    return { name, data, crc: crc32(data) };
  });
  const localSize = files.reduce((s, f) => s + 30 + f.name.length + f.data.length, 0);
  const centralSize = files.reduce((s, f) => s + 46 + f.name.length, 0);
  if (localSize + centralSize > 0xffffffff) throw new RangeError('npz archive over 4 GiB (zip64 is not supported): use a smaller --shard-size');
  const out = new Uint8Array(localSize + centralSize + 22);
  const dv = new DataView(out.buffer);
  let p = 0;
  const offsets: number[] = [];
  for (const f of files) {
    offsets.push(p);
    dv.setUint32(p, LOCAL_SIG, true);
    dv.setUint16(p + 4, 20, true); // version needed
    dv.setUint16(p + 6, 0, true); // flags
    dv.setUint16(p + 8, 0, true); // method: stored
    dv.setUint16(p + 10, 0, true); // time
    dv.setUint16(p + 12, DOS_DATE, true);
    dv.setUint32(p + 14, f.crc, true);
    dv.setUint32(p + 18, f.data.length, true);
    dv.setUint32(p + 22, f.data.length, true);
    dv.setUint16(p + 26, f.name.length, true);
    dv.setUint16(p + 28, 0, true);
    out.set(f.name, p + 30);
    out.set(f.data, p + 30 + f.name.length);
    p += 30 + f.name.length + f.data.length;
  }
  const centralStart = p;
  files.forEach((f, i) => {
    dv.setUint32(p, CENTRAL_SIG, true);
    dv.setUint16(p + 4, 20, true); // made by
    dv.setUint16(p + 6, 20, true); // needed
    dv.setUint16(p + 8, 0, true);
    dv.setUint16(p + 10, 0, true);
    dv.setUint16(p + 12, 0, true);
    dv.setUint16(p + 14, DOS_DATE, true);
    dv.setUint32(p + 16, f.crc, true);
    dv.setUint32(p + 20, f.data.length, true);
    dv.setUint32(p + 24, f.data.length, true);
    dv.setUint16(p + 28, f.name.length, true);
    // extra, comment, disk, internal attrs, external attrs: zero
    dv.setUint32(p + 42, offsets[i], true);
    out.set(f.name, p + 46);
    p += 46 + f.name.length;
  });
  dv.setUint32(p, END_SIG, true);
  dv.setUint16(p + 8, files.length, true);
  dv.setUint16(p + 10, files.length, true);
  dv.setUint32(p + 12, p - centralStart, true);
  dv.setUint32(p + 16, centralStart, true);
  return out;
}

/** Decodes an .npz archive of stored (uncompressed) entries, checking structure and CRC-32s. */
export function decodeNpz(bytes: Uint8Array, fileName: string): Record<string, NpyArray> {
  const fail = (problem: string): never => {
    throw new CorruptFileError(fileName, problem, 'regenerate the file (physode generate ... rewrites missing or damaged shards)');
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 22) fail(`truncated: ${bytes.length} bytes is too short for a zip archive`);
  let end = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 0xffff); p--) {
    if (dv.getUint32(p, true) === END_SIG) {
      end = p;
      break;
    }
  }
  if (end < 0) return fail('truncated or not an .npz file (no zip end-of-central-directory record)');
  const entryCount = dv.getUint16(end + 10, true);
  const centralSize = dv.getUint32(end + 12, true);
  const centralStart = dv.getUint32(end + 16, true);
  if (centralStart + centralSize > end) fail('corrupt zip central directory (points past its end)');
  const result: Record<string, NpyArray> = {};
  let p = centralStart;
  for (let i = 0; i < entryCount; i++) {
    if (p + 46 > end || dv.getUint32(p, true) !== CENTRAL_SIG) fail(`corrupt zip central directory at entry ${i}`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    const compressed = dv.getUint32(p + 20, true);
    const size = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const localOffset = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    p += 46 + nameLength + extraLength + commentLength;
    if (method !== 0) fail(`entry ${name} is compressed (method ${method}); only stored entries are supported (numpy.savez, not savez_compressed)`);
    if (compressed !== size) fail(`entry ${name}: stored sizes disagree`);
    if (localOffset + 30 > bytes.length || dv.getUint32(localOffset, true) !== LOCAL_SIG) fail(`entry ${name}: bad local header`);
    const dataStart = localOffset + 30 + dv.getUint16(localOffset + 26, true) + dv.getUint16(localOffset + 28, true);
    if (dataStart + size > bytes.length) fail(`entry ${name}: truncated (needs ${size} bytes)`);
    const data = bytes.subarray(dataStart, dataStart + size);
    if (crc32(data) !== crc) fail(`entry ${name}: CRC-32 mismatch (the file is damaged)`);
    if (!name.endsWith('.npy')) fail(`entry ${name} is not an .npy array`);
    result[name.slice(0, -4)] = decodeNpy(data, fileName, name);
  }
  return result;
}
