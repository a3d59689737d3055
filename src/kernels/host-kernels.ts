/**
 * The numeric operations of training that run in this project's WebAssembly SIMD kernels
 * (./assembly/, built into ./kernels.wasm; loaded by ./kernel-module.ts): the vector field's
 * matrix products with fused bias and sigmoid, its weight gradients, the batch statistics and the
 * batch-norm / sigmoid backward. Independent of the TF.js backend. They replace TF.js kernels
 * whose per-call dispatch (5–30 µs) dominated these small shapes, and JavaScript loops that V8
 * runs at 2–16 ns per element. The products split by rows over kernel threads (./kernel-threads.ts).
 */
import { kernelCall, kernelModule, type KernelModule, type KernelName, type PinnedArray, type PinnedSet } from './kernel-module.js';
import { KernelThreads, MAX_CHUNKS, kernelThreadCount, type ThreadFunctions } from './kernel-threads.js';
import { nativeBlas, type NativeBlas, type SgemmArgs } from './native-blas.js';

export type { PinnedArray, PinnedSet } from './kernel-module.js';

const k = kernelCall;

/** Copies arrays into the kernels' memory once, for many calls (e.g. a layer's weights during a solve). */
export function pinArrays(arrays: readonly Float32Array[]): PinnedSet {
  return k().pin(arrays);
}

/** A kernel's input: a JavaScript array (copied in for the call) or an array resident in the kernels' memory. */
export type KernelInput = Float32Array | PinnedArray;
/** Where a kernel's result goes: a JavaScript array (copied out) or a resident array (written in place). */
export type KernelOutput = Float32Array | PinnedArray;

/**
 * An uninitialised array resident in the kernels' memory, for results that later kernels read
 * (no copies out and back in); `array.set.release()` frees it.
 */
export function residentArray(length: number): PinnedArray {
  return k().allocPinned([length]).arrays[0];
}

/** Runs `kernel` into a new resident array of `length` floats; frees the array if the kernel throws. */
export function intoResident(length: number, kernel: (out: PinnedArray) => PinnedArray): PinnedArray {
  const out = residentArray(length);
  try {
    return kernel(out);
  } catch (err) {
    out.set.release();
    throw err;
  }
}

const isResident = (a: KernelOutput | undefined): a is PinnedArray => a !== undefined && !(a instanceof Float32Array);

/** The address a kernel writes n floats to: a resident output's own, or fresh arena space. */
function outputAddress(m: KernelModule, out: KernelOutput | undefined, n: number): number {
  if (out !== undefined && out.length !== n) throw new RangeError(`output array has ${out.length} values, the result ${n}`);
  return isResident(out) ? m.address(out) : m.alloc(n * 4);
}

/** The result written at p: the resident output itself, or a copy into `out` or a new array. */
function result<O extends KernelOutput>(m: KernelModule, p: number, n: number, out: O | undefined): O {
  return (isResident(out) ? out : m.read(p, n, out)) as O;
}

/** Memory held by pinned and resident arrays: what a leak check compares before and after. */
export function residentUse(): { bytes: number; sets: number } {
  return kernelModule().residentUse();
}

/** A copy of a pinned array's current values. */
export function readPinned(a: PinnedArray): Float32Array {
  const m = kernelModule();
  return m.f32(m.address(a), a.length).slice();
}

/**
 * matmul packs b's column strips first (once per product) from this depth K and this many rows
 * M: below the depth a strip's rows fit the L1 cache as they are, below the rows the copy is not
 * repaid. Measured at 256 × 784 × 784 on one thread: 34 → 40 GFLOP/s.
 */
const PACK_MIN_DEPTH = 192;
const PACK_MIN_ROWS = 16;
/** Products below this many multiply–adds stay on one thread (the hand-over costs ~2 µs)… */
const PARALLEL_MIN_MACS = 32 * 32 * 32;
/** …and elementwise passes below this many elements (~1 ns each). */
const PARALLEL_MIN_ELEMENTS = 65536;
let threads: KernelThreads | null = null;

/** The kernel threads (started on first use, able to run the native product when there is one), or null when there is one thread. */
function threadsFor(m: KernelModule): KernelThreads | null {
  const want = kernelThreadCount();
  const addon = nativeBlas()?.addonPath ?? null;
  if (threads && (threads.count !== want || (addon !== null && threads.blasAddon !== addon))) {
    threads.close();
    threads = null;
  }
  if (want < 2) return null;
  return (threads ??= new KernelThreads(m.module, m.memory, want, addon));
}

/** Chunks run so far on kernel threads, in all and by the helper threads (zeros without helpers). */
export function kernelThreadStats(): { chunks: number; helperChunks: number } {
  return threads ? { ...threads.stats } : { chunks: 0, helperChunks: 0 };
}

/**
 * Runs fn with the kernel threads engaged (polling for work, see KernelThreads.engage): for a
 * stretch of many products, such as one evaluation or VJP of the vector field.
 */
export function withKernelThreads<T>(fn: () => T): T {
  const pool = threadsFor(kernelModule());
  if (!pool) return fn();
  pool.engage();
  try {
    return fn();
  } finally {
    pool.disengage();
  }
}

/** Splits n into at most `parts` ranges [start, count], each count a multiple of `step` but the last. */
function splitRange(n: number, parts: number, step: number): [number, number][] {
  const per = Math.max(step, Math.ceil(n / parts / step) * step);
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += per) out.push([start, Math.min(per, n - start)]);
  return out;
}

/** Chunks per kernel thread: the threads claim chunks as they go, so a late one holds up little. */
const CHUNKS_PER_THREAD = 2;

/** How many chunks `byRows` cuts a job into (at most). */
const maxChunks = (): number => Math.min(MAX_CHUNKS, CHUNKS_PER_THREAD * kernelThreadCount());

/**
 * Runs a kernel over `rows` rows, in chunks of a multiple of `step` rows shared out among the
 * kernel threads when `work` reaches `minWork` (else in one call); `args(r0, n, chunk)` are the
 * arguments for rows r0 … r0 + n − 1. Returns the number of chunks.
 */
function byRows(m: KernelModule, name: KernelName, rows: number, step: number, work: number, minWork: number, args: (r0: number, n: number, chunk: number) => number[]): number {
  const pool = work >= minWork ? threadsFor(m) : null;
  const chunks = pool ? splitRange(rows, CHUNKS_PER_THREAD * pool.count, step) : [];
  if (pool && chunks.length > 1) {
    pool.run(m.fn, name, chunks.map(([r0, n], i) => args(r0, n, i)));
    return chunks.length;
  }
  (m.fn[name] as (...a: number[]) => void)(...args(0, rows, 0));
  return 1;
}

/** Per column of z [rows, cols]: mean and biased variance, float64 (shifted two-moment sums). */
export function columnMoments(z: KernelInput, rows: number, cols: number): { mean: Float64Array; variance: Float64Array } {
  const m = k();
  const pz = m.address(z);
  const pm = m.alloc(cols * 8);
  const pv = m.alloc(cols * 8);
  m.fn.columnMoments(pz, rows, cols, pm, pv);
  return { mean: m.f64(pm, cols).slice(), variance: m.f64(pv, cols).slice() };
}

/**
 * g = gIn ⊙ s ⊙ (1 − s) (g = gIn without s), with per-column float64 sums Σ g and Σ g ⊙ z; then
 * dz = g·a + z·c + d per column (into `out` when given). The two passes of a batch-norm backward
 * after a sigmoid.
 */
type Coefficients = (sumG: Float64Array, sumGZ: Float64Array) => { a: Float32Array; c: Float32Array; d: Float32Array };
export function batchNormSigmoidBackward(gIn: KernelInput, s: KernelInput | null, z: KernelInput, rows: number, cols: number, coefficients: Coefficients, out?: Float32Array): { dz: Float32Array; sumG: Float64Array };
export function batchNormSigmoidBackward(gIn: KernelInput, s: KernelInput | null, z: KernelInput, rows: number, cols: number, coefficients: Coefficients, out: PinnedArray): { dz: PinnedArray; sumG: Float64Array };
export function batchNormSigmoidBackward(gIn: KernelInput, s: KernelInput | null, z: KernelInput, rows: number, cols: number, coefficients: Coefficients, out?: KernelOutput): { dz: KernelOutput; sumG: Float64Array };
export function batchNormSigmoidBackward(
  gIn: KernelInput,
  s: KernelInput | null,
  z: KernelInput,
  rows: number,
  cols: number,
  coefficients: Coefficients,
  out?: KernelOutput,
): { dz: KernelOutput; sumG: Float64Array } {
  const m = k();
  const n = rows * cols;
  const pgIn = m.address(gIn);
  const ps = s ? m.address(s) : 0;
  const pz = m.address(z);
  const pg = m.alloc(n * 4);
  // Column sums per chunk of rows, added up here.
  const sums = m.alloc(maxChunks() * 2 * cols * 8);
  const at = (part: number, which: number) => sums + (2 * part + which) * cols * 8;
  const off = (p: number, r0: number) => (p === 0 ? 0 : p + r0 * cols * 4);
  const parts = byRows(m, 'sigmoidGradColumnSums', rows, 1, n, PARALLEL_MIN_ELEMENTS, (r0, nr, i) => [off(pgIn, r0), off(ps, r0), off(pz, r0), off(pg, r0), at(i, 0), at(i, 1), nr, cols]);
  const sumG = new Float64Array(cols);
  const sumGZ = new Float64Array(cols);
  for (let i = 0; i < parts; i++) {
    const g = m.f64(at(i, 0), cols);
    const gz = m.f64(at(i, 1), cols);
    for (let f = 0; f < cols; f++) {
      sumG[f] += g[f];
      sumGZ[f] += gz[f];
    }
  }
  const { a, c, d } = coefficients(sumG, sumGZ);
  const pa = m.put(a);
  const pc = m.put(c);
  const pd = m.put(d);
  const pout = outputAddress(m, out, n);
  byRows(m, 'affineRows', rows, 1, n, PARALLEL_MIN_ELEMENTS, (r0, nr) => [off(pg, r0), off(pz, r0), pa, pc, pd, off(pout, r0), nr, cols]);
  return { dz: result(m, pout, n, out), sumG };
}

/** ga ⊙ s ⊙ (1 − s), into `out` when given. */
export function sigmoidGrad(ga: KernelInput, s: KernelInput, out?: Float32Array): Float32Array;
export function sigmoidGrad(ga: KernelInput, s: KernelInput, out: PinnedArray): PinnedArray;
export function sigmoidGrad(ga: KernelInput, s: KernelInput, out?: KernelOutput): KernelOutput {
  const m = k();
  const pa = m.address(ga);
  const ps = m.address(s);
  const po = outputAddress(m, out, ga.length);
  byRows(m, 'sigmoidGrad', ga.length, 4, ga.length, PARALLEL_MIN_ELEMENTS, (i0, n) => [pa + 4 * i0, ps + 4 * i0, po + 4 * i0, n]);
  return result(m, po, ga.length, out);
}

/**
 * Products from this many multiply–adds and this depth (the reduction) go to the native BLAS when
 * there is one; below them a library call's fixed cost (checks, packing) loses to the WebAssembly
 * tiles. Measured here (OpenBLAS 0.3.21 with AVX-512; µs per product, wasm → BLAS, one thread):
 * 64³ 21 → 13, 128³ 134 → 71, 256 × 784 × 784 8,320 → 3,361; a shallow [128, 18]·[18, 128]
 * gains on one thread and loses on two (36 → 47).
 */
const BLAS_MIN_MACS = 64 * 64 * 64;
const BLAS_MIN_DEPTH = 32;

/** The native product for a product of this size and depth, or null for the WebAssembly kernels. */
function blasFor(macs: number, depth: number): NativeBlas | null {
  return macs >= BLAS_MIN_MACS && depth >= BLAS_MIN_DEPTH ? nativeBlas() : null;
}

let nativeProducts = 0;
/** Products (and weight gradients) this thread has handed to the native BLAS so far. */
export function nativeProductCount(): number {
  return nativeProducts;
}

/** The native product as a kernel-thread function on this thread's view of the kernels' memory. */
let blasFunctions: { blas: NativeBlas; fns: ThreadFunctions } | null = null;
function blasThreadFunctions(m: KernelModule, blas: NativeBlas): ThreadFunctions {
  if (blasFunctions?.blas === blas) return blasFunctions.fns;
  let view = new Float32Array(m.memory.buffer);
  const sgemm = (...args: number[]): void => {
    if (view.byteLength !== m.memory.buffer.byteLength) view = new Float32Array(m.memory.buffer); // the memory grew
    blas.sgemm(view, ...(args as SgemmArgs));
  };
  return (blasFunctions = { blas, fns: { sgemm } }).fns;
}

/**
 * One native product split over `n` rows of its output (parts a multiple of `step` rows, one per
 * kernel thread): `args(r0, rows)` are the library arguments for rows r0 … r0 + rows − 1.
 */
function sgemmByParts(m: KernelModule, blas: NativeBlas, n: number, step: number, args: (r0: number, rows: number) => SgemmArgs): void {
  nativeProducts++;
  const fns = blasThreadFunctions(m, blas);
  const pool = blas.concurrent ? threadsFor(m) : null;
  const parts = pool ? splitRange(n, pool.count, step) : [];
  if (pool && parts.length > 1) pool.run(fns, 'sgemm', parts.map(([r0, rows]) => args(r0, rows)));
  else fns.sgemm!(...args(0, n));
}

export type MatmulActivation = 'linear' | 'sigmoid';
const ACTIVATION_CODE: Record<MatmulActivation, number> = { linear: 0, sigmoid: 1 };

/**
 * activation(a [M, K] · b [K, N] + bias [N]) as an [M, N] array, into `out` when given (bias null:
 * none): the layers of the vector field's host path. One thread runs 128 × 128 × 128 at ~39
 * GFLOP/s here (TF.js's XNNPACK: ~25 with its dispatch), and small shapes several times faster
 * than TF.js, whose per-call dispatch dominates them.
 */
export function matmul(a: KernelInput, M: number, b: KernelInput, N: number, bias: KernelInput | null, activation?: MatmulActivation, out?: Float32Array): Float32Array;
export function matmul(a: KernelInput, M: number, b: KernelInput, N: number, bias: KernelInput | null, activation: MatmulActivation, out: PinnedArray): PinnedArray;
export function matmul(
  a: KernelInput,
  M: number,
  b: KernelInput,
  N: number,
  bias: KernelInput | null,
  activation: MatmulActivation = 'linear',
  out?: KernelOutput,
): KernelOutput {
  const K = M > 0 ? a.length / M : 0;
  if (!Number.isInteger(K) || b.length !== K * N || (bias && bias.length !== N)) {
    throw new RangeError(`matmul: a has ${a.length} values for ${M} rows, b ${b.length} for [${K}, ${N}], bias ${bias?.length ?? 0}`);
  }
  const m = k();
  const pa = m.address(a);
  const pb = m.address(b);
  const pbias = bias ? m.address(bias) : 0;
  const pc = outputAddress(m, out, M * N);
  const act = ACTIVATION_CODE[activation];
  const blas = blasFor(M * K * N, K);
  if (blas) {
    // Rows of c start as the bias, then c += a·b in the library; the sigmoid runs in place after.
    sgemmByParts(m, blas, M, 4, (r0, rows) => [0, 0, rows, N, K, 1, (pa >> 2) + r0 * K, K, pb >> 2, N, 0, (pc >> 2) + r0 * N, N, pbias ? pbias >> 2 : -1]);
    if (act !== 0) byRows(m, 'affineActivation', M, 1, M * N, PARALLEL_MIN_ELEMENTS, (r0, n) => [pc + r0 * N * 4, 0, 0, pc + r0 * N * 4, n, N, ACTIVATION_KIND[activation as KernelActivation]]);
    return result(m, pc, M * N, out);
  }
  // Deep products read b from column strips packed once for all row chunks (see packStrips).
  const strips = Math.ceil(N / 8);
  const panels = M >= PACK_MIN_ROWS && K >= PACK_MIN_DEPTH ? m.alloc(strips * K * 32) : 0;
  if (panels) byRows(m, 'packStrips', strips, 1, K * N, PARALLEL_MIN_ELEMENTS, (s0, count) => [pb, N, K, panels, s0, count]);
  const tiles = m.alloc(128 * maxChunks()); // a partial-tile scratch per chunk
  byRows(m, 'matmul', M, 4, M * K * N, PARALLEL_MIN_MACS, (r0, rows, i) => [pa + r0 * K * 4, pb, pbias, pc + r0 * N * 4, rows, K, N, act, tiles + 128 * i, panels]);
  return result(m, pc, M * N, out);
}

/**
 * dw [F, K] += scale·gᵀx (float32) and db [F] += scale·Σ_rows g (float64), for g [rows, F] and
 * x [rows, K]: one evaluation's contribution to a linear layer's weight and bias gradients,
 * without transposing either operand. A pinned dw is updated in place (no copies in and out).
 */
export function accumulateWeightGradient(dw: Float32Array | PinnedArray, db: Float64Array, g: KernelInput, x: KernelInput, rows: number, scale: number): void {
  const F = db.length;
  const K = dw.length / F;
  if (g.length !== rows * F || x.length !== rows * K) {
    throw new RangeError(`accumulateWeightGradient: g has ${g.length} and x ${x.length} values, expected ${rows}×${F} and ${rows}×${K}`);
  }
  const m = k();
  const pw = m.address(dw);
  const pb = m.alloc(F * 8);
  m.f64(pb, F).set(db);
  const pg = m.address(g);
  const px = m.address(x);
  const pool = rows * F * K >= PARALLEL_MIN_MACS ? threadsFor(m) : null;
  const blas = blasFor(rows * F * K, rows);
  if (blas) {
    // dw rows f0 … f0 + n − 1 += scale · (g's columns f0 …)ᵀ · x
    sgemmByParts(m, blas, F, 4, (f0, n) => [1, 0, n, K, rows, scale, (pg >> 2) + f0, F, px >> 2, K, 1, (pw >> 2) + f0 * K, K, -1]);
  } else if (pool && F >= 8) {
    // chunks of g's columns (rows of dw)
    const parts = splitRange(F, CHUNKS_PER_THREAD * pool.count, 4);
    // Scratch per chunk: a partial tile (128 bytes) and its columns of g packed in blocks of 4.
    const scratch = 128 + 16 * rows * Math.ceil(parts[0][1] / 4);
    const tiles = m.alloc(scratch * parts.length);
    pool.run(m.fn, 'matmulTransposedAccumulate', parts.map(([f0, n], i) => [pg + f0 * 4, F, px, pw + f0 * K * 4, rows, n, K, scale, tiles + scratch * i]));
  } else {
    m.fn.matmulTransposedAccumulate(pg, F, px, pw, rows, F, K, scale, m.alloc(128 + 16 * rows * Math.ceil(F / 4)));
  }
  m.fn.addColumnSums(pg, rows, F, scale, pb);
  if (dw instanceof Float32Array) dw.set(m.f32(pw, F * K));
  db.set(m.f64(pb, F));
}

/** Activations of the kernels (codes of ./assembly/activation.ts). */
export type KernelActivation = 'sigmoid' | 'softplus' | 'silu';
const ACTIVATION_KIND: Record<KernelActivation, number> = { sigmoid: 1, softplus: 2, silu: 3 };

/** The per-column affine map before an activation (a batch normalisation's), or null for none. */
export interface ColumnAffine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

/** act(z·scale + shift) per column of z [rows, cols] (affine null: act(z)), into `out` when given. */
export function affineActivation(z: KernelInput, rows: number, cols: number, activation: KernelActivation, affine: ColumnAffine | null, out?: Float32Array): Float32Array;
export function affineActivation(z: KernelInput, rows: number, cols: number, activation: KernelActivation, affine: ColumnAffine | null, out: PinnedArray): PinnedArray;
export function affineActivation(z: KernelInput, rows: number, cols: number, activation: KernelActivation, affine: ColumnAffine | null, out?: KernelOutput): KernelOutput {
  const m = k();
  const pz = m.address(z);
  const ps = affine ? m.put(affine.scale) : 0;
  const pt = affine ? m.put(affine.shift) : 0;
  const po = outputAddress(m, out, rows * cols);
  const kind = ACTIVATION_KIND[activation];
  byRows(m, 'affineActivation', rows, 1, rows * cols, PARALLEL_MIN_ELEMENTS, (r0, n) => [pz + r0 * cols * 4, ps, pt, po + r0 * cols * 4, n, cols, kind]);
  return result(m, po, rows * cols, out);
}

/**
 * ga ⊙ act'(z·scale + shift) per column (affine null: act'(z)), into `out` when given: the
 * backward of affineActivation up to its affine part.
 */
export function affineActivationGrad(ga: KernelInput, z: KernelInput, rows: number, cols: number, activation: KernelActivation, affine: ColumnAffine | null, out?: Float32Array): Float32Array;
export function affineActivationGrad(ga: KernelInput, z: KernelInput, rows: number, cols: number, activation: KernelActivation, affine: ColumnAffine | null, out: PinnedArray): PinnedArray;
export function affineActivationGrad(ga: KernelInput, z: KernelInput, rows: number, cols: number, activation: KernelActivation, affine: ColumnAffine | null, out?: KernelOutput): KernelOutput {
  const m = k();
  const pg = m.address(ga);
  const pz = m.address(z);
  const ps = affine ? m.put(affine.scale) : 0;
  const pt = affine ? m.put(affine.shift) : 0;
  const po = outputAddress(m, out, rows * cols);
  const kind = ACTIVATION_KIND[activation];
  byRows(m, 'affineActivationGrad', rows, 1, rows * cols, PARALLEL_MIN_ELEMENTS, (r0, n) => [pg + r0 * cols * 4, pz + r0 * cols * 4, ps, pt, po + r0 * cols * 4, n, cols, kind]);
  return result(m, po, rows * cols, out);
}
