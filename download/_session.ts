// The state of one pipeline call: options with their defaults, the cache, the fetcher, the index
// client for some sources, early downloads, and what to undo at the end.
import type { PinLine } from "./_outputs.ts";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { LocalDirStore, type ObtainResult } from "../cache/local_dir_store.ts";
import type { PresentFile } from "../cache/wheelhouse_store.ts";
import type {
  CachedResponseMeta,
  HttpCacheStorage,
  IndexClient,
  IndexSpec,
} from "../index/types.ts";
import { DEFAULT_INDEX_URL, SimpleIndexClient } from "../index/simple_index_client.ts";
import { CacheIndexClient } from "../index/cache_index_client.ts";
import { LayeredIndexClient } from "../index/layered_index_client.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import type { Reporter as TransferReporter } from "../fetcher/types.ts";
import type { Builder } from "./_build.ts";
import type { PinnedVcs } from "./_direct.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { retryingFetch } from "../fetcher/retrying_fetch.ts";
import type { Target } from "../pep/tags.ts";
import type { PlannedFile } from "../lock/types.ts";
import type { DownloadEvent, DownloadOptions } from "./types.ts";
import {
  absoluteLink,
  gatherInputs,
  ignoredFindLinks,
  type Inputs,
  readTextOrFail,
} from "./_inputs.ts";
import { checkPlaces } from "./_check.ts";

/** Index bodies (pages, metadata, ranges) held whole for the retries; larger ones stream. */
const INDEX_BODY_BUFFER = 64 * 1024 * 1024;

/**
 * The most an input file (requirement, constraint, pyproject.toml, lock) may hold. The largest
 * real locks are a few MiB; anything bigger is the wrong file, or one that never ends
 * (`-r /dev/zero` once grew to 9 GB in 12 s).
 */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

function formatLimit(bytes: number): string {
  const mib = 1024 * 1024;
  return bytes % mib === 0 ? `${bytes / mib} MiB` : `${bytes} bytes`;
}

/**
 * Reads a text file through a file handle, at most `limit` bytes: a character device or a pipe
 * that never ends stops at the cap. Over the cap is an error with Node's code for a file too
 * large to read (`ERR_FS_FILE_TOO_LARGE`), which the input readers turn into a one-line message.
 */
export async function readTextBounded(path: string, limit = MAX_INPUT_BYTES): Promise<string> {
  const tooLarge = (): Error =>
    Object.assign(new Error(`larger than ${formatLimit(limit)}`), {
      code: "ERR_FS_FILE_TOO_LARGE",
    });
  const handle = await fsp.open(path, "r");
  try {
    // A regular file says its size; a device or a pipe (size 0) is read up to the cap.
    if ((await handle.stat()).size > limit) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(1024 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw tooLarge();
      chunks.push(chunk.subarray(0, bytesRead));
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    // As fs.readFile(path, "utf8") did: a BOM is kept, for the parsers that look for it.
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  } finally {
    await handle.close();
  }
}

/** A download started while the resolver works, joined by delivery. */
export interface EarlyDownload {
  /** The result; undefined when it failed or was cancelled. */
  promise: Promise<ObtainResult | undefined>;
  controller: AbortController;
  /** Why it failed (after all its retries), once it has. */
  error?: unknown;
  /**
   * Started on a guess (a `likely` event) and not yet confirmed by a decision: the targets and
   * names (`target\0name`) that guessed it. Emptied by decisions for other versions, which then
   * cancel it.
   */
  guessedBy?: Set<string>;
}

/** One call's state, shared by requirement and lock-file planning and by delivery. */
export interface Session {
  options: DownloadOptions;
  cwd: string;
  dest: string;
  now: () => number;
  fetch: typeof globalThis.fetch;
  signal: AbortSignal | undefined;
  readText: (path: string) => Promise<string>;
  env: (name: string) => string | undefined;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  store: LocalDirStore;
  fetcher: HttpFetchStrategy;
  emit: (e: DownloadEvent) => void;
  /** Downloads started while resolving (by URL). */
  early: Map<string, EarlyDownload>;
  /** What the destination held before resolving (only read when downloads start early). */
  present: ReadonlyMap<string, PresentFile>;
  /** Whether files must match known hashes (hash-checking mode, lock files). */
  hashesRequired: boolean;
  /** Run at the end of the call, last first. */
  cleanup: (() => Promise<void>)[];
  /** The cache's index pages, written best effort, behind the run. */
  pages: BestEffortPages;
  /** What the fetcher moved in this call. */
  transfers: TransferTally;
  /** The call's build front end, once planning made one (undefined with `noBuild`). */
  builder?: Builder | undefined;
  /** Git references, by project, pinned to the commits they resolved to. */
  vcs: Map<string, PinnedVcs>;
}

/** Bytes and files the fetcher moved, and when. */
export interface TransferTally {
  /** Bytes received (a resumed file's kept part excluded). */
  bytes: number;
  /** Files completed. */
  files: number;
  /** When the first transfer started. */
  firstStart?: number;
  /** When the last one ended. */
  lastEnd?: number;
}

/** The cache's index pages, written behind the run's back: see {@linkcode bestEffortPages}. */
export interface BestEffortPages extends HttpCacheStorage {
  /** Runs another best-effort write (a catalogue record) behind the run's back as well. */
  later(task: () => Promise<void>): void;
  /** Waits for every write started so far. */
  flush(): Promise<void>;
}

/**
 * Index pages and metadata kept in the cache, written best effort: they only save requests, so a
 * cache that cannot be written (read-only, full, another user's) costs one warning, not the run.
 * The writes happen behind the run: a page goes to the resolver as soon as it is parsed, not
 * after the six file operations that keep it (each waited for its turn on a busy event loop,
 * which made a 25 ms request take 100-150 ms in a cold run). A read of a page being written
 * waits for the write; {@linkcode BestEffortPages.flush} (at the session's end) waits for all.
 *
 * @param inner The cache's page storage.
 * @param warn Told once, on the first failed write.
 */
export function bestEffortPages(
  inner: HttpCacheStorage,
  warn: (message: string) => void,
): BestEffortPages {
  let warned = false;
  const failed = (e: unknown): void => {
    if (warned) return;
    warned = true;
    warn(
      `cannot write index pages to the cache (${
        e instanceof Error ? e.message : String(e)
      }); going on without keeping them`,
    );
  };
  // The last write of each key (writes of one key stay in order), and every write in flight.
  const byKey = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();
  const track = (task: Promise<void>): Promise<void> => {
    const settled = task.catch(failed);
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
    return settled;
  };
  return {
    get: async (key) => {
      await byKey.get(key);
      return await inner.get(key);
    },
    put: (key, body, meta) => {
      const write = track(
        (byKey.get(key) ?? Promise.resolve()).then(() => inner.put(key, body, meta)),
      );
      byKey.set(key, write);
      void write.then(() => {
        if (byKey.get(key) === write) byKey.delete(key);
      });
      return Promise.resolve();
    },
    later: (task) => {
      void track(Promise.resolve().then(task));
    },
    flush: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

/** A reader that reads each path once per call (failures included). */
function memoized(read: (path: string) => Promise<string>): (path: string) => Promise<string> {
  const texts = new Map<string, Promise<string>>();
  return (path) => {
    let text = texts.get(path);
    if (text === undefined) {
      text = read(path);
      texts.set(path, text);
    }
    return text;
  };
}

/** The index sources of a client. */
export type Sources = Pick<Inputs, "indexUrl" | "extraIndexUrls" | "findLinks" | "noIndex">;

/**
 * Opens a call's session: the cache (a temporary one without `cacheDir`) and the fetcher.
 *
 * @throws {DownloadError} ("invalid-input") for a cache folder that cannot be used (a file, not
 * writable, the destination's own folder), before anything is written.
 */
export async function openSession(options: DownloadOptions): Promise<Session> {
  const cwd = options.cwd ?? process.cwd();
  await checkPlaces(options, cwd);
  const readText = memoized(options.readText ?? ((path) => readTextBounded(path)));
  const env = options.env ?? (() => undefined);
  // The inputs are read and checked before the destination or the cache is touched, so a file
  // that is missing, too large or malformed changes nothing on disk. Each file is read once:
  // planning parses the same texts again (and `-r /dev/stdin` can only be read once).
  if (options.lock === undefined) await gatherInputs(options, { cwd, read: readText, env });
  else await readTextOrFail(readText)(resolve(cwd, options.lock));
  const cleanup: (() => Promise<void>)[] = [];
  let cacheRoot: string;
  if (options.cacheDir === undefined) {
    cacheRoot = await fsp.mkdtemp(join(tmpdir(), "wheelhouse-nocache-"));
    cleanup.push(() => fsp.rm(cacheRoot, { recursive: true, force: true }).catch(() => {}));
  } else cacheRoot = resolve(cwd, options.cacheDir);
  const store = new LocalDirStore(cacheRoot);
  const reporter = options.reporter;
  const now = options.now ?? Date.now;
  const fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const concurrency = options.concurrency ?? 16;
  const retries = options.retries ?? 5;
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Counted here, below the caller's reporter: what moved over the wire (a resumed file's kept
  // bytes are not) and the wall time from the first transfer's start (often during
  // resolution) to the last one's end.
  const transfers: TransferTally = { bytes: 0, files: 0 };
  const outer = reporter?.transfer;
  const transfer: TransferReporter = {
    start: (id, info) => {
      transfers.firstStart ??= now();
      outer?.start?.(id, info);
    },
    progress: (id, info) => outer?.progress?.(id, info),
    done: (id, info) => {
      if (info.result !== undefined) {
        transfers.bytes += info.result.size - info.result.resumedBytes;
        transfers.files++;
      }
      transfers.lastEnd = now();
      outer?.done?.(id, info);
    },
    retry: (id, info) => outer?.retry?.(id, info),
  };
  const fetcher = new HttpFetchStrategy({
    fetch,
    now,
    concurrency,
    maxAttempts: retries + 1,
    connectTimeoutMs: timeoutMs,
    readTimeoutMs: timeoutMs,
    partialDir: store.partialDir,
    reporter: transfer,
  });
  const session: Session = {
    options,
    cwd,
    dest: resolve(cwd, options.dest),
    now,
    fetch,
    signal: options.signal,
    readText,
    env,
    concurrency,
    retries,
    timeoutMs,
    store,
    fetcher,
    emit: (e) => reporter?.event?.(e),
    early: new Map(),
    present: new Map(),
    hashesRequired: false,
    cleanup,
    transfers,
    vcs: new Map(),
    pages: bestEffortPages(
      store.httpStorage<CachedResponseMeta>(),
      (message) => reporter?.event?.({ kind: "warning", message }),
    ),
  };
  // A lock's mirrors are the command line's find-links alone (requirement files add theirs,
  // checked once gathered in _resolve.ts): say which cannot be used, as pip does.
  if (options.lock !== undefined) {
    const links = (options.findLinks ?? []).map((f) => absoluteLink(f, cwd));
    for (const message of await ignoredFindLinks(links)) session.emit({ kind: "warning", message });
  }
  return session;
}

/** Ends a session: waits for what it started and removes what it made. */
export async function closeSession(s: Session): Promise<void> {
  // Before a throw-away cache is removed, and before the call returns: its pages are in the cache.
  await s.pages.flush();
  for (const c of s.cleanup.reverse()) await c();
}

/** The call's targets, worked out once. */
export async function targetsOf(s: Session): Promise<readonly Target[]> {
  const t = s.options.targets;
  return typeof t === "function" ? await t() : t;
}

/** An index's URL with the caller's credentials for it, when it has any. */
function indexSpec(s: Session, url: string): string | IndexSpec {
  const found = s.options.credentials?.(url);
  if (found === undefined || (found.username === undefined && found.password === undefined)) {
    return url;
  }
  return {
    url,
    ...(found.username !== undefined ? { username: found.username } : {}),
    ...(found.password !== undefined ? { password: found.password } : {}),
  };
}

/** An index client for some sources, through the session's cache, retries and credentials. */
export function indexClientOf(s: Session, sources: Sources): SimpleIndexClient {
  const o = s.options;
  const indexes = sources.noIndex
    ? []
    : [sources.indexUrl ?? DEFAULT_INDEX_URL, ...sources.extraIndexUrls].map((u) =>
      indexSpec(s, u)
    );
  return new SimpleIndexClient({
    indexes,
    findLinks: sources.findLinks,
    noIndex: sources.noIndex,
    strategy: o.indexStrategy ?? "first-index",
    // Pages and metadata get the same retry policy and timeout as file transfers.
    fetch: retryingFetch(s.fetch, {
      maxAttempts: s.retries + 1,
      timeoutMs: s.timeoutMs,
      // Bodies are read inside the retries, so one that stalls mid-way is retried, not waited on.
      bufferBodyBytes: INDEX_BODY_BUFFER,
      now: s.now,
      onRetry: (r) =>
        s.emit({
          kind: "detail",
          message: `Retrying ${redactUrl(r.url)} in ${r.delayMs} ms: ${r.reason}`,
        }),
    }),
    now: s.now,
    cache: cataloguedPages(s, indexes.map((i) => typeof i === "string" ? i : i.url)),
    // A file read whole for its metadata (no PEP 658, no Range) goes into the cache, so it is
    // not downloaded a second time.
    onWholeFile: async (file, bytes) => {
      const sha256 = file.hashes["sha256"];
      if (sha256 === undefined) return;
      await s.store.put({ bytes }, {
        sha256,
        filename: file.filename,
        project: file.parsed.normalizedName,
        url: file.url,
        origin: file.index,
        ...(file.requiresPython !== undefined ? { requiresPython: file.requiresPython } : {}),
      });
    },
    onWarning: (message) => s.emit({ kind: "warning", message }),
    refresh: o.refresh ?? false,
    offline: o.offline ?? false,
    ...(o.netrc !== undefined ? { netrc: o.netrc } : {}),
    ...(s.signal !== undefined ? { signal: s.signal } : {}),
  });
}

/** A URL without its user-info and with one trailing slash, to compare index locations. */
function bareIndexUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href.endsWith("/") ? u.href : `${u.href}/`;
  } catch {
    return url;
  }
}

/**
 * The session's page storage, noting in the cache's catalogue which index each kept project
 * page came from: an offline run that names another index (or none) can then say which to name.
 */
function cataloguedPages(s: Session, indexes: readonly string[]): HttpCacheStorage {
  const bases = indexes.map(bareIndexUrl);
  return {
    get: (key) => s.pages.get(key),
    put: async (key, body, meta) => {
      await s.pages.put(key, body, meta);
      // Page keys are `page:<format>:<url>` (index/simple_index_client.ts).
      const m = /^page:[a-z]+:(.*)$/s.exec(key);
      if (m === null) return;
      const bare = bareIndexUrl(m[1]!);
      for (const base of bases) {
        const rest = bare.startsWith(base) ? bare.slice(base.length) : undefined;
        const project = rest === undefined ? undefined : /^([^/]+)\/$/.exec(rest)?.[1];
        if (project !== undefined) s.pages.later(() => s.store.recordPage(project, base));
      }
    },
  };
}

/**
 * The index client the resolver asks: the run's indexes and find-links, and offline also
 * everything the cache holds (any index, folder, path or URL it came from), found by name —
 * after the named indexes, under the index strategy's rule.
 */
export function resolverClientOf(s: Session, sources: Sources): IndexClient {
  const named = indexClientOf(s, sources);
  if (!(s.options.offline ?? false)) return named;
  const store = s.store;
  const cache = new CacheIndexClient({
    files: async (project) =>
      (await store.catalogue(project)).files.map((f) => ({
        filename: f.filename,
        sha256: f.sha256,
        size: f.size,
        path: store.pathOf(f.sha256),
        ...(f.url !== undefined ? { url: f.url } : {}),
        ...(f.origin !== undefined ? { origin: f.origin } : {}),
        ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython } : {}),
      })),
    pathOf: async (sha256) => (await store.has(sha256)) ? store.pathOf(sha256) : undefined,
  });
  return new LayeredIndexClient(named, cache, {
    strategy: s.options.indexStrategy ?? "first-index",
  });
}

/** A package of a plan valid everywhere, and where it is installed. */
export interface UniversalPin {
  /** Normalised name. */
  name: string;
  /** Version. */
  version: string;
  /** PEP 508 text of the environments that install it ("" for all). */
  marker: string;
}

/** A plan before its files are looked up: what planning from requirements or a lock gives. */
export interface Planned {
  targets: readonly Target[];
  files: PlannedFile[];
  pins: Map<string, Map<string, string>>;
  /** Distinct (project, version) pairs resolved; 0 for a lock. */
  packages: number;
  resolveMs: number;
  /** Credentials for a file's URL. */
  headersFor: (url: string) => Record<string, string>;
  /** Another URL of the same file (a lock's mirror), when its own cannot be fetched. */
  findMirror: (f: PlannedFile) => Promise<string | undefined>;
  /** The indexes and links a requirements plan resolved against (for build requirements). */
  sources?: Sources;
  /**
   * For a plan valid on every platform (a uv.lock with `allPlatforms`): per package, the PEP 508
   * marker of the environments that install it, for requirements.txt and pylock.toml.
   */
  universal?: UniversalPin[];
  /**
   * Per target, its pins with where in the target each is installed, when some target is a
   * range of Python releases (otherwise `pins` says it all).
   */
  lines?: Map<string, PinLine[]>;
  /** PEP 751 `environments` of a universal plan: the region its lock is valid for. */
  environments?: string[];
}
