/**
 * The WebAssembly kernel module (source: ./assembly/, AssemblyScript; built into ./kernels.wasm by
 * `npm run build:kernels`) and its memory: a shared WebAssembly memory, so that helper threads
 * (./kernel-threads.ts) can run the same kernels on other parts of the same matrices.
 *
 * Calls copy their inputs into a bump arena (reset per call) and copy results out: about 0.1 ns
 * per element. Arrays used by many calls (a layer's weights during a solve) can be pinned: copied
 * in once, below the arena, until released.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PhysodeError } from '../util/errors.js';

/** The module's exports (addresses are byte offsets into the memory; 0 means "absent"). */
export interface KernelExports {
  columnMoments(z: number, rows: number, cols: number, mean: number, variance: number): void;
  sigmoidGradColumnSums(gIn: number, s: number, z: number, g: number, sumG: number, sumGZ: number, rows: number, cols: number): void;
  affineRows(g: number, z: number, a: number, c: number, d: number, out: number, rows: number, cols: number): void;
  sigmoidGrad(ga: number, s: number, out: number, n: number): void;
  matmul(a: number, b: number, bias: number, c: number, M: number, K: number, N: number, activation: number, tile: number, panels: number): void;
  packStrips(b: number, N: number, K: number, panels: number, s0: number, count: number): void;
  matmulTransposedAccumulate(a: number, aStride: number, b: number, c: number, N: number, F: number, K: number, alpha: number, tile: number): void;
  addColumnSums(g: number, rows: number, cols: number, scale: number, sums: number): void;
  affineActivation(z: number, scale: number, shift: number, out: number, rows: number, cols: number, kind: number): void;
  affineActivationGrad(ga: number, z: number, scale: number, shift: number, out: number, rows: number, cols: number, kind: number): void;
  heapBase(): number;
}
export type KernelName = Exclude<keyof KernelExports, 'heapBase'>;

/** The parts of the WebAssembly JS API used here (TypeScript's ES libs do not declare them). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export type WasmModule = object;
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
/** The memory's limit (the build's --maximumMemory): 1 GiB, far above what one call needs. */
const MAX_PAGES = 16384;
/** Readable bytes after every allocation: the matrix products' tail tiles read past a row's end. */
const SLACK = 32;

/** Instantiates the module on a memory (helper threads make their own instances, see kernel-threads.ts). */
function instantiate(module: WasmModule, memory: WasmMemory): KernelExports {
  return new wasmApi.Instance(module, { env: { memory, abort: () => {} } }).exports as KernelExports;
}

export class KernelModule {
  readonly fn: KernelExports;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
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
    this.module = new wasmApi.Module(bytes);
    this.memory = new wasmApi.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.fn = instantiate(this.module, this.memory);
    this.base = (this.fn.heapBase() + 15) & ~15;
    this.pinnedTop = this.base;
    this.top = this.base;
  }

  /** Bytes held by pinned and resident arrays, and their sets (released sets under a live one included). */
  residentUse(): { bytes: number; sets: number } {
    return { bytes: this.pinnedTop - this.base, sets: this.pinned.length };
  }

  /** Copies arrays in until the returned set is released (between calls only: it moves the arena). */
  pin(arrays: readonly Float32Array[]): PinnedSet {
    const set = this.allocPinned(arrays.map((a) => a.length));
    set.arrays.forEach((p, i) => this.f32(p.address, p.length).set(arrays[i]));
    return set;
  }

  /** Uninitialised resident arrays of these lengths, until the returned set is released (between calls only). */
  allocPinned(lengths: readonly number[]): PinnedSet {
    this.top = this.pinnedTop;
    const set = new PinnedSet(this.pinnedTop, () => this.unpin());
    for (const n of lengths) set.arrays.push({ address: this.alloc(n * 4), length: n, set });
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
    if (need > 0) {
      const pages = Math.ceil(need / PAGE);
      if (this.memory.buffer.byteLength / PAGE + pages > MAX_PAGES) {
        const mib = Math.ceil(this.top / 2 ** 20);
        this.top = p;
        throw new PhysodeError(`a kernel call needs ${mib} MiB of memory, over the kernels' ${MAX_PAGES / 16} MiB`, 'use smaller batches (e.g. predict in chunks)');
      }
      this.memory.grow(pages);
    }
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

let instance: KernelModule | null = null;

/** This thread's kernel module (loaded on first use). */
export function kernelModule(): KernelModule {
  return (instance ??= new KernelModule());
}

/** This thread's kernel module, its arena reset for a new call. */
export function kernelCall(): KernelModule {
  return kernelModule().reset();
}
