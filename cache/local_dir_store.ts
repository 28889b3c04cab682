/**
 * The local directory cache, the default {@linkcode CacheStore}: original wheel and sdist bytes
 * addressed by sha256, the index pages' HTTP cache, and the partial downloads kept for resuming.
 *
 * Layout under the root (versioned so a future format can live beside this one):
 * ```
 * archives-v1/<ab>/<sha256>        the bytes
 * archives-v1/<ab>/<sha256>.json   side-car: filename, project, redacted URL, time added
 * catalog-v1/<project>/<sha256>.json   the catalogue: each archive under its project's name
 * catalog-v1/<project>/page-<id>.json  an index whose page of the project is kept
 * http-v1/<ab>/<sha256 of key>     one file per page: header (key, metadata) and body
 * partial/                         interrupted downloads, named after their URL
 * ```
 * Every file is published by writing `.tmp-*` beside it, flushing and renaming, so a reader (in
 * this or another process) sees a whole file or none.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import type { FetchStrategy, FileStat, FileSystem } from "../fetcher/types.ts";
import { nodeFs } from "../fetcher/node_fs.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { FetchError } from "../fetcher/types.ts";
import {
  type OwnerAlive,
  parseOwner,
  privatePartialPid,
  processAlive,
  thisOwner,
} from "../fetcher/partial_owner.ts";
import { parseDistFilename } from "../pep/filename.ts";
import { isValidName, normalizeName } from "../pep/name.ts";
import {
  errorCode,
  fingerprintHolds,
  hashStream,
  isNotFound,
  recordableFingerprint,
  renameWithRetry,
  statFingerprint,
  TEMP_PREFIX,
  writeAtomic,
  writeTemp,
} from "./_atomic.ts";
import { byFilename } from "./_order.ts";
import {
  type CacheEntryInfo,
  CacheError,
  type CacheLookup,
  type CacheStats,
  type CacheStore,
  type CatalogueEntry,
  type HttpCacheEntry,
  type HttpCacheStorage,
  type ProjectCatalogue,
  type PruneReport,
  type PutInfo,
  type PutSource,
  type VerifyMode,
} from "./types.ts";

/** Options of {@linkcode LocalDirStore}; every side effect is injectable. */
export interface LocalDirStoreOptions {
  /** File system. Defaults to the real one. */
  fs?: FileSystem;
  /** Clock, ms since the epoch. Defaults to `Date.now`. */
  now?: () => number;
  /** Waits between rename retries. Defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Randomness for temp names and jitter. Defaults to `Math.random`. */
  random?: () => number;
  /** Temp files and orphan side-cars older than this are removed by `prune`. Default 1 hour. */
  staleTempMs?: number;
  /** Partial downloads older than this are removed by `prune`. Default 7 days. */
  stalePartialMs?: number;
  /** Renames tried before a publish fails. Default 8. */
  renameAttempts?: number;
  /** Tells whether the owner of a partial download still runs (for `prune`). Defaults to the OS. */
  ownerAlive?: OwnerAlive;
}

/** A file to bring into the cache with {@linkcode LocalDirStore.obtain}. */
export interface ObtainRequest {
  /** Where to download the file from when it is not cached; recorded with credentials redacted. */
  url: string;
  /** Expected sha256 (from the index); a cached copy is used when present and intact. */
  sha256?: string;
  /** Expected size in bytes; the download fails when it differs. */
  size?: number;
  /** The distribution file name, recorded with the entry (and used to infer `project`). */
  filename?: string;
  /** Project name; inferred from `filename` when omitted. */
  project?: string;
  /** Extra request headers for the download, e.g. `authorization` for a private index. */
  headers?: Record<string, string>;
  /** Where the file was listed (index URL, find-links location), for the catalogue. */
  origin?: string;
  /** The file's Requires-Python from its listing, for the catalogue. */
  requiresPython?: string;
}

/** Result of {@linkcode LocalDirStore.obtain}. */
export interface ObtainResult extends CacheEntryInfo {
  /** Path of the cached bytes. */
  path: string;
  /** False when the cache already held the file. */
  fetched: boolean;
  /** True when the cache held a damaged copy (its bytes no longer hash to its key) that was replaced. */
  repaired?: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;
/** Files one store hashes at once. */
const MAX_FILES_HASHED = 16;
const SHARD = /^[0-9a-f]{2}$/;
const HTTP_MAGIC = new TextEncoder().encode("WHC1");
const MAX_HTTP_HEADER = 16 * 1024 * 1024;

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function checkKey(sha256: string): string {
  const key = sha256.toLowerCase();
  if (!SHA256.test(key)) {
    throw new CacheError("invalid-key", `Cannot use "${sha256}" as a cache key: not a hex sha256`);
  }
  return key;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function projectOf(info: PutInfo): string | undefined {
  if (info.project !== undefined) return normalizeName(info.project);
  if (info.filename === undefined) return undefined;
  try {
    return parseDistFilename(info.filename).normalizedName;
  } catch {
    return undefined;
  }
}

/**
 * A content-addressed cache in a local directory, safe to share between processes.
 *
 * @example
 * ```ts
 * import { LocalDirStore } from "./local_dir_store.ts";
 * const root = await Deno.makeTempDir();
 * const store = new LocalDirStore(root);
 * const bytes = new TextEncoder().encode("wheel");
 * const info = await store.put({ bytes }, { filename: "demo-1.0-py3-none-any.whl" });
 * const found = await store.get(info.sha256);
 * if (found.kind !== "hit" || found.info.project !== "demo") throw new Error();
 * if ((await Deno.readTextFile(found.path)) !== "wheel") throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class LocalDirStore implements CacheStore {
  #root: string;
  #fs: FileSystem;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;
  #random: () => number;
  #staleTempMs: number;
  #stalePartialMs: number;
  #renameAttempts: number;
  #obtaining = new Map<string, Promise<ObtainResult>>();
  /** Files being hashed now, and the hashes waiting for a turn. */
  #hashing = 0;
  #hashQueue: (() => void)[] = [];
  #reading = 0;
  /**
   * Entries this process wrote, hashed or trusted (and so knows good), by key: the stat
   * fingerprint it saw, and the side-car as this process last read or wrote it. A lookup whose
   * stat is the one known reads no side-car (a warm run looked each entry up three times).
   */
  #known = new Map<string, { fingerprint: string; info: CacheEntryInfo }>();
  /** The finished downloads the partial area held when first listed (see `#publishFinished`). */
  #leftovers: Promise<string[]> | undefined;
  #readQueue: (() => void)[] = [];
  #booking = 0;
  #bookQueue: (() => void)[] = [];
  #ownerAlive: OwnerAlive;

  /**
   * Opens a store rooted at `root`; nothing touches the disk until the first call.
   *
   * @param root The cache directory (see `defaultCacheDir`); created on first write.
   * @param options Injected effects.
   */
  constructor(root: string, options: LocalDirStoreOptions = {}) {
    this.#root = root;
    this.#fs = options.fs ?? nodeFs;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#staleTempMs = options.staleTempMs ?? 60 * 60 * 1000;
    this.#stalePartialMs = options.stalePartialMs ?? 7 * 24 * 60 * 60 * 1000;
    this.#renameAttempts = options.renameAttempts ?? 8;
    this.#ownerAlive = options.ownerAlive ?? processAlive;
  }

  /**
   * The index pages' HTTP cache, stored under the same root. `M` is the metadata type the caller
   * stores (it reads back what it wrote, as JSON).
   *
   * @example
   * ```ts
   * import { LocalDirStore } from "./local_dir_store.ts";
   * const root = await Deno.makeTempDir();
   * const pages = new LocalDirStore(root).httpStorage<{ etag: string }>();
   * await pages.put("https://i.example/simple/a/", new Uint8Array([1]), { etag: '"x"' });
   * const hit = await pages.get("https://i.example/simple/a/");
   * await Deno.remove(root, { recursive: true });
   * if (hit?.meta.etag !== '"x"') throw new Error();
   * ```
   */
  httpStorage<M = unknown>(): HttpCacheStorage<M> {
    // Keys hold URLs, and a direct reference's URL may carry a password: no credential is ever
    // written to the cache, not even hashed into a file name. One URL with two passwords is one
    // page, so nothing is lost.
    return {
      get: async (key) => {
        const hit = await this.#httpGet(redactUrl(key));
        return hit && { body: hit.body, meta: hit.meta as M };
      },
      put: (key, body, meta) => this.#httpPut(redactUrl(key), { body, meta }),
      delete: (key) => this.#httpDelete(redactUrl(key)),
    };
  }

  /** The cache directory. */
  get root(): string {
    return this.#root;
  }

  /** Where partial downloads live; pass it as the fetcher's `partialDir` so they resume. */
  get partialDir(): string {
    return join(this.#root, "partial");
  }

  #archives(): string {
    return join(this.#root, "archives-v1");
  }

  #httpDir(): string {
    return join(this.#root, "http-v1");
  }

  #catalogueDir(project?: string): string {
    const dir = join(this.#root, "catalog-v1");
    return project === undefined ? dir : join(dir, project);
  }

  #entryPath(sha256: string): string {
    return join(this.#archives(), sha256.slice(0, 2), sha256);
  }

  #atomic(): {
    fs: FileSystem;
    sleep: (ms: number) => Promise<void>;
    random: () => number;
    renameAttempts: number;
  } {
    return {
      fs: this.#fs,
      sleep: this.#sleep,
      random: this.#random,
      renameAttempts: this.#renameAttempts,
    };
  }

  /**
   * Path an entry lives at (whether or not it is present).
   *
   * @param sha256 The key.
   * @throws {CacheError} With code `invalid-key` when the key is not a sha256.
   */
  pathOf(sha256: string): string {
    return this.#entryPath(checkKey(sha256));
  }

  /**
   * Whether the entry's file is present (its hash is not checked).
   *
   * @param sha256 The key.
   * @throws {CacheError} With code `invalid-key` when the key is not a sha256.
   */
  async has(sha256: string): Promise<boolean> {
    try {
      return (await this.#fs.stat(this.#entryPath(checkKey(sha256)))).isFile;
    } catch (e) {
      if (e instanceof CacheError) throw e;
      return false;
    }
  }

  /**
   * Hashes a file, a few at a time: hundreds of lookups at once (every file of a big warm run)
   * must not hold hundreds of open files (EMFILE under `ulimit -n 256`).
   */
  async #hashFile(path: string): Promise<{ sha256: string; size: number }> {
    if (this.#hashing >= MAX_FILES_HASHED) {
      await new Promise<void>((resolve) => this.#hashQueue.push(resolve));
    } else this.#hashing++;
    try {
      return await hashStream(this.#fs.read(path));
    } finally {
      const next = this.#hashQueue.shift();
      // The turn passes to the next waiter directly; the count stays.
      if (next !== undefined) next();
      else this.#hashing--;
    }
  }

  /**
   * Writes an entry's side-car, best effort: it is advisory (a lost, torn or stale one only leads
   * to re-hashing), so a read-only cache or a failed write changes nothing else. Written in
   * place, not through a temporary file and a rename: an entry's side-car is rewritten as its
   * fingerprint changes (published, then linked into a folder), and each rename over the old
   * one freed an inode. Where ext4 runs without a journal, every later file created checks each
   * recently freed inode (`recently_deleted`): 30-40% of a 200-wheel cold run's CPU went there.
   * A reader that meets it half-written sees no valid JSON and hashes the bytes.
   */
  async #writeSideCar(path: string, entry: CacheEntryInfo): Promise<void> {
    const bytes = new TextEncoder().encode(JSON.stringify(entry));
    try {
      const file = await this.#fs.open(`${path}.json`, "w");
      try {
        await file.write(bytes);
      } finally {
        await file.close();
      }
    } catch { /* advisory */ }
  }

  /**
   * Reads a side-car, a few at a time: every early download of a big warm run looks its entry
   * up at once, and 400 side-cars open together exceed `ulimit -n 256` (EMFILE).
   */
  #readSideCar(path: string): Promise<Uint8Array> {
    return this.#fewAtATime(() => this.#fs.readFile(path));
  }

  /** Runs a read that holds a file or folder open, at most a few at a time. */
  async #fewAtATime<T>(task: () => Promise<T>): Promise<T> {
    if (this.#reading >= MAX_FILES_HASHED) {
      await new Promise<void>((resolve) => this.#readQueue.push(resolve));
    } else this.#reading++;
    try {
      return await task();
    } finally {
      const next = this.#readQueue.shift();
      if (next !== undefined) next();
      else this.#reading--;
    }
  }

  async #readInfo(
    sha256: string,
    size: number,
  ): Promise<CacheEntryInfo & { recordedSize?: number }> {
    const info: CacheEntryInfo & { recordedSize?: number } = { sha256, size };
    try {
      const raw: unknown = JSON.parse(
        new TextDecoder().decode(await this.#readSideCar(`${this.#entryPath(sha256)}.json`)),
      );
      if (typeof raw === "object" && raw !== null) {
        const r = raw as Record<string, unknown>;
        if (typeof r.filename === "string") info.filename = r.filename;
        if (typeof r.project === "string") info.project = r.project;
        if (typeof r.url === "string") info.url = r.url;
        if (typeof r.addedMs === "number") info.addedMs = r.addedMs;
        if (typeof r.mtimeMs === "number") info.mtimeMs = r.mtimeMs;
        if (typeof r.fingerprint === "string") info.fingerprint = r.fingerprint;
        if (typeof r.size === "number") info.recordedSize = r.size;
      }
    } catch {
      // The side-car is advisory: an entry without one is still a valid entry.
    }
    return info;
  }

  /**
   * Looks an entry up. With `verify` (the default) the bytes are hashed, and a corrupt entry is
   * removed and reported as a miss so the caller fetches it again.
   *
   * @param sha256 The key.
   * @param options `verify: false` skips hashing.
   * @throws {CacheError} With code `invalid-key` when the key is not a sha256.
   */
  async get(sha256: string, options: { verify?: VerifyMode } = {}): Promise<CacheLookup> {
    const key = checkKey(sha256);
    const path = this.#entryPath(key);
    let size: number;
    let stat: FileStat;
    try {
      stat = await this.#fs.stat(path);
      if (!stat.isFile) return { kind: "miss", reason: "absent" };
      size = stat.size;
    } catch (e) {
      if (isNotFound(e)) return { kind: "miss", reason: "absent" };
      throw new CacheError("io", `Cannot read cache entry ${key}: ${String(e)}`, { cause: e });
    }
    const mode = options.verify ?? true;
    const current = statFingerprint(stat);
    const mine = this.#known.get(key);
    if (mode === "changed" && mine?.fingerprint === current) {
      return { kind: "hit", path, info: { ...mine.info, size } };
    }
    const info = await this.#readInfo(key, size);
    // Trusted as it is: the fingerprint recorded when it was last known good, or the one this
    // process saw when it wrote or hashed the entry itself (a file written in this second has
    // no recordable fingerprint where ctime has whole seconds: without this, every file a cold
    // run had just downloaded and hashed was hashed again before delivery, twice).
    const { recordedSize: _, ...entry } = info;
    const unchanged = mode === "changed" && fingerprintHolds(info.fingerprint, stat) &&
      info.recordedSize === size;
    if (unchanged) {
      const now = info.fingerprint === current ? current : recordableFingerprint(stat, this.#now());
      if (now !== undefined && now !== info.fingerprint) {
        // Only its names changed (a folder of links removed): recorded as it is now, so bytes
        // changed from here on under a restored mtime are seen.
        entry.fingerprint = now;
        await this.#writeSideCar(path, entry);
      }
      this.#known.set(key, { fingerprint: current, info: entry });
    }
    if (mode !== false && !unchanged) {
      let actual: string;
      try {
        actual = (await this.#hashFile(path)).sha256;
      } catch (e) {
        if (isNotFound(e)) return { kind: "miss", reason: "absent" };
        throw new CacheError("io", `Cannot read cache entry ${key}: ${String(e)}`, { cause: e });
      }
      if (actual !== key) {
        this.#known.delete(key);
        await this.#fs.rm(path).catch(() => {});
        await this.#fs.rm(`${path}.json`).catch(() => {});
        return { kind: "miss", reason: "corrupt" };
      }
      // Known good as the file is now: later "changed" lookups trust it until it is touched.
      const { fingerprint: was, ...known } = entry;
      const now = recordableFingerprint(stat, this.#now());
      const written: CacheEntryInfo = {
        ...known,
        ...(now !== undefined ? { fingerprint: now } : {}),
      };
      if (now !== was) await this.#writeSideCar(path, written);
      this.#known.set(key, { fingerprint: current, info: written });
    }
    return { kind: "hit", path, info: entry };
  }

  /**
   * Whether a file in the state `stat` describes is this entry as it was last known good: the
   * stat (of the entry, or of a hard link to it in a folder) has the fingerprint recorded for
   * the entry, inode included. A folder asks it for files whose own record is stale only because
   * a link of the same entry into another folder changed their ctime since.
   *
   * @param sha256 The entry's key.
   * @param stat The file's stat, as it is now.
   * @returns False for an invalid key, an entry never recorded, or any other state.
   */
  async vouches(sha256: string, stat: FileStat): Promise<boolean> {
    const key = sha256.toLowerCase();
    if (!SHA256.test(key) || !stat.isFile) return false;
    const current = statFingerprint(stat);
    if (this.#known.get(key)?.fingerprint === current) return true;
    const info = await this.#readInfo(key, stat.size);
    return fingerprintHolds(info.fingerprint, stat) && info.recordedSize === stat.size;
  }

  /**
   * Records that an entry was just hard-linked into a folder. A link changes the file's ctime
   * (its link count), not its bytes, so the fingerprint recorded when the entry was last known
   * good is renewed, but only while its size, mtime and inode are still the recorded ones:
   * otherwise the next lookup hashes it, as it must. Without this, every warm run re-hashed
   * every file it linked (the previous run's links had changed their ctime).
   *
   * @param sha256 The entry's key.
   * @throws {CacheError} With code `invalid-key` when the key is not a sha256.
   */
  async linked(sha256: string): Promise<void> {
    const key = checkKey(sha256);
    const path = this.#entryPath(key);
    const stat = await this.#fs.stat(path).catch(() => undefined);
    if (stat === undefined || !stat.isFile) return;
    const mine = this.#known.get(key);
    let info: CacheEntryInfo;
    if (mine !== undefined) info = { ...mine.info, size: stat.size };
    else {
      const { recordedSize: _, ...read } = await this.#readInfo(key, stat.size);
      info = read;
    }
    const trusted = mine?.fingerprint ?? info.fingerprint;
    if (trusted === undefined) return;
    const [size, mtime, , ino] = trusted.split(":");
    if (
      size !== String(stat.size) || mtime !== String(stat.mtimeMs) ||
      ino !== String(stat.ino ?? "")
    ) return;
    const now = recordableFingerprint(stat, this.#now());
    if (now !== undefined && now !== info.fingerprint) {
      info.fingerprint = now;
      await this.#writeSideCar(path, info);
    }
    this.#known.set(key, { fingerprint: statFingerprint(stat), info });
  }

  /**
   * Stores bytes atomically and verified. Storing bytes that are already present (and intact)
   * changes nothing.
   *
   * @param source A file (optionally moved in), bytes, or a stream.
   * @param info Expected hash and descriptive facts.
   * @throws {CacheError} `hash-mismatch` when `info.sha256` differs from the bytes' hash,
   * `rename-failed` when publishing kept failing, `invalid-key`, or `io`.
   */
  async put(source: PutSource, info: PutInfo = {}): Promise<CacheEntryInfo> {
    const expected = info.sha256 === undefined ? undefined : checkKey(info.sha256);
    if (expected !== undefined) {
      const existing = await this.get(expected);
      if (existing.kind === "hit") {
        if ("path" in source && source.move) await this.#fs.rm(source.path).catch(() => {});
        await this.#catalogue(existing.info, info, true);
        return existing.info;
      }
    }
    const mismatch = (actual: string): CacheError =>
      new CacheError(
        "hash-mismatch",
        `Cannot store ${
          info.filename ?? "file"
        } in the cache: sha256 mismatch: expected ${expected}, got ${actual}` +
          (info.url === undefined ? "" : ` (from ${redactUrl(info.url)})`),
      );
    try {
      await this.#fs.mkdir(this.#archives(), { recursive: true });
      let written: { sha256: string; size: number };
      let staged: string;
      if ("path" in source && source.move) {
        written = source.hashed ?? await this.#hashFile(source.path);
        if (expected !== undefined && written.sha256 !== expected) {
          await this.#fs.rm(source.path).catch(() => {});
          throw mismatch(written.sha256);
        }
        staged = source.path;
      } else {
        // Staged in archives-v1/ (same file system as every shard), then renamed into its shard.
        const chunks = "bytes" in source
          ? source.bytes
          : "stream" in source
          ? source.stream
          : this.#fs.read(source.path);
        const temp = await writeTemp(this.#archives(), "put", chunks, this.#atomic());
        staged = temp.path;
        written = temp;
        if (expected !== undefined && written.sha256 !== expected) {
          await this.#fs.rm(staged).catch(() => {});
          throw mismatch(written.sha256);
        }
      }
      const key = written.sha256;
      const path = this.#entryPath(key);
      const entry: CacheEntryInfo = { sha256: key, size: written.size, addedMs: this.#now() };
      if (info.filename !== undefined) entry.filename = info.filename;
      const project = projectOf(info);
      if (project !== undefined) entry.project = project;
      if (info.url !== undefined) entry.url = redactUrl(info.url);
      const moved = "path" in source && source.move === true;
      // The rename keeps the staged file's modification time: recording it lets later lookups
      // skip re-hashing an entry nobody has touched (verify: "changed").
      try {
        entry.mtimeMs = (await this.#fs.stat(staged)).mtimeMs;
      } catch { /* without it, "changed" lookups hash the bytes */ }
      try {
        // Side-car first: a crash between the two leaves an orphan side-car (pruned), never an
        // entry that points at nothing. Writing it also creates the shard directory.
        // The side-car is advisory (an entry without a readable one is still valid, and its
        // mtime check only ever leads to re-hashing), so it is not flushed: one fsync less per file.
        // Later rewrites (the fingerprint) are in place: this is the entry's one new inode.
        await writeAtomic(
          `${path}.json`,
          new TextEncoder().encode(JSON.stringify(entry)),
          { ...this.#atomic(), sync: false },
        );
        await renameWithRetry(
          staged,
          path,
          this.#atomic(),
          async () => (await this.get(key)).kind === "hit",
        );
      } catch (e) {
        const exdev = e instanceof CacheError && errorCode(e.cause) === "EXDEV";
        if (!exdev) {
          // A downloaded file that could not be moved stays where it is; our own temp goes.
          if (!moved) await this.#fs.rm(staged).catch(() => {});
          throw e;
        }
        // A moved file on another file system: copy it in, then drop the original.
        await writeAtomic(path, this.#fs.read(staged), this.#atomic());
        await this.#fs.rm(staged).catch(() => {});
      }
      // Publishing changed the file's ctime: record the fingerprint it has now.
      const published = await this.#fs.stat(path).catch(() => undefined);
      const fingerprint = published && recordableFingerprint(published, this.#now());
      if (fingerprint !== undefined) {
        entry.fingerprint = fingerprint;
        await this.#writeSideCar(path, entry);
      }
      if (published !== undefined) {
        this.#known.set(key, { fingerprint: statFingerprint(published), info: { ...entry } });
      }
      // After the archive: a crash in between leaves an archive without a catalogue line, which
      // the next put or obtain of it (or `prune`) writes; never a line without an archive.
      await this.#catalogue(entry, info, false);
      return entry;
    } catch (e) {
      if (e instanceof CacheError) throw e;
      throw new CacheError(
        "io",
        `Cannot store ${info.filename ?? "file"} in the cache at ${this.#root}: ${String(e)}`,
        {
          cause: e,
        },
      );
    }
  }

  /**
   * Removes an entry and its side-car.
   *
   * @param sha256 The key.
   * @returns True when the entry was present.
   * @throws {CacheError} With code `invalid-key` when the key is not a sha256.
   */
  async delete(sha256: string): Promise<boolean> {
    const path = this.#entryPath(checkKey(sha256));
    this.#known.delete(sha256.toLowerCase());
    const { project } = await this.#readInfo(sha256.toLowerCase(), 0);
    if (project !== undefined) {
      await this.#fs.rm(join(this.#catalogueDir(project), `${sha256.toLowerCase()}.json`))
        .catch(() => {});
    }
    let present = true;
    try {
      await this.#fs.unlink(path);
    } catch (e) {
      if (!isNotFound(e)) {
        throw new CacheError("io", `Cannot delete cache entry ${sha256}: ${String(e)}`, {
          cause: e,
        });
      }
      present = false;
    }
    await this.#fs.rm(`${path}.json`).catch(() => {});
    return present;
  }

  /**
   * Writes an archive's catalogue line, best effort (a lost one is written again by the next put
   * or obtain of the file, or by `prune`). With `onlyIfMissing`, an existing line is kept unless
   * the new facts add an origin or a Requires-Python it lacks.
   */
  /**
   * Catalogue bookkeeping, a few files at a time: a warm run of 400 projects touches 400 lines
   * and pages at once, which must not hold 400 open files (EMFILE under `ulimit -n 256`).
   */
  async #bounded<T>(task: () => Promise<T>): Promise<T> {
    if (this.#booking >= MAX_FILES_HASHED) {
      await new Promise<void>((resolve) => this.#bookQueue.push(resolve));
    } else this.#booking++;
    try {
      return await task();
    } finally {
      const next = this.#bookQueue.shift();
      if (next !== undefined) next();
      else this.#booking--;
    }
  }

  #catalogue(
    entry: CacheEntryInfo,
    info: {
      filename?: string;
      project?: string;
      url?: string;
      origin?: string;
      requiresPython?: string;
    },
    onlyIfMissing: boolean,
  ): Promise<void> {
    return this.#bounded(() => this.#catalogueNow(entry, info, onlyIfMissing));
  }

  async #catalogueNow(
    entry: CacheEntryInfo,
    info: {
      filename?: string;
      project?: string;
      url?: string;
      origin?: string;
      requiresPython?: string;
    },
    onlyIfMissing: boolean,
  ): Promise<void> {
    const filename = info.filename ?? entry.filename;
    const project = info.project !== undefined
      ? normalizeName(info.project)
      : entry.project ?? (filename === undefined ? undefined : projectOf({ filename }));
    if (filename === undefined || project === undefined || !isValidName(project)) return;
    const path = join(this.#catalogueDir(project), `${entry.sha256}.json`);
    if (onlyIfMissing && info.origin === undefined && info.requiresPython === undefined) {
      if (await this.#fs.stat(path).then(() => true, () => false)) return;
    }
    const line: CatalogueEntry = { project, filename, sha256: entry.sha256, size: entry.size };
    const url = info.url ?? entry.url;
    if (url !== undefined) line.url = redactUrl(url);
    if (info.origin !== undefined) line.origin = redactUrl(info.origin);
    if (info.requiresPython !== undefined) line.requiresPython = info.requiresPython;
    if (onlyIfMissing) {
      const old = await this.#readCatalogueLine(path);
      if (old !== undefined) {
        if (
          (info.origin === undefined || old.origin !== undefined) &&
          (info.requiresPython === undefined || old.requiresPython !== undefined)
        ) return;
        line.origin ??= old.origin!;
        if (line.origin === undefined) delete line.origin;
        line.requiresPython ??= old.requiresPython!;
        if (line.requiresPython === undefined) delete line.requiresPython;
      }
    }
    line.addedMs = this.#now();
    await this.#fs.mkdir(this.#catalogueDir(project), { recursive: true })
      .then(() =>
        writeAtomic(path, new TextEncoder().encode(JSON.stringify(line)), {
          ...this.#atomic(),
          sync: false,
        })
      )
      .catch(() => {});
  }

  async #readCatalogueLine(path: string): Promise<CatalogueEntry | undefined> {
    try {
      const raw = JSON.parse(new TextDecoder().decode(await this.#fs.readFile(path))) as Record<
        string,
        unknown
      >;
      if (
        typeof raw.project !== "string" || typeof raw.filename !== "string" ||
        typeof raw.sha256 !== "string" || !SHA256.test(raw.sha256) || typeof raw.size !== "number"
      ) return undefined;
      const line: CatalogueEntry = {
        project: raw.project,
        filename: raw.filename,
        sha256: raw.sha256,
        size: raw.size,
      };
      for (const k of ["url", "origin", "requiresPython"] as const) {
        if (typeof raw[k] === "string") line[k] = raw[k] as string;
      }
      if (typeof raw.addedMs === "number") line.addedMs = raw.addedMs;
      return line;
    } catch {
      return undefined;
    }
  }

  /**
   * Builds the catalogue once for a cache written before it existed, from the archives'
   * side-cars; a marker file says it is done (a crash midway means it runs again).
   */
  async #ensureCatalogue(): Promise<void> {
    const marker = join(this.#catalogueDir(), ".complete");
    if (await this.#fs.stat(marker).then(() => true, () => false)) return;
    for (const entry of await this.list()) await this.#catalogue(entry, {}, true);
    await this.#fs.mkdir(this.#catalogueDir(), { recursive: true })
      .then(() => writeAtomic(marker, new Uint8Array(), { ...this.#atomic(), sync: false }))
      .catch(() => {});
  }

  /**
   * What the cache holds for a project: each archive present under the project's name (from any
   * index, folder, path or URL it came from), and the indexes whose page of it is kept. Lines
   * whose archive is gone are left out. The catalogue is small (one line per archive, by
   * project), so this reads one folder, not the whole cache.
   *
   * @param project A project name (any spelling).
   * @returns The project's catalogue; empty lists when the cache holds nothing of it.
   * @example
   * ```ts
   * import { LocalDirStore } from "./local_dir_store.ts";
   * const root = await Deno.makeTempDir();
   * const store = new LocalDirStore(root);
   * await store.put({ bytes: new Uint8Array([1, 2]) }, { filename: "my_pkg-0.1-py3-none-any.whl" });
   * const got = await store.catalogue("My.Pkg");
   * await Deno.remove(root, { recursive: true });
   * if (got.files[0]?.filename !== "my_pkg-0.1-py3-none-any.whl") throw new Error("listed");
   * ```
   */
  async catalogue(project: string): Promise<ProjectCatalogue> {
    const name = normalizeName(project);
    const out: ProjectCatalogue = { project: name, files: [], pages: [] };
    if (!isValidName(project)) return out;
    await this.#ensureCatalogue();
    const dir = this.#catalogueDir(name);
    for (const file of (await this.#readdir(dir)).sort()) {
      if (file.startsWith("page-") && file.endsWith(".json")) {
        try {
          const raw = JSON.parse(
            new TextDecoder().decode(await this.#fs.readFile(join(dir, file))),
          ) as { index?: unknown };
          if (typeof raw.index === "string") out.pages.push(raw.index);
        } catch { /* a torn or foreign file is no page */ }
        continue;
      }
      if (!file.endsWith(".json") || !SHA256.test(file.slice(0, -5))) continue;
      const line = await this.#readCatalogueLine(join(dir, file));
      if (line === undefined || line.sha256 !== file.slice(0, -5)) continue;
      if (await this.has(line.sha256)) out.files.push(line);
    }
    out.files.sort(byFilename);
    out.pages.sort();
    return out;
  }

  /**
   * The projects the catalogue names (some may have no archive left; {@linkcode catalogue}
   * says).
   *
   * @returns Normalised names, sorted.
   */
  async catalogueProjects(): Promise<string[]> {
    await this.#ensureCatalogue();
    return (await this.#readdir(this.#catalogueDir())).filter((n) => isValidName(n)).sort();
  }

  /**
   * Records that an index's page of a project is kept, so an offline run that names another
   * index can say which one to name. Best effort; the URL is stored redacted.
   *
   * @param project A project name.
   * @param index The index URL.
   */
  recordPage(project: string, index: string): Promise<void> {
    return this.#bounded(() => this.#recordPageNow(project, index));
  }

  async #recordPageNow(project: string, index: string): Promise<void> {
    if (!isValidName(project)) return;
    const name = normalizeName(project);
    const redacted = redactUrl(index);
    const path = join(this.#catalogueDir(name), `page-${sha256Hex(redacted).slice(0, 16)}.json`);
    if (await this.#fs.stat(path).then(() => true, () => false)) return;
    await this.#fs.mkdir(this.#catalogueDir(name), { recursive: true })
      .then(() =>
        writeAtomic(path, new TextEncoder().encode(JSON.stringify({ index: redacted })), {
          ...this.#atomic(),
          sync: false,
        })
      )
      .catch(() => {});
  }

  async #readdir(path: string): Promise<string[]> {
    try {
      return await this.#fs.readdir(path);
    } catch (e) {
      if (isNotFound(e) || errorCode(e) === "ENOTDIR") return [];
      throw e;
    }
  }

  /** Every entry of the archive cache, with its side-car facts. */
  async list(): Promise<CacheEntryInfo[]> {
    const out: CacheEntryInfo[] = [];
    for (const shard of await this.#readdir(this.#archives())) {
      if (!SHARD.test(shard)) continue;
      for (const name of await this.#readdir(join(this.#archives(), shard))) {
        if (!SHA256.test(name) || !name.startsWith(shard)) continue;
        try {
          const st = await this.#fs.stat(join(this.#archives(), shard, name));
          out.push(await this.#readInfo(name, st.size));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    return out;
  }

  /**
   * Removes what no reader needs: temp files and orphan side-cars older than the stale age,
   * partial downloads older than theirs, and with `verify` every corrupt entry.
   *
   * @param options `verify: true` hashes every entry.
   */
  async prune(options: { verify?: boolean } = {}): Promise<PruneReport> {
    const report: PruneReport = { removedFiles: 0, freedBytes: 0 };
    const now = this.#now();
    const remove = async (path: string, size: number): Promise<void> => {
      await this.#fs.rm(path);
      report.removedFiles++;
      report.freedBytes += size;
    };
    const sweepTemps = async (dir: string, names: string[]): Promise<void> => {
      for (const name of names) {
        if (!name.startsWith(TEMP_PREFIX)) continue;
        const path = join(dir, name);
        const st = await this.#fs.stat(path).catch(() => undefined);
        // A young temp file may belong to a live writer in another process.
        if (st?.isFile && now - st.mtimeMs > this.#staleTempMs) await remove(path, st.size);
      }
    };
    for (const top of [this.#archives(), this.#httpDir()]) {
      await sweepTemps(top, await this.#readdir(top));
      for (const shard of await this.#readdir(top)) {
        if (!SHARD.test(shard)) continue;
        const dir = join(top, shard);
        const names = await this.#readdir(dir);
        await sweepTemps(dir, names);
        if (top !== this.#archives()) continue;
        const present = new Set(names);
        for (const name of names) {
          const path = join(dir, name);
          if (name.endsWith(".json") && !present.has(name.slice(0, -5))) {
            const st = await this.#fs.stat(path).catch(() => undefined);
            if (st && now - st.mtimeMs > this.#staleTempMs) await remove(path, st.size);
          } else if (options.verify && SHA256.test(name)) {
            const lookup = await this.get(name, { verify: true });
            if (lookup.kind === "miss" && lookup.reason === "corrupt") report.removedFiles++;
          }
        }
      }
    }
    await this.#prunePartials(now, remove);
    await this.#pruneCatalogue(now, remove);
    return report;
  }

  /** Drops catalogue lines whose archive is gone and stale temp files; writes missing lines. */
  async #pruneCatalogue(
    now: number,
    remove: (path: string, size: number) => Promise<void>,
  ): Promise<void> {
    for (const project of await this.#readdir(this.#catalogueDir())) {
      const dir = this.#catalogueDir(project);
      for (const name of await this.#readdir(dir)) {
        const path = join(dir, name);
        const st = await this.#fs.stat(path).catch(() => undefined);
        if (st === undefined || !st.isFile) continue;
        if (name.startsWith(TEMP_PREFIX)) {
          if (now - st.mtimeMs > this.#staleTempMs) await remove(path, st.size);
        } else if (SHA256.test(name.slice(0, -5)) && !(await this.has(name.slice(0, -5)))) {
          // Bookkeeping of an archive already gone (and counted): not a file of its own.
          await this.#fs.rm(path).catch(() => {});
        }
      }
    }
    for (const entry of await this.list()) await this.#catalogue(entry, {}, true);
  }

  /**
   * Removes the partial downloads nobody is writing: locks and partial files of processes that no
   * longer run (kill -9), private partials of dead processes, and anything past the stale age.
   * A partial whose lock's owner runs (or, on another host, whose lock is young) is kept.
   */
  async #prunePartials(
    now: number,
    remove: (path: string, size: number) => Promise<void>,
  ): Promise<void> {
    const dir = this.partialDir;
    const names = await this.#readdir(dir);
    const held = new Set<string>();
    for (const name of names) {
      if (!name.endsWith(".part.lock")) continue;
      const path = join(dir, name);
      const text = await this.#fs.readFile(path).then((b) => new TextDecoder().decode(b), () => "");
      const owner = parseOwner(text);
      const alive = owner === undefined ? undefined : this.#ownerAlive(owner);
      const st = await this.#fs.stat(path).catch(() => undefined);
      if (st === undefined) continue;
      if (alive === true || (alive === undefined && now - st.mtimeMs <= this.#staleTempMs)) {
        held.add(name.slice(0, -".lock".length));
      } else await remove(path, st.size);
    }
    const here = thisOwner().host;
    for (const name of names) {
      if (name.endsWith(".part.lock")) continue;
      const path = join(dir, name);
      const st = await this.#fs.stat(path).catch(() => undefined);
      if (!st?.isFile) continue;
      const base = name.endsWith(".json") ? name.slice(0, -".json".length) : name;
      const pid = privatePartialPid(base);
      const abandoned = base.endsWith(".part")
        ? !held.has(base)
        : pid !== undefined
        ? this.#ownerAlive({ pid, host: here }) === false
        : false;
      if (abandoned || now - st.mtimeMs > this.#stalePartialMs) await remove(path, st.size);
    }
  }

  /**
   * Empties the cache, or with `project` removes only that project's files and index pages.
   *
   * A cached index page belongs to a project when the last segment of its URL path is the
   * project (PEP 503 `…/<project>/`); cached metadata (`metadata:<file url>`) when its file name
   * is one of the project's distributions. Other segments (`simple`, the host) never match.
   *
   * @param project A project name (any spelling; it is normalised).
   * @returns What was removed.
   * @throws {CacheError} With code `invalid-key` when `project` is not a valid project name.
   */
  async clean(project?: string): Promise<PruneReport> {
    const report: PruneReport = { removedFiles: 0, freedBytes: 0 };
    if (project === undefined) {
      const stats = await this.stats();
      for (
        const dir of [this.#archives(), this.#httpDir(), this.partialDir, this.#catalogueDir()]
      ) {
        await this.#fs.rm(dir, { recursive: true });
      }
      report.removedFiles = stats.entries + stats.httpEntries + stats.partialFiles;
      report.freedBytes = stats.bytes + stats.httpBytes + stats.partialBytes;
      return report;
    }
    if (!isValidName(project)) {
      throw new CacheError(
        "invalid-key",
        `Cannot clean "${project}" from the cache: not a valid project name ` +
          `(letters, digits, and ".", "_", "-" between them)`,
      );
    }
    const wanted = normalizeName(project);
    await this.#fs.rm(this.#catalogueDir(wanted), { recursive: true }).catch(() => {});
    for (const entry of await this.list()) {
      if (entry.project === wanted && await this.delete(entry.sha256)) {
        report.removedFiles++;
        report.freedBytes += entry.size;
      }
    }
    for (const { path, key, size } of await this.#httpFiles()) {
      if (key === undefined || !httpKeyBelongsTo(key, wanted)) continue;
      await this.#fs.rm(path);
      report.removedFiles++;
      report.freedBytes += size;
    }
    return report;
  }

  async #httpFiles(): Promise<{ path: string; key: string | undefined; size: number }[]> {
    const out: { path: string; key: string | undefined; size: number }[] = [];
    for (const shard of await this.#readdir(this.#httpDir())) {
      if (!SHARD.test(shard)) continue;
      for (const name of await this.#readdir(join(this.#httpDir(), shard))) {
        if (!SHA256.test(name)) continue;
        const path = join(this.#httpDir(), shard, name);
        try {
          const bytes = await this.#fs.readFile(path);
          out.push({ path, key: decodeHttp(bytes)?.key, size: bytes.length });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    return out;
  }

  /** Counts and sizes of entries, index pages and partial downloads. */
  async stats(): Promise<CacheStats> {
    const entries = await this.list();
    const http = await this.#httpFiles();
    let partialFiles = 0;
    let partialBytes = 0;
    for (const name of await this.#readdir(this.partialDir)) {
      const st = await this.#fs.stat(join(this.partialDir, name)).catch(() => undefined);
      if (st?.isFile) {
        partialFiles++;
        partialBytes += st.size;
      }
    }
    return {
      root: this.#root,
      entries: entries.length,
      bytes: entries.reduce((n, e) => n + e.size, 0),
      httpEntries: http.length,
      httpBytes: http.reduce((n, e) => n + e.size, 0),
      partialFiles,
      partialBytes,
    };
  }

  /**
   * Returns the cached file for `request`, downloading it into the cache first when it is absent
   * or corrupt. Concurrent calls for one URL share one download.
   *
   * @param strategy The fetcher (give it `partialDir: store.partialDir` so downloads resume).
   * @param request URL, expected hash and facts.
   * @param options Cancellation.
   * @throws {FetchError} When the download fails.
   * @throws {CacheError} When the bytes cannot be stored.
   */
  obtain(
    strategy: FetchStrategy,
    request: ObtainRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<ObtainResult> {
    const key = request.url;
    const running = this.#obtaining.get(key);
    if (running) return running;
    const promise = this.#obtain(strategy, request, options.signal).finally(() =>
      this.#obtaining.delete(key)
    );
    this.#obtaining.set(key, promise);
    return promise;
  }

  /**
   * A download of this URL that finished and was verified by an earlier run but could not be
   * published (a rename an antivirus kept refusing, a kill between the two steps) is published
   * now, after hashing it again, instead of being fetched again (uv#1491).
   */
  async #publishFinished(
    request: ObtainRequest,
    sha256: string,
    fresh: boolean,
  ): Promise<ObtainResult | undefined> {
    const prefix = `${sha256Hex(request.url).slice(0, 32)}.`;
    // Before waiting for other processes, the finished files of earlier runs are those the
    // partial area held when this store first looked: one listing per run, not one per file (a
    // listing per lookup held hundreds of open folders in a 400-file run: EMFILE). After a wait,
    // the other process's file is new: the folder is listed again.
    const names = fresh
      ? await this.#fewAtATime(() => this.#readdir(this.partialDir))
      : await (this.#leftovers ??= this.#fewAtATime(() => this.#readdir(this.partialDir))
        .then((all) => all.filter((n) => n.endsWith(".done"))));
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith(".done")) continue;
      const path = join(this.partialDir, name);
      let hashed;
      try {
        hashed = await this.#hashFile(path);
      } catch {
        continue; // Gone already: another process published it.
      }
      if (hashed.sha256 !== sha256) {
        await this.#fs.rm(path).catch(() => {});
        continue;
      }
      const info: PutInfo = { sha256, url: request.url };
      if (request.filename !== undefined) info.filename = request.filename;
      if (request.project !== undefined) info.project = request.project;
      try {
        const entry = await this.put({ path, move: true, hashed }, info);
        return { ...entry, path: this.#entryPath(entry.sha256), fetched: false };
      } catch (e) {
        // Still not publishable: the error says why, and the finished file stays for next time.
        if (e instanceof CacheError && e.code === "rename-failed") throw e;
      }
    }
    return undefined;
  }

  async #obtain(
    strategy: FetchStrategy,
    request: ObtainRequest,
    signal: AbortSignal | undefined,
  ): Promise<ObtainResult> {
    let repaired = false;
    if (request.sha256 !== undefined) {
      const found = await this.get(request.sha256, { verify: "changed" });
      if (found.kind === "hit") {
        await this.#catalogue(found.info, request, true);
        return { ...found.info, path: found.path, fetched: false };
      }
      repaired = found.reason === "corrupt";
      const finished = await this.#publishFinished(request, request.sha256.toLowerCase(), false);
      if (finished !== undefined) return finished;
      // Another process sharing this cache may be downloading it right now: wait for its
      // publish rather than transferring the same file a second time.
      if (strategy.waitForOthers !== undefined) {
        for (let round = 0;; round++) {
          await strategy.waitForOthers(request.url, signal === undefined ? {} : { signal });
          const theirs = await this.#lookAgain(request, request.sha256);
          if (theirs !== undefined) return theirs;
          try {
            // Busy means another process took the lock since we looked: wait for it again.
            // Satisfied means one finished the file between our last look and our taking the
            // lock: the next round finds it. Twenty rounds at most (a finished file that
            // cannot be published must not hold us for ever).
            return await this.#fetchAndPut(strategy, request, signal, repaired, round < 20);
          } catch (e) {
            if (!(e instanceof FetchError && (e.code === "busy" || e.code === "satisfied"))) {
              throw e;
            }
          }
        }
      }
    }
    return await this.#fetchAndPut(strategy, request, signal, repaired, false);
  }

  /**
   * Looks for a file another process sharing this cache may have finished since our last look:
   * in the cache, or (for a moment after its transfer lock went, before it moves it in) as its
   * finished file in the partial area, which is then published here rather than fetched again
   * (whichever of the two moves it first, the other finds the entry). A lookup after the listing
   * cannot miss the file moving into the cache between our first lookup and our listing. Asked
   * after a wait for the other's lock, and again once this process holds the lock itself.
   */
  async #lookAgain(request: ObtainRequest, sha256: string): Promise<ObtainResult | undefined> {
    const inCache = async (): Promise<ObtainResult | undefined> => {
      const hit = await this.get(sha256, { verify: "changed" });
      return hit.kind === "hit" ? { ...hit.info, path: hit.path, fetched: false } : undefined;
    };
    return await inCache() ??
      await this.#publishFinished(request, sha256.toLowerCase(), true) ??
      await inCache();
  }

  /** Transfers a file into the partial area and publishes it in the cache. */
  async #fetchAndPut(
    strategy: FetchStrategy,
    request: ObtainRequest,
    signal: AbortSignal | undefined,
    repaired: boolean,
    failIfBusy: boolean,
  ): Promise<ObtainResult> {
    // A name of its own per call: two processes fetching one URL must never move each other's
    // file into the cache under their own hash (the partial file, by URL, is what resumes).
    const destination = join(
      this.partialDir,
      `${sha256Hex(request.url).slice(0, 32)}.${
        Math.floor(this.#random() * 2 ** 48).toString(36)
      }.done`,
    );
    const result = await strategy.fetch(
      {
        url: request.url,
        destination,
        ...(request.sha256 === undefined ? {} : { sha256: request.sha256.toLowerCase() }),
        ...(request.size === undefined ? {} : { size: request.size }),
        ...(request.headers === undefined ? {} : { headers: request.headers }),
        ...(failIfBusy
          ? {
            failIfBusy,
            stillNeeded: async () =>
              (await this.#lookAgain(request, request.sha256!)) === undefined,
          }
          : {}),
      },
      signal === undefined ? {} : { signal },
    );
    const info: PutInfo = { sha256: result.sha256, url: request.url };
    if (request.filename !== undefined) info.filename = request.filename;
    if (request.project !== undefined) info.project = request.project;
    if (request.origin !== undefined) info.origin = request.origin;
    if (request.requiresPython !== undefined) info.requiresPython = request.requiresPython;
    // The fetcher hashed the bytes as it wrote them: no second read.
    const entry = await this.put({
      path: destination,
      move: true,
      hashed: { sha256: result.sha256, size: result.size },
    }, info);
    return {
      ...entry,
      path: this.#entryPath(entry.sha256),
      fetched: true,
      ...(repaired ? { repaired } : {}),
    };
  }

  async #httpGet(key: string): Promise<HttpCacheEntry | undefined> {
    const path = join(this.#httpDir(), ...shardOf(sha256Hex(key)));
    let bytes: Uint8Array;
    try {
      // A few at a time: a resolution asks for hundreds of pages and metadata files at once.
      bytes = await this.#fewAtATime(() => this.#fs.readFile(path));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new CacheError("io", `Cannot read cached page for "${redactUrl(key)}": ${String(e)}`, {
        cause: e,
      });
    }
    const decoded = decodeHttp(bytes);
    if (decoded === undefined || decoded.key !== key) {
      await this.#fs.rm(path).catch(() => {});
      return undefined;
    }
    return { body: decoded.body, meta: decoded.meta };
  }

  // Pages and metadata are a cache of the index: a torn one fails to decode and is fetched again,
  // so they are not flushed to disk (an fsync per page dominated runs with many small projects).
  async #httpPut(key: string, entry: HttpCacheEntry): Promise<void> {
    const path = join(this.#httpDir(), ...shardOf(sha256Hex(key)));
    try {
      await writeAtomic(path, encodeHttp(key, entry), { ...this.#atomic(), sync: false });
    } catch (e) {
      if (e instanceof CacheError) throw e;
      throw new CacheError("io", `Cannot store cached page for "${redactUrl(key)}": ${String(e)}`, {
        cause: e,
      });
    }
  }

  async #httpDelete(key: string): Promise<boolean> {
    const path = join(this.#httpDir(), ...shardOf(sha256Hex(key)));
    try {
      await this.#fs.unlink(path);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw new CacheError(
        "io",
        `Cannot delete cached page for "${redactUrl(key)}": ${String(e)}`,
        { cause: e },
      );
    }
  }
}

const URL_IN_KEY = /[a-z][a-z0-9+.-]*:\/\/.*$/is;

/**
 * Whether a cached HTTP entry belongs to the (normalised) project `wanted`. Keys are
 * `metadata:<file url>` for core metadata, else a page URL, possibly behind a prefix such as
 * `page:<format>:`; only the page's last path segment names its project (PEP 503), so the
 * index's own segments (`simple`, `pypi`, the host and port) never match a project.
 */
function httpKeyBelongsTo(key: string, wanted: string): boolean {
  const url = URL_IN_KEY.exec(key)?.[0];
  if (url === undefined) return false;
  let last: string | undefined;
  try {
    last = new URL(url).pathname.split("/").filter((s) => s !== "").at(-1);
    if (last === undefined) return false;
    last = decodeURIComponent(last);
  } catch {
    return false;
  }
  if (!key.startsWith("metadata:")) return normalizeName(last) === wanted;
  try {
    // With the project given, a legacy sdist name containing `-` splits where pip splits it.
    return parseDistFilename(last, wanted).normalizedName === wanted;
  } catch {
    return false;
  }
}

function shardOf(hex: string): [string, string] {
  return [hex.slice(0, 2), hex];
}

function encodeHttp(key: string, entry: HttpCacheEntry): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ key, meta: entry.meta ?? null }),
  );
  const out = new Uint8Array(HTTP_MAGIC.length + 4 + header.length + entry.body.length);
  out.set(HTTP_MAGIC, 0);
  new DataView(out.buffer).setUint32(HTTP_MAGIC.length, header.length);
  out.set(header, HTTP_MAGIC.length + 4);
  out.set(entry.body, HTTP_MAGIC.length + 4 + header.length);
  return out;
}

function decodeHttp(
  bytes: Uint8Array,
): { key: string; meta: unknown; body: Uint8Array } | undefined {
  if (bytes.length < HTTP_MAGIC.length + 4) return undefined;
  if (HTTP_MAGIC.some((b, i) => bytes[i] !== b)) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    HTTP_MAGIC.length,
  );
  const start = HTTP_MAGIC.length + 4;
  if (length > MAX_HTTP_HEADER || start + length > bytes.length) return undefined;
  try {
    const header: unknown = JSON.parse(
      new TextDecoder().decode(bytes.subarray(start, start + length)),
    );
    if (
      typeof header !== "object" || header === null || !("key" in header) ||
      typeof header.key !== "string"
    ) {
      return undefined;
    }
    return {
      key: header.key,
      meta: "meta" in header ? header.meta : null,
      body: bytes.slice(start + length),
    };
  } catch {
    return undefined;
  }
}
