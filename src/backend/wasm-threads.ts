/**
 * TF.js's multi-threaded WebAssembly binary under Node.
 *
 * `@tensorflow/tfjs-backend-wasm` ships a threaded SIMD build (XNNPACK over a pthreadpool) but only
 * uses it in browsers (tensorflow/tfjs#3830): its loader hands Emscripten the pthread worker as a
 * `blob:` URL, which Node's worker_threads cannot start, and the binary sizes its pool from
 * `os.cpus().length / 2` (one thread on a 2-core machine). This module loads the same Emscripten
 * glue itself with what Node needs:
 *   - the pthread worker is a `data:` URL module that evaluates the package's own worker script
 *     with a CommonJS `require`;
 *   - the main script is the package's file path (the worker reads it with `importScripts`);
 *   - `os.cpus()` reports 2·threads entries while the binary's static initialisers run, so that
 *     `init_with_threads_count(threads)` is not capped below `threads`;
 * and registers the result as tfjs's 'wasm' backend, so that every wasm kernel applies unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The Emscripten module with the cwrapped entry points tfjs's BackendWasm calls. */
interface EmscriptenModule {
  /** Emscripten's pthread bookkeeping: the Node workers that run threads. */
  PThread: { runningWorkers: { unref(): void }[] };
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
}
type EmscriptenFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/** Source of the pthread worker: the package's worker script, given a CommonJS require. */
function workerSource(mainScript: string): string {
  // The package's worker script is a template literal whose "\n" escapes became real newlines
  // (tfjs's own loader re-escapes them the same way before making its Blob).
  return [
    `import { createRequire } from 'node:module';`,
    `const require = createRequire(${JSON.stringify(mainScript)});`,
    `const { wasmWorkerContents } = require('./tfjs-backend-wasm-threaded-simd.worker.js');`,
    `new Function('require', '__filename', wasmWorkerContents.replace(/\\n/g, '\\\\n'))(require, ${JSON.stringify(mainScript)});`,
  ].join('\n');
}

/**
 * Replaces tfjs's 'wasm' backend factory by the threaded binary with `threads` threads (the
 * calling thread included). Call before `tf.setBackend('wasm')`; the backend's
 * `getThreadsCount()` then reports what the binary got.
 */
export async function registerThreadedWasm(threads: number): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const mainScript = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as EmscriptenFactory;
  const workerUrl = new URL(`data:text/javascript,${encodeURIComponent(workerSource(mainScript))}`);
  const binary = join(dirname(mainScript), 'tfjs-backend-wasm-threaded-simd.wasm');
  const realCpus = os.cpus;
  let module: EmscriptenModule;
  try {
    const cpu = realCpus()[0];
    os.cpus = () => Array.from({ length: 2 * threads }, () => cpu);
    module = await factory({
      // Emscripten passes what this returns to `new Worker(...)`: a URL object is allowed there.
      locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? workerUrl : path.endsWith('.wasm') ? binary : prefix + path),
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    os.cpus = realCpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  wasm.setThreadsCount(threads);
  tf.removeBackend('wasm');
  // BackendWasm's constructor takes the Emscripten module (typed as tfjs's internal module type).
  tf.registerBackend(
    'wasm',
    () => {
      const backend = new wasm.BackendWasm(module as unknown as ConstructorParameters<typeof wasm.BackendWasm>[0]);
      // The pool's threads now run for good; Emscripten refs their workers, which would keep Node
      // from exiting when the program is done.
      for (const w of module.PThread.runningWorkers) w.unref();
      return backend;
    },
    2,
  );
}
