/**
 * {@linkcode startServer}: a read-only package index over an {@linkcode IndexSource}, on
 * `node:http` (so it runs under Deno and Node). PEP 503 HTML and PEP 691 JSON pages chosen by
 * `Accept`, PEP 658 metadata files, files with `Range`, conditional requests and HEAD, optional
 * Basic authentication, one log entry per request.
 *
 * Routes: `/simple/` (the project list), `/simple/<project>/` (a project; a name that is not
 * normalised is redirected, as PyPI does), `/files/<file>` and `/files/<file>.metadata`.
 *
 * @module
 */

// node:http and node:zlib are loaded when a server starts: every other command of a process
// that bundles this module (the CLI) would pay for them at start-up (about 6 ms under Deno).
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { match } from "ts-pattern";
import { isNotModified } from "./_conditional.ts";
import { mapLimit } from "./_map_limit.ts";
import {
  acceptsGzip,
  HTML_V1,
  JSON_V1,
  negotiatePage,
  type PageMediaType,
  TEXT_HTML,
} from "./_negotiate.ts";
import { type PageEntry, projectHtml, projectJson, projectsHtml, projectsJson } from "./_pages.ts";
import { ifRangeHolds, parseRange } from "./_range.ts";
import { route } from "./_route.ts";
import { type Authenticator, type IndexSource, ServeError, type SourceFile } from "./types.ts";

/** What a server logs about one request, once its response is finished (or abandoned). */
export interface RequestLogEntry {
  /** The method (`-` for a request that could not be parsed). */
  method: string;
  /** The request target as sent (path and query; `-` when it could not be parsed). */
  path: string;
  /** The status code sent. */
  status: number;
  /** Body bytes sent (after compression; 0 for HEAD and 304). */
  bytes: number;
  /** Milliseconds from the request to the end of the response. */
  ms: number;
}

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  /** What to serve. */
  source: IndexSource;
  /** The address to listen on; default `127.0.0.1` (this machine only). */
  host?: string;
  /** The port; default 0 (a free one, see {@linkcode RunningServer.port}). */
  port?: number;
  /** Checks every request's credentials; none by default. */
  auth?: Authenticator;
  /** Page formats offered; default both. A client that accepts none of them gets 406. */
  formats?: readonly ("json" | "html")[];
  /** Largest request head in bytes; larger ones get 431. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Called once per request, when its response is done. */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Called with what went wrong when a request failed inside the server (a 500). */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
  /** A monotonic clock in ms, for the durations in the log; `performance.now` by default. */
  now?: () => number;
  /** Stops the server when aborted, as {@linkcode RunningServer.close} does. */
  signal?: AbortSignal;
  /** How long `close` lets requests in flight finish before dropping them; default 1000 ms. */
  closeGraceMs?: number;
}

/** A server that is listening. */
export interface RunningServer {
  /** `http://HOST:PORT/` */
  url: string;
  /** `http://HOST:PORT/simple/`: what `pip install --index-url` takes. */
  indexUrl: string;
  /** The address listened on. */
  host: string;
  /** The port listened on (the free one picked for port 0). */
  port: number;
  /**
   * Stops listening, closes idle connections at once and the others after the grace period.
   *
   * @returns When every connection is closed.
   */
  close(): Promise<void>;
}

interface CachedPage {
  revision: string;
  /** Why the page may be out of date (see {@linkcode ProjectLookup}), for a response header. */
  note?: string;
  body: Uint8Array;
  gzipped?: Uint8Array;
  etag: string;
  lastModifiedMs: number;
}

interface Context {
  gzipSync: (data: Uint8Array) => Uint8Array;
  source: IndexSource;
  auth: Authenticator | undefined;
  offered: PageMediaType[];
  onRequest: ((entry: RequestLogEntry) => void) | undefined;
  onError: ((error: unknown, request: { method: string; path: string }) => void) | undefined;
  now: () => number;
  pages: Map<string, CachedPage>;
}

type Headers = Record<string, string>;

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  head: boolean;
  /** Body bytes written so far. */
  bytes: number;
}

const encoder = new TextEncoder();
const COMMON: Headers = { "x-content-type-options": "nosniff" };
// Pages are small and their folder may be refreshed at any moment: a cache may keep them but
// must ask again (a 304 costs one round trip). Files do not change under their names.
const PAGE_CACHE = "no-cache";
const FILE_CACHE = "public, max-age=3600";
const METADATA_CONCURRENCY = 8;

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function fileContentType(filename: string): string {
  const name = filename.toLowerCase();
  if (name.endsWith(".whl") || name.endsWith(".zip")) return "application/zip";
  // The bytes are the gzip file itself: a Content-Encoding here would make clients unpack it.
  if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) return "application/gzip";
  if (name.endsWith(".tar.bz2")) return "application/x-bzip2";
  if (name.endsWith(".tar.xz")) return "application/x-xz";
  if (name.endsWith(".tar")) return "application/x-tar";
  return "application/octet-stream";
}

function contentTypeOf(media: PageMediaType): string {
  return media === JSON_V1 ? JSON_V1 : `${media}; charset=utf-8`;
}

function send(
  x: Exchange,
  status: number,
  headers: Headers,
  body: Uint8Array | string = new Uint8Array(),
): void {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  x.res.writeHead(status, { ...COMMON, ...headers, "content-length": String(bytes.length) });
  if (x.head || status === 304) {
    x.res.end();
    return;
  }
  x.bytes += bytes.length;
  x.res.end(bytes);
}

function sendText(x: Exchange, status: number, text: string, headers: Headers = {}): void {
  send(x, status, { "content-type": "text/plain; charset=utf-8", ...headers }, text);
}

function notModified(x: Exchange, headers: Headers): void {
  x.res.writeHead(304, { ...COMMON, ...headers });
  x.res.end();
}

/** A header that may be sent more than once, as one value (a list joined with commas). */
function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function conditions(req: http.IncomingMessage): {
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
} {
  return {
    ifNoneMatch: req.headers["if-none-match"],
    ifModifiedSince: req.headers["if-modified-since"],
  };
}

/** Resolves when `res` can take more (or is gone). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    // A response that closed while the last chunk was being read has already said "close".
    if (res.destroyed || !res.writableNeedDrain) return resolve();
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Streams `body` into the response with back-pressure; stops when the client goes away. */
async function pump(x: Exchange, body: ReadableStream<Uint8Array>, length: number): Promise<void> {
  const reader = body.getReader();
  let sent = 0;
  try {
    while (!x.res.destroyed) {
      const { done, value } = await reader.read();
      if (done) break;
      sent += value.length;
      x.bytes += value.length;
      if (!x.res.write(value)) await drained(x.res);
    }
  } catch (e) {
    // Headers are out: all that is left is to cut the connection so the client sees it short.
    x.res.destroy();
    throw e;
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (x.res.destroyed) return;
  if (sent !== length) {
    x.res.destroy();
    throw new Error(`sent ${sent} of ${length} bytes`);
  }
  x.res.end();
}

async function renderPage(
  ctx: Context,
  which: { kind: "projects" } | { kind: "project"; project: string },
  media: PageMediaType,
): Promise<CachedPage | undefined> {
  const json = media === JSON_V1;
  const key = `${which.kind === "project" ? which.project : ""}\0${json ? "json" : "html"}`;
  if (which.kind === "projects") {
    const list = await ctx.source.projects();
    const cached = ctx.pages.get(key);
    if (cached?.revision === list.revision) return cached;
    const text = json ? projectsJson(list.projects) : projectsHtml(list.projects);
    return keep(ctx, key, list.revision, list.lastModifiedMs, text);
  }
  const lookup = await ctx.source.project(which.project);
  if (lookup.kind === "not-found") return undefined;
  const cached = ctx.pages.get(key);
  if (cached?.revision === lookup.revision) {
    return lookup.note === undefined ? cached : { ...cached, note: lookup.note };
  }
  const entries = await mapLimit(
    lookup.files,
    METADATA_CONCURRENCY,
    async (file: SourceFile): Promise<PageEntry> => {
      if (file.hasMetadata && file.metadataSha256 !== undefined) {
        return { file, metadataSha256: file.metadataSha256 };
      }
      const metadata = file.hasMetadata ? await ctx.source.metadata(file) : undefined;
      return metadata === undefined ? { file } : { file, metadataSha256: metadata.sha256 };
    },
  );
  const text = json ? projectJson(lookup.project, entries) : projectHtml(lookup.project, entries);
  const page = keep(ctx, key, lookup.revision, lookup.lastModifiedMs, text);
  return lookup.note === undefined ? page : { ...page, note: lookup.note };
}

function keep(
  ctx: Context,
  key: string,
  revision: string,
  lastModifiedMs: number,
  text: string,
): CachedPage {
  const body = encoder.encode(text);
  const digest = createHash("sha256").update(body).digest("hex").slice(0, 32);
  // Weak: the same page goes out plain or gzipped, byte-different but equivalent.
  const page = { revision, body, etag: `W/"${digest}"`, lastModifiedMs };
  ctx.pages.set(key, page);
  return page;
}

async function servePage(
  ctx: Context,
  x: Exchange,
  which: { kind: "projects" } | { kind: "project"; project: string },
  format: string | undefined,
): Promise<void> {
  const media = negotiatePage(format ?? x.req.headers.accept, ctx.offered);
  if (media === undefined) {
    sendText(x, 406, `Not Acceptable: this index serves ${ctx.offered.join(", ")}\n`, {
      vary: "Accept",
    });
    return;
  }
  const page = await renderPage(ctx, which, media);
  if (page === undefined) {
    const name = which.kind === "project" ? which.project : "";
    sendText(x, 404, `Not Found: no project "${name}" in this index\n`);
    return;
  }
  const headers: Headers = {
    "content-type": contentTypeOf(media),
    vary: "Accept, Accept-Encoding",
    etag: page.etag,
    "last-modified": httpDate(page.lastModifiedMs),
    "cache-control": PAGE_CACHE,
    ...(page.note !== undefined ? { "x-wheelhouse-stale": page.note } : {}),
  };
  if (isNotModified(conditions(x.req), page.etag, page.lastModifiedMs)) {
    notModified(x, headers);
    return;
  }
  if (acceptsGzip(x.req.headers["accept-encoding"])) {
    page.gzipped ??= new Uint8Array(ctx.gzipSync(page.body));
    send(x, 200, { ...headers, "content-encoding": "gzip" }, page.gzipped);
    return;
  }
  send(x, 200, headers, page.body);
}

async function serveFile(ctx: Context, x: Exchange, filename: string): Promise<void> {
  const lookup = await ctx.source.file(filename);
  if (lookup.kind === "not-found") {
    sendText(x, 404, "Not Found\n");
    return;
  }
  const file = lookup.file;
  const etag = `"${file.sha256}"`;
  const headers: Headers = {
    etag,
    "last-modified": httpDate(file.mtimeMs),
    "cache-control": FILE_CACHE,
    "accept-ranges": "bytes",
  };
  if (isNotModified(conditions(x.req), etag, file.mtimeMs)) {
    notModified(x, headers);
    return;
  }
  const range = ifRangeHolds(header(x.req, "if-range"), etag, file.mtimeMs)
    ? parseRange(x.req.headers.range, file.size)
    : { kind: "whole" as const };
  if (range.kind === "unsatisfiable") {
    sendText(x, 416, "Range Not Satisfiable\n", {
      ...headers,
      "content-range": `bytes */${file.size}`,
    });
    return;
  }
  const partial = range.kind === "partial" ? { start: range.start, end: range.end } : undefined;
  const opened = await ctx.source.open(file, partial);
  if (opened.kind === "gone") {
    sendText(x, 404, "Not Found\n");
    return;
  }
  const length = partial === undefined ? file.size : partial.end - partial.start;
  x.res.writeHead(partial === undefined ? 200 : 206, {
    ...COMMON,
    ...headers,
    "content-type": fileContentType(file.filename),
    "content-length": String(length),
    ...(partial === undefined
      ? {}
      : { "content-range": `bytes ${partial.start}-${partial.end - 1}/${file.size}` }),
  });
  if (x.head) {
    await opened.body.cancel();
    x.res.end();
    return;
  }
  await pump(x, opened.body, length);
}

async function serveMetadata(ctx: Context, x: Exchange, filename: string): Promise<void> {
  const lookup = await ctx.source.file(filename);
  const metadata = lookup.kind === "found" ? await ctx.source.metadata(lookup.file) : undefined;
  if (lookup.kind === "not-found" || metadata === undefined) {
    sendText(x, 404, "Not Found\n");
    return;
  }
  const etag = `"${metadata.sha256}"`;
  const headers: Headers = {
    etag,
    "last-modified": httpDate(lookup.file.mtimeMs),
    "cache-control": FILE_CACHE,
  };
  if (isNotModified(conditions(x.req), etag, lookup.file.mtimeMs)) {
    notModified(x, headers);
    return;
  }
  send(x, 200, { ...headers, "content-type": "text/plain; charset=utf-8" }, metadata.bytes);
}

async function respond(ctx: Context, x: Exchange): Promise<void> {
  if (ctx.auth !== undefined && !(await ctx.auth.check(x.req.headers.authorization))) {
    sendText(x, 401, "Unauthorized\n", {
      "www-authenticate": `Basic realm="${ctx.auth.realm.replace(/["\\]/g, "")}", charset="UTF-8"`,
    });
    return;
  }
  if (x.req.method !== "GET" && x.req.method !== "HEAD") {
    sendText(x, 405, "Method Not Allowed: this index is read-only\n", { allow: "GET, HEAD" });
    return;
  }
  await match(route(x.req.url ?? ""))
    .with({ kind: "bad-request" }, (r) => sendText(x, 400, `Bad Request: ${r.reason}\n`))
    .with({ kind: "not-found" }, () => sendText(x, 404, "Not Found\n"))
    .with(
      { kind: "redirect" },
      (r) => sendText(x, 301, "Moved Permanently\n", { location: r.location }),
    )
    .with({ kind: "projects" }, (r) => servePage(ctx, x, { kind: "projects" }, r.format))
    .with(
      { kind: "project" },
      (r) => servePage(ctx, x, { kind: "project", project: r.project }, r.format),
    )
    .with({ kind: "file" }, (r) => serveFile(ctx, x, r.filename))
    .with({ kind: "metadata" }, (r) => serveMetadata(ctx, x, r.filename))
    .exhaustive();
}

async function handle(
  ctx: Context,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const started = ctx.now();
  const x: Exchange = { req, res, head: req.method === "HEAD", bytes: 0 };
  const method = req.method ?? "-";
  const path = req.url ?? "-";
  res.once("close", () => {
    ctx.onRequest?.({
      method,
      path,
      status: res.statusCode,
      bytes: x.bytes,
      ms: ctx.now() - started,
    });
  });
  try {
    await respond(ctx, x);
  } catch (e) {
    ctx.onError?.(e, { method, path });
    if (!res.headersSent) sendText(x, 500, "Internal Server Error\n");
    else res.destroy();
  }
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts an index server over a source.
 *
 * @param options The source, address, authentication, formats, logging.
 * @returns The running server, once it listens.
 * @throws {ServeError} `address-in-use` when the port is taken, `cannot-listen` when listening
 * fails otherwise.
 * @example
 * ```ts
 * import { startServer } from "./start_server.ts";
 * import type { IndexSource } from "./types.ts";
 * const empty: IndexSource = {
 *   description: "nothing",
 *   projects: () => Promise.resolve({ projects: ["demo"], revision: "1", lastModifiedMs: 0 }),
 *   project: (name) => Promise.resolve({ kind: "not-found", project: name }),
 *   file: () => Promise.resolve({ kind: "not-found" }),
 *   open: () => Promise.resolve({ kind: "gone", reason: "nothing" }),
 *   metadata: () => Promise.resolve(undefined),
 * };
 * const server = await startServer({ source: empty });
 * const page = await fetch(server.indexUrl, { headers: { accept: "application/vnd.pypi.simple.v1+json" } });
 * const json = await page.json();
 * if (json.projects[0].name !== "demo" || json.meta["api-version"] !== "1.1") throw new Error();
 * const missing = await fetch(`${server.indexUrl}other/`);
 * await missing.body?.cancel();
 * if (missing.status !== 404) throw new Error(String(missing.status));
 * await server.close();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const formats = options.formats ?? ["json", "html"];
  const offered: PageMediaType[] = [
    ...(formats.includes("json") ? [JSON_V1] as const : []),
    ...(formats.includes("html") ? [HTML_V1, TEXT_HTML] as const : []),
  ];
  const [{ createServer, STATUS_CODES }, { gzipSync }] = await Promise.all([
    import("node:http"),
    import("node:zlib"),
  ]);
  const ctx: Context = {
    gzipSync,
    source: options.source,
    auth: options.auth,
    offered,
    onRequest: options.onRequest,
    onError: options.onError,
    now: options.now ?? (() => performance.now()),
    pages: new Map(),
  };
  const server = createServer(
    { maxHeaderSize: options.maxHeaderSize ?? 16 * 1024 },
    (req, res) => void handle(ctx, req, res),
  );
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    // What Node does by default, plus the log entry: the head was too large (431), timed out
    // (408) or could not be parsed (400).
    const status = error.code === "HPE_HEADER_OVERFLOW"
      ? 431
      : error.code === "HPE_REQUEST_TIMEOUT"
      ? 408
      : 400;
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${status} ${
        STATUS_CODES[status]
      }\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
    ctx.onRequest?.({ method: "-", path: "-", status, bytes: 0, ms: 0 });
  });
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const where = `${urlHost(host)}:${port}`;
      reject(
        error.code === "EADDRINUSE"
          ? new ServeError("address-in-use", `Cannot listen on ${where}: the address is in use`, {
            cause: error,
          })
          : new ServeError("cannot-listen", `Cannot listen on ${where}: ${error.message}`, {
            cause: error,
          }),
      );
    };
    server.once("error", failed);
    server.listen({ host, port }, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${bound}/`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? 1000);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  if (options.signal !== undefined) {
    if (options.signal.aborted) await close();
    else options.signal.addEventListener("abort", () => void close(), { once: true });
  }
  return { url, indexUrl: `${url}simple/`, host, port: bound, close };
}
