/**
 * Checkpoints: a folder holding `checkpoint.json` (step, JSON state, a table of tensors, and the
 * SHA-256 of the tensor file) and one `tensors-<step>.bin` (raw little-endian tensor bytes back to
 * back). Writing order makes a kill at any moment harmless: the tensor file is written atomically
 * under a new name first, then checkpoint.json atomically (the commit point), then stale tensor
 * files are removed. Loading validates everything and names the file and the fault.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { CorruptFileError } from '../util/errors.js';

export type TensorDtype = 'float32' | 'int32' | 'float64';
export type TensorData = Float32Array | Int32Array | Float64Array;

export interface NamedTensor {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };

export interface Checkpoint {
  readonly step: number;
  readonly tensors: readonly NamedTensor[];
  /** Everything else that resumes a run exactly (RNG state, optimizer counters, trainer state). */
  readonly state: { readonly [k: string]: JsonValue };
}

interface TensorEntry {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  offset: number;
  bytes: number;
}

interface CheckpointFile {
  format: 'physode-checkpoint';
  version: 1;
  step: number;
  tensorFile: string;
  tensorBytes: number;
  sha256: string;
  byteOrder: 'little';
  tensors: TensorEntry[];
  state: { [k: string]: JsonValue };
}

export const CHECKPOINT_JSON = 'checkpoint.json';
const BYTES: Record<TensorDtype, number> = { float32: 4, int32: 4, float64: 8 };
const HINT = 'the checkpoint is damaged: resume from the other checkpoint (checkpoints/best), or start the run again';

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function dtypeOf(data: TensorData): TensorDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return 'float64';
}

export async function saveCheckpoint(dir: string, ckpt: Checkpoint): Promise<void> {
  let total = 0;
  const entries: TensorEntry[] = ckpt.tensors.map((t) => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new RangeError(`tensor ${t.name}: shape [${t.shape}] holds ${size} values, data has ${t.data.length}`);
    if (dtypeOf(t.data) !== t.dtype) throw new RangeError(`tensor ${t.name}: dtype ${t.dtype} but data is ${dtypeOf(t.data)}`);
    const entry = { name: t.name, dtype: t.dtype, shape: [...t.shape], offset: total, bytes: t.data.byteLength };
    total += t.data.byteLength;
    return entry;
  });
  const bytes = new Uint8Array(total);
  ckpt.tensors.forEach((t, i) => bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), entries[i].offset));
  const tensorFile = `tensors-${String(ckpt.step).padStart(8, '0')}-${randomBytes(3).toString('hex')}.bin`;
  await writeFileAtomic(join(dir, tensorFile), bytes);
  const file: CheckpointFile = {
    format: 'physode-checkpoint',
    version: 1,
    step: ckpt.step,
    tensorFile,
    tensorBytes: total,
    sha256: sha256(bytes),
    byteOrder: 'little',
    tensors: entries,
    state: ckpt.state as { [k: string]: JsonValue },
  };
  await writeFileAtomic(join(dir, CHECKPOINT_JSON), `${JSON.stringify(file, null, 1)}\n`);
  // The commit is done; tensor files of earlier checkpoints are now garbage.
  for (const name of await readdir(dir)) {
    if (name.startsWith('tensors-') && name.endsWith('.bin') && name !== tensorFile) await rm(join(dir, name), { force: true });
  }
}

/** Whether `dir` holds a committed checkpoint (its checkpoint.json exists). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, CHECKPOINT_JSON));
    return true;
  } catch {
    return false;
  }
}

function fail(file: string, problem: string): never {
  throw new CorruptFileError(file, problem, HINT);
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const jsonPath = join(dir, CHECKPOINT_JSON);
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CorruptFileError(jsonPath, 'no checkpoint here (file missing)', 'check the run folder, or train without --resume');
    }
    throw err;
  }
  let file: CheckpointFile;
  try {
    file = JSON.parse(text) as CheckpointFile;
  } catch (err) {
    return fail(jsonPath, `not valid JSON (${(err as Error).message})`);
  }
  if (file === null || typeof file !== 'object' || file.format !== 'physode-checkpoint') fail(jsonPath, 'not a physode checkpoint');
  if (file.version !== 1) fail(jsonPath, `unknown checkpoint version ${String(file.version)}`);
  if (!Number.isInteger(file.step) || file.step < 0) fail(jsonPath, `bad step ${String(file.step)}`);
  if (typeof file.tensorFile !== 'string' || file.tensorFile.includes('/') || file.tensorFile.includes('\\')) fail(jsonPath, 'bad tensor file name');
  if (!Array.isArray(file.tensors) || typeof file.state !== 'object' || file.state === null) fail(jsonPath, 'missing tensor table or state');
  const binPath = join(dir, file.tensorFile);
  let bytes: Buffer;
  try {
    bytes = await readFile(binPath);
  } catch {
    return fail(binPath, 'tensor file missing');
  }
  if (bytes.length !== file.tensorBytes) fail(binPath, `truncated or padded: ${bytes.length} bytes, expected ${file.tensorBytes}`);
  if (sha256(bytes) !== file.sha256) fail(binPath, 'SHA-256 does not match checkpoint.json (the file was altered or damaged)');
  const tensors: NamedTensor[] = file.tensors.map((e) => {
    const width = BYTES[e.dtype];
    const size = Array.isArray(e.shape) ? e.shape.reduce((a, b) => a * b, 1) : Number.NaN;
    if (!width || !(size * width === e.bytes) || e.offset < 0 || e.offset + e.bytes > bytes.length) {
      fail(jsonPath, `tensor entry '${String(e.name)}' is inconsistent (dtype ${String(e.dtype)}, shape ${JSON.stringify(e.shape)}, bytes ${e.bytes})`);
    }
    const copy = bytes.buffer.slice(bytes.byteOffset + e.offset, bytes.byteOffset + e.offset + e.bytes);
    const data = e.dtype === 'float32' ? new Float32Array(copy) : e.dtype === 'int32' ? new Int32Array(copy) : new Float64Array(copy);
    return { name: e.name, dtype: e.dtype, shape: e.shape, data };
  });
  return { step: file.step, tensors, state: file.state };
}
