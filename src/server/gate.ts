/**
 * At most `slots` tasks at a time; the others wait their turn in arrival order. The server passes
 * its per-request data work (reading rows, building and serialising answers) through one gate, so
 * that a burst of requests is worked off a few at a time and a request that needs little (health)
 * waits for a few requests' work, not for the whole burst's.
 */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly slots: number) {}

  /** Runs `task` when a slot is free; the slot is held until its promise settles. */
  async run<T>(task: () => Promise<T> | T): Promise<T> {
    if (this.running >= this.slots) await new Promise<void>((go) => this.waiting.push(go));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, after this turn of the event loop.
      if (next) setImmediate(next);
      else this.running--;
    }
  }
}
