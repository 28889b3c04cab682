/**
 * A counting semaphore, so that only a few whole files are held in memory at once.
 *
 * @module
 */

/** At most `limit` holders at a time; waiters are served in arrival order. */
export class Semaphore {
  #free: number;
  #waiters: { grant: () => void }[] = [];

  /** @param limit How many may hold a permit at once (at least 1). */
  constructor(limit: number) {
    this.#free = Math.max(1, Math.floor(limit));
  }

  /**
   * Waits for a permit.
   *
   * @param signal Stops waiting (rejecting with its reason) when aborted.
   * @returns The function that gives the permit back; call it exactly once.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.shift();
      if (next) next.grant(); // The permit passes straight to the next waiter.
      else this.#free++;
    };
  }
}
