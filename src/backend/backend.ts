/**
 * Tensor backend selection: done once per process, in this one place, and reported.
 *
 * Order for 'auto': native TensorFlow (`@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`,
 * loaded by dynamic import so that neither is a dependency), then WebAssembly
 * (`@tensorflow/tfjs-backend-wasm`, SIMD when the runtime has it), then the pure-JS CPU backend.
 * The environment variable PHYSODE_BACKEND overrides 'auto'.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { kernelThreadCount } from '../kernels/kernel-threads.js';
import { nativeBlasStatus } from '../kernels/native-blas.js';
import { InvalidArgumentError, PhysodeError } from '../util/errors.js';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** What was chosen, for printing: `name` is tfjs's backend name, `detail` says how and why. */
export interface BackendInfo {
  readonly name: string;
  readonly detail: string;
}

let chosen: { preference: BackendPreference; info: Promise<BackendInfo> } | null = null;

/** Parses a preference given by a user (CLI flag or environment variable). */
export function parseBackendPreference(value: string): BackendPreference {
  const v = value.trim().toLowerCase();
  if ((BACKEND_PREFERENCES as readonly string[]).includes(v)) return v as BackendPreference;
  throw new InvalidArgumentError(`unknown backend '${value}'`, `use one of: ${BACKEND_PREFERENCES.join(', ')}`);
}

/**
 * Picks and initialises the backend. The first call decides; later calls with 'auto' or the same
 * preference return the same answer, a later call asking for something else is an error.
 */
export function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  let pref = preference;
  const fromEnv = process.env.PHYSODE_BACKEND;
  if (pref === 'auto' && fromEnv !== undefined && fromEnv !== '') pref = parseBackendPreference(fromEnv);
  if (chosen !== null) {
    if (pref === 'auto' || pref === chosen.preference) return chosen.info;
    throw new InvalidArgumentError(
      `the tensor backend was already chosen ('${chosen.preference}'), cannot switch to '${pref}'`,
      'choose the backend once, before any computation (--backend or PHYSODE_BACKEND)',
    );
  }
  const threads = kernelThreadCount(); // a bad PHYSODE_KERNEL_THREADS is an error here, before any work
  const kernels = `host kernels: WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}; large products: ${nativeBlasStatus()}`;
  const info = select(pref).then((i) => ({ ...i, detail: `${i.detail}; ${kernels}` }));
  chosen = { preference: pref, info };
  return info;
}

/** The backend chosen so far, or null before initBackend. */
export async function currentBackend(): Promise<BackendInfo | null> {
  return chosen === null ? null : chosen.info;
}

async function select(pref: BackendPreference): Promise<BackendInfo> {
  // PROD silences tfjs's console advice ("install tfjs-node"): the library never prints.
  tf.env().set('PROD', true);
  const notes: string[] = [];
  if (pref === 'auto' || pref === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const got = await tryNative(pkg);
      if (got !== null) return got;
      notes.push(`${pkg} not installed`);
    }
    if (pref === 'tensorflow') {
      throw new PhysodeError(
        'native TensorFlow backend requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed',
        'npm install @tensorflow/tfjs-node (optional), or use --backend wasm',
      );
    }
  }
  if (pref === 'auto' || pref === 'wasm') {
    const got = await tryWasm(notes);
    if (got !== null) return got;
    if (pref === 'wasm') {
      throw new PhysodeError(`WebAssembly backend failed to initialise (${notes.join('; ')})`, 'use --backend cpu');
    }
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new PhysodeError('the CPU backend failed to initialise', 'reinstall @tensorflow/tfjs-backend-cpu');
  await tf.ready();
  const why = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  return { name: 'cpu', detail: `cpu: pure JavaScript, float32${why}` };
}

async function tryNative(pkg: string): Promise<BackendInfo | null> {
  try {
    const specifier: string = pkg; // a variable, so neither TypeScript nor bundlers require it
    await import(specifier);
  } catch {
    return null;
  }
  if (!(await tf.setBackend('tensorflow'))) return null;
  await tf.ready();
  return { name: 'tensorflow', detail: `tensorflow: native TensorFlow via ${pkg}` };
}

async function tryWasm(notes: string[]): Promise<BackendInfo | null> {
  try {
    const before = {
      uncaughtException: process.listeners('uncaughtException'),
      unhandledRejection: process.listeners('unhandledRejection'),
    };
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep;
    wasm.setWasmPaths(dist);
    // setBackend resolves false (and tfjs silently keeps another backend) when wasm fails.
    if (!(await tf.setBackend('wasm'))) {
      notes.push('wasm setBackend returned false');
      return null;
    }
    await tf.ready();
    // Emscripten's Node glue rethrows every uncaught exception from its own handler, which prints
    // the whole minified module source; the library leaves process-level handlers to the program.
    for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
      for (const l of (process as NodeJS.EventEmitter).listeners(event)) {
        if (!(before[event] as unknown[]).includes(l)) (process as NodeJS.EventEmitter).removeListener(event, l as (...args: unknown[]) => void);
      }
    }
    if (tf.getBackend() !== 'wasm') {
      notes.push(`wasm requested but tfjs is on ${tf.getBackend()}`);
      return null;
    }
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { name: 'wasm', detail: `wasm: WebAssembly${simd === true ? ' SIMD' : ''}, float32` };
  } catch (err) {
    notes.push(`wasm failed: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}
