/**
 * Helper threads for the WebAssembly kernels: each runs its own instance of the kernel module on
 * the same shared memory, so that a matrix product can be shared out by rows with no copies.
 *
 * A job is one kernel over a list of chunks (argument lists touching disjoint outputs), posted to
 * a control block in a SharedArrayBuffer. This thread and the helpers claim chunks one at a time
 * (compare-and-swap on a counter tagged with the job's number), so a helper that the OS has
 * descheduled, or that is still waking up, costs at most the chunk it holds: this thread does the
 * rest. Helpers poll while engaged (a stretch of work with many products, see `engage`) and
 * otherwise sleep in Atomics.wait after ~50 µs.
 *
 * Besides the WebAssembly kernels, the helpers run the native product ('sgemm', ./native-blas.ts)
 * when the host gives them the addon: they load it themselves and call it on the same memory.
 *
 * Measured on this project's 2-core machine: a 128 × 128 × 128 product 110 → 59 µs on 2 threads,
 * about 2 µs of hand-over per job, ~40 µs to wake a sleeping helper.
 *
 * Thread count: PHYSODE_KERNEL_THREADS (1–16), else 2 on the main thread of a machine with 2 or
 * more cores, and 1 in worker threads (a pool of workers already uses the other cores).
 */
import os from 'node:os';
import { Worker, isMainThread } from 'node:worker_threads';
import { InvalidArgumentError, PhysodeError } from '../util/errors.js';
import type { KernelExports, KernelName, WasmMemory, WasmModule } from './kernel-module.js';

/**
 * The control block, Int32: [0] job number (−1: exit), [1] claim word (job tag << 16 | next
 * chunk), [2] chunks finished, [3] kernel index, [4] chunk count, [5] argument count, [6] failed,
 * [7] engaged; from byte 64, Float64 arguments, MAX_ARGS per chunk.
 */
const ARGS_OFFSET = 64;
const MAX_ARGS = 16;
/** Most chunks in one job. */
export const MAX_CHUNKS = 64;
/** Polls before a helper sleeps when not engaged: about 50 µs. */
const SPINS = 5_000;
/** A job that has not finished after this long is taken as lost. */
const JOB_TIMEOUT_MS = 60_000;

const KERNELS: readonly ThreadKernel[] = [
  'columnMoments',
  'sigmoidGradColumnSums',
  'affineRows',
  'sigmoidGrad',
  'matmul',
  'packStrips',
  'matmulTransposedAccumulate',
  'addColumnSums',
  'affineActivation',
  'affineActivationGrad',
  'sgemm',
];

/** What a kernel thread can run: a WebAssembly kernel, or the native product. */
export type ThreadKernel = KernelName | 'sgemm';
/** The functions a job's kernel is looked up in, by name (the kernel module's exports, or the native product). */
export type ThreadFunctions = Partial<Record<ThreadKernel, (...args: number[]) => void>>;

/**
 * Claims and runs chunks of the current job until none is left; returns how many it ran. The
 * same code runs on every thread (HELPER_SOURCE embeds it).
 */
function claimChunks(ctl: Int32Array, args: Float64Array, tag: number, fns: ThreadFunctions, names: readonly ThreadKernel[], list: number[]): number {
  const count = ctl[4];
  const fn = fns[names[ctl[3]]]!;
  list.length = ctl[5];
  let ran = 0;
  for (;;) {
    const word = Atomics.load(ctl, 1);
    if (word >>> 16 !== tag || (word & 0xffff) >= count) return ran;
    if (Atomics.compareExchange(ctl, 1, word, word + 1) !== word) continue;
    const base = (word & 0xffff) * MAX_ARGS;
    for (let i = 0; i < list.length; i++) list[i] = args[base + i];
    try {
      fn(...list);
    } catch {
      ctl[6] = 1;
    }
    Atomics.add(ctl, 2, 1);
    ran++;
  }
}

/** The helper's whole program (CommonJS, nothing of this project to load: it starts in milliseconds). */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names, spins, MAX_ARGS, blasAddon } = workerData;
const fns = { ...new WebAssembly.Instance(module, { env: { memory, abort() {} } }).exports };
if (blasAddon) {
  const blas = require(blasAddon);
  let view = new Float32Array(memory.buffer);
  fns.sgemm = (...a) => {
    if (view.byteLength !== memory.buffer.byteLength) view = new Float32Array(memory.buffer);
    blas.sgemm(view, ...a);
  };
}
const ctl = new Int32Array(control, 0, 8);
const args = new Float64Array(control, ${ARGS_OFFSET});
const claimChunks = ${claimChunks.toString()};
const list = [];
let seen = 0;
for (;;) {
  let n = 0;
  while (Atomics.load(ctl, 0) === seen) {
    if (Atomics.load(ctl, 7) !== 0) n = 0;
    else if (++n > spins) { Atomics.wait(ctl, 0, seen); n = 0; }
  }
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  claimChunks(ctl, args, seen & 0x7fff, fns, names, list);
}
`;

export class KernelThreads {
  private readonly helpers: Worker[] = [];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly list: number[] = [];
  private engaged = 0;
  private job = 0;
  private failure: Error | null = null;
  /** Chunks run so far, in all and by the helpers (for tests and diagnostics). */
  readonly stats = { chunks: 0, helperChunks: 0 };

  /** `count` threads in all: this one and count − 1 helpers; `blasAddon`: the native product's addon for the helpers to load, or null. */
  constructor(
    module: WasmModule,
    memory: WasmMemory,
    readonly count: number,
    readonly blasAddon: string | null = null,
  ) {
    const control = new SharedArrayBuffer(ARGS_OFFSET + MAX_CHUNKS * MAX_ARGS * 8);
    this.ctl = new Int32Array(control, 0, 8);
    this.args = new Float64Array(control, ARGS_OFFSET);
    for (let h = 1; h < count; h++) {
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control, names: KERNELS, spins: SPINS, MAX_ARGS, blasAddon } });
      worker.unref(); // helpers never keep the process alive
      worker.on('error', (err) => (this.failure = err));
      this.helpers.push(worker);
    }
  }

  /**
   * Runs one kernel once per chunk (argument lists that touch disjoint outputs), shared out among
   * this thread and the helpers; returns when all chunks have finished.
   */
  run(fn: ThreadFunctions | KernelExports, name: ThreadKernel, chunks: readonly (readonly number[])[]): void {
    if (chunks.length > MAX_CHUNKS) throw new RangeError(`${chunks.length} chunks, at most ${MAX_CHUNKS}`);
    if (this.failure) throw new PhysodeError(`a kernel helper thread failed: ${this.failure.message}`, 'run with PHYSODE_KERNEL_THREADS=1');
    if (typeof (fn as ThreadFunctions)[name] !== 'function') throw new RangeError(`no kernel '${name}' to run`);
    if (name === 'sgemm' && this.blasAddon === null && this.helpers.length > 0) throw new RangeError('these kernel threads were started without the native product');
    const ctl = this.ctl;
    const job = (this.job = (this.job % 0x7fff) + 1); // 1 … 32767: the claim word's tag
    ctl[3] = KERNELS.indexOf(name);
    ctl[4] = chunks.length;
    ctl[5] = chunks[0].length;
    chunks.forEach((c, i) => this.args.set(c, i * MAX_ARGS));
    Atomics.store(ctl, 2, 0);
    ctl[6] = 0;
    Atomics.store(ctl, 1, job << 16); // opens the claims (after the arguments are in place)
    Atomics.store(ctl, 0, job);
    Atomics.notify(ctl, 0); // ~0.2 µs when no helper sleeps
    const mine = claimChunks(ctl, this.args, job, fn as ThreadFunctions, KERNELS, this.list);
    this.stats.chunks += chunks.length;
    this.stats.helperChunks += chunks.length - mine;
    // What is left is a chunk a helper holds: wait for it.
    const start = Date.now();
    let spins = 0;
    while (Atomics.load(ctl, 2) < chunks.length) {
      if (++spins % 100_000 === 0 && Date.now() - start > JOB_TIMEOUT_MS) {
        throw new PhysodeError(`a kernel helper thread did not finish its part of ${name} in ${JOB_TIMEOUT_MS / 1000} s`, 'run with PHYSODE_KERNEL_THREADS=1 and report this');
      }
    }
    if (ctl[6] !== 0) throw new PhysodeError(`the ${name} kernel failed on a kernel thread`, 'run with PHYSODE_KERNEL_THREADS=1 to see the error where it happens');
  }

  /**
   * Keeps the helpers polling (instead of sleeping ~50 µs after a job) until `disengage`: for a
   * stretch of work with many products, such as one evaluation of the vector field. Waking a
   * sleeping helper costs ~40 µs; a polling helper also slows this thread's other work by ~10–20 %
   * on this 2-core machine (it takes the core that V8's background work would use), so helpers
   * poll only while engaged. Calls nest.
   */
  engage(): void {
    if (this.engaged++ > 0) return;
    Atomics.store(this.ctl, 7, 1);
    Atomics.notify(this.ctl, 0);
  }

  disengage(): void {
    if (--this.engaged > 0) return;
    this.engaged = 0;
    Atomics.store(this.ctl, 7, 0);
  }

  /** Stops the helpers (they exit after their current chunk). */
  close(): void {
    Atomics.store(this.ctl, 0, -1);
    Atomics.notify(this.ctl, 0);
    this.helpers.length = 0;
  }
}

let resolved: number | null = null;

/** Sets this thread's kernel thread count (1 turns threading off); the next kernel call applies it. */
export function setKernelThreads(count: number): void {
  if (!(Number.isInteger(count) && count >= 1 && count <= 16)) throw new InvalidArgumentError(`kernel threads must be an integer from 1 to 16, got ${count}`);
  resolved = count;
}

/** The kernel thread count in effect (see the module comment). */
export function kernelThreadCount(): number {
  if (resolved !== null) return resolved;
  const env = process.env.PHYSODE_KERNEL_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!(Number.isInteger(n) && n >= 1 && n <= 16)) {
      throw new InvalidArgumentError(`PHYSODE_KERNEL_THREADS must be an integer from 1 to 16, got '${env}'`, 'unset it for the default (2 on the main thread, 1 in workers)');
    }
    return (resolved = n);
  }
  return (resolved = isMainThread ? Math.min(2, os.availableParallelism()) : 1);
}
