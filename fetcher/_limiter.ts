// Concurrency limits (global and per key) and promise sharing for concurrent requests.

class Semaphore {
  #free: number;
  #waiters: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(grant);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Runs tasks with at most `global` in flight overall and `perKey` per key (host). */
export class Limiter {
  readonly global: number;
  readonly perKey: number;
  #all: Semaphore;
  #keys = new Map<string, { sem: Semaphore; users: number }>();
  #active = 0;
  #peak = 0;

  constructor(global: number, perKey: number = global) {
    if (!(global >= 1) || !(perKey >= 1)) {
      throw new RangeError(`Concurrency limits must be at least 1, got ${global} and ${perKey}`);
    }
    this.global = Math.floor(global);
    this.perKey = Math.floor(perKey);
    this.#all = new Semaphore(this.global);
  }

  /** Highest number of tasks seen running at once (for tests). */
  get peak(): number {
    return this.#peak;
  }

  async run<T>(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let slot = this.#keys.get(key);
    if (!slot) {
      slot = { sem: new Semaphore(this.perKey), users: 0 };
      this.#keys.set(key, slot);
    }
    slot.users++;
    try {
      // Per-key first so a busy host does not hold global slots while it waits.
      await slot.sem.acquire(signal);
      try {
        await this.#all.acquire(signal);
        this.#active++;
        this.#peak = Math.max(this.#peak, this.#active);
        try {
          return await task();
        } finally {
          this.#active--;
          this.#all.release();
        }
      } finally {
        slot.sem.release();
      }
    } finally {
      if (--slot.users === 0) this.#keys.delete(key);
    }
  }
}

/** Concurrent calls for one key share one promise; the entry is dropped once it settles. */
export class OnceMap<K, V> {
  #inflight = new Map<K, Promise<V>>();

  run(key: K, task: () => Promise<V>): Promise<V> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const promise = (async () => {
      try {
        return await task();
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.#inflight.size;
  }
}
