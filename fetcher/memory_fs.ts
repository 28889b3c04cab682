/**
 * An in-memory {@linkcode FileSystem} for tests, able to inject faults: a "crash" at step N
 * (that operation and every later one throws, as if the process died there, leaving the disk as
 * it was), and transient errors such as `EBUSY` on chosen operations. Several views can share one
 * disk, to model processes that share a cache.
 *
 * @module
 */

import { posix } from "node:path";
import type { FileStat, FileSystem, WritableFile } from "./types.ts";

/** An error with a Node-style `code`, like the ones `node:fs` throws. */
export class FsError extends Error {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "FsError";
  /** `ENOENT`, `EEXIST`, `EBUSY`, ... */
  readonly code: string;
  /**
   * Builds the error; the message reads like Node's (`ENOENT: open '/a'`).
   *
   * @param code Node-style error code.
   * @param op The operation that failed.
   * @param path The path it failed on.
   */
  constructor(code: string, op: string, path: string) {
    super(`${code}: ${op} '${path}'`);
    this.code = code;
  }
}

/** Inode numbers handed out to new files, across every disk (only their equality matters). */
let inodes = 0;

/** Thrown by every operation at and after the crash step of a {@linkcode MemoryFs}. */
export class CrashError extends Error {
  /** The error class name, so tests can tell a simulated crash from a real failure. */
  override name = "CrashError";
}

/** The shared disk behind one or more {@linkcode MemoryFs} views. */
export interface MemoryDisk {
  /** File contents, times and inode numbers, keyed by absolute POSIX path (links share one). */
  files: Map<string, { data: Uint8Array; mtimeMs: number; ctimeMs?: number; ino?: number }>;
  /** Directories that exist, by absolute POSIX path; `/` always does. */
  dirs: Set<string>;
}

/** Options of a {@linkcode MemoryFs} view. */
export interface MemoryFsOptions {
  /** The disk to share; a fresh empty one when omitted. */
  disk?: MemoryDisk;
  /** The operation with this 0-based step number (and all after it) throws {@linkcode CrashError}. */
  crashAt?: number;
  /** Returns an error code to throw for this operation (a transient fault), or undefined. */
  fault?: (op: string, path: string, step: number) => string | undefined;
  /** Number of microtask turns to yield before operation `step`, to vary interleavings. */
  yields?: (step: number) => number;
  /** Clock for modification times. */
  now?: () => number;
  /**
   * Whether `stat` says ctime is exact (as Linux's multigrain timestamps make it): true only for
   * a clock that moves between any two operations, so every change gets a new ctime.
   */
  ctimeExact?: boolean;
}

/**
 * An in-memory, fault-injecting file system.
 *
 * @example
 * ```ts
 * import { CrashError, MemoryFs } from "./memory_fs.ts";
 * const fs = new MemoryFs({ crashAt: 2 });
 * await fs.mkdir("/c", { recursive: true }); // step 0
 * const f = await fs.open("/c/x", "w"); // step 1
 * let crashed = false;
 * try {
 *   await f.write(new Uint8Array([1])); // step 2: crash
 * } catch (e) {
 *   crashed = e instanceof CrashError;
 * }
 * if (!crashed || !fs.crashed) throw new Error();
 * const after = fs.restart();
 * if ((await after.stat("/c/x")).size !== 0) throw new Error();
 * ```
 */
export class MemoryFs implements FileSystem {
  /** The disk this view reads and writes. */
  readonly disk: MemoryDisk;
  #step = 0;
  #crashed = false;
  #options: MemoryFsOptions;

  /**
   * Creates a view of a new disk, or of `options.disk` to share one between views.
   *
   * @param options Disk to share and faults to inject.
   */
  constructor(options: MemoryFsOptions = {}) {
    this.#options = options;
    this.disk = options.disk ?? { files: new Map(), dirs: new Set(["/"]) };
  }

  /** Whether this view has crashed. */
  get crashed(): boolean {
    return this.#crashed;
  }

  /** Operations performed (or attempted) so far. */
  get steps(): number {
    return this.#step;
  }

  /**
   * A new view of the same disk without faults: the process "restarted".
   *
   * @param options Faults for the new view.
   */
  restart(options: Omit<MemoryFsOptions, "disk"> = {}): MemoryFs {
    return new MemoryFs({ ...options, disk: this.disk });
  }

  async #enter(op: string, path: string): Promise<string> {
    const step = this.#step++;
    const turns = this.#options.yields?.(step) ?? 0;
    for (let i = 0; i < turns; i++) await Promise.resolve();
    if (this.#crashed) throw new CrashError(`crashed before ${op} '${path}'`);
    if (this.#options.crashAt !== undefined && step >= this.#options.crashAt) {
      this.#crashed = true;
      throw new CrashError(`crash injected at step ${step}: ${op} '${path}'`);
    }
    const code = this.#options.fault?.(op, path, step);
    if (code !== undefined) throw new FsError(code, op, path);
    return posix.resolve("/", path);
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /** How many names the file has (hard links share one entry). */
  #links(entry: object): number {
    let n = 0;
    for (const other of this.disk.files.values()) if (other === entry) n++;
    return n;
  }

  /**
   * Takes one name of a file away. A file with names left records the change in its ctime (its
   * link count changed), as on POSIX.
   */
  #unname(path: string): boolean {
    const entry = this.disk.files.get(path);
    if (entry === undefined) return false;
    this.disk.files.delete(path);
    if (this.#links(entry) > 0) entry.ctimeMs = this.#now();
    return true;
  }

  #requireParent(op: string, path: string): void {
    if (!this.disk.dirs.has(posix.dirname(path))) throw new FsError("ENOENT", op, path);
  }

  async open(path: string, flags: "w" | "a" | "wx"): Promise<WritableFile> {
    const p = await this.#enter("open", path);
    this.#requireParent("open", p);
    if (this.disk.dirs.has(p)) throw new FsError("EISDIR", "open", p);
    const existing = this.disk.files.get(p);
    if (flags === "wx" && existing) throw new FsError("EEXIST", "open", p);
    if (flags === "w" && existing) {
      // O_TRUNC: the same inode, emptied (hard links to it see the change, as on POSIX).
      const now = this.#now();
      existing.data = new Uint8Array(0);
      existing.mtimeMs = now;
      existing.ctimeMs = now;
    } else if (flags !== "a" || !existing) {
      const now = this.#now();
      this.disk.files.set(p, {
        data: new Uint8Array(0),
        mtimeMs: now,
        ctimeMs: now,
        ino: ++inodes,
      });
    }
    let closed = false;
    return {
      write: async (data: Uint8Array): Promise<void> => {
        await this.#enter("write", p);
        if (closed) throw new FsError("EBADF", "write", p);
        const entry = this.disk.files.get(p);
        // Writing to an unlinked file succeeds but lands nowhere visible, as on POSIX.
        if (!entry) return;
        const next = new Uint8Array(entry.data.length + data.length);
        next.set(entry.data);
        next.set(data, entry.data.length);
        entry.data = next;
        entry.mtimeMs = this.#now();
        entry.ctimeMs = entry.mtimeMs;
      },
      sync: async (): Promise<void> => {
        await this.#enter("sync", p);
      },
      close: async (): Promise<void> => {
        await this.#enter("close", p);
        closed = true;
      },
    };
  }

  async *read(path: string, options?: { start?: number }): AsyncIterable<Uint8Array> {
    const p = await this.#enter("read", path);
    const entry = this.disk.files.get(p);
    if (!entry) throw new FsError("ENOENT", "read", p);
    const data = entry.data.slice(options?.start ?? 0);
    for (let i = 0; i < data.length; i += 4096) {
      if (i > 0) await this.#enter("read", path);
      yield data.slice(i, i + 4096);
    }
  }

  /** Reads a whole file; rejects with `ENOENT` when it is missing. */
  async readFile(path: string): Promise<Uint8Array> {
    const p = await this.#enter("readFile", path);
    const entry = this.disk.files.get(p);
    if (!entry) throw new FsError(this.disk.dirs.has(p) ? "EISDIR" : "ENOENT", "readFile", p);
    return entry.data.slice();
  }

  async stat(path: string): Promise<FileStat> {
    const p = await this.#enter("stat", path);
    const entry = this.disk.files.get(p);
    if (entry) {
      return {
        size: entry.data.length,
        isFile: true,
        isDirectory: false,
        mtimeMs: entry.mtimeMs,
        ctimeMs: entry.ctimeMs ?? entry.mtimeMs,
        ino: entry.ino ?? 0,
        nlink: this.#links(entry),
        ...(this.#options.ctimeExact === true ? { ctimeExact: true } : {}),
      };
    }
    if (this.disk.dirs.has(p)) return { size: 0, isFile: false, isDirectory: true, mtimeMs: 0 };
    throw new FsError("ENOENT", "stat", p);
  }

  async rename(from: string, to: string): Promise<void> {
    const a = await this.#enter("rename", from);
    const b = posix.resolve("/", to);
    const entry = this.disk.files.get(a);
    if (!entry) throw new FsError("ENOENT", "rename", a);
    this.#requireParent("rename", b);
    if (this.disk.dirs.has(b)) throw new FsError("EISDIR", "rename", b);
    this.disk.files.delete(a);
    if (this.disk.files.get(b) !== entry) this.#unname(b);
    entry.ctimeMs = this.#now();
    this.disk.files.set(b, entry);
  }

  async unlink(path: string): Promise<void> {
    const p = await this.#enter("unlink", path);
    if (!this.#unname(p)) throw new FsError("ENOENT", "unlink", p);
  }

  async rm(path: string, options?: { recursive?: boolean }): Promise<void> {
    const p = await this.#enter("rm", path);
    if (this.#unname(p)) return;
    if (!this.disk.dirs.has(p)) return;
    const prefix = p === "/" ? "/" : `${p}/`;
    const children = [...this.disk.files.keys(), ...this.disk.dirs].filter((k) =>
      k.startsWith(prefix)
    );
    if (children.length > 0 && !options?.recursive) throw new FsError("ENOTEMPTY", "rm", p);
    for (const k of children) {
      this.#unname(k);
      this.disk.dirs.delete(k);
    }
    if (p !== "/") this.disk.dirs.delete(p);
  }

  /** Creates a directory; with `recursive`, its parents too and no `EEXIST` when it exists. */
  async mkdir(path: string, options?: { recursive?: boolean }): Promise<void> {
    const p = await this.#enter("mkdir", path);
    if (this.disk.files.has(p)) throw new FsError("EEXIST", "mkdir", p);
    if (this.disk.dirs.has(p)) {
      if (options?.recursive) return;
      throw new FsError("EEXIST", "mkdir", p);
    }
    if (!options?.recursive) {
      this.#requireParent("mkdir", p);
      this.disk.dirs.add(p);
      return;
    }
    const missing: string[] = [];
    for (let d = p; !this.disk.dirs.has(d); d = posix.dirname(d)) {
      if (this.disk.files.has(d)) throw new FsError("ENOTDIR", "mkdir", d);
      missing.push(d);
    }
    for (const d of missing) this.disk.dirs.add(d);
  }

  async readdir(path: string): Promise<string[]> {
    const p = await this.#enter("readdir", path);
    if (!this.disk.dirs.has(p)) {
      throw new FsError(this.disk.files.has(p) ? "ENOTDIR" : "ENOENT", "readdir", p);
    }
    const names = new Set<string>();
    for (const k of [...this.disk.files.keys(), ...this.disk.dirs]) {
      if (k !== p && posix.dirname(k) === p) names.add(posix.basename(k));
    }
    return [...names].sort();
  }

  async link(existing: string, newPath: string): Promise<void> {
    const a = await this.#enter("link", existing);
    const b = posix.resolve("/", newPath);
    const entry = this.disk.files.get(a);
    if (!entry) throw new FsError("ENOENT", "link", a);
    this.#requireParent("link", b);
    if (this.disk.files.has(b) || this.disk.dirs.has(b)) throw new FsError("EEXIST", "link", b);
    // Shares the entry object, so it behaves like one inode with two names.
    entry.ctimeMs = this.#now();
    this.disk.files.set(b, entry);
  }

  /** Copies a file's bytes to a new path, replacing whatever is there. */
  async copyFile(from: string, to: string): Promise<void> {
    const a = await this.#enter("copyFile", from);
    const b = posix.resolve("/", to);
    const entry = this.disk.files.get(a);
    if (!entry) throw new FsError("ENOENT", "copyFile", a);
    this.#requireParent("copyFile", b);
    const now = this.#now();
    this.#unname(b);
    this.disk.files.set(b, { data: entry.data.slice(), mtimeMs: now, ctimeMs: now, ino: ++inodes });
  }
}
