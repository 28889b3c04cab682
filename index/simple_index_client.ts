/**
 * {@linkcode SimpleIndexClient}: the {@linkcode IndexClient} over PEP 503/691 indexes, find-links
 * locations and `file://` indexes, with an index strategy, credentials, HTTP caching of pages,
 * and metadata read by PEP 658, by range requests into wheels, or by download.
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import { match } from "ts-pattern";
import { normalizeName } from "../pep/name.ts";
import { InvalidFilenameError, parseDistFilename } from "../pep/filename.ts";
import type { DistFilename } from "../pep/filename.ts";
import { type CoreMetadata, parseCoreMetadata } from "../pep/metadata.ts";
import type {
  DistFile,
  Hashes,
  HttpCacheStorage,
  IndexClient,
  IndexFs,
  IndexSpec,
  IndexStrategy,
  MetadataOptions,
  MetadataOutcome,
  MetadataVia,
  PageFile,
  ProjectFilesOptions,
  ProjectFilesOutcome,
  ProjectPage,
} from "./types.ts";
import { IndexError } from "./index_error.ts";
import { CredentialStore, redactText, redactUrl, splitCredentials } from "./auth.ts";
import { parseHtmlPage } from "./html_page.ts";
import { JSON_MEDIA_TYPE, parseJsonPage } from "./json_page.ts";
import {
  beforeRequest,
  isStorable,
  metaAfterNotModified,
  metaFromResponse,
} from "./_http_cache_policy.ts";
import { type HttpContext, httpGet, readCapped, statusError } from "./_http.ts";
import { SingleFlight } from "./_single_flight.ts";
import { Semaphore } from "./_semaphore.ts";
import {
  bytesSource,
  listZip,
  type RangeSource,
  readZipEntry,
  type ZipEntry,
} from "./_zip_range.ts";
import { findTarGzMember } from "./_tar.ts";

/** Which page format to ask for. `auto` prefers PEP 691 JSON and accepts HTML. */
export type PageFormat = "auto" | "json" | "html";

/** Options of {@linkcode SimpleIndexClient}. Nothing here is read from the environment. */
export interface SimpleIndexClientOptions {
  /** `--index-url` then `--extra-index-url`s; default `https://pypi.org/simple/`. */
  indexes?: readonly (string | IndexSpec)[];
  /** `--find-links`: directories, `file://` URLs, or URLs of flat HTML pages. */
  findLinks?: readonly string[];
  /** `--no-index`: consult find-links only. */
  noIndex?: boolean;
  /** Default `first-index`. */
  strategy?: IndexStrategy;
  /** Which page format to ask for; default `auto`. */
  format?: PageFormat;
  /** HTTP client; tests pass one that serves a local index. */
  fetch?: typeof globalThis.fetch;
  /** The clock, in epoch milliseconds, for HTTP cache freshness. */
  now?: () => number;
  /** Default signal for every request (per-call signals add to it). */
  signal?: AbortSignal;
  /** For find-links directories and `file://` URLs; default Deno's file system. */
  fs?: IndexFs;
  /** `.netrc` contents. */
  netrc?: string;
  /** HTTP cache for pages (and metadata); default none. */
  cache?: HttpCacheStorage;
  /** `--refresh`: ignore cached pages. */
  refresh?: boolean;
  /** Use only cached pages; a miss is an `offline-miss` outcome. */
  offline?: boolean;
  /** Cap on a page body, default 64 MiB. */
  maxPageBytes?: number;
  /** Cap on a metadata file, default 16 MiB. */
  maxMetadataBytes?: number;
  /**
   * Cap on a whole file read for its metadata (an sdist, or a wheel from a server that ignores
   * `Range` and answers 200), default 1 GiB. The body is read up to this many bytes and then
   * abandoned with a `too-large` error; a `Content-Length` or PEP 700 size above it fails before
   * the body is read.
   */
  maxDownloadBytes?: number;
  /**
   * How many whole files may be held in memory at once, default 4. Whole-file reads beyond it
   * wait (a 200 answer to a range request waits before its body is read), so metadata reads hold
   * at most `maxConcurrentWholeFiles × maxDownloadBytes` bytes of files, however many run.
   */
  maxConcurrentWholeFiles?: number;
  /**
   * Called with a file's complete bytes whenever the client had to download the whole file to
   * read its metadata (sdists; wheels without PEP 658 metadata on servers that ignore `Range`, or
   * with `rangeRequests: false`), so the caller can keep them (e.g. in its archive cache) instead
   * of downloading the file again. The bytes have been checked against every hash the page gave
   * (`sha256` included); a mismatch fails the metadata read and the hook is not called. Awaited
   * while the bytes are held (within `maxConcurrentWholeFiles`); what it throws or rejects with
   * is ignored and does not change the metadata result. Not called for `file://` files.
   */
  onWholeFile?: (file: DistFile, bytes: Uint8Array) => Promise<void>;
  /** Use HTTP range requests for wheels without PEP 658 metadata; default true. */
  rangeRequests?: boolean;
  /** The `User-Agent` header; default `wheelhouse/0.1`. */
  userAgent?: string;
  /**
   * Called once per link the client skips for a reason the user should see: a filename that is
   * not one safe path segment (a separator, a colon or a control character in it). Other invalid
   * filenames are skipped silently, as pip does.
   */
  onWarning?: (message: string) => void;
}

/** The PyPI simple index. */
export const DEFAULT_INDEX_URL = "https://pypi.org/simple/";

const ACCEPT: Record<PageFormat, string> = {
  auto: `${JSON_MEDIA_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01`,
  json: JSON_MEDIA_TYPE,
  html: "application/vnd.pypi.simple.v1+html, text/html;q=0.01",
};

/** Bytes read from the end of a wheel first: EOCD, central directory and usually `METADATA`. */
const TAIL_BYTES = 16 * 1024;

const nodeIndexFs: IndexFs = {
  readFile: async (p) => new Uint8Array(await fsp.readFile(p)),
  async openRange(p) {
    const file = await fsp.open(p, "r");
    const { size } = await file.stat();
    return {
      size,
      async read(start, end) {
        const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
        let off = 0;
        while (off < out.length) {
          const { bytesRead } = await file.read(out, off, out.length - off, start + off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        return off === out.length ? out : out.subarray(0, off);
      },
      close: () => void file.close().catch(() => {}),
    };
  },
  async readDir(p) {
    const names: string[] = [];
    for (const e of await fsp.readdir(p, { withFileTypes: true })) {
      if (e.isFile() || e.isSymbolicLink()) names.push(e.name);
    }
    return names;
  },
};

interface Location {
  /** Credential-free URL (with trailing slash for indexes). */
  url: string;
  /** For messages and `DistFile.index`. */
  display: string;
  kind: "index" | "find-links";
}

type PageResult =
  | { kind: "found"; page: ProjectPage; url: string }
  | { kind: "not-found" }
  | { kind: "offline-miss" };

function isNotFoundError(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && e.code === "ENOENT";
}

function mergeSignals(
  a: AbortSignal | undefined,
  b: AbortSignal | undefined,
): AbortSignal | undefined {
  if (!a) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}

/**
 * Checks `bytes` against every hash in `hashes` that can be computed.
 *
 * @returns The first mismatching algorithm, or undefined when all match.
 */
function hashMismatch(bytes: Uint8Array, hashes: Hashes): string | undefined {
  for (const [algo, want] of Object.entries(hashes)) {
    let got: string;
    try {
      got = createHash(algo).update(bytes).digest("hex");
    } catch {
      continue; // An algorithm this runtime lacks cannot be checked (pip ignores them too).
    }
    if (got !== want.toLowerCase()) return algo;
  }
  return undefined;
}

/**
 * The {@linkcode IndexClient} over simple-API indexes and find-links locations.
 *
 * @example
 * ```ts
 * import { SimpleIndexClient } from "./simple_index_client.ts";
 * const page = '<a href="/f/demo-1.0-py3-none-any.whl#sha256=00">demo-1.0-py3-none-any.whl</a>';
 * const client = new SimpleIndexClient({
 *   indexes: ["https://user:secret@i.example/simple/"],
 *   fetch: (_url, _init) => Promise.resolve(new Response(page, { headers: { "content-type": "text/html" } })),
 * });
 * const out = await client.projectFiles("Demo");
 * if (out.kind !== "found" || out.files[0]?.url !== "https://i.example/f/demo-1.0-py3-none-any.whl") {
 *   throw new Error();
 * }
 * if (out.index !== "https://user:***@i.example/simple/") throw new Error();
 * ```
 */
export class SimpleIndexClient implements IndexClient {
  #indexes: Location[];
  #findLinks: Location[];
  #strategy: IndexStrategy;
  #format: PageFormat;
  #now: () => number;
  #signal: AbortSignal | undefined;
  #fs: IndexFs;
  #cache: HttpCacheStorage | undefined;
  #refresh: boolean;
  #offline: boolean;
  #maxPage: number;
  #maxMetadata: number;
  #maxDownload: number;
  #wholeFiles: Semaphore;
  #onWholeFile: ((file: DistFile, bytes: Uint8Array) => Promise<void>) | undefined;
  #range: boolean;
  #credentials: CredentialStore;
  #onWarning: ((message: string) => void) | undefined;
  #warned = new Set<string>();
  #http: HttpContext;
  #pages = new SingleFlight<PageResult>();
  #flat = new SingleFlight<DistFileCandidate[]>();
  #metadata = new SingleFlight<MetadataOutcome>();

  /**
   * Creates a client; nothing is fetched until the first call.
   *
   * @param options Indexes, find-links, strategy, injected effects, caps.
   * @throws {IndexError} `invalid-url` for an index URL that cannot be parsed.
   */
  constructor(options: SimpleIndexClientOptions = {}) {
    this.#credentials = new CredentialStore(
      options.netrc === undefined ? {} : { netrc: options.netrc },
    );
    const specs = options.noIndex ? [] : options.indexes ?? [DEFAULT_INDEX_URL];
    this.#indexes = specs.map((s) =>
      this.#location(typeof s === "string" ? { url: s } : s, "index")
    );
    this.#findLinks = (options.findLinks ?? []).map((f) =>
      this.#location({ url: f }, "find-links")
    );
    this.#strategy = options.strategy ?? "first-index";
    this.#onWarning = options.onWarning;
    this.#format = options.format ?? "auto";
    this.#now = options.now ?? Date.now;
    this.#signal = options.signal;
    this.#fs = options.fs ?? nodeIndexFs;
    this.#cache = options.cache;
    this.#refresh = options.refresh ?? false;
    this.#offline = options.offline ?? false;
    this.#maxPage = options.maxPageBytes ?? 64 * 1024 * 1024;
    this.#maxMetadata = options.maxMetadataBytes ?? 16 * 1024 * 1024;
    this.#maxDownload = options.maxDownloadBytes ?? 1024 * 1024 * 1024;
    this.#wholeFiles = new Semaphore(options.maxConcurrentWholeFiles ?? 4);
    this.#onWholeFile = options.onWholeFile;
    this.#range = options.rangeRequests ?? true;
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#http = {
      fetch: fetchFn,
      authFor: (url) => this.#credentials.headersFor(url),
      userAgent: options.userAgent ?? "wheelhouse/0.1",
      maxRedirects: 10,
    };
  }

  #location(spec: IndexSpec, kind: Location["kind"]): Location {
    let raw = spec.url.trim();
    if (kind === "find-links" && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(raw)) {
      raw = pathToFileURL(raw).href; // A plain path.
    }
    let split;
    try {
      split = splitCredentials(raw);
    } catch (cause) {
      throw new IndexError("invalid-url", `Invalid ${kind} URL ${redactUrl(raw)}`, { cause });
    }
    let url = split.url;
    if (kind === "index" && !url.endsWith("/")) url += "/";
    const username = spec.username ?? split.username;
    const password = spec.password ?? split.password;
    if (username !== undefined || password !== undefined) {
      this.#credentials.add(url, username ?? "", password ?? "");
    }
    let display = url;
    if (username !== undefined || password !== undefined) {
      const u = new URL(url);
      u.username = username ?? "";
      if (password !== undefined) u.password = "x";
      display = redactUrl(u.href);
    }
    return { url, display, kind };
  }

  /**
   * Headers to send when downloading `url` (credentials of its origin, or `.netrc`).
   *
   * @param url A file URL from a {@linkcode DistFile}.
   * @returns `{ authorization }` or `{}`.
   */
  authHeaders(url: string): Record<string, string> {
    return this.#credentials.headersFor(url);
  }

  /**
   * Lists the files of a project: from the first index that has it (`first-index`) or from all
   * (`unsafe-best-match`), plus every find-links location.
   *
   * A page that lists no usable file of the project (none at all, or none whose name parses) is
   * "no versions" there, as for pip. Under `first-index` it still ends the search, as in uv: the
   * project exists on that index, so a later index must not supply it (dependency confusion).
   * When no location gives a file the outcome is `not-found` naming the locations asked (and,
   * in `emptyIndexes`, those with an empty page), so the message can say where it looked.
   *
   * @param name The project name in any spelling.
   * @param options `signal`.
   * @returns `found` (with at least one file), `not-found` naming the locations asked, or
   *   `offline-miss`.
   * @throws {IndexError} For HTTP failures other than 404/410, malformed pages, caps exceeded.
   */
  async projectFiles(
    name: string,
    options: ProjectFilesOptions = {},
  ): Promise<ProjectFilesOutcome> {
    const project = normalizeName(name);
    const signal = mergeSignals(this.#signal, options.signal);
    const files: DistFile[] = [];
    let firstIndex: string | undefined;
    let versions: string[] | undefined;
    let offlineMiss = false;
    const asked: string[] = [];
    const empty: string[] = [];
    for (const loc of this.#indexes) {
      asked.push(loc.display);
      const result = await this.#projectPage(loc, project, signal);
      if (result.kind === "offline-miss") {
        offlineMiss = true;
        if (this.#strategy === "first-index") break;
        continue;
      }
      if (result.kind === "not-found") continue;
      const here = this.#toDistFiles(result.page.files, project, loc);
      if (here.length === 0) {
        empty.push(loc.display);
      } else {
        firstIndex ??= loc.display;
        versions = versions === undefined && result.page.versions
          ? [...result.page.versions]
          : undefined;
        files.push(...here);
      }
      if (this.#strategy === "first-index") break;
    }
    for (const loc of this.#findLinks) {
      const candidates = await this.#flatListing(loc, signal);
      for (const c of candidates) {
        if (c.parsed.normalizedName === project) files.push(c.file);
      }
      if (candidates.some((c) => c.parsed.normalizedName === project)) firstIndex ??= loc.display;
    }
    if (firstIndex === undefined) {
      if (offlineMiss) return { kind: "offline-miss", project };
      const notFound: ProjectFilesOutcome = {
        kind: "not-found",
        project,
        indexes: [...asked, ...this.#findLinks.map((l) => l.display)],
      };
      if (empty.length > 0) notFound.emptyIndexes = empty;
      return notFound;
    }
    const found: ProjectFilesOutcome = { kind: "found", project, files, index: firstIndex };
    if (versions !== undefined && this.#findLinks.length === 0) found.versions = versions;
    return found;
  }

  #toDistFiles(pageFiles: PageFile[], project: string, loc: Location): DistFile[] {
    const out: DistFile[] = [];
    for (const pf of pageFiles) {
      const c = this.#candidate(pf, project, loc);
      if (c && c.parsed.normalizedName === project) out.push(c.file);
    }
    return out;
  }

  #candidate(
    pf: PageFile,
    project: string | undefined,
    loc: Location,
  ): DistFileCandidate | undefined {
    let parsed: DistFilename;
    try {
      parsed = parseDistFilename(pf.filename, project);
    } catch (e) {
      // Invalid file names are skipped, as pip does; one that could name another path is a sign
      // of a broken or hostile index, so it is said, once, without failing the run.
      if (e instanceof InvalidFilenameError && e.code === "unsafe-filename") {
        const key = `${loc.display}\n${pf.filename}`;
        if (!this.#warned.has(key)) {
          this.#warned.add(key);
          this.#onWarning?.(`Skipping a link on ${loc.display}: ${redactText(e.message)}`);
        }
      }
      return undefined;
    }
    let url = pf.url;
    try {
      const split = splitCredentials(url);
      if (split.username !== undefined || split.password !== undefined) {
        this.#credentials.add(split.url, split.username ?? "", split.password ?? "");
      }
      url = split.url;
    } catch {
      return undefined;
    }
    const file: DistFile = {
      filename: pf.filename,
      url,
      hashes: pf.hashes,
      yanked: pf.yanked,
      coreMetadata: pf.coreMetadata,
      index: loc.display,
      parsed,
    };
    if (pf.requiresPython !== undefined) file.requiresPython = pf.requiresPython;
    if (pf.size !== undefined) file.size = pf.size;
    if (pf.uploadTime !== undefined) file.uploadTime = pf.uploadTime;
    return { file, parsed };
  }

  /** The project page on one index, through the single-flight memo and the HTTP cache. */
  #projectPage(
    loc: Location,
    project: string,
    signal: AbortSignal | undefined,
  ): Promise<PageResult> {
    const url = `${loc.url}${project}/`;
    return this.#pages.do(url, () => this.#fetchPage(url, signal, "index"));
  }

  async #fetchPage(
    url: string,
    signal: AbortSignal | undefined,
    kind: "index" | "find-links",
  ): Promise<PageResult> {
    if (url.startsWith("file:")) return await this.#localPage(url, kind);
    const key = `page:${this.#format}:${url}`;
    const stored = this.#cache ? await this.#cache.get(key) : undefined;
    const decision = this.#cache
      ? beforeRequest(stored?.meta, { refresh: this.#refresh, offline: this.#offline }, this.#now())
      : this.#offline
      ? { kind: "offline-miss" as const }
      : { kind: "fetch" as const };
    const parseStored = (): PageResult =>
      stored
        ? { kind: "found", page: this.#parsePage(stored.body, stored.meta.contentType, url), url }
        : { kind: "not-found" };
    return await match(decision)
      .with({ kind: "offline-miss" }, () => Promise.resolve<PageResult>({ kind: "offline-miss" }))
      .with({ kind: "use-stored" }, () => Promise.resolve(parseStored()))
      .with({ kind: "fetch" }, { kind: "revalidate" }, async (d) => {
        const headers: Record<string, string> = {
          accept: kind === "find-links" ? "text/html" : ACCEPT[this.#format],
          "accept-encoding": "gzip",
          ...(d.kind === "revalidate" ? d.headers : {}),
        };
        const { response, url: finalUrl } = await httpGet(this.#http, url, { headers, signal });
        if (response.status === 304 && stored) {
          await response.body?.cancel();
          const meta = metaAfterNotModified(stored.meta, response.headers, this.#now());
          await this.#cache?.put(key, stored.body, meta);
          return parseStored();
        }
        if (response.status === 404 || response.status === 410) {
          await response.body?.cancel();
          return { kind: "not-found" } as PageResult;
        }
        if (response.status !== 200) {
          await response.body?.cancel();
          throw statusError(
            url,
            response.status,
            kind === "index" ? "the project page" : "the find-links page",
          );
        }
        const body = await readCapped(response, this.#maxPage, url, "page");
        const contentType = response.headers.get("content-type") ?? undefined;
        // Relative links resolve against the final URL after redirects.
        const page = this.#parsePage(body, contentType, finalUrl);
        if (
          this.#cache &&
          isStorable(response.status, response.headers.get("cache-control") ?? undefined)
        ) {
          const meta = metaFromResponse(redactUrl(url), 200, response.headers, this.#now());
          await this.#cache.put(key, body, meta);
        }
        return { kind: "found", page, url: finalUrl } as PageResult;
      })
      .exhaustive();
  }

  async #localPage(url: string, kind: "index" | "find-links"): Promise<PageResult> {
    const path = fileURLToPath(url);
    const candidates = url.endsWith("/")
      ? [`${path}/index.html`.replace(/\/\/index/, "/index")]
      : [path];
    for (const p of candidates) {
      let body: Uint8Array;
      try {
        body = await this.#fs.readFile(p);
      } catch (e) {
        if (isNotFoundError(e)) return { kind: "not-found" };
        throw new IndexError("io", `Cannot read ${kind} page ${p}: ${String(e)}`, { cause: e });
      }
      const fileUrl = pathToFileURL(p).href;
      const isJson = p.endsWith(".json");
      return {
        kind: "found",
        page: this.#parsePage(body, isJson ? JSON_MEDIA_TYPE : "text/html", fileUrl),
        url: fileUrl,
      };
    }
    return { kind: "not-found" };
  }

  #parsePage(body: Uint8Array, contentType: string | undefined, url: string): ProjectPage {
    const text = new TextDecoder().decode(body);
    const mime = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const versioned = /^application\/vnd\.pypi\.simple\.v(\d+)\+(json|html)$/.exec(mime);
    if (versioned && versioned[1] !== "1") {
      throw new IndexError(
        "unsupported-api-version",
        `Cannot read ${
          redactUrl(url)
        }: the server answered ${mime}, an unsupported simple API version`,
      );
    }
    const json = versioned?.[2] === "json" || mime === "application/vnd.pypi.simple.latest+json" ||
      mime === "application/json";
    return json ? parseJsonPage(text, url) : parseHtmlPage(text, url);
  }

  /** Every parseable file of a find-links location (directory or flat page), read once. */
  #flatListing(loc: Location, signal: AbortSignal | undefined): Promise<DistFileCandidate[]> {
    return this.#flat.do(loc.url, async () => {
      const url = new URL(loc.url);
      if (url.protocol === "file:") {
        const path = fileURLToPath(url);
        if (/\.html?$/i.test(path)) {
          const page = await this.#localPage(url.href, "find-links");
          return page.kind === "found" ? this.#candidates(page.page.files, loc) : [];
        }
        let names: string[];
        try {
          names = await this.#fs.readDir(path);
        } catch (e) {
          if (isNotFoundError(e)) return [];
          throw new IndexError("io", `Cannot list find-links directory ${path}: ${String(e)}`, {
            cause: e,
          });
        }
        const dirUrl = url.href.endsWith("/") ? url.href : `${url.href}/`;
        const files: PageFile[] = names.sort().map((n) => ({
          filename: n,
          url: new URL(encodeURIComponent(n), dirUrl).href,
          hashes: {},
          yanked: false,
          coreMetadata: false,
        }));
        return this.#candidates(files, loc);
      }
      const page = await this.#fetchPage(loc.url, signal, "find-links");
      return match(page)
        .with({ kind: "found" }, (p) => this.#candidates(p.page.files, loc))
        .with({ kind: "not-found" }, () => {
          throw statusError(loc.url, 404, "the find-links page");
        })
        .with({ kind: "offline-miss" }, () => [] as DistFileCandidate[])
        .exhaustive();
    });
  }

  #candidates(files: PageFile[], loc: Location): DistFileCandidate[] {
    const out: DistFileCandidate[] = [];
    for (const pf of files) {
      // A flat listing names no project; sdists are split at the last "-" (PEP 625).
      const c = this.#candidate(pf, undefined, loc);
      if (c) out.push(c);
    }
    return out;
  }

  /**
   * Reads a file's core metadata: PEP 658 `.metadata` (hash checked), else range requests into
   * the wheel's central directory, else a full download; sdists by their `PKG-INFO` when it is
   * static (Metadata-Version ≥ 2.2 and `Requires-Dist` not dynamic). One read per file per
   * client: later calls share the first answer.
   *
   * @param file A file from {@linkcode projectFiles}.
   * @param options `signal`.
   * @returns `found` with how it was obtained, `needs-build`, or `offline-miss`.
   * @throws {IndexError} `hash-mismatch`, `invalid-archive`, `invalid-metadata`, HTTP failures.
   */
  metadata(file: DistFile, options: MetadataOptions = {}): Promise<MetadataOutcome> {
    const signal = mergeSignals(this.#signal, options.signal);
    return this.#metadata.do(file.url, () => this.#loadMetadata(file, signal));
  }

  async #loadMetadata(file: DistFile, signal: AbortSignal | undefined): Promise<MetadataOutcome> {
    const url = new URL(file.url);
    if (url.protocol === "file:") {
      const path = fileURLToPath(url);
      if (file.parsed.kind === "wheel" && this.#fs.openRange) {
        // A local wheel: read the central directory and METADATA only, as over HTTP ranges.
        let source;
        try {
          source = await this.#fs.openRange(path);
        } catch (e) {
          throw new IndexError("io", `Cannot read ${path}: ${String(e)}`, { cause: e });
        }
        try {
          return this.#found(file, await this.#wheelMetadataBytes(file, source), "local");
        } finally {
          source.close();
        }
      }
      // A whole local file is held in memory too, so it counts against the same limit.
      const release = await this.#wholeFiles.acquire(signal);
      try {
        let bytes: Uint8Array;
        try {
          bytes = await this.#fs.readFile(path);
        } catch (e) {
          throw new IndexError("io", `Cannot read ${path}: ${String(e)}`, { cause: e });
        }
        return (await this.#fromWholeFile(file, bytes, "local")).outcome;
      } finally {
        release();
      }
    }
    const key = `metadata:${file.url}`;
    const cached = this.#cache ? await this.#cache.get(key) : undefined;
    if (cached && !this.#refresh) {
      const via = /via=([a-z0-9-]+)/.exec(cached.meta.contentType ?? "")?.[1] as
        | MetadataVia
        | undefined;
      return this.#found(file, cached.body, via ?? "download");
    }
    if (this.#offline) return { kind: "offline-miss", file };
    let outcome: MetadataOutcome;
    let text: Uint8Array | undefined;
    if (file.parsed.kind === "wheel") {
      const got = await this.#wheelMetadata(file, signal);
      outcome = got.outcome;
      text = got.text;
    } else {
      const got = await this.#viaWholeFile(file, signal);
      outcome = got.outcome;
      text = got.text;
    }
    if (this.#cache && text && outcome.kind === "found") {
      await this.#cache.put(key, text, {
        url: redactUrl(file.url),
        status: 200,
        storedAt: this.#now(),
        contentType: `text/x-core-metadata; via=${outcome.via}`,
      });
    }
    return outcome;
  }

  async #wheelMetadata(
    file: DistFile,
    signal: AbortSignal | undefined,
  ): Promise<{ outcome: MetadataOutcome; text?: Uint8Array }> {
    if (file.coreMetadata !== false) {
      const mdUrl = `${file.url}.metadata`;
      const { response } = await httpGet(this.#http, mdUrl, { signal, headers: {} });
      if (response.status === 200) {
        const body = await readCapped(response, this.#maxMetadata, mdUrl, "metadata");
        const bad = hashMismatch(body, file.coreMetadata.hashes);
        if (bad !== undefined) {
          throw new IndexError(
            "hash-mismatch",
            `Metadata ${redactUrl(mdUrl)} does not match its ${bad} hash from the index`,
          );
        }
        return { outcome: this.#found(file, body, "pep658"), text: body };
      }
      await response.body?.cancel();
      // A missing .metadata file despite the page's promise: fall back, as pip does.
      if (response.status !== 404 && response.status !== 410) {
        throw statusError(mdUrl, response.status, "metadata");
      }
    }
    if (this.#range) {
      const r = await this.#rangeRead(file, signal);
      if (r.kind === "metadata") {
        return { outcome: this.#found(file, r.text, "range"), text: r.text };
      }
      return await this.#viaWholeFile(file, signal, r.response);
    }
    return await this.#viaWholeFile(file, signal);
  }

  /**
   * Reads `METADATA` by range requests. A server that ignores `Range` answers 200 with the whole
   * file: that response is handed back unread, to be read as the download (no second request).
   * A server that cannot serve the range (416, 501, a 206 without `Content-Range`) asks for a
   * download (`response` absent).
   */
  async #rangeRead(
    file: DistFile,
    signal: AbortSignal | undefined,
  ): Promise<
    { kind: "metadata"; text: Uint8Array } | { kind: "whole"; response?: Response }
  > {
    const url = file.url;
    const headers = { range: `bytes=-${TAIL_BYTES}`, "accept-encoding": "identity" };
    const { response } = await httpGet(this.#http, url, { signal, headers });
    if (response.status === 200) return { kind: "whole", response };
    const total = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
    if (response.status !== 206 || !total) {
      await response.body?.cancel();
      if (response.status === 206 || response.status === 416 || response.status === 501) {
        return { kind: "whole" };
      }
      throw statusError(url, response.status, "the file");
    }
    const size = Number(total[3]);
    const tailStart = Number(total[1]);
    const tail = await readCapped(response, TAIL_BYTES + 1024, url, "range of");
    if (tailStart + tail.length !== size) {
      throw new IndexError(
        "invalid-archive",
        `Range response of ${redactUrl(url)} has the wrong length`,
      );
    }
    const source: RangeSource = {
      size,
      read: async (start, end) => {
        if (start >= tailStart && end <= size) {
          return tail.subarray(start - tailStart, end - tailStart);
        }
        const hi = Math.min(end, size);
        const r = await httpGet(this.#http, url, {
          signal,
          headers: { range: `bytes=${start}-${hi - 1}`, "accept-encoding": "identity" },
        });
        if (r.response.status !== 206) {
          await r.response.body?.cancel();
          throw new IndexError(
            "invalid-archive",
            `Range request to ${redactUrl(url)} answered ${r.response.status}`,
          );
        }
        const body = await readCapped(r.response, hi - start, url, "range of");
        if (body.length !== hi - start) {
          throw new IndexError("invalid-archive", `Range response of ${redactUrl(url)} is short`);
        }
        return body;
      },
    };
    const text = await this.#wheelMetadataBytes(file, source, tail);
    return { kind: "metadata", text };
  }

  async #wheelMetadataBytes(
    file: DistFile,
    source: RangeSource,
    tail?: Uint8Array,
  ): Promise<Uint8Array> {
    const where = redactUrl(file.url);
    let entries: ZipEntry[];
    try {
      entries = await listZip(source, tail);
    } catch (cause) {
      if (cause instanceof IndexError) throw cause;
      throw new IndexError("invalid-archive", `Cannot read wheel ${where}: ${String(cause)}`, {
        cause,
      });
    }
    const entry = pickDistInfoMetadata(entries, file.parsed.normalizedName);
    if (!entry) {
      throw new IndexError("invalid-archive", `Wheel ${where} has no .dist-info/METADATA`);
    }
    try {
      return await readZipEntry(source, entry, this.#maxMetadata);
    } catch (cause) {
      if (cause instanceof IndexError) throw cause;
      throw new IndexError(
        "invalid-archive",
        `Cannot read ${entry.name} in ${where}: ${String(cause)}`,
        {
          cause,
        },
      );
    }
  }

  /**
   * Metadata from the whole remote file: waits for a whole-file permit (so that only
   * `maxConcurrentWholeFiles` files are in memory at once), reads the body of `response` (a 200
   * already received) or downloads the file, checks its hashes, hands the bytes to `onWholeFile`,
   * and reads the metadata. The bytes are dropped when the permit is given back.
   */
  async #viaWholeFile(
    file: DistFile,
    signal: AbortSignal | undefined,
    response?: Response,
  ): Promise<{ outcome: MetadataOutcome; text?: Uint8Array }> {
    let release: () => void;
    try {
      release = await this.#wholeFiles.acquire(signal);
    } catch (e) {
      await response?.body?.cancel().catch(() => {});
      throw e;
    }
    try {
      const bytes = await this.#checkedBody(file, response ?? await this.#download(file, signal));
      if (this.#onWholeFile) {
        try {
          await this.#onWholeFile(file, bytes);
        } catch {
          // The hook is the caller's optimisation; its failure changes nothing here.
        }
      }
      return await this.#fromWholeFile(file, bytes, "download");
    } finally {
      release();
    }
  }

  /** GETs the whole file; the body is left for `#checkedBody` to read. */
  async #download(file: DistFile, signal: AbortSignal | undefined): Promise<Response> {
    if (file.size !== undefined && file.size > this.#maxDownload) {
      throw new IndexError(
        "too-large",
        `Cannot read file ${
          redactUrl(file.url)
        }: its ${file.size} bytes are over the ${this.#maxDownload}-byte limit`,
      );
    }
    const { response } = await httpGet(this.#http, file.url, { signal, headers: {} });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw statusError(file.url, response.status, "the file");
    }
    return response;
  }

  /** The whole body, at most `maxDownloadBytes` of it, checked against the page's hashes. */
  async #checkedBody(file: DistFile, response: Response): Promise<Uint8Array> {
    const bytes = await readCapped(response, this.#maxDownload, file.url, "file");
    const bad = hashMismatch(bytes, file.hashes);
    if (bad !== undefined) {
      throw new IndexError(
        "hash-mismatch",
        `File ${redactUrl(file.url)} does not match its ${bad} hash from the index`,
      );
    }
    return bytes;
  }

  /** Metadata from a whole file in memory (downloaded or local). */
  async #fromWholeFile(
    file: DistFile,
    bytes: Uint8Array,
    via: "download" | "local",
  ): Promise<{ outcome: MetadataOutcome; text?: Uint8Array }> {
    if (file.parsed.kind === "wheel") {
      const text = await this.#wheelMetadataBytes(file, bytesSource(bytes));
      return { outcome: this.#found(file, text, via), text };
    }
    const ext = file.parsed.extension;
    let pkgInfo: Uint8Array | undefined;
    const isPkgInfo = (p: string): boolean => /^[^/]+\/PKG-INFO$/.test(p);
    try {
      if (ext === ".tar.gz" || ext === ".tgz") {
        const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
        const hit = await findTarGzMember(stream, isPkgInfo, {
          maxMember: this.#maxMetadata,
          maxTotal: this.#maxDownload,
        });
        pkgInfo = hit?.data;
      } else if (ext === ".zip") {
        const source = bytesSource(bytes);
        const entry = (await listZip(source)).find((e) => isPkgInfo(e.name));
        pkgInfo = entry ? await readZipEntry(source, entry, this.#maxMetadata) : undefined;
      } else {
        return { outcome: { kind: "needs-build", file, reason: `${ext} sdists are not read` } };
      }
    } catch (cause) {
      throw new IndexError(
        "invalid-archive",
        `Cannot read sdist ${redactUrl(file.url)}: ${String(cause)}`,
        { cause },
      );
    }
    if (!pkgInfo) {
      return { outcome: { kind: "needs-build", file, reason: "the sdist has no PKG-INFO" } };
    }
    const found = this.#found(file, pkgInfo, "sdist-pkg-info");
    if (found.kind !== "found") return { outcome: found };
    const md = found.metadata;
    // PEP 643: only Metadata-Version 2.2+ promises that non-Dynamic fields are what a build gives.
    const [major, minor] = md.metadataVersion.split(".").map(Number);
    if ((major ?? 0) < 2 || ((major ?? 0) === 2 && (minor ?? 0) < 2)) {
      const reason =
        `PKG-INFO has Metadata-Version ${md.metadataVersion} (2.2 or newer is needed to trust it)`;
      return { outcome: { kind: "needs-build", file, reason } };
    }
    if (md.dynamic.includes("requires-dist")) {
      return {
        outcome: { kind: "needs-build", file, reason: "PKG-INFO marks Requires-Dist as Dynamic" },
      };
    }
    return { outcome: found, text: pkgInfo };
  }

  #found(file: DistFile, bytes: Uint8Array, via: MetadataVia): MetadataOutcome {
    const where = redactUrl(file.url);
    let metadata: CoreMetadata;
    try {
      metadata = parseCoreMetadata(new TextDecoder().decode(bytes));
    } catch (cause) {
      throw new IndexError(
        "invalid-metadata",
        `Invalid metadata for ${where}: ${redactText(String((cause as Error)?.message ?? cause))}`,
        { cause },
      );
    }
    if (normalizeName(metadata.name) !== file.parsed.normalizedName) {
      throw new IndexError(
        "invalid-metadata",
        `Metadata of ${where} names project "${metadata.name}", not ${file.parsed.normalizedName}`,
      );
    }
    return { kind: "found", metadata, via };
  }
}

interface DistFileCandidate {
  file: DistFile;
  parsed: DistFilename;
}

/** The top-level `<name>-<version>.dist-info/METADATA`, preferring the project's own. */
function pickDistInfoMetadata(entries: ZipEntry[], project: string): ZipEntry | undefined {
  const all = entries.filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  if (all.length <= 1) return all[0];
  return all.find((e) => {
    const dir = e.name.slice(0, e.name.indexOf(".dist-info/"));
    const dash = dir.lastIndexOf("-");
    return dash > 0 && normalizeName(dir.slice(0, dash)) === project;
  });
}
