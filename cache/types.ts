/**
 * Boundary types of the cache module: {@linkcode CacheStore} (distribution files addressed by
 * sha256), {@linkcode HttpCacheStorage} (index pages with their HTTP cache metadata) and
 * {@linkcode CacheError}.
 *
 * @module
 */

/** What the cache knows about one stored file. */
export interface CacheEntryInfo {
  /** Lowercase hex sha256 of the bytes; the entry's address. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Original file name (`numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.whl`), when known. */
  filename?: string;
  /** PEP 503 normalised project name, when known. */
  project?: string;
  /** Where it came from, credentials redacted. */
  url?: string;
  /** When it was added, ms since the epoch. */
  addedMs?: number;
  /** The entry file's modification time when it was published. */
  mtimeMs?: number;
  /**
   * The entry file's stat fingerprint (size, mtime, ctime, inode) when its bytes were last known
   * good, for `verify: "changed"`.
   */
  fingerprint?: string;
}

/**
 * How a lookup checks an entry: `true` hashes the bytes; `"changed"` hashes them only when the
 * file's stat fingerprint (size, mtime, ctime, inode) differs from the one recorded when its bytes
 * were last known good (as git trusts its index for unchanged stat data; ctime catches an mtime
 * put back over changed bytes); `false` trusts the file.
 */
export type VerifyMode = boolean | "changed";

/** Outcome of a lookup: a verified hit, or a miss (absent, or corrupt and now removed). */
export type CacheLookup =
  | { kind: "hit"; path: string; info: CacheEntryInfo }
  | { kind: "miss"; reason: "absent" | "corrupt" };

/** Where the bytes of a `put` come from. */
export type PutSource =
  /**
   * A file; with `move` it is renamed into the cache (it must be on the same file system).
   * `hashed` gives the sha256 and size the writer computed while writing the file (as the
   * fetcher does), so a moved file is not read a second time.
   */
  | { path: string; move?: boolean; hashed?: { sha256: string; size: number } }
  | { bytes: Uint8Array }
  | { stream: AsyncIterable<Uint8Array> };

/** Facts about a file being put; `sha256`, when given, is verified. */
export interface PutInfo {
  /** Expected sha256; the put fails with `hash-mismatch` when the bytes differ. */
  sha256?: string;
  /** The distribution file name, recorded with the entry for `cache info` and `clean`. */
  filename?: string;
  /** Normalised project name, so `cache clean <project>` can find the entry. */
  project?: string;
  /** Source URL; stored redacted. */
  url?: string;
  /** Where the file was listed (an index URL, a find-links location); stored redacted. */
  origin?: string;
  /** The file's Requires-Python, when its listing gave one. */
  requiresPython?: string;
}

/**
 * One archive as the cache's catalogue lists it: what an offline run needs to offer the file
 * under its project's name, whatever index, folder or path it first came from.
 */
export interface CatalogueEntry {
  /** PEP 503 normalised project name. */
  project: string;
  /** The distribution file name. */
  filename: string;
  /** Lowercase hex sha256: the archive's key. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Where it was downloaded from, credentials redacted. */
  url?: string;
  /** Where it was listed (index URL, find-links location, "direct reference"), redacted. */
  origin?: string;
  /** Its Requires-Python, when the listing gave one. */
  requiresPython?: string;
  /** When it was catalogued, ms since the epoch. */
  addedMs?: number;
}

/** What the cache holds for one project. */
export interface ProjectCatalogue {
  /** PEP 503 normalised project name. */
  project: string;
  /** The archives present in the cache, by filename. */
  files: CatalogueEntry[];
  /** The indexes (redacted URLs) whose page of this project the cache has kept. */
  pages: string[];
}

/** What `prune` removed. */
export interface PruneReport {
  /** Number of files removed. */
  removedFiles: number;
  /** Bytes freed by removing them. */
  freedBytes: number;
}

/** Sizes and counts of a store, for `cache info`. */
export interface CacheStats {
  /** Root directory of the store. */
  root: string;
  /** Number of cached distribution files. */
  entries: number;
  /** Bytes taken by the cached distribution files. */
  bytes: number;
  /** Number of cached HTTP responses (index pages and metadata). */
  httpEntries: number;
  /** Bytes taken by the cached HTTP responses. */
  httpBytes: number;
  /** Partial downloads kept for resuming. */
  partialFiles: number;
  /** Bytes taken by the partial downloads. */
  partialBytes: number;
}

/** Keeps distribution files, addressed by sha256. */
export interface CacheStore {
  /** Whether an entry is present (not verified). */
  has(sha256: string): Promise<boolean>;
  /**
   * Looks an entry up; by default verifies its hash and removes it when corrupt.
   *
   * @throws {CacheError} With code `invalid-key` for a key that is not a sha256.
   */
  get(sha256: string, options?: { verify?: VerifyMode }): Promise<CacheLookup>;
  /**
   * Stores bytes, verified, atomically; storing the same bytes again is a no-op.
   *
   * @throws {CacheError} `hash-mismatch`, `rename-failed` or `io`.
   */
  put(source: PutSource, info?: PutInfo): Promise<CacheEntryInfo>;
  /** Removes an entry; true when it was there. */
  delete(sha256: string): Promise<boolean>;
  /** Every entry. */
  list(): Promise<CacheEntryInfo[]>;
  /** Removes leftovers (stale temp files, orphan side-cars) and, with `verify`, corrupt entries. */
  prune(options?: { verify?: boolean }): Promise<PruneReport>;
  /** Counts and sizes. */
  stats(): Promise<CacheStats>;
}

/** One stored HTTP response: its body and its cache metadata (any JSON value, e.g. headers). */
export interface HttpCacheEntry<M = unknown> {
  /** The response body as received. */
  body: Uint8Array;
  /** The cache policy data stored with it (e.g. status, `ETag`, `Cache-Control`). */
  meta: M;
}

/**
 * Key-value storage for index pages. Its shape matches the index client's `HttpCacheStorage`,
 * so a store can be passed to it directly (see `LocalDirStore.httpStorage`).
 */
export interface HttpCacheStorage<M = unknown> {
  /** The stored response for `key`, or undefined (absent or unreadable). */
  get(key: string): Promise<HttpCacheEntry<M> | undefined>;
  /** Stores (replaces) the response for `key`, atomically. */
  put(key: string, body: Uint8Array, meta: M): Promise<void>;
  /** Removes the response for `key`; true when it was there. */
  delete(key: string): Promise<boolean>;
}

/** Why a cache operation failed. */
export type CacheErrorCode =
  | "hash-mismatch"
  | "rename-failed"
  | "invalid-key"
  | "not-found"
  | "conflict"
  | "io";

/**
 * A cache operation that failed.
 *
 * @example
 * ```ts
 * import { CacheError } from "./types.ts";
 * const e = new CacheError("invalid-key", 'Cannot read cache entry "x": not a sha256');
 * if (e.code !== "invalid-key" || e.name !== "CacheError") throw new Error();
 * ```
 */
export class CacheError extends Error {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "CacheError";
  /** Machine-readable reason. */
  readonly code: CacheErrorCode;
  /**
   * Builds the error.
   *
   * @param code Machine-readable reason.
   * @param message What failed and why.
   * @param options The underlying error.
   */
  constructor(code: CacheErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
