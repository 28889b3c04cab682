/**
 * Two {@linkcode HttpCacheStorage} implementations: in memory (tests, one-off runs) and a plain
 * directory (the default on disk; the cache module may provide its own).
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import type { CachedResponse, CachedResponseMeta, HttpCacheStorage } from "./types.ts";

/**
 * Keeps responses in a Map.
 *
 * @example
 * ```ts
 * import { MemoryHttpCacheStorage } from "./http_cache_storage.ts";
 * const s = new MemoryHttpCacheStorage();
 * await s.put("k", new Uint8Array([1]), { url: "u", status: 200, storedAt: 0 });
 * if ((await s.get("k"))?.body[0] !== 1) throw new Error();
 * ```
 */
export class MemoryHttpCacheStorage implements HttpCacheStorage {
  #map = new Map<string, CachedResponse>();

  /**
   * Returns the stored response for `key`, or undefined.
   *
   * @param key Cache key.
   * @returns The stored response or undefined.
   */
  get(key: string): Promise<CachedResponse | undefined> {
    const hit = this.#map.get(key);
    return Promise.resolve(hit && { body: hit.body, meta: { ...hit.meta } });
  }

  /**
   * Stores (replaces) the response for `key`.
   *
   * @param key Cache key.
   * @param body Body bytes.
   * @param meta Response metadata.
   */
  put(key: string, body: Uint8Array, meta: CachedResponseMeta): Promise<void> {
    this.#map.set(key, { body, meta: { ...meta } });
    return Promise.resolve();
  }

  /** Number of stored responses. */
  get size(): number {
    return this.#map.size;
  }
}

/** File operations used by {@linkcode DirHttpCacheStorage}. */
export interface CacheDirFs {
  /** Reads a whole file; rejects when it is missing. */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a whole file (a temporary one, renamed into place). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Renames a file, replacing the target, so readers never see a half-written entry. */
  rename(from: string, to: string): Promise<void>;
  /** Creates a directory and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
}

const nodeCacheFs: CacheDirFs = {
  readFile: async (p) => new Uint8Array(await fsp.readFile(p)),
  writeFile: (p, d) => fsp.writeFile(p, d),
  rename: (a, b) => fsp.rename(a, b),
  mkdir: async (p) => void await fsp.mkdir(p, { recursive: true }),
};

async function keyName(key: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Stores each response as `<sha256(key)>.json` (metadata, with the redacted URL) and `.body`
 * in a directory, written to a temporary name and renamed so readers never see half a file.
 *
 * @example
 * ```ts
 * import { DirHttpCacheStorage } from "./http_cache_storage.ts";
 * const dir = await Deno.makeTempDir();
 * const s = new DirHttpCacheStorage(dir);
 * await s.put("k", new Uint8Array([7]), { url: "u", status: 200, storedAt: 1 });
 * const hit = await new DirHttpCacheStorage(dir).get("k");
 * await Deno.remove(dir, { recursive: true });
 * if (hit?.body[0] !== 7 || hit.meta.storedAt !== 1) throw new Error();
 * ```
 */
export class DirHttpCacheStorage implements HttpCacheStorage {
  #dir: string;
  #fs: CacheDirFs;
  #ready: Promise<void> | undefined;

  /**
   * Creates a storage in `dir`.
   *
   * @param dir The directory (created on first write).
   * @param options `fs` to replace the Deno file system.
   */
  constructor(dir: string, options: { fs?: CacheDirFs } = {}) {
    this.#dir = dir;
    this.#fs = options.fs ?? nodeCacheFs;
  }

  /**
   * Returns the stored response for `key`, or undefined.
   *
   * @param key Cache key.
   * @returns The stored response, or undefined when absent or unreadable.
   */
  async get(key: string): Promise<CachedResponse | undefined> {
    const base = `${this.#dir}/${await keyName(key)}`;
    try {
      const meta = JSON.parse(new TextDecoder().decode(await this.#fs.readFile(`${base}.json`)));
      const body = await this.#fs.readFile(`${base}.body`);
      if (typeof meta !== "object" || meta === null || typeof meta.storedAt !== "number") {
        return undefined;
      }
      return { body, meta: meta as CachedResponseMeta };
    } catch {
      return undefined;
    }
  }

  /**
   * Stores (replaces) the response for `key`; each file is written to a temporary name, then renamed.
   *
   * @param key Cache key.
   * @param body Body bytes.
   * @param meta Response metadata.
   */
  async put(key: string, body: Uint8Array, meta: CachedResponseMeta): Promise<void> {
    this.#ready ??= this.#fs.mkdir(this.#dir);
    await this.#ready;
    const base = `${this.#dir}/${await keyName(key)}`;
    const tmp = `.${crypto.randomUUID()}.tmp`;
    await this.#fs.writeFile(`${base}.body${tmp}`, body);
    await this.#fs.rename(`${base}.body${tmp}`, `${base}.body`);
    await this.#fs.writeFile(`${base}.json${tmp}`, new TextEncoder().encode(JSON.stringify(meta)));
    await this.#fs.rename(`${base}.json${tmp}`, `${base}.json`);
  }
}
