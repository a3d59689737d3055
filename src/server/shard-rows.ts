/**
 * Shards read by row, for the server. A shard (DATASET.md) is a zip of STORED (uncompressed) .npy
 * members, so each member's data sit at a fixed byte offset in the file: once the layout is known,
 * trajectory j is one positioned read of its row of `y`, `params` and `energy`, never the whole file.
 *
 * A shard is verified once per version (path, size, modification time): its SHA-256 is computed by
 * streaming the file (64 KiB at a time, so memory stays flat and the event loop keeps turning) and
 * compared with the manifest's, and every member's dtype, shape and the `index` array are checked.
 * Problems are reported as `ShardProblem`s naming the shard by its manifest name, never its path.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { ShardExpectations } from '../data/shard.js';

/** A shard that cannot be served: `message` names the shard as the manifest does, not by path. */
export class ShardProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardProblem';
  }
}

type Dtype = 'float64' | 'int32';

export interface NpyMember {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Byte offset of the first value in the shard file. */
  readonly dataOffset: number;
}

/** Offsets of a verified shard's members, by key (`y`, `params`, ...). */
export type ShardLayout = ReadonlyMap<string, NpyMember>;

const END_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const ITEM: Record<Dtype, number> = { float64: 8, int32: 4 };
const DESCR: Record<string, Dtype> = { '<f8': 'float64', '<i4': 'int32', '|i4': 'int32' };

async function readAt(fh: FileHandle, position: number, length: number, name: string): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ShardProblem(`${name}: truncated (wanted ${length} bytes at offset ${position})`);
  return buf;
}

/** Reads the zip directory and each member's .npy header; checks nothing against the manifest. */
async function readLayout(fh: FileHandle, size: number, name: string): Promise<Map<string, NpyMember>> {
  const fail = (problem: string): never => {
    throw new ShardProblem(`${name}: ${problem}`);
  };
  if (size < 22) fail(`truncated: ${size} bytes is too short for an .npz file`);
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readAt(fh, size - tailLength, tailLength, name);
  let end = -1;
  for (let p = tailLength - 22; p >= 0; p--) {
    if (tail.readUInt32LE(p) === END_SIG) {
      end = p;
      break;
    }
  }
  if (end < 0) fail('not an .npz file (no zip end-of-central-directory record)');
  const entries = tail.readUInt16LE(end + 10);
  const centralSize = tail.readUInt32LE(end + 12);
  const centralStart = tail.readUInt32LE(end + 16);
  if (entries > 64 || centralSize > 64 * 1024 || centralStart + centralSize > size) fail('corrupt zip central directory');
  const central = await readAt(fh, centralStart, centralSize, name);
  const members = new Map<string, NpyMember>();
  let p = 0;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > central.length || central.readUInt32LE(p) !== CENTRAL_SIG) fail(`corrupt zip central directory at entry ${i}`);
    const method = central.readUInt16LE(p + 10);
    const compressed = central.readUInt32LE(p + 20);
    const stored = central.readUInt32LE(p + 24);
    const nameLength = central.readUInt16LE(p + 28);
    const skip = nameLength + central.readUInt16LE(p + 30) + central.readUInt16LE(p + 32);
    const localOffset = central.readUInt32LE(p + 42);
    const entryName = central.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    p += 46 + skip;
    if (!/^[a-z_]{1,16}\.npy$/.test(entryName)) fail(`unexpected member ${JSON.stringify(entryName.slice(0, 40))}`);
    if (method !== 0 || compressed !== stored) fail(`member ${entryName} is compressed; shards hold stored members`);
    const local = await readAt(fh, localOffset, 30, name);
    if (local.readUInt32LE(0) !== LOCAL_SIG) fail(`member ${entryName}: bad local header`);
    const start = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (start + stored > size) fail(`member ${entryName}: truncated`);
    const pre = await readAt(fh, start, Math.min(12, stored), name);
    if (pre.length < 10 || pre.toString('latin1', 0, 6) !== '\x93NUMPY' || pre[6] !== 1) fail(`member ${entryName}: not a version 1 .npy array`);
    const headerLength = pre.readUInt16LE(8);
    if (10 + headerLength > stored) fail(`member ${entryName}: truncated header`);
    const header = (await readAt(fh, start + 10, headerLength, name)).toString('latin1');
    const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1] ?? '';
    const dtype = DESCR[descr];
    const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
    if (!dtype || shapeText === undefined || !/'fortran_order':\s*False/.test(header)) fail(`member ${entryName}: unsupported header`);
    const shape = shapeText!.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
    if (!shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`member ${entryName}: bad shape`);
    const need = shape.reduce((a, n) => a * n, 1) * ITEM[dtype!];
    if (stored - 10 - headerLength !== need) fail(`member ${entryName}: holds ${stored - 10 - headerLength} data bytes, its shape needs ${need}`);
    members.set(entryName.slice(0, -4), { dtype: dtype!, shape, dataOffset: start + 10 + headerLength });
  }
  return members;
}

/** Checks the layout against what the manifest says the shard holds. */
function checkLayout(members: Map<string, NpyMember>, e: ShardExpectations, name: string): void {
  const expect: [string, Dtype, number[]][] = [
    ['t', 'float64', [e.T]],
    ['y', 'float64', [e.n, e.T, e.D]],
    ['params', 'float64', [e.n, e.P]],
    ['energy', 'float64', [e.n, e.T]],
    ['index', 'int32', [e.n]],
  ];
  if (e.derivatives) expect.push(['dydt', 'float64', [e.n, e.T, e.D]]);
  if (e.noise) expect.push(['y_clean', 'float64', [e.n, e.T, e.D]]);
  for (const [key, dtype, shape] of expect) {
    const m = members.get(key);
    if (!m) throw new ShardProblem(`${name}: missing array '${key}'`);
    if (m.dtype !== dtype || m.shape.length !== shape.length || m.shape.some((v, i) => v !== shape[i])) {
      throw new ShardProblem(`${name}: array '${key}' is ${m.dtype} [${m.shape.join(', ')}], the manifest implies ${dtype} [${shape.join(', ')}]`);
    }
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Verified {
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
  readonly layout: Promise<ShardLayout>;
}

/** Verified shard layouts by absolute path, one entry per file: a changed file replaces its entry. */
const verified = new Map<string, Verified>();

/** How many shard verifications have run in this process (for tests: a shard is verified once). */
export let verificationCount = 0;

async function verify(path: string, name: string, sha256: string, e: ShardExpectations, size: number): Promise<ShardLayout> {
  verificationCount++;
  const actual = await sha256OfFile(path);
  if (actual !== sha256) throw new ShardProblem(`${name}: checksum mismatch (the file was altered or truncated)`);
  const fh = await open(path, 'r');
  try {
    const members = await readLayout(fh, size, name);
    checkLayout(members, e, name);
    const index = members.get('index')!;
    const values = await readAt(fh, index.dataOffset, e.n * 4, name);
    for (let i = 0; i < e.n; i++) {
      if (values.readInt32LE(4 * i) !== e.firstIndex + i) throw new ShardProblem(`${name}: index[${i}] is ${values.readInt32LE(4 * i)}, expected ${e.firstIndex + i}`);
    }
    return members;
  } finally {
    await fh.close();
  }
}

/**
 * The layout of the shard at `path` (manifest name `name`), verified against `sha256` and the
 * manifest's expectations once per file version. Throws ShardProblem for a missing or bad shard.
 */
export async function verifiedLayout(path: string, name: string, sha256: string, e: ShardExpectations): Promise<ShardLayout> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new ShardProblem(`${name}: missing`);
  }
  if (!info.isFile()) throw new ShardProblem(`${name}: not a regular file`);
  const known = verified.get(path);
  if (known && known.size === info.size && known.mtimeMs === info.mtimeMs && known.sha256 === sha256) return known.layout;
  const layout = verify(path, name, sha256, e, info.size);
  // A failure stays cached for this file version too: a damaged shard is not re-hashed per request.
  layout.catch(() => undefined);
  verified.set(path, { size: info.size, mtimeMs: info.mtimeMs, sha256, layout });
  return layout;
}

/** Rows `row .. row + count - 1` of each of `keys` (float64 members; a 1-D member is one row). */
export async function readRows(path: string, layout: ShardLayout, keys: readonly string[], row: number, count: number, name: string): Promise<Float64Array[]> {
  const fh = await open(path, 'r');
  try {
    const out: Float64Array[] = [];
    for (const key of keys) {
      const m = layout.get(key);
      if (!m || m.dtype !== 'float64') throw new ShardProblem(`${name}: no float64 array '${key}'`);
      const oneRow = m.shape.length === 1;
      const width = oneRow ? m.shape[0] : m.shape.slice(1).reduce((a, n) => a * n, 1);
      const first = oneRow ? 0 : row;
      const rows = oneRow ? 1 : count;
      if (!oneRow && (row < 0 || row + count > m.shape[0])) throw new ShardProblem(`${name}: rows ${row}..${row + count - 1} of '${key}' are out of range`);
      const bytes = await readAt(fh, m.dataOffset + first * width * 8, rows * width * 8, name);
      const values = new Float64Array(rows * width);
      for (let i = 0; i < values.length; i++) values[i] = bytes.readDoubleLE(8 * i);
      out.push(values);
    }
    return out;
  } finally {
    await fh.close();
  }
}
