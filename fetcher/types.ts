/**
 * Boundary types of the fetcher module: {@linkcode FetchStrategy}, its requests and results, the
 * {@linkcode Reporter} for progress, the small {@linkcode FileSystem} interface the fetcher and the
 * cache write through, and {@linkcode FetchError}.
 *
 * @module
 */

import { redactUrl } from "./redact.ts";

/** One transfer: where from, where to, and what the bytes must hash to. */
export interface FetchRequest {
  /** `http:`, `https:` or `file:` URL. Credentials in it are never echoed in messages. */
  url: string;
  /** Final path of the file; it appears only once the bytes are complete and verified. */
  destination: string;
  /** Expected lowercase hex sha256 of the whole file (from the index); checked when given. */
  sha256?: string;
  /** Expected size in bytes; checked when given. */
  size?: number;
  /** Extra request headers (authorization is added by the caller). */
  headers?: Record<string, string>;
  /**
   * When another live process is transferring the same URL, fail with `busy` instead of
   * transferring it a second time (the caller waits with `waitForOthers` and looks again).
   */
  failIfBusy?: boolean;
  /**
   * Asked once this process holds the URL's partial lock, before any byte is requested: false
   * when the file is no longer needed (another process finished it between the caller's last
   * look and the lock), and the call fails with `satisfied` having transferred nothing.
   */
  stillNeeded?: () => Promise<boolean>;
}

/** What a completed transfer produced. */
export interface FetchResult {
  /** The (possibly redacted-free) URL as requested. */
  url: string;
  /** Path the bytes were published at. */
  path: string;
  /** Lowercase hex sha256 of the whole file. */
  sha256: string;
  /** Size of the file in bytes. */
  size: number;
  /** Bytes that an earlier, interrupted transfer had already kept and that were not sent again. */
  resumedBytes: number;
  /** Number of requests made (1 when the first one succeeded). */
  attempts: number;
}

/** Per-call options for {@linkcode FetchStrategy.fetch}. */
export interface FetchCallOptions {
  /** Cancels the transfer; the partial file is kept so a later run can resume it. */
  signal?: AbortSignal;
}

/** Moves bytes from a URL to a file, verified. */
export interface FetchStrategy {
  /**
   * Transfers `request.url` to `request.destination`.
   *
   * @throws {FetchError} When the transfer fails for good (after retries) or the bytes are wrong.
   */
  fetch(request: FetchRequest, options?: FetchCallOptions): Promise<FetchResult>;
  /**
   * Waits while another live process is transferring `url` (into the same partial area), so a
   * caller can look for the finished file before transferring it a second time. Resolves at once
   * when nobody else is, when that process died, or when its transfer stopped moving.
   */
  waitForOthers?(url: string, options?: FetchCallOptions): Promise<void>;
}

/** Progress callbacks for transfers; implementations draw bars, tests record calls. Never prints. */
export interface Reporter {
  /** A transfer started; `total` is the expected size when known. */
  start?(id: string, info: { url: string; total?: number }): void;
  /** `bytes` more bytes arrived (cumulative `done` of `total`). */
  progress?(id: string, info: { done: number; total?: number }): void;
  /** A transfer finished, successfully (`result`) or not (`error`). */
  done?(id: string, info: { result?: FetchResult; error?: FetchError }): void;
  /** A retry is about to happen after `delayMs`. */
  retry?(id: string, info: { attempt: number; delayMs: number; reason: string }): void;
}

/** The subset of `stat` the fetcher and cache need. */
export interface FileStat {
  /** Size in bytes. */
  size: number;
  /** Whether the path is a regular file. */
  isFile: boolean;
  /** Whether the path is a directory. */
  isDirectory: boolean;
  /** Modification time in milliseconds since the epoch. */
  mtimeMs: number;
  /**
   * Status-change time in milliseconds since the epoch: it moves on every write, rename, link
   * and `utime`, so putting an old mtime back over changed bytes still shows (as git's index uses it).
   */
  ctimeMs?: number;
  /**
   * Whether any later change of the file is sure to give it a ctime other than `ctimeMs`, however
   * soon it comes (Linux's multigrain timestamps). Where it is not, a change in the same tick of
   * the clock (or, for whole-second ctime, the same second) can leave ctime unchanged.
   */
  ctimeExact?: boolean;
  /** The inode number (0 where the file system has none). */
  ino?: number;
  /** The number of hard links (names) the file has, where the file system says. */
  nlink?: number;
}

/** An open file being written. `write` writes all of `data`. */
export interface WritableFile {
  /** Writes all of `data` after what was written before. */
  write(data: Uint8Array): Promise<void>;
  /** Flushes to stable storage. */
  sync(): Promise<void>;
  /** Releases the handle; nothing may be written after it. */
  close(): Promise<void>;
}

/**
 * A small interface over `node:fs/promises`: everything the fetcher and the cache do to a disk
 * goes through it, so tests can use an in-memory, fault-injecting implementation. Errors carry
 * a Node-style `code` (`ENOENT`, `EEXIST`, `EACCES`, ...).
 */
export interface FileSystem {
  /** Opens for writing: `"w"` truncates or creates, `"a"` appends, `"wx"` creates exclusively. */
  open(path: string, flags: "w" | "a" | "wx"): Promise<WritableFile>;
  /** Reads a file in chunks, from byte `start` (default 0). */
  read(path: string, options?: { start?: number }): AsyncIterable<Uint8Array>;
  /** Reads a whole file; rejects with code `ENOENT` when it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /** Rejects with code `ENOENT` when the path does not exist. */
  stat(path: string): Promise<FileStat>;
  /** Atomically replaces `to` with `from` (same file system). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; rejects with `ENOENT` when absent. */
  unlink(path: string): Promise<void>;
  /** Removes a file or tree; never rejects for a missing path. */
  rm(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Creates a directory; with `recursive`, also its parents and no error when it exists. */
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Names (not paths) of the entries of a directory. */
  readdir(path: string): Promise<string[]>;
  /** Hard link; rejects with `EXDEV` across file systems. */
  link(existing: string, newPath: string): Promise<void>;
  /** Copies a file, for when `link` fails (`EXDEV`, or file systems without hard links). */
  copyFile(from: string, to: string): Promise<void>;
}

/** Why a transfer failed. */
export type FetchErrorCode =
  | "http-status"
  | "hash-mismatch"
  | "size-mismatch"
  | "timeout"
  | "network"
  | "aborted"
  | "not-found"
  | "unsupported-url"
  | "io"
  /** Another live process is transferring this URL (with `failIfBusy`). */
  | "busy"
  /** The file was no longer needed once the lock was held (`stillNeeded` said false). */
  | "satisfied";

/** Details attached to a {@linkcode FetchError}. */
export interface FetchErrorOptions {
  /** The URL; it is redacted before it is stored. */
  url: string;
  /** The error underneath (a network error, an `FsError`), kept as the error's `cause`. */
  cause?: unknown;
  /** HTTP status of the last response, for `http-status`. */
  status?: number;
  /** Requests made before giving up. */
  attempts?: number;
  /** Expected hash or size, for `hash-mismatch` and `size-mismatch`. */
  expected?: string;
  /** Actual hash or size, for `hash-mismatch` and `size-mismatch`. */
  actual?: string;
}

/**
 * A transfer that failed for good. `url` is always redacted.
 *
 * @example
 * ```ts
 * import { FetchError } from "./types.ts";
 * const e = new FetchError("http-status", "server returned 404", {
 *   url: "https://u:p@host/x.whl",
 *   status: 404,
 * });
 * if (!e.message.startsWith('Cannot fetch "https://u:***@host/x.whl"')) throw new Error();
 * ```
 */
export class FetchError extends Error {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "FetchError";
  /** Machine-readable reason. */
  readonly code: FetchErrorCode;
  /** The redacted URL. */
  readonly url: string;
  /** HTTP status when `code` is `"http-status"`. */
  readonly status: number | undefined;
  /** Requests made before giving up. */
  readonly attempts: number | undefined;
  /** Expected hash or size for mismatches. */
  readonly expected: string | undefined;
  /** Actual hash or size for mismatches. */
  readonly actual: string | undefined;

  /**
   * Builds the error; the message is `Cannot fetch "<redacted url>": <reason>`.
   *
   * @param code Machine-readable reason.
   * @param reason Human-readable reason, without the URL.
   * @param options URL and details.
   */
  constructor(code: FetchErrorCode, reason: string, options: FetchErrorOptions) {
    const url = redactUrl(options.url);
    super(`Cannot fetch "${url}": ${reason}`, { cause: options.cause });
    this.code = code;
    this.url = url;
    this.status = options.status;
    this.attempts = options.attempts;
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/** Tunables of the retry policy. */
export interface BackoffPolicy {
  /** Delay bound of the first retry, in ms. */
  baseMs: number;
  /** Upper bound of the jittered delay, in ms. */
  maxDelayMs: number;
  /** Longest `Retry-After` we agree to wait, in ms; longer requests are clamped to this. */
  maxRetryAfterMs: number;
}
