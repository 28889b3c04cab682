/**
 * A real HTTP package index for tests, on `127.0.0.1` and a free port: PEP 503 HTML and/or PEP
 * 691 JSON project pages (content negotiation with q-values), files under `/files/<filename>`
 * with optional `Range` support and PEP 658 `.metadata` files, ETag revalidation, gzip, basic
 * auth, latency and injected failures. Every request is logged so tests can count them.
 *
 * Library use (stable API; the CLI, bench and end-to-end tests rely on it):
 *
 * ```ts
 * import { startIndexServer } from "./index_server.ts";
 * import { buildWheel } from "./wheel_factory.ts";
 * const server = await startIndexServer({ projects: [await buildWheel({ name: "a", version: "1.0" })] });
 * // server.indexUrl === "http://127.0.0.1:PORT/simple/"; server.requests lists what was asked
 * await server.close();
 * ```
 *
 * Standalone: `deno run -A tests/index_server.ts [--port 8080] [--format html|json|both]
 * [--no-pep658] [--no-range] [--latency MS] DIR...` serves every wheel and sdist in the
 * directories and prints the index URL.
 *
 * Routes: `/simple/` (root list), `/simple/<normalised-name>/` (project page; `?format=json|html`
 * forces a format), `/files/<filename>`, `/files/<filename>.metadata`.
 *
 * @module
 */

import { unzipSync } from "fflate";
import { parseDistFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";
import { sha256Hex } from "./wheel_factory.ts";

/** One file the server offers (a `BuiltDist` from the wheel factory fits). */
export interface ServedFile {
  filename: string;
  bytes: Uint8Array;
  /** Hex sha256; computed when absent. */
  sha256?: string;
  /** Core metadata text, served as `<filename>.metadata` when `pep658` is on. */
  metadata?: string;
  requiresPython?: string;
}

/** Options of {@linkcode startIndexServer}. */
export interface IndexServerOptions {
  /** The files; grouped into projects by the name in their file names. */
  projects: readonly ServedFile[];
  /** Page formats offered: `html`, `json` or `both` (negotiated by `Accept`). Default `both`. */
  format?: "html" | "json" | "both";
  /** Serve PEP 658 `.metadata` files and announce them on pages. Default true. */
  pep658?: boolean;
  /** Honour `Range` requests on files. Default true (false: answer 200 with the whole file). */
  range?: boolean;
  /** Delay before every response. */
  latencyMs?: number;
  /** Sends file bodies at about this rate (16 KiB chunks), as a slow link would. */
  bytesPerSecond?: number;
  /** Require these credentials on every request (401 otherwise). */
  basicAuth?: { username: string; password: string };
  /** Answer these paths (exact, e.g. `/simple/a/`) with this status instead. */
  failures?: Record<string, number>;
  /** Redirect these paths (exact) to this absolute URL with a 302. */
  redirects?: Record<string, string>;
  /** Yanked files by file name, with the reason (`""` for none). */
  yanked?: Record<string, string>;
  /** `Cache-Control` of pages; default `max-age=600, public` (as PyPI). */
  cacheControl?: string;
  /** Absolute base URL of file links (to place files on another host); default this server. */
  filesBaseUrl?: string;
  /** Port; default 0 (any free port). */
  port?: number;
}

/** One logged request. */
export interface RequestLog {
  method: string;
  /** Path and query. */
  path: string;
  status: number;
  /** Body bytes sent (before gzip). */
  bytesSent: number;
  /** The `Range` header, if any. */
  range?: string;
  /** The `Accept` header, if any. */
  accept?: string;
  /** Whether an `Authorization` header was present. */
  authorized: boolean;
  /** The `Authorization` header value as received (tests check where credentials went). */
  authorization?: string;
}

/** A running server. */
export interface IndexServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** `http://127.0.0.1:PORT/simple/` */
  indexUrl: string;
  /** Every request so far, in arrival order. */
  requests: RequestLog[];
  /** Adds or replaces a file (pages change their ETag). */
  addFile(file: ServedFile): Promise<void>;
  /** Stops the server. */
  close(): Promise<void>;
}

interface Entry {
  file: ServedFile;
  sha256: string;
  metadataSha256?: string;
  project: string;
  uploadTime: string;
}

const encoder = new TextEncoder();

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
}

/** Parses an `Accept` header into media ranges with q-values, best first. */
function acceptList(header: string | null): { type: string; q: number }[] {
  if (!header) return [{ type: "*/*", q: 1 }];
  return header.split(",").map((part) => {
    const [type = "", ...params] = part.split(";").map((s) => s.trim());
    const qp = params.find((p) => p.startsWith("q="));
    const q = qp ? Number(qp.slice(2)) : 1;
    return { type: type.toLowerCase(), q: Number.isFinite(q) ? q : 0 };
  }).filter((a) => a.q > 0).sort((a, b) => b.q - a.q);
}

const JSON_TYPE = "application/vnd.pypi.simple.v1+json";
const HTML_TYPE = "application/vnd.pypi.simple.v1+html";

function negotiate(accept: string | null, offered: "html" | "json" | "both"): string | undefined {
  const types = offered === "html"
    ? [HTML_TYPE, "text/html"]
    : offered === "json"
    ? [JSON_TYPE]
    : [JSON_TYPE, HTML_TYPE, "text/html"];
  for (const a of acceptList(accept)) {
    if (a.type === "*/*") return types[0];
    if (a.type === "application/vnd.pypi.simple.latest+json" && types.includes(JSON_TYPE)) {
      return JSON_TYPE;
    }
    if (a.type === "application/vnd.pypi.simple.latest+html" && types.includes(HTML_TYPE)) {
      return HTML_TYPE;
    }
    if (types.includes(a.type)) return a.type;
  }
  return undefined;
}

function projectOf(filename: string): string | undefined {
  try {
    return parseDistFilename(filename).normalizedName;
  } catch {
    return undefined;
  }
}

/**
 * Starts the index server.
 *
 * @param options Files and behaviour.
 * @returns The running server; call `close()` when done.
 */
/** A body sent in 16 KiB chunks at about `bytesPerSecond`. */
function throttled(data: Uint8Array, bytesPerSecond: number): ReadableStream<Uint8Array> {
  const chunk = 16 * 1024;
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      await new Promise((r) => setTimeout(r, (chunk / bytesPerSecond) * 1000));
      controller.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

export async function startIndexServer(options: IndexServerOptions): Promise<IndexServer> {
  const format = options.format ?? "both";
  const pep658 = options.pep658 ?? true;
  const range = options.range ?? true;
  const cacheControl = options.cacheControl ?? "max-age=600, public";
  const entries = new Map<string, Entry>();
  let generation = 0;
  const requests: RequestLog[] = [];

  async function add(file: ServedFile): Promise<void> {
    const project = projectOf(file.filename);
    if (project === undefined) throw new Error(`Cannot tell the project of ${file.filename}`);
    const entry: Entry = {
      file,
      sha256: file.sha256 ?? await sha256Hex(file.bytes),
      project,
      uploadTime: new Date(Date.UTC(2024, 0, 1) + entries.size * 1000).toISOString(),
    };
    if (file.metadata !== undefined) {
      entry.metadataSha256 = await sha256Hex(encoder.encode(file.metadata));
    }
    entries.set(file.filename, entry);
    generation++;
  }
  for (const f of options.projects) await add(f);

  let origin = "";
  const filesBase = (): string => options.filesBaseUrl ?? `${origin}/files/`;

  function projectFiles(project: string): Entry[] {
    return [...entries.values()].filter((e) => e.project === project)
      .sort((a, b) => a.file.filename.localeCompare(b.file.filename));
  }

  function htmlPage(project: string, files: Entry[]): string {
    const links = files.map((e) => {
      const attrs = [
        `href="${filesBase()}${encodeURIComponent(e.file.filename)}#sha256=${e.sha256}"`,
      ];
      if (e.file.requiresPython) {
        attrs.push(`data-requires-python="${escapeHtml(e.file.requiresPython)}"`);
      }
      const y = options.yanked?.[e.file.filename];
      if (y !== undefined) attrs.push(`data-yanked="${escapeHtml(y)}"`);
      if (pep658 && e.metadataSha256) {
        attrs.push(`data-dist-info-metadata="sha256=${e.metadataSha256}"`);
        attrs.push(`data-core-metadata="sha256=${e.metadataSha256}"`);
      }
      return `    <a ${attrs.join(" ")}>${escapeHtml(e.file.filename)}</a><br/>`;
    });
    return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n` +
      `    <title>Links for ${escapeHtml(project)}</title>\n  </head>\n  <body>\n` +
      `    <h1>Links for ${escapeHtml(project)}</h1>\n${links.join("\n")}\n  </body>\n</html>\n`;
  }

  function jsonPage(project: string, files: Entry[]): string {
    const versions = new Set<string>();
    const list = files.map((e) => {
      const out: Record<string, unknown> = {
        filename: e.file.filename,
        url: `${filesBase()}${encodeURIComponent(e.file.filename)}`,
        hashes: { sha256: e.sha256 },
        size: e.file.bytes.length,
        "upload-time": e.uploadTime,
      };
      try {
        versions.add(parseDistFilename(e.file.filename).version.toString());
      } catch { /* not reached: entries parse */ }
      if (e.file.requiresPython) out["requires-python"] = e.file.requiresPython;
      const y = options.yanked?.[e.file.filename];
      out.yanked = y === undefined ? false : y === "" ? true : y;
      if (pep658 && e.metadataSha256) {
        out["core-metadata"] = { sha256: e.metadataSha256 };
        out["dist-info-metadata"] = { sha256: e.metadataSha256 };
      }
      return out;
    });
    return JSON.stringify({
      meta: { "api-version": "1.1" },
      name: project,
      versions: [...versions],
      files: list,
    });
  }

  async function handle(req: Request): Promise<{ response: Response; bytes: number }> {
    const url = new URL(req.url);
    const path = url.pathname;
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    if (options.basicAuth) {
      const want = "Basic " + btoa(`${options.basicAuth.username}:${options.basicAuth.password}`);
      if (req.headers.get("authorization") !== want) {
        return {
          response: new Response("unauthorized", {
            status: 401,
            headers: { "www-authenticate": 'Basic realm="test"' },
          }),
          bytes: 12,
        };
      }
    }
    const failure = options.failures?.[path];
    if (failure !== undefined) {
      return { response: new Response(`failure ${failure}`, { status: failure }), bytes: 11 };
    }
    const redirect = options.redirects?.[path];
    if (redirect !== undefined) {
      return {
        response: new Response(null, { status: 302, headers: { location: redirect } }),
        bytes: 0,
      };
    }
    if (path === "/simple/") {
      const projects = [...new Set([...entries.values()].map((e) => e.project))].sort();
      const body = `<!DOCTYPE html><html><body>\n${
        projects.map((p) => `<a href="/simple/${p}/">${p}</a>`).join("\n")
      }\n</body></html>\n`;
      return {
        response: new Response(body, { headers: { "content-type": "text/html" } }),
        bytes: body.length,
      };
    }
    const pm = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (pm) {
      const name = decodeURIComponent(pm[1] ?? "");
      const project = normalizeName(name);
      if (project !== name || !path.endsWith("/")) {
        return {
          response: new Response(null, {
            status: 301,
            headers: { location: `/simple/${project}/` },
          }),
          bytes: 0,
        };
      }
      const files = projectFiles(project);
      if (files.length === 0) {
        return { response: new Response("not found", { status: 404 }), bytes: 9 };
      }
      const forced = url.searchParams.get("format");
      const type = forced === "json" ? JSON_TYPE : forced === "html" ? "text/html" : negotiate(
        req.headers.get("accept"),
        format,
      );
      if (type === undefined) {
        return { response: new Response("not acceptable", { status: 406 }), bytes: 14 };
      }
      const etag = `"${project}-${generation}-${type === JSON_TYPE ? "j" : "h"}"`;
      const headers: Record<string, string> = {
        "content-type": type === "text/html" ? "text/html; charset=utf-8" : type,
        etag,
        "cache-control": cacheControl,
        vary: "Accept, Accept-Encoding",
      };
      if (req.headers.get("if-none-match") === etag) {
        return { response: new Response(null, { status: 304, headers }), bytes: 0 };
      }
      const text = type === JSON_TYPE ? jsonPage(project, files) : htmlPage(project, files);
      let body: Uint8Array = encoder.encode(text);
      const bytes = body.length;
      if ((req.headers.get("accept-encoding") ?? "").includes("gzip")) {
        const gz = await new Response(
          new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
            new CompressionStream("gzip"),
          ),
        ).arrayBuffer();
        body = new Uint8Array(gz);
        headers["content-encoding"] = "gzip";
      }
      return { response: new Response(body as Uint8Array<ArrayBuffer>, { headers }), bytes };
    }
    const fm = /^\/files\/(.+)$/.exec(path);
    if (fm) {
      let name = decodeURIComponent(fm[1] ?? "");
      const wantsMetadata = name.endsWith(".metadata");
      if (wantsMetadata) name = name.slice(0, -".metadata".length);
      const entry = entries.get(name);
      if (!entry) return { response: new Response("not found", { status: 404 }), bytes: 9 };
      if (wantsMetadata) {
        if (!pep658 || entry.file.metadata === undefined) {
          return { response: new Response("not found", { status: 404 }), bytes: 9 };
        }
        const body = encoder.encode(entry.file.metadata);
        return {
          response: new Response(body, { headers: { "content-type": "text/plain" } }),
          bytes: body.length,
        };
      }
      const data = entry.file.bytes;
      const size = data.length;
      const baseHeaders: Record<string, string> = {
        "content-type": "application/octet-stream",
        etag: `"${entry.sha256}"`,
      };
      if (range) baseHeaders["accept-ranges"] = "bytes";
      const rh = req.headers.get("range");
      if (range && rh) {
        const m = /^bytes=(\d*)-(\d*)$/.exec(rh.trim());
        let start = NaN;
        let end = NaN;
        if (m && m[1] === "" && m[2] !== "") {
          const n = Number(m[2]);
          start = Math.max(0, size - n);
          end = size - 1;
        } else if (m && m[1] !== "") {
          start = Number(m[1]);
          end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
        }
        if (!Number.isFinite(start) || start >= size || end < start) {
          return {
            response: new Response(null, {
              status: 416,
              headers: { ...baseHeaders, "content-range": `bytes */${size}` },
            }),
            bytes: 0,
          };
        }
        const part = data.slice(start, end + 1);
        return {
          response: new Response(part, {
            status: 206,
            headers: {
              ...baseHeaders,
              "content-range": `bytes ${start}-${end}/${size}`,
              "content-length": String(part.length),
            },
          }),
          bytes: part.length,
        };
      }
      const bps = options.bytesPerSecond;
      const body = req.method === "HEAD"
        ? null
        : bps === undefined
        ? data.slice()
        : throttled(data, bps);
      return {
        response: new Response(body, {
          headers: { ...baseHeaders, "content-length": String(size) },
        }),
        bytes: req.method === "HEAD" ? 0 : size,
      };
    }
    return { response: new Response("not found", { status: 404 }), bytes: 9 };
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const { response, bytes } = await handle(req);
      const log: RequestLog = {
        method: req.method,
        path: url.pathname + url.search,
        status: response.status,
        bytesSent: bytes,
        authorized: req.headers.has("authorization"),
      };
      const r = req.headers.get("range");
      if (r !== null) log.range = r;
      const a = req.headers.get("accept");
      if (a !== null) log.accept = a;
      const auth = req.headers.get("authorization");
      if (auth !== null) log.authorization = auth;
      requests.push(log);
      return response;
    },
  );
  origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: `${origin}/`,
    indexUrl: `${origin}/simple/`,
    requests,
    addFile: add,
    close: () => server.shutdown(),
  };
}

/**
 * Reads the files of a directory as {@linkcode ServedFile}s, with wheel `METADATA` for PEP 658.
 *
 * @param dir A directory of wheels and sdists.
 * @returns The files whose names parse.
 */
export async function servedFilesFromDir(dir: string): Promise<ServedFile[]> {
  const out: ServedFile[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || projectOf(e.name) === undefined) continue;
    const bytes = await Deno.readFile(`${dir}/${e.name}`);
    const file: ServedFile = { filename: e.name, bytes };
    if (e.name.endsWith(".whl")) {
      try {
        const members = unzipSync(bytes, {
          filter: (f) => /^[^/]+\.dist-info\/METADATA$/.test(f.name),
        });
        const md = Object.values(members)[0];
        if (md) {
          file.metadata = new TextDecoder().decode(md);
          const rp = /^Requires-Python:\s*(.+)$/m.exec(file.metadata);
          if (rp?.[1]) file.requiresPython = rp[1].trim();
        }
      } catch { /* a broken wheel is served without .metadata */ }
    }
    out.push(file);
  }
  return out;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const opts: Omit<IndexServerOptions, "projects"> & { port?: number } = {};
  const dirs: string[] = [];
  while (args.length) {
    const a = args.shift() ?? "";
    if (a === "--port") opts.port = Number(args.shift());
    else if (a === "--format") opts.format = (args.shift() ?? "both") as "html" | "json" | "both";
    else if (a === "--no-pep658") opts.pep658 = false;
    else if (a === "--no-range") opts.range = false;
    else if (a === "--latency") opts.latencyMs = Number(args.shift());
    else dirs.push(a);
  }
  const projects = (await Promise.all(dirs.map(servedFilesFromDir))).flat();
  const server = await startIndexServer({ ...opts, projects });
  console.log(server.indexUrl);
}
