// Atomic publication of files: write a temp file in the target directory, flush, rename.

import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import type { FileStat, FileSystem } from "../fetcher/types.ts";
import { CacheError } from "./types.ts";

/** Temp files start with this; nothing that starts with it is ever an entry. */
export const TEMP_PREFIX = ".tmp-";

/** Error codes of a rename that an antivirus or indexer holding a fresh file causes (uv#1491, uv#11159). */
const TRANSIENT = new Set(["EACCES", "EPERM", "EBUSY"]);

export function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

export function isNotFound(e: unknown): boolean {
  return errorCode(e) === "ENOENT";
}

export interface AtomicOptions {
  fs: FileSystem;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Renames tried before giving up. */
  renameAttempts?: number;
  /**
   * Flush the data to disk before the rename (default true). Off only for advisory files whose
   * loss or damage after a crash is detected and harmless (the cache's side-cars).
   */
  sync?: boolean;
}

export function tempName(target: string, random: () => number): string {
  const token = Math.floor(random() * 2 ** 48).toString(36).padStart(10, "0");
  return join(dirname(target), `${TEMP_PREFIX}${token}-${basename(target)}`);
}

/** Hashes a stream of bytes, returning the hex sha256 and the size. */
export async function hashStream(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

/**
 * Renames `from` onto `to`, retrying transient errors with exponential back-off. When the rename
 * keeps failing but `to` already holds acceptable content (another process won the race on a
 * platform where rename does not replace), `accept(to)` lets the caller call it a success.
 */
export async function renameWithRetry(
  from: string,
  to: string,
  options: AtomicOptions,
  accept?: (path: string) => Promise<boolean>,
): Promise<void> {
  const attempts = options.renameAttempts ?? 8;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      await options.fs.rename(from, to);
      return;
    } catch (e) {
      last = e;
      const code = errorCode(e);
      if (code === undefined || (!TRANSIENT.has(code) && code !== "EEXIST")) break;
      if (code === "EEXIST" && accept && await accept(to).catch(() => false)) {
        await options.fs.rm(from).catch(() => {});
        return;
      }
      if (i + 1 < attempts) {
        await options.sleep(Math.floor(10 * 2 ** i * (0.5 + options.random() / 2)));
      }
    }
  }
  if (accept && await accept(to).catch(() => false)) {
    await options.fs.rm(from).catch(() => {});
    return;
  }
  // `from` is left in place: the caller decides (a temp file is removed, a download is kept).
  const code = errorCode(last) ?? "error";
  const hint = TRANSIENT.has(code)
    ? "; another program (an antivirus or a file indexer) may be holding the file, try again or exclude the cache directory from scanning"
    : "";
  throw new CacheError(
    "rename-failed",
    `Cannot publish "${to}": rename failed with ${code} after ${attempts} attempts${hint}`,
    { cause: last },
  );
}

/**
 * Writes `chunks` to a new temp file in `dir` and flushes it; returns its path, hash and size.
 * The temp file is removed when writing fails.
 */
export async function writeTemp(
  dir: string,
  suffix: string,
  chunks: AsyncIterable<Uint8Array> | Uint8Array,
  options: AtomicOptions,
): Promise<{ path: string; sha256: string; size: number }> {
  const { fs } = options;
  const temp = tempName(join(dir, suffix), options.random);
  const hash = createHash("sha256");
  let size = 0;
  let file;
  try {
    file = await fs.open(temp, "wx");
  } catch (e) {
    // The folder usually exists: create it only when the open says it does not (one mkdir per
    // folder instead of one per file; many small files are a common case).
    if (!isNotFound(e)) throw e;
    await fs.mkdir(dir, { recursive: true });
    file = await fs.open(temp, "wx");
  }
  try {
    try {
      const source = chunks instanceof Uint8Array ? [chunks] : chunks;
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        await file.write(chunk);
      }
      if (options.sync ?? true) await file.sync();
    } finally {
      await file.close();
    }
  } catch (e) {
    await fs.rm(temp).catch(() => {});
    throw e;
  }
  return { path: temp, sha256: hash.digest("hex"), size };
}

/**
 * Writes `chunks` to a temp file beside `target`, flushes it, and renames it onto `target`.
 * Readers see either no file or the whole file. Returns the hash and size of what was written.
 */
export async function writeAtomic(
  target: string,
  chunks: AsyncIterable<Uint8Array> | Uint8Array,
  options: AtomicOptions & {
    /** Checked after writing and before publishing; throwing aborts the publish. */
    check?: (written: { sha256: string; size: number }) => void;
    accept?: (path: string) => Promise<boolean>;
  },
): Promise<{ sha256: string; size: number }> {
  const temp = await writeTemp(dirname(target), basename(target), chunks, options);
  try {
    const written = { sha256: temp.sha256, size: temp.size };
    options.check?.(written);
    await renameWithRetry(temp.path, target, options, options.accept);
    return written;
  } catch (e) {
    await options.fs.rm(temp.path).catch(() => {});
    throw e;
  }
}

/**
 * What identifies a file's state without reading it: size, mtime, ctime and inode, as git's
 * index does, and the link count. Any write, rename, link or `utime` changes it, so a byte
 * flipped under a restored mtime is seen. Two equal fingerprints mean "nobody touched it since".
 */
export function statFingerprint(st: FileStat): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs ?? ""}:${st.ino ?? ""}:${st.nlink ?? ""}`;
}

/**
 * Whether a file last known good with the fingerprint `recorded` still holds those bytes, as far
 * as its stat `st` tells: the fingerprint is the same, or only names of the file were removed
 * since. Removing a folder of hard links to cache entries changes each entry's ctime (its link
 * count) and none of its bytes, and nobody tells the cache: every later run hashed every entry
 * it linked again. So a changed ctime is taken for removed names when the link count fell and
 * size, mtime and inode are the recorded ones. (Links the cache makes itself are recorded as
 * they are made; a link count that grew behind its back is hashed.) What this cannot see: bytes
 * rewritten in place, with the old mtime put back on purpose, in the same interval as a name of
 * the file was removed (`verify` hashes everything). A record from before link counts were kept
 * holds only unchanged.
 */
export function fingerprintHolds(recorded: string | undefined, st: FileStat): boolean {
  if (recorded === undefined) return false;
  const now = statFingerprint(st);
  if (recorded === now) return true;
  const [size, mtime, ctime, ino, links] = recorded.split(":");
  const [size2, mtime2, ctime2, ino2, links2] = now.split(":");
  if (size !== size2 || mtime !== mtime2 || ino !== ino2 || ino === "" || ino === "0") return false;
  // An older record (four fields) of the same ctime: nothing changed.
  if (links === undefined) return ctime === ctime2;
  return ctime !== ctime2 && links !== "" && links2 !== "" && Number(links2) < Number(links);
}

/** How long a change after a fine (sub-second) but not exact ctime can leave it unchanged. */
const CLOCK_TICK_MS = 20;

/**
 * The fingerprint to record for a file just written or verified at `nowMs`, or undefined when it
 * cannot be trusted later. A later change of a file must change its fingerprint, so a ctime that
 * such a change could leave as it is makes a "racy" file (git's term): one with no fingerprint,
 * hashed next time. Where ctime is exact (Linux 6.13's multigrain timestamps) nothing is racy;
 * where it is fine but not exact, files changed within a tick of the kernel's coarse clock (at
 * most 10 ms, taken as 20) are; where it has whole seconds (Deno's `node:fs`), files changed in
 * the second are.
 */
export function recordableFingerprint(st: FileStat, nowMs: number): string | undefined {
  if (st.ctimeMs === undefined) return undefined;
  if (st.ctimeExact === true) return statFingerprint(st);
  const window = st.ctimeMs % 1000 === 0 ? 1000 : CLOCK_TICK_MS;
  if (nowMs < st.ctimeMs + window) return undefined;
  return statFingerprint(st);
}
