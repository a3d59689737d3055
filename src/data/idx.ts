/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
 * a big-endian header `0x00 0x00 <type> <rank>`, then `rank` uint32 dimension sizes, then the
 * values row-major. Files are usually gzip-compressed; `decodeIdx` accepts both (a gzip stream is
 * recognised by its magic bytes 1f 8b).
 */
import { gunzipSync } from 'node:zlib';
import { CorruptFileError } from '../util/errors.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The type byte of the header, by IDX type code. */
const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/** The typed array of each IDX type (values decoded from big-endian into host order). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  readonly type: IdxType;
  readonly shape: readonly number[];
  readonly data: IdxData;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Whether `bytes` start with gzip's magic bytes. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Decompresses a gzip stream; a corrupt or truncated stream is a CorruptFileError naming `file`. */
export function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (err) {
    const why = (err as Error).message;
    const truncated = /unexpected end|incomplete|truncat/i.test(why);
    throw new CorruptFileError(
      file,
      `${truncated ? 'the gzip stream is truncated' : 'the gzip stream is corrupt'} (${why})`,
      'the file was cut short or damaged: restore it (Debian: apt-get install --reinstall dataset-fashion-mnist)',
    );
  }
}

/**
 * Decodes an IDX file (gzip-compressed or not): checks the magic, the type, the rank and that
 * the payload holds exactly the values the dimensions promise.
 */
export function decodeIdx(raw: Uint8Array, file: string): IdxArray {
  const bytes = isGzip(raw) ? gunzip(raw, file) : raw;
  const hint = 'this is not an IDX file of the MNIST family; check the path (the four *-ubyte.gz files)';
  if (bytes.length < 4) throw new CorruptFileError(file, `${bytes.length} bytes, shorter than an IDX header (4 bytes)`, hint);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new CorruptFileError(file, `bad IDX magic: the first two bytes are ${hex(bytes[0])} ${hex(bytes[1])}, expected 00 00`, hint);
  }
  const kind = TYPES[bytes[2]];
  if (!kind) throw new CorruptFileError(file, `unknown IDX type code ${hex(bytes[2])} (known: 08, 09, 0b, 0c, 0d, 0e)`, hint);
  const rank = bytes[3];
  if (rank === 0) throw new CorruptFileError(file, 'IDX rank 0: the header lists no dimensions', hint);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new CorruptFileError(file, `truncated header: rank ${rank} needs ${headerBytes} header bytes, the file has ${bytes.length}`, hint);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * kind.bytes;
  if (bytes.length < expected) {
    throw new CorruptFileError(
      file,
      `truncated: shape [${shape.join(', ')}] of ${kind.type} needs ${expected} bytes, the file has ${bytes.length}`,
      'the file was cut short: restore it (Debian: apt-get install --reinstall dataset-fashion-mnist)',
    );
  }
  if (bytes.length > expected) {
    throw new CorruptFileError(file, `${bytes.length - expected} bytes after the ${count} values of shape [${shape.join(', ')}]: the header and the payload disagree`, hint);
  }
  return { type: kind.type, shape, data: readValues(view, headerBytes, count, kind.type) };
}

function readValues(view: DataView, at: number, n: number, type: IdxType): IdxData {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => view.getInt16(at + 2 * i, false));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(at + 4 * i, false));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(at + 4 * i, false));
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(at + 8 * i, false));
  }
}

/** The IDX bytes of an array (uncompressed): for tests and for writing subsets. */
export function encodeIdx(a: IdxArray): Uint8Array {
  const code = Number(Object.entries(TYPES).find(([, k]) => k.type === a.type)![0]);
  const size = TYPES[code].bytes;
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.data.length !== count) throw new RangeError(`encodeIdx: ${a.data.length} values for shape [${a.shape.join(', ')}]`);
  const header = 4 + 4 * a.shape.length;
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = a.shape.length;
  a.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const v = a.data[i];
    const p = header + i * size;
    if (a.type === 'uint8') view.setUint8(p, v);
    else if (a.type === 'int8') view.setInt8(p, v);
    else if (a.type === 'int16') view.setInt16(p, v, false);
    else if (a.type === 'int32') view.setInt32(p, v, false);
    else if (a.type === 'float32') view.setFloat32(p, v, false);
    else view.setFloat64(p, v, false);
  }
  return out;
}

const hex = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, '0');
