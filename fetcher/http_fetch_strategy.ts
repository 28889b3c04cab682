/**
 * The real {@linkcode FetchStrategy}: HTTP(S) and `file://` transfers, streamed to disk with a
 * running sha256, retried with back-off and full jitter, resumed with `Range` + `If-Range`, with a
 * global and a per-host concurrency cap.
 *
 * @module
 */

import {
  type OwnerAlive,
  parseOwner,
  type PartialOwner,
  processAlive,
  thisOwner,
} from "./partial_owner.ts";
import { createHash, type Hash } from "node:crypto";
import { posix, win32 } from "node:path";
import { fileURLToPath } from "node:url";
import { backoffDelay, DEFAULT_BACKOFF, isRetryableStatus, parseRetryAfter } from "./_backoff.ts";
import { Limiter, OnceMap } from "./_limiter.ts";
import { nodeFs } from "./node_fs.ts";
import {
  type BackoffPolicy,
  type FetchCallOptions,
  FetchError,
  type FetchErrorCode,
  type FetchRequest,
  type FetchResult,
  type FetchStrategy,
  type FileSystem,
  type Reporter,
} from "./types.ts";

/** Options of {@linkcode HttpFetchStrategy}; every side effect is injectable. */
export interface HttpFetchStrategyOptions {
  /** The `fetch` to use. Defaults to `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** File system for partial and final files. Defaults to the real one. */
  fs?: FileSystem;
  /** Clock, in ms since the epoch (for `Retry-After` dates). Defaults to `Date.now`. */
  now?: () => number;
  /** Waits `ms`, rejecting early when `signal` aborts. Defaults to a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform random number in [0, 1) for jitter. Defaults to `Math.random`. */
  random?: () => number;
  /** Progress callbacks. */
  reporter?: Reporter;
  /** Transfers in flight at once, overall (`--concurrency`). Default 16. */
  concurrency?: number;
  /**
   * Transfers in flight at once per host, at first: halved each time the host answers 429 or
   * 503 (what it sustains). Default: `concurrency`, so `--concurrency 64` means 64 to one index.
   */
  perHostConcurrency?: number;
  /**
   * Files of at least this many bytes (or of unknown size) keep a side-car while they transfer,
   * so that a later run resumes them after a crash; smaller ones are fetched again whole.
   * Default 1 MiB.
   */
  resumableFromBytes?: number;
  /** Cap on requests per transfer, the first one included (`--retries`). Default 5. */
  maxAttempts?: number;
  /** Time to wait for response headers, in ms (`--timeout`). Default 30 000. */
  connectTimeoutMs?: number;
  /** Longest silence while reading the body, in ms (`--timeout`). Default 30 000. */
  readTimeoutMs?: number;
  /** Back-off tunables (base delay, delay cap, longest `Retry-After` honoured). */
  backoff?: Partial<BackoffPolicy>;
  /**
   * Where partial downloads live, named after the URL so a later run resumes them (the cache's
   * temp area). Defaults to `<destination>.part`.
   */
  partialDir?: string;
  /** `User-Agent` header. */
  userAgent?: string;
  /** Tells whether the owner of a partial's lock still runs. Defaults to asking the OS. */
  ownerAlive?: OwnerAlive;
  /** This process as an owner of partial files. Defaults to its pid and host. */
  owner?: PartialOwner;
}

/** What a partial file's side-car records, so a resumed request can send `If-Range`. */
interface PartialMeta {
  url: string;
  etag?: string;
  lastModified?: string;
}

/** A failure worth another attempt. */
class Retryable extends Error {
  constructor(
    readonly code: FetchErrorCode,
    readonly reason: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}

class TimeoutSignal extends Error {
  constructor(readonly phase: "connect" | "read", readonly ms: number) {
    super(`${phase} timeout`);
  }
}

/**
 * A URL without its user-info, and the Basic authorization that user-info stands for: a URL that
 * still carried it would be refused by Node's fetch and sent twice by Deno's.
 */
function splitUserinfo(raw: string): { url: string; authorization?: string } {
  if (!/^https?:\/\/[^/?#]*@/i.test(raw)) return { url: raw };
  try {
    const u = new URL(raw);
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    u.username = "";
    u.password = "";
    const token = btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));
    return { url: u.href, authorization: `Basic ${token}` };
  } catch {
    return { url: raw };
  }
}

/** A lock whose owner cannot be asked (another host) and older than this is abandoned. */
const LOCK_STALE_MS = 10 * 60 * 1000;

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

function dirname(path: string): string {
  return path.includes("\\") && !path.includes("/") ? win32.dirname(path) : posix.dirname(path);
}

function join(dir: string, name: string): string {
  return dir.includes("\\") && !dir.includes("/") ? win32.join(dir, name) : posix.join(dir, name);
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Downloads over HTTP(S) and copies `file://` URLs, verified and resumable.
 *
 * @example
 * ```ts
 * import { HttpFetchStrategy } from "./http_fetch_strategy.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/src.whl`, "wheel bytes");
 * const fetcher = new HttpFetchStrategy();
 * const result = await fetcher.fetch({
 *   url: new URL(`file://${dir}/src.whl`).href,
 *   destination: `${dir}/out/a.whl`,
 *   size: 11,
 * });
 * if (result.size !== 11 || (await Deno.readTextFile(`${dir}/out/a.whl`)) !== "wheel bytes") {
 *   throw new Error();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class HttpFetchStrategy implements FetchStrategy {
  #fetch: typeof globalThis.fetch;
  #fs: FileSystem;
  #now: () => number;
  #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  #random: () => number;
  #ownerAlive: OwnerAlive;
  #owner: PartialOwner;
  #reporter: Reporter;
  #limiter: Limiter;
  #once = new OnceMap<string, FetchResult>();
  #maxAttempts: number;
  #connectTimeoutMs: number;
  #readTimeoutMs: number;
  #backoff: BackoffPolicy;
  /** Folders this instance has created (see `#mkdirs`). */
  #madeDirs = new Set<string>();
  #partialDir: string | undefined;
  #resumableFrom: number;
  #userAgent: string;

  /**
   * Creates a strategy; nothing is fetched until {@linkcode HttpFetchStrategy.fetch} is called.
   *
   * @param options Injected effects and limits.
   * @throws {RangeError} When a limit is below 1.
   */
  constructor(options: HttpFetchStrategyOptions = {}) {
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#fs = options.fs ?? nodeFs;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#ownerAlive = options.ownerAlive ?? processAlive;
    this.#owner = options.owner ?? thisOwner();
    this.#reporter = options.reporter ?? {};
    const concurrency = options.concurrency ?? 16;
    this.#limiter = new Limiter(concurrency, options.perHostConcurrency ?? concurrency);
    this.#maxAttempts = options.maxAttempts ?? 5;
    if (!(this.#maxAttempts >= 1)) {
      throw new RangeError(`maxAttempts must be at least 1, got ${this.#maxAttempts}`);
    }
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
    this.#readTimeoutMs = options.readTimeoutMs ?? this.#connectTimeoutMs;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#partialDir = options.partialDir;
    this.#resumableFrom = options.resumableFromBytes ?? 1024 * 1024;
    this.#userAgent = options.userAgent ?? "wheelhouse/0.1";
  }

  /**
   * Path of the partial file a transfer of `url` to `destination` keeps while it runs.
   *
   * @param url The source URL.
   * @param destination The final path.
   */
  partialPath(url: string, destination: string): string {
    return this.#partialDir === undefined
      ? `${destination}.part`
      : join(this.#partialDir, `${sha256Hex(url).slice(0, 32)}.part`);
  }

  /**
   * Transfers `request.url` to `request.destination`; concurrent calls for the same URL and
   * destination share one transfer.
   *
   * @param request What to fetch and where to.
   * @param options Cancellation.
   * @throws {FetchError} After the attempts cap, on a non-retryable status, a hash or size
   * mismatch (the partial file is deleted), cancellation, or an unsupported URL.
   */
  fetch(request: FetchRequest, options: FetchCallOptions = {}): Promise<FetchResult> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch (cause) {
      return Promise.reject(
        new FetchError("unsupported-url", "not a valid URL", { url: request.url, cause }),
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "file:") {
      return Promise.reject(
        new FetchError("unsupported-url", `unsupported scheme ${url.protocol}`, {
          url: request.url,
        }),
      );
    }
    const key = `${request.url}\0${request.destination}`;
    return this.#once.run(key, () =>
      this.#limiter.run(
        url.protocol === "file:" ? "file:" : url.host,
        () => this.#run(request, url, options.signal),
        options.signal,
        // Largest first among waiting transfers (longest job first): a big file queued behind
        // small ones was the last to finish (a 35 MB wheel started 88 ms after resolution ended,
        // its slot taken by files of a few kB).
        request.size ?? 0,
      ).catch((e) => {
        throw this.#final(e, request.url, 0, options.signal);
      }));
  }

  #final(e: unknown, url: string, attempts: number, signal: AbortSignal | undefined): FetchError {
    if (e instanceof FetchError) return e;
    if (signal?.aborted) {
      return new FetchError("aborted", "cancelled", { url, cause: signal.reason, attempts });
    }
    return new FetchError("io", `unexpected failure: ${String(e)}`, { url, cause: e, attempts });
  }

  async #run(
    request: FetchRequest,
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<FetchResult> {
    const id = request.destination;
    const total = request.size;
    this.#reporter.start?.(
      id,
      total === undefined ? { url: request.url } : { url: request.url, total },
    );
    try {
      const result = url.protocol === "file:"
        ? await this.#copyFile(request, url, signal)
        : await this.#download(request, signal);
      this.#reporter.done?.(id, { result });
      return result;
    } catch (e) {
      const error = this.#final(e, request.url, 0, signal);
      this.#reporter.done?.(id, { error });
      throw error;
    }
  }

  async #copyFile(
    request: FetchRequest,
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<FetchResult> {
    let source: string;
    try {
      source = fileURLToPath(url);
    } catch (cause) {
      throw new FetchError("unsupported-url", "not a local file URL", { url: request.url, cause });
    }
    // Local copies are not resumed; a private name keeps concurrent processes apart.
    const part = this.#privatePartial(this.partialPath(request.url, request.destination));
    await this.#mkdirs(request, part);
    const hash = createHash("sha256");
    let size = 0;
    const file = await this.#io(request, () => this.#fs.open(part, "w"));
    try {
      for await (const chunk of this.#fs.read(source)) {
        if (signal?.aborted) {
          throw new FetchError("aborted", "cancelled", { url: request.url, cause: signal.reason });
        }
        hash.update(chunk);
        await file.write(chunk);
        size += chunk.length;
        this.#reporter.progress?.(request.destination, this.#progress(size, request.size));
      }
      await file.sync();
    } catch (e) {
      await file.close().catch(() => {});
      await this.#fs.rm(part).catch(() => {});
      if (e instanceof FetchError) throw e;
      if (errorCode(e) === "ENOENT") {
        throw new FetchError("not-found", `no such file ${source}`, {
          url: request.url,
          cause: e,
          attempts: 1,
        });
      }
      throw new FetchError("io", `cannot copy ${source}: ${String(e)}`, {
        url: request.url,
        cause: e,
        attempts: 1,
      });
    } finally {
      await file.close().catch(() => {});
    }
    const sha256 = hash.digest("hex");
    await this.#verify(request, part, undefined, sha256, size, 1);
    await this.#publish(request, part);
    return {
      url: request.url,
      path: request.destination,
      sha256,
      size,
      resumedBytes: 0,
      attempts: 1,
    };
  }

  #progress(done: number, total: number | undefined): { done: number; total?: number } {
    return total === undefined ? { done } : { done, total };
  }

  async #io<T>(request: FetchRequest, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw new FetchError("io", `cannot write the download: ${String(e)}`, {
        url: request.url,
        cause: e,
      });
    }
  }

  async #mkdirs(request: FetchRequest, part: string): Promise<void> {
    // Most transfers share their folders: create each once per instance, not once per file.
    const dirs = [dirname(part), dirname(request.destination)].filter((d) =>
      !this.#madeDirs.has(d)
    );
    if (dirs.length === 0) return;
    await this.#io(request, async () => {
      for (const dir of dirs) {
        await this.#fs.mkdir(dir, { recursive: true });
        this.#madeDirs.add(dir);
      }
    });
  }

  async #verify(
    request: FetchRequest,
    part: string,
    metaPath: string | undefined,
    sha256: string,
    size: number,
    attempts: number,
  ): Promise<void> {
    const discard = async (): Promise<void> => {
      await this.#fs.rm(part).catch(() => {});
      if (metaPath) await this.#fs.rm(metaPath).catch(() => {});
    };
    if (request.size !== undefined && size !== request.size) {
      await discard();
      throw new FetchError("size-mismatch", `expected ${request.size} bytes, got ${size}`, {
        url: request.url,
        expected: String(request.size),
        actual: String(size),
        attempts,
      });
    }
    if (request.sha256 !== undefined && sha256 !== request.sha256.toLowerCase()) {
      await discard();
      throw new FetchError(
        "hash-mismatch",
        `sha256 mismatch: expected ${request.sha256.toLowerCase()}, got ${sha256}`,
        { url: request.url, expected: request.sha256.toLowerCase(), actual: sha256, attempts },
      );
    }
  }

  async #publish(request: FetchRequest, part: string): Promise<void> {
    await this.#io(request, async () => {
      try {
        await this.#fs.rename(part, request.destination);
      } catch (e) {
        if (errorCode(e) !== "EXDEV") throw e;
        // Partial area on another file system: copy, then drop the partial.
        await this.#fs.copyFile(part, request.destination);
        await this.#fs.rm(part);
      }
    });
  }

  /**
   * Waits while another live process holds the lock of `url`'s partial download (one transfer
   * per file across processes sharing a cache): until the lock is gone, its owner died, or its
   * partial file stopped growing for the read timeout (then the caller transfers on its own).
   *
   * @param url The URL about to be transferred.
   * @param options Cancellation.
   */
  async waitForOthers(url: string, options: FetchCallOptions = {}): Promise<void> {
    if (this.#partialDir === undefined) return;
    const shared = join(this.#partialDir, `${sha256Hex(url).slice(0, 32)}.part`);
    const lock = `${shared}.lock`;
    let lastSize = -1;
    let lastChange = this.#now();
    for (;;) {
      options.signal?.throwIfAborted();
      const text = await this.#fs.readFile(lock).then(
        (b) => new TextDecoder().decode(b),
        () => undefined,
      );
      if (text === undefined) return;
      const owner = parseOwner(text);
      if (owner !== undefined && owner.pid === this.#owner.pid && owner.host === this.#owner.host) {
        return;
      }
      if (await this.#lockAbandoned(lock)) return;
      const size = (await this.#fs.stat(shared).catch(() => undefined))?.size ?? 0;
      if (size !== lastSize) {
        lastSize = size;
        lastChange = this.#now();
      } else if (this.#now() - lastChange > this.#readTimeoutMs) return;
      await this.#sleep(100, options.signal);
    }
  }

  /** Creates a partial's lock, naming this process as its owner; EEXIST when it is held. */
  async #takeLock(lock: string): Promise<void> {
    const file = await this.#fs.open(lock, "wx");
    try {
      await file.write(new TextEncoder().encode(JSON.stringify(this.#owner)));
    } finally {
      await file.close();
    }
  }

  /**
   * Whether a held lock was left by a process that no longer runs: its owner is asked after, and
   * a lock whose owner cannot be told (another host, an old empty lock) counts as abandoned only
   * once it is old.
   */
  async #lockAbandoned(lock: string): Promise<boolean> {
    const text = await this.#fs.readFile(lock).then((b) => new TextDecoder().decode(b), () => "");
    const owner = parseOwner(text);
    const alive = owner === undefined ? undefined : this.#ownerAlive(owner);
    if (alive !== undefined) return !alive;
    const st = await this.#fs.stat(lock).catch(() => undefined);
    return st !== undefined && this.#now() - st.mtimeMs > LOCK_STALE_MS;
  }

  /** A partial file of this process alone, named after its pid so `prune` can tell its owner. */
  #privatePartial(shared: string): string {
    return `${shared}.p${this.#owner.pid}-${Math.floor(this.#random() * 2 ** 48).toString(36)}`;
  }

  async #download(request: FetchRequest, signal: AbortSignal | undefined): Promise<FetchResult> {
    const shared = this.partialPath(request.url, request.destination);
    await this.#mkdirs(request, shared);
    // Another process sharing the partial area may be downloading the same URL: it holds the
    // lock, and we download to a private partial file instead of writing into its file.
    const lock = `${shared}.lock`;
    let part = shared;
    let locked = false;
    try {
      await this.#takeLock(lock);
      locked = true;
    } catch (e) {
      if (errorCode(e) !== "EEXIST") throw this.#final(e, request.url, 0, undefined);
      if (await this.#lockAbandoned(lock)) {
        // Its owner died (kill -9, a crash): take the lock over and resume its partial file.
        await this.#fs.rm(lock).catch(() => {});
        locked = await this.#takeLock(lock).then(() => true, () => false);
      }
      if (!locked && request.failIfBusy) {
        throw new FetchError("busy", "another process is downloading it", { url: request.url });
      }
      if (!locked) part = this.#privatePartial(shared);
    }
    try {
      // The lock was free, but its last holder may have finished this very file a moment ago.
      if (locked && request.stillNeeded !== undefined && !(await request.stillNeeded())) {
        throw new FetchError("satisfied", "another process finished it", { url: request.url });
      }
      return await this.#downloadTo(request, part, signal);
    } finally {
      if (locked) await this.#fs.rm(lock).catch(() => {});
      else if (part !== shared) {
        await this.#fs.rm(part).catch(() => {});
        await this.#fs.rm(`${part}.json`).catch(() => {});
      }
    }
  }

  async #downloadTo(
    request: FetchRequest,
    part: string,
    signal: AbortSignal | undefined,
  ): Promise<FetchResult> {
    const metaPath = `${part}.json`;
    let restartedAfterMismatch = false;
    for (let attempt = 1;; attempt++) {
      if (signal?.aborted) {
        throw new FetchError("aborted", "cancelled", {
          url: request.url,
          cause: signal.reason,
          attempts: attempt - 1,
        });
      }
      let outcome: { sha256: string; size: number; resumedBytes: number };
      try {
        outcome = await this.#attempt(request, part, metaPath, signal);
      } catch (e) {
        if (!(e instanceof Retryable)) {
          if (e instanceof FetchError) {
            throw new FetchError(e.code, e.message.replace(/^Cannot fetch "[^"]*": /, ""), {
              url: request.url,
              cause: e.cause,
              attempts: attempt,
              ...(e.status === undefined ? {} : { status: e.status }),
            });
          }
          throw this.#final(e, request.url, attempt, signal);
        }
        if (attempt >= this.#maxAttempts) {
          throw new FetchError(
            e.code,
            `${e.reason} after ${attempt} attempt${attempt === 1 ? "" : "s"}`,
            {
              url: request.url,
              cause: e.cause ?? e,
              attempts: attempt,
              ...(e.status === undefined ? {} : { status: e.status }),
            },
          );
        }
        const delayMs = backoffDelay(attempt, e.retryAfterMs, this.#random(), this.#backoff);
        this.#reporter.retry?.(request.destination, { attempt, delayMs, reason: e.reason });
        try {
          await this.#sleep(delayMs, signal);
        } catch (cause) {
          throw new FetchError("aborted", "cancelled", {
            url: request.url,
            cause,
            attempts: attempt,
          });
        }
        continue;
      }
      try {
        await this.#verify(request, part, metaPath, outcome.sha256, outcome.size, attempt);
      } catch (e) {
        // A resumed transfer may have spliced two different files; start over once from zero.
        if (outcome.resumedBytes > 0 && !restartedAfterMismatch && attempt < this.#maxAttempts) {
          restartedAfterMismatch = true;
          continue;
        }
        throw e;
      }
      await this.#publish(request, part);
      await this.#fs.rm(metaPath).catch(() => {});
      return {
        url: request.url,
        path: request.destination,
        sha256: outcome.sha256,
        size: outcome.size,
        resumedBytes: outcome.resumedBytes,
        attempts: attempt,
      };
    }
  }

  async #readMeta(metaPath: string): Promise<PartialMeta | undefined> {
    try {
      const parsed: unknown = JSON.parse(
        new TextDecoder().decode(await this.#fs.readFile(metaPath)),
      );
      if (
        typeof parsed === "object" && parsed !== null && "url" in parsed &&
        typeof parsed.url === "string"
      ) {
        return parsed as PartialMeta;
      }
    } catch {
      // Missing or torn side-car: the partial cannot be trusted for If-Range.
    }
    return undefined;
  }

  async #resumeOffset(request: FetchRequest, part: string, metaPath: string): Promise<{
    offset: number;
    validator?: string;
  }> {
    let size: number;
    try {
      size = (await this.#fs.stat(part)).size;
    } catch {
      return { offset: 0 };
    }
    const meta = size > 0 ? await this.#readMeta(metaPath) : undefined;
    const validator = meta?.etag ?? meta?.lastModified;
    // Without a validator, splicing is only safe when the final hash will catch a mix-up.
    if (
      !meta || meta.url !== request.url || (validator === undefined && request.sha256 === undefined)
    ) {
      await this.#fs.rm(part).catch(() => {});
      return { offset: 0 };
    }
    if (request.size !== undefined && size > request.size) {
      await this.#fs.rm(part).catch(() => {});
      return { offset: 0 };
    }
    return validator === undefined ? { offset: size } : { offset: size, validator };
  }

  async #attempt(
    request: FetchRequest,
    part: string,
    metaPath: string,
    signal: AbortSignal | undefined,
  ): Promise<{ sha256: string; size: number; resumedBytes: number }> {
    const { offset, validator } = await this.#resumeOffset(request, part, metaPath);
    const headers = new Headers(request.headers);
    if (!headers.has("user-agent")) headers.set("user-agent", this.#userAgent);
    // The hash is over the bytes as stored on the index, never a transparently decoded body.
    headers.set("accept-encoding", "identity");
    if (offset > 0) {
      headers.set("range", `bytes=${offset}-`);
      if (validator !== undefined) headers.set("if-range", validator);
    }

    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (phase: "connect" | "read", ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new TimeoutSignal(phase, ms)), ms);
    };
    const failure = (e: unknown, what: string): Error => {
      const reason: unknown = controller.signal.reason;
      if (reason instanceof TimeoutSignal) {
        return new Retryable(
          "timeout",
          reason.phase === "connect"
            ? `no response within ${reason.ms} ms`
            : `no data for ${reason.ms} ms`,
          undefined,
          undefined,
          { cause: e },
        );
      }
      if (signal?.aborted) {
        return new FetchError("aborted", "cancelled", { url: request.url, cause: signal.reason });
      }
      return new Retryable(
        "network",
        `${what}: ${e instanceof Error ? e.message : String(e)}`,
        undefined,
        undefined,
        {
          cause: e,
        },
      );
    };

    // Hash what we already hold before asking, so no timer runs while a big partial is read.
    let prefix: Hash | undefined;
    if (offset > 0) {
      prefix = createHash("sha256");
      for await (const chunk of this.#fs.read(part)) prefix.update(chunk);
    }
    try {
      arm("connect", this.#connectTimeoutMs);
      let response: Response;
      try {
        const { url, authorization } = splitUserinfo(request.url);
        if (authorization !== undefined && !headers.has("authorization")) {
          headers.set("authorization", authorization);
        }
        response = await this.#fetch(url, {
          headers,
          signal: controller.signal,
          redirect: "follow",
        });
      } catch (e) {
        throw failure(e, "connection failed");
      }
      const status = response.status;
      let append = false;
      if (status === 206 && offset > 0) {
        const start = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(
          response.headers.get("content-range") ?? "",
        );
        if (!start || Number(start[1]) !== offset) {
          await response.body?.cancel().catch(() => {});
          await this.#fs.rm(part).catch(() => {});
          throw new Retryable("network", `server answered a range request with the wrong range`, 0);
        }
        append = true;
      } else if (status === 416 && offset > 0) {
        await response.body?.cancel().catch(() => {});
        await this.#fs.rm(part).catch(() => {});
        throw new Retryable("http-status", "server returned 416 for the resumed range", 0, 416);
      } else if (status !== 200) {
        await response.body?.cancel().catch(() => {});
        const statusText = `server returned ${status}${
          response.statusText ? ` ${response.statusText}` : ""
        }`;
        if (isRetryableStatus(status)) {
          // Overloaded: fewer transfers at once to this host from now on.
          if (status === 429 || status === 503) this.#limiter.throttle(new URL(request.url).host);
          const retryAfter = parseRetryAfter(response.headers.get("retry-after"), this.#now());
          throw new Retryable("http-status", statusText, retryAfter, status);
        }
        throw new FetchError(
          status === 404 || status === 410 ? "not-found" : "http-status",
          statusText,
          {
            url: request.url,
            status,
          },
        );
      }
      if (!response.body) throw new Retryable("network", "response has no body");

      clearTimeout(timer);
      const hash: Hash = append && prefix ? prefix : createHash("sha256");
      let written = 0;
      const length = Number(response.headers.get("content-length") ?? NaN);
      const resumedBytes = append ? offset : 0;
      const total = request.size ?? (Number.isFinite(length) ? resumedBytes + length : undefined);
      // The side-car that lets a later run resume is for files worth resuming: a small one is
      // simply fetched again, and its side-car was one more file made and deleted per transfer
      // (most files of a big run are small).
      if (!append && (total === undefined || total >= this.#resumableFrom)) {
        const meta: PartialMeta = { url: request.url };
        const etag = response.headers.get("etag");
        const lastModified = response.headers.get("last-modified");
        // Weak validators may not be used with If-Range (RFC 9110 §13.1.5).
        if (etag !== null && !etag.startsWith("W/")) meta.etag = etag;
        if (lastModified !== null) meta.lastModified = lastModified;
        await this.#io(request, async () => {
          const m = await this.#fs.open(metaPath, "w");
          try {
            await m.write(new TextEncoder().encode(JSON.stringify(meta)));
          } finally {
            await m.close();
          }
        });
      }
      const file = await this.#io(request, () => this.#fs.open(part, append ? "a" : "w"));
      const reader = response.body.getReader();
      try {
        while (true) {
          arm("read", this.#readTimeoutMs);
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await reader.read();
          } catch (e) {
            throw failure(e, `connection lost after ${resumedBytes + written} bytes`);
          }
          // Only silence from the server counts; a slow disk must not trip the idle timeout.
          clearTimeout(timer);
          if (next.done) break;
          try {
            await file.write(next.value);
          } catch (cause) {
            throw new FetchError("io", `cannot write ${part}: ${String(cause)}`, {
              url: request.url,
              cause,
            });
          }
          hash.update(next.value);
          written += next.value.length;
          this.#reporter.progress?.(
            request.destination,
            this.#progress(resumedBytes + written, total),
          );
        }
        clearTimeout(timer);
        await this.#io(request, () => file.sync());
      } finally {
        await file.close().catch(() => {});
        reader.releaseLock();
      }
      return { sha256: hash.digest("hex"), size: resumedBytes + written, resumedBytes };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      // Ends a body we stopped reading (timeout, error) so the connection is not leaked.
      if (!controller.signal.aborted) controller.abort();
    }
  }
}
