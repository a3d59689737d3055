/**
 * Host-side numeric kernels in WebAssembly SIMD (source: ./assembly/kernels.ts, AssemblyScript;
 * built into ./kernels.wasm by `npm run build:kernels`). They replace JavaScript loops over
 * Float32Arrays that V8 runs at 2–16 ns per element; independent of the TF.js backend.
 *
 * Each call copies its inputs into the module's memory (a bump arena, reset per call), runs, and
 * returns fresh arrays: the copies cost about 0.1 ns per element.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PhysodeError } from '../util/errors.js';

interface KernelExports {
  columnMoments(z: number, rows: number, cols: number, mean: number, variance: number): void;
  sigmoidGradColumnSums(gIn: number, s: number, z: number, g: number, sumG: number, sumGZ: number, rows: number, cols: number): void;
  affineRows(g: number, z: number, a: number, c: number, d: number, out: number, rows: number, cols: number): void;
  sigmoidGrad(ga: number, s: number, out: number, n: number): void;
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
/** The arena starts past address 0 (0 means "absent" to the kernels). */
const BASE = 64;

class Kernels {
  readonly fn: KernelExports;
  private readonly memory: WasmMemory;
  private top = BASE;

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
  }

  /** Starts a call: everything allocated by the previous call is free again. */
  reset(): this {
    this.top = BASE;
    return this;
  }

  /** Reserves bytes (16-byte aligned), growing the memory when needed. */
  alloc(bytes: number): number {
    const p = this.top;
    this.top = (p + bytes + 15) & ~15;
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

  f64(p: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, p, n);
  }
}

let kernels: Kernels | null = null;
const k = (): Kernels => (kernels ??= new Kernels()).reset();

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

/** ga ⊙ s ⊙ (1 − s). */
export function sigmoidGrad(ga: Float32Array, s: Float32Array): Float32Array {
  const m = k();
  const pa = m.put(ga);
  const ps = m.put(s);
  const po = m.alloc(ga.length * 4);
  m.fn.sigmoidGrad(pa, ps, po, ga.length);
  return m.f32(po, ga.length).slice();
}
