// Concurrency limits (global and per key) and promise sharing for concurrent requests.

/** A waiter for a slot; among waiters the highest priority goes first, then the earliest. */
interface Waiter {
  priority: number;
  grant: () => void;
}

class Semaphore {
  #limit: number;
  #inUse = 0;
  /** Ordered: highest priority first, then arrival. */
  #waiters: Waiter[] = [];
  constructor(size: number) {
    this.#limit = size;
  }
  acquire(signal?: AbortSignal, priority = 0): Promise<void> {
    if (this.#inUse < this.#limit) {
      this.#inUse++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      // After every waiter of at least its priority (a few dozen waiters: a scan is enough).
      let at = this.#waiters.length;
      while (at > 0 && this.#waiters[at - 1]!.priority < priority) at--;
      this.#waiters.splice(at, 0, waiter);
    });
  }
  release(): void {
    this.#inUse--;
    while (this.#inUse < this.#limit && this.#waiters.length > 0) {
      this.#inUse++;
      this.#waiters.shift()!.grant();
    }
  }
  /** A lower limit takes effect as holders release (none is taken back). */
  set limit(size: number) {
    this.#limit = size;
  }
}

/**
 * Runs tasks with at most `global` in flight overall and `perKey` per key (host). A key that
 * says it is overloaded ({@linkcode Limiter.throttle}) gets half its cap, for the limiter's life.
 */
export class Limiter {
  readonly global: number;
  readonly perKey: number;
  #all: Semaphore;
  #keys = new Map<string, { sem: Semaphore; users: number }>();
  /** Caps lowered by {@linkcode Limiter.throttle}, kept while a key is idle. */
  #caps = new Map<string, number>();
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

  /** The cap for one key now. */
  capOf(key: string): number {
    return this.#caps.get(key) ?? this.perKey;
  }

  /**
   * Halves a key's cap (never below 1): the server behind it answered "too many requests" or
   * "unavailable", so fewer transfers at once is what it sustains.
   *
   * @returns The new cap.
   */
  throttle(key: string): number {
    const cap = Math.max(1, Math.floor(this.capOf(key) / 2));
    this.#caps.set(key, cap);
    const slot = this.#keys.get(key);
    if (slot) slot.sem.limit = cap;
    return cap;
  }

  /**
   * Runs `task` once a slot for `key` and a global slot are free. Waiting tasks get their slots
   * highest `priority` first (then in arrival order): the fetcher gives a file's size, so the
   * largest files, the ones that decide when a run ends, are not queued behind small ones.
   */
  async run<T>(
    key: string,
    task: () => Promise<T>,
    signal?: AbortSignal,
    priority = 0,
  ): Promise<T> {
    let slot = this.#keys.get(key);
    if (!slot) {
      slot = { sem: new Semaphore(this.capOf(key)), users: 0 };
      this.#keys.set(key, slot);
    }
    slot.users++;
    try {
      // Per-key first so a busy host does not hold global slots while it waits.
      await slot.sem.acquire(signal, priority);
      try {
        await this.#all.acquire(signal, priority);
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
