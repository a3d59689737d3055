/**
 * All-reduce across the replicas of a data-parallel training step (one per worker thread): every
 * replica passes its partial sums and gets the total, the same bits on every replica (the parts
 * are added in rank order), so that replicas of one batch take the same adaptive steps and use
 * the same batch statistics. Shared memory and Atomics: a call costs a few µs when the replicas
 * arrive together.
 */
import { PhysodeError } from '../util/errors.js';

/** What solvers and normalisations call; null where a step runs in one thread. */
export interface Collective {
  /** Number of replicas, and this one's index in [0, size). */
  readonly size: number;
  readonly rank: number;
  /** Element-wise sum of `values` over all replicas (every replica passes the same length). */
  sum(values: Float64Array): Float64Array;
}

/** A replica failed or gave up: the others leave their collective calls with this error. */
export class CollectiveAbortedError extends PhysodeError {
  constructor(why: string) {
    super(`data-parallel step aborted: ${why}`, 'see the error of the replica that failed first');
    this.name = 'CollectiveAbortedError';
  }
}

// Control words (Int32): arrivals in the current round, round number, abort flag.
const ARRIVED = 0;
const ROUND = 1;
const ABORTED = 2;
const CONTROL_BYTES = 16;
/** Checks of the round before sleeping. */
const SPIN = 20000;

/** Memory of a collective: create once (main thread), hand to every replica. */
export interface CollectiveMemory {
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  /** Float64 values one replica can contribute per call. */
  readonly capacity: number;
}

export function collectiveMemory(size: number, capacity: number): CollectiveMemory {
  if (!(Number.isInteger(size) && size >= 1)) throw new PhysodeError(`collective size must be a positive integer, got ${size}`);
  // Two banks of slots, used alternately: a replica may write call k + 1 while another still reads call k.
  return { buffer: new SharedArrayBuffer(CONTROL_BYTES + 2 * size * capacity * 8), size, capacity };
}

/** Clears the abort flag (main thread, between steps, when no replica is inside a call). */
export function resetCollective(memory: CollectiveMemory): void {
  const control = new Int32Array(memory.buffer, 0, 4);
  Atomics.store(control, ABORTED, 0);
  Atomics.store(control, ARRIVED, 0);
}

export class SharedCollective implements Collective {
  readonly size: number;
  private readonly control: Int32Array;
  private readonly slots: Float64Array;
  private readonly capacity: number;
  private calls = 0;

  constructor(
    memory: CollectiveMemory,
    readonly rank: number,
    /** How long a call waits for the other replicas before it gives up. */
    private readonly timeoutMs = 120_000,
  ) {
    this.size = memory.size;
    this.capacity = memory.capacity;
    this.control = new Int32Array(memory.buffer, 0, 4);
    this.slots = new Float64Array(memory.buffer, CONTROL_BYTES);
  }

  sum(values: Float64Array): Float64Array {
    const n = values.length;
    if (n > this.capacity) throw new PhysodeError(`collective call of ${n} values exceeds its capacity ${this.capacity}`);
    const bank = (this.calls++ & 1) * this.size * this.capacity;
    this.slots.set(values, bank + this.rank * this.capacity);
    this.barrier();
    const out = new Float64Array(n);
    for (let r = 0; r < this.size; r++) {
      const o = bank + r * this.capacity;
      for (let i = 0; i < n; i++) out[i] += this.slots[o + i];
    }
    return out;
  }

  /** Tells the other replicas to stop waiting (this one failed). */
  abort(): void {
    Atomics.store(this.control, ABORTED, 1);
    Atomics.add(this.control, ROUND, 1);
    Atomics.notify(this.control, ROUND);
  }

  private barrier(): void {
    const c = this.control;
    const round = Atomics.load(c, ROUND);
    if (Atomics.load(c, ABORTED)) throw new CollectiveAbortedError('another replica failed');
    if (Atomics.add(c, ARRIVED, 1) === this.size - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, ROUND, 1);
      Atomics.notify(c, ROUND);
      return;
    }
    // The others usually arrive within microseconds: spin briefly before sleeping.
    for (let i = 0; i < SPIN; i++) if (Atomics.load(c, ROUND) !== round) return this.checkAborted();
    const deadline = Date.now() + this.timeoutMs;
    while (Atomics.load(c, ROUND) === round) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.abort();
        throw new CollectiveAbortedError(`replica ${this.rank} waited ${this.timeoutMs} ms for the others`);
      }
      Atomics.wait(c, ROUND, round, left);
    }
    this.checkAborted();
  }

  private checkAborted(): void {
    if (Atomics.load(this.control, ABORTED)) throw new CollectiveAbortedError('another replica failed');
  }
}
