/**
 * Reusable Float32Arrays, by length. In V8 a fresh 64 KiB array costs ~9 µs (zero-filling it and,
 * later, collecting it) against ~1.5 µs to copy results into a reused one; the vector field's
 * host path fills hundreds of such arrays per training step.
 *
 * An array given back must not be used by its previous owner any more.
 */
export class Float32Pool {
  private readonly free = new Map<number, Float32Array[]>();

  /** Keeps at most this many free arrays of one length (more are left to the collector). */
  constructor(private readonly maxPerLength = 512) {}

  /** An array of this length, reused when one is free (its contents are then arbitrary). */
  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  give(array: Float32Array): void {
    let list = this.free.get(array.length);
    if (!list) {
      list = [];
      this.free.set(array.length, list);
    }
    if (list.length < this.maxPerLength) list.push(array);
  }
}
