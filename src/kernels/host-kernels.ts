/**
 * Host-side numeric kernels in WebAssembly SIMD (source: ./assembly/kernels.ts, AssemblyScript;
 * built into ./kernels.wasm by `npm run build:kernels`). They replace JavaScript loops over
 * Float32Arrays that V8 runs at 2–16 ns per element; independent of the TF.js backend.
 *
 * Each call copies its inputs into the module's memory (a bump arena, reset per call), runs, and
 * returns fresh arrays: the copies cost about 0.1 ns per element. Arrays used by many calls (a
 * layer's weights during a solve) can be pinned: copied in once, below the arena, until released.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PhysodeError } from '../util/errors.js';

interface KernelExports {
  columnMoments(z: number, rows: number, cols: number, mean: number, variance: number): void;
  sigmoidGradColumnSums(gIn: number, s: number, z: number, g: number, sumG: number, sumGZ: number, rows: number, cols: number): void;
  affineRows(g: number, z: number, a: number, c: number, d: number, out: number, rows: number, cols: number): void;
  sigmoidGrad(ga: number, s: number, out: number, n: number): void;
  matmul(a: number, b: number, bias: number, c: number, M: number, K: number, N: number, activation: number): void;
  matmulTransposedAccumulate(a: number, b: number, c: number, N: number, F: number, K: number, alpha: number): void;
  addColumnSums(g: number, rows: number, cols: number, scale: number, sums: number): void;
  affineSigmoid(z: number, scale: number, shift: number, out: number, rows: number, cols: number): void;
  heapBase(): number;
}

/** The parts of the WebAssembly JS API used here (TypeScript's ES libs do not declare them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
/** Readable bytes after every allocation: the matrix products' tail tiles read past a row's end. */
const SLACK = 32;

class Kernels {
  readonly fn: KernelExports;
  private readonly memory: WasmMemory;
  /** Pinned arrays start past the module's static data (and so past address 0, "absent" to the kernels). */
  private readonly base: number;
  /** Pinned sets, in the order pinned, and the end of the last one: the arena starts there. */
  private readonly pinned: PinnedSet[] = [];
  private pinnedTop: number;
  private top: number;

  constructor() {
    const path = fileURLToPath(new URL('./kernels.wasm', import.meta.url));
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new PhysodeError(`the WebAssembly kernels are missing (${path}): ${(err as Error).message}`, 'run `npm run build:kernels` (npm install runs it)');
    }
    this.memory = new wasmApi.Memory({ initial: 16 });
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory: this.memory, abort: () => {} } });
    this.fn = instance.exports as unknown as KernelExports;
    this.base = (this.fn.heapBase() + 15) & ~15;
    this.pinnedTop = this.base;
    this.top = this.base;
  }

  /** Copies arrays in until the returned set is released (between calls only: it moves the arena). */
  pin(arrays: readonly Float32Array[]): PinnedSet {
    this.top = this.pinnedTop;
    const set = new PinnedSet(this.pinnedTop, () => this.unpin());
    for (const a of arrays) set.arrays.push({ address: this.put(a), length: a.length, set });
    this.pinnedTop = this.top;
    this.pinned.push(set);
    return set;
  }

  private unpin(): void {
    // Released sets are freed once no live set lies above them (solves nest, so this is prompt).
    while (this.pinned.length > 0 && !this.pinned[this.pinned.length - 1].live) this.pinnedTop = this.pinned.pop()!.start;
  }

  /** The address of an input: a pinned array's, or a fresh copy's. */
  address(a: Float32Array | PinnedArray): number {
    if (a instanceof Float32Array) return this.put(a);
    if (!a.set.live) throw new PhysodeError('a pinned array was used after its set was released', 'pin the arrays again (MlpField pins its weights per solve)');
    return a.address;
  }

  /** Starts a call: everything allocated by the previous call is free again. */
  reset(): this {
    this.top = this.pinnedTop;
    return this;
  }

  /** The arena's current top, to free everything allocated after it with `release`. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** Reserves bytes (16-byte aligned, SLACK readable bytes after them), growing the memory when needed. */
  alloc(bytes: number): number {
    const p = this.top;
    this.top = (p + bytes + SLACK + 15) & ~15;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    return p;
  }

  /** Copies a float32 array in; returns its address. */
  put(a: Float32Array): number {
    const p = this.alloc(a.length * 4);
    new Float32Array(this.memory.buffer, p, a.length).set(a);
    return p;
  }

  f32(p: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, p, n);
  }

  /** n floats at p, copied into `out` (which must have length n) or a new array. */
  read(p: number, n: number, out?: Float32Array): Float32Array {
    if (!out) return this.f32(p, n).slice();
    if (out.length !== n) throw new RangeError(`output array has ${out.length} values, the result ${n}`);
    out.set(this.f32(p, n));
    return out;
  }

  f64(p: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, p, n);
  }
}

/** An array copied into the kernels' memory by pinArrays. */
export interface PinnedArray {
  readonly address: number;
  readonly length: number;
  readonly set: PinnedSet;
}

/** Arrays pinned together; release() frees them (using one afterwards is an error). */
export class PinnedSet {
  readonly arrays: PinnedArray[] = [];
  live = true;
  constructor(
    readonly start: number,
    private readonly onRelease: () => void,
  ) {}
  release(): void {
    if (!this.live) return;
    this.live = false;
    this.onRelease();
  }
}

let kernels: Kernels | null = null;
const k = (): Kernels => (kernels ??= new Kernels()).reset();

/** Copies arrays into the kernels' memory once, for many calls (e.g. a layer's weights during a solve). */
export function pinArrays(arrays: readonly Float32Array[]): PinnedSet {
  return k().pin(arrays);
}

/** Per column of z [rows, cols]: mean and biased variance, float64 (shifted two-moment sums). */
export function columnMoments(z: Float32Array, rows: number, cols: number): { mean: Float64Array; variance: Float64Array } {
  const m = k();
  const pz = m.put(z);
  const pm = m.alloc(cols * 8);
  const pv = m.alloc(cols * 8);
  m.fn.columnMoments(pz, rows, cols, pm, pv);
  return { mean: m.f64(pm, cols).slice(), variance: m.f64(pv, cols).slice() };
}

/**
 * g = gIn ⊙ s ⊙ (1 − s) (g = gIn without s), with per-column float64 sums Σ g and Σ g ⊙ z; then
 * out = g·a + z·c + d per column. The two passes of a batch-norm backward after a sigmoid.
 */
export function batchNormSigmoidBackward(
  gIn: Float32Array,
  s: Float32Array | null,
  z: Float32Array,
  rows: number,
  cols: number,
  coefficients: (sumG: Float64Array, sumGZ: Float64Array) => { a: Float32Array; c: Float32Array; d: Float32Array },
): { dz: Float32Array; sumG: Float64Array } {
  const m = k();
  const n = rows * cols;
  const pgIn = m.put(gIn);
  const ps = s ? m.put(s) : 0;
  const pz = m.put(z);
  const pg = m.alloc(n * 4);
  const psg = m.alloc(cols * 8);
  const psgz = m.alloc(cols * 8);
  m.fn.sigmoidGradColumnSums(pgIn, ps, pz, pg, psg, psgz, rows, cols);
  const sumG = m.f64(psg, cols).slice();
  const sumGZ = m.f64(psgz, cols).slice();
  const { a, c, d } = coefficients(sumG, sumGZ);
  const pa = m.put(a);
  const pc = m.put(c);
  const pd = m.put(d);
  const pout = m.alloc(n * 4);
  m.fn.affineRows(pg, pz, pa, pc, pd, pout, rows, cols);
  return { dz: m.f32(pout, n).slice(), sumG };
}

/** ga ⊙ s ⊙ (1 − s), into `out` when given. */
export function sigmoidGrad(ga: Float32Array, s: Float32Array, out?: Float32Array): Float32Array {
  const m = k();
  const pa = m.put(ga);
  const ps = m.put(s);
  const po = m.alloc(ga.length * 4);
  m.fn.sigmoidGrad(pa, ps, po, ga.length);
  return m.read(po, ga.length, out);
}

export type MatmulActivation = 'linear' | 'sigmoid';
const ACTIVATION_CODE: Record<MatmulActivation, number> = { linear: 0, sigmoid: 1 };

/**
 * activation(a [M, K] · b [K, N] + bias [N]) as an [M, N] array, `out` when given (bias null:
 * none). The
 * layers of the vector field's fused paths; about as fast as XNNPACK's kernels at 128 × 128 and
 * several times faster at small shapes, where TF.js's per-call dispatch dominates.
 */
export function matmul(
  a: Float32Array,
  M: number,
  b: Float32Array | PinnedArray,
  N: number,
  bias: Float32Array | PinnedArray | null,
  activation: MatmulActivation = 'linear',
  out?: Float32Array,
): Float32Array {
  const K = M > 0 ? a.length / M : 0;
  if (!Number.isInteger(K) || b.length !== K * N || (bias && bias.length !== N)) {
    throw new RangeError(`matmul: a has ${a.length} values for ${M} rows, b ${b.length} for [${K}, ${N}], bias ${bias?.length ?? 0}`);
  }
  const m = k();
  const pa = m.put(a);
  const pb = m.address(b);
  const pbias = bias ? m.address(bias) : 0;
  const pc = m.alloc(M * N * 4);
  m.fn.matmul(pa, pb, pbias, pc, M, K, N, ACTIVATION_CODE[activation]);
  return m.read(pc, M * N, out);
}

/**
 * dw [F, K] += scale·gᵀx (float32) and db [F] += scale·Σ_rows g (float64), for g [rows, F] and
 * x [rows, K]: one evaluation's contribution to a linear layer's weight and bias gradients,
 * without transposing either operand.
 */
export function accumulateWeightGradient(dw: Float32Array, db: Float64Array, g: Float32Array, x: Float32Array, rows: number, scale: number): void {
  const F = db.length;
  const K = dw.length / F;
  if (g.length !== rows * F || x.length !== rows * K) {
    throw new RangeError(`accumulateWeightGradient: g has ${g.length} and x ${x.length} values, expected ${rows}×${F} and ${rows}×${K}`);
  }
  const m = k();
  const pw = m.put(dw);
  const pb = m.alloc(F * 8);
  m.f64(pb, F).set(db);
  const pg = m.put(g);
  m.fn.matmulTransposedAccumulate(pg, m.put(x), pw, rows, F, K, scale);
  m.fn.addColumnSums(pg, rows, F, scale, pb);
  dw.set(m.f32(pw, F * K));
  db.set(m.f64(pb, F));
}

/** sigmoid(z·scale + shift) per column of z [rows, cols], into `out` when given. */
export function affineSigmoid(z: Float32Array, rows: number, scale: Float32Array, shift: Float32Array, out?: Float32Array): Float32Array {
  const cols = scale.length;
  const m = k();
  const pz = m.put(z);
  const ps = m.put(scale);
  const pt = m.put(shift);
  const po = m.alloc(rows * cols * 4);
  m.fn.affineSigmoid(pz, ps, pt, po, rows, cols);
  return m.read(po, rows * cols, out);
}
