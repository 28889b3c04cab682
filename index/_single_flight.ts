/**
 * One promise per key: concurrent (and later) asks for the same key share one computation; a
 * failed computation is forgotten so it can be retried.
 *
 * @module
 */

/** A memo of promises keyed by string. */
export class SingleFlight<V> {
  #map = new Map<string, Promise<V>>();

  /**
   * Returns the promise for `key`, starting `run` if there is none.
   *
   * @param key The key.
   * @param run Computes the value.
   */
  do(key: string, run: () => Promise<V>): Promise<V> {
    const existing = this.#map.get(key);
    if (existing) return existing;
    const p = run();
    this.#map.set(key, p);
    p.catch(() => {
      if (this.#map.get(key) === p) this.#map.delete(key);
    });
    return p;
  }
}
