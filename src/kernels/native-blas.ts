/**
 * The optional native matrix product: ./physode-blas.node (source ./native/blas.c, built at
 * `npm install` by ./native/build.mjs) calls the system's CBLAS on matrices in the kernels'
 * shared WebAssembly memory. WebAssembly's 128-bit SIMD without fused multiply–add runs a large
 * product at about 38 GFLOP/s per core here; OpenBLAS with AVX-512 runs it at 90–94. The
 * host kernels (./host-kernels.ts) use it for products large enough to repay a call, when both the
 * addon and a BLAS library are present, and the WebAssembly kernels otherwise.
 *
 * PHYSODE_BLAS selects the library: unset or empty, the first of the known fast ones found
 * (OpenBLAS, MKL, BLIS, Accelerate; Debian: `apt-get install libopenblas0-pthread`); `off`,
 * none; any other value, that library (a file name or path with a cblas_sgemm). The library's
 * own threads are set to 1: the kernel threads (./kernel-threads.ts) share a product out by rows.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../util/errors.js';

/** The addon's functions (see ./native/blas.c). Offsets, sizes and strides are in floats. */
interface BlasAddon {
  open(paths: readonly string[]): { path: string; config: string | null };
  setThreads(n: number): boolean;
  sgemm(view: Float32Array, ...args: SgemmArgs): void;
}

/**
 * [transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias]: c = alpha·op(a)·op(b) +
 * beta·c, row-major, op(x) = xᵀ where the flag is 1; bias ≥ 0: the rows of c start as the N
 * floats there (beta is then 1), −1: none. One kernel-thread chunk's arguments.
 */
export type SgemmArgs = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];

export interface NativeBlas {
  /** The addon file, for kernel helper threads to load. */
  readonly addonPath: string;
  /** The library opened and how it describes itself, e.g. "OpenBLAS 0.3.21 … Cooperlake (libopenblas.so.0)". */
  readonly description: string;
  /**
   * Whether several threads may call the library at once, each on its own rows. OpenBLAS built
   * with OpenMP serialises such calls (measured: a 128³ product took 8 ms instead of 65 µs), so
   * with it every product runs on the calling thread alone.
   */
  readonly concurrent: boolean;
  /** The product on a view of the kernels' memory. */
  sgemm(view: Float32Array, ...args: SgemmArgs): void;
}

/** The addon, next to this file (src/kernels/ or dist/src/kernels/). */
const ADDON_PATH = fileURLToPath(new URL('./physode-blas.node', import.meta.url));

/**
 * Libraries known to be fast, by platform, in order of preference: a reference BLAS (e.g.
 * Debian's libblas3) is slower than the WebAssembly kernels. On Linux the pthreads build of
 * OpenBLAS comes first where Debian installs it beside the OpenMP build (see `concurrent`).
 */
const KNOWN_LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  linux: [
    ...['x86_64-linux-gnu', 'aarch64-linux-gnu'].map((arch) => `/usr/lib/${arch}/openblas-pthread/libopenblas.so.0`).filter((p) => existsSync(p)),
    'libopenblas.so.0',
    'libopenblas.so',
    'libmkl_rt.so.2',
    'libmkl_rt.so',
    'libblis.so.4',
    'libblis.so',
  ],
  darwin: ['/System/Library/Frameworks/Accelerate.framework/Accelerate', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib', '/usr/local/opt/openblas/lib/libopenblas.dylib'],
  win32: ['libopenblas.dll', 'openblas.dll', 'mkl_rt.2.dll'],
};

type Loaded = { blas: NativeBlas; reason: null } | { blas: null; reason: string };

/** Loads the addon and opens a library; the reason when it cannot. */
function load(setting: string): Loaded {
  if (setting === 'off') return { blas: null, reason: 'PHYSODE_BLAS=off' };
  if (!existsSync(ADDON_PATH)) return { blas: null, reason: 'the native addon is not built (npm run build:native)' };
  let addon: BlasAddon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as BlasAddon;
  } catch (err) {
    return { blas: null, reason: `the native addon does not load: ${(err as Error).message.split('\n')[0]}` };
  }
  const candidates = setting === '' ? (KNOWN_LIBRARIES[process.platform] ?? []) : [setting];
  let opened: { path: string; config: string | null };
  try {
    opened = addon.open(candidates);
  } catch (err) {
    const hint = setting === '' ? 'no BLAS library found (Debian: apt-get install libopenblas0-pthread)' : `PHYSODE_BLAS=${setting} cannot be used`;
    return { blas: null, reason: `${hint}: ${(err as Error).message.slice(0, 300)}` };
  }
  addon.setThreads(1);
  const description = `${opened.config ?? 'CBLAS'} (${opened.path})`;
  const concurrent = !(opened.config ?? '').includes('USE_OPENMP');
  return { blas: { addonPath: ADDON_PATH, description, concurrent, sgemm: addon.sgemm }, reason: null };
}

let loaded: Loaded | null = null;
let enabled = true;

/** The native product, or null (see nativeBlasStatus for why). */
export function nativeBlas(): NativeBlas | null {
  if (!enabled) return null;
  loaded ??= load(process.env.PHYSODE_BLAS?.trim() ?? '');
  return loaded.blas;
}

/** What runs the large matrix products, in words: for the backend line and the bench. */
export function nativeBlasStatus(): string {
  const blas = nativeBlas();
  if (blas) return `native BLAS: ${blas.description}${blas.concurrent ? '' : ', on one thread (an OpenMP build: install the pthreads build to share products out)'}`;
  return `WebAssembly SIMD (native BLAS not used: ${enabled ? loaded?.reason : 'turned off in this thread'})`;
}

/**
 * Turns the native product off (or back on) in this thread: tests run the same checks on both
 * paths, and the bench compares them. The WebAssembly kernels then run every product.
 */
export function setNativeBlas(on: boolean): void {
  if (typeof on !== 'boolean') throw new InvalidArgumentError(`setNativeBlas expects true or false, got ${String(on)}`);
  enabled = on;
}
