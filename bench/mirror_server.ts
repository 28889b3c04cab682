/**
 * A streaming static package index for benchmarks, on `127.0.0.1` and a free port. Unlike
 * `tests/index_server.ts`, which holds every file in memory, it reads only the small PEP 503 pages
 * at start; each project's wheel `METADATA` (two small reads through the zip central directory)
 * and the hashes of flat files are read on the project's first request and kept; files stream
 * from disk. A mirror of hundreds of wheels and gigabytes serves in a few tens of megabytes.
 *
 * Sources: PEP 503 trees (`simple/<project>/index.html` whose links point at files on disk, such
 * as a local mirror at `/opt/pypi`) and flat folders of wheels. Several sources merge into one
 * index; the first source naming a file wins. Pages are HTML with links to
 * `/files/<filename>#sha256=…` and, when `pep658` is on (PyPI does), a `data-core-metadata` hash
 * and a `/files/<filename>.metadata` file. Files honour single `Range` requests. A fixed latency
 * before every response models a real network. Every request is logged. With `json`, a client
 * that accepts PEP 691 JSON gets it, with each file's size (PEP 700), as from PyPI.
 *
 * Standalone: `deno run -A bench/mirror_server.ts [--latency MS] [--no-pep658] [--json]
 * [--flat DIR] SIMPLE_DIR...` prints the index URL and serves until killed.
 *
 * ```ts
 * import { startMirrorServer } from "./mirror_server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = await startMirrorServer({ sources: [{ kind: "flat", dir }] });
 * const root = await fetch(server.indexUrl);
 * await root.body?.cancel();
 * if (root.status !== 200) throw new Error("root page");
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";
import { inflateSync } from "fflate";
import { parseDistFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";

/** Where files come from: a PEP 503 tree (its `simple/` folder) or a flat folder of files. */
export type MirrorSource =
  | { readonly kind: "simple"; readonly dir: string }
  | { readonly kind: "flat"; readonly dir: string };

/** Options of {@linkcode startMirrorServer}. */
export interface MirrorServerOptions {
  /** The sources, merged; the first one naming a file wins. */
  readonly sources: readonly MirrorSource[];
  /** Delay before every response, in milliseconds. Default 0. */
  readonly latencyMs?: number;
  /** Serve PEP 658 `.metadata` files and announce them on pages. Default true (as PyPI). */
  readonly pep658?: boolean;
  /** Serve only these projects (normalised names); default all. Keeps start-up short. */
  readonly only?: ReadonlySet<string>;
  /**
   * Answer a client that accepts it with PEP 691 JSON pages carrying each file's size (PEP 700),
   * as PyPI does. Default false: the bench's figures are of HTML pages (no sizes).
   */
  readonly json?: boolean;
}

/** One logged request. */
export interface MirrorRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly range?: string;
}

/** A running mirror server. */
export interface MirrorServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** `http://127.0.0.1:PORT/simple/` */
  readonly indexUrl: string;
  /** Every request so far, in arrival order; clear it with `requests.length = 0`. */
  readonly requests: MirrorRequest[];
  /** File names by normalised project name. */
  readonly projects: ReadonlyMap<string, readonly string[]>;
  /** The absolute URL of a file by name, or undefined when not served. */
  fileUrl(filename: string): string | undefined;
  /** The path on disk of a file by name, or undefined when not served. */
  filePath(filename: string): string | undefined;
  /** Reads hashes and metadata of these projects now (otherwise on first request). */
  prepare(projects: Iterable<string>): Promise<void>;
  /** Stops the server. */
  close(): Promise<void>;
}

/** A failure to read a source folder or a wheel. */
export class MirrorServerError extends Error {
  /** What went wrong. */
  readonly code: "bad-source" | "bad-wheel";
  /**
   * Creates the error.
   *
   * @param message What failed and why.
   * @param code The kind of failure.
   * @param options The underlying error.
   */
  constructor(message: string, code: "bad-source" | "bad-wheel", options?: ErrorOptions) {
    super(message, options);
    this.name = "MirrorServerError";
    this.code = code;
  }
}

const JSON_PAGE = "application/vnd.pypi.simple.v1+json";

interface FileEntry {
  path: string;
  /** Known from a PEP 503 page, or computed on first use for flat folders. */
  sha256?: string;
  metadata?: Uint8Array;
  metadataSha256?: string;
  size?: number;
}

function projectOf(filename: string): string | undefined {
  try {
    return parseDistFilename(filename).normalizedName;
  } catch {
    return undefined;
  }
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}

/**
 * Reads a wheel's `<name>.dist-info/METADATA` through the zip central directory, touching only
 * the tail of the file and the member itself (a 250 MB wheel costs two small reads).
 */
async function wheelMetadata(path: string): Promise<Uint8Array | undefined> {
  const file = await Deno.open(path);
  try {
    const size = (await file.stat()).size;
    const tailLength = Math.min(size, 65_557 + 20);
    const tail = await readAt(file, size - tailLength, tailLength);
    const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return undefined;
    let cdSize = view.getUint32(eocd + 12, true);
    let cdOffset = view.getUint32(eocd + 16, true);
    // Zip64: the end-of-central-directory locator sits just before the classic record.
    if ((cdOffset === 0xffffffff || cdSize === 0xffffffff) && eocd >= 20) {
      if (view.getUint32(eocd - 20, true) === 0x07064b50) {
        const recordAt = Number(view.getBigUint64(eocd - 20 + 8, true));
        const record = await readAt(file, recordAt, 56);
        const rv = new DataView(record.buffer, record.byteOffset, record.byteLength);
        cdSize = Number(rv.getBigUint64(40, true));
        cdOffset = Number(rv.getBigUint64(48, true));
      }
    }
    const cd = await readAt(file, cdOffset, cdSize);
    const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const decoder = new TextDecoder();
    for (let p = 0; p + 46 <= cd.length && cv.getUint32(p, true) === 0x02014b50;) {
      const method = cv.getUint16(p + 10, true);
      const compressed = cv.getUint32(p + 20, true);
      const nameLength = cv.getUint16(p + 28, true);
      const extraLength = cv.getUint16(p + 30, true);
      const commentLength = cv.getUint16(p + 32, true);
      const localOffset = cv.getUint32(p + 42, true);
      const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength));
      if (/^[^/]+\.dist-info\/METADATA$/.test(name)) {
        const header = await readAt(file, localOffset, 30);
        const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
        const dataAt = localOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
        const data = await readAt(file, dataAt, compressed);
        return method === 8 ? inflateSync(data) : method === 0 ? data : undefined;
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    return undefined;
  } finally {
    file.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

function sha256Bytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads `length` bytes from `offset` of a file as a stream, closing the file at the end. */
function rangeStream(
  file: Deno.FsFile,
  offset: number,
  length: number,
): ReadableStream<Uint8Array> {
  let left = length;
  let positioned = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!positioned) {
        await file.seek(offset, Deno.SeekMode.Start);
        positioned = true;
      }
      if (left <= 0) {
        file.close();
        controller.close();
        return;
      }
      const buffer = new Uint8Array(Math.min(left, 256 * 1024));
      const n = await file.read(buffer);
      if (n === null) {
        file.close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(buffer.subarray(0, n));
    },
    cancel() {
      file.close();
    },
  });
}

/**
 * Starts the mirror server.
 *
 * @param options Sources, latency and PEP 658.
 * @returns The running server; call `close()` when done.
 * @throws {MirrorServerError} When a source folder cannot be read.
 */
export async function startMirrorServer(options: MirrorServerOptions): Promise<MirrorServer> {
  const pep658 = options.pep658 ?? true;
  const latency = options.latencyMs ?? 0;
  const files = new Map<string, FileEntry>();
  const projects = new Map<string, string[]>();

  function admit(filename: string, path: string, sha256: string | undefined): boolean {
    const project = projectOf(filename);
    if (project === undefined || files.has(filename)) return false;
    if (options.only && !options.only.has(project)) return false;
    files.set(filename, sha256 === undefined ? { path } : { path, sha256 });
    const list = projects.get(project) ?? [];
    list.push(filename);
    projects.set(project, list);
    return true;
  }

  for (const source of options.sources) {
    try {
      if (source.kind === "simple") {
        for await (const e of Deno.readDir(source.dir)) {
          if (!e.isDirectory) continue;
          if (options.only && !options.only.has(normalizeName(e.name))) continue;
          const pageDir = join(source.dir, e.name);
          let html: string;
          try {
            html = await Deno.readTextFile(join(pageDir, "index.html"));
          } catch {
            continue;
          }
          for (const m of html.matchAll(/href="([^"#]+)#sha256=([0-9a-f]{64})"/g)) {
            const href = decodeURIComponent(m[1]!);
            admit(basename(href), resolve(pageDir, href), m[2]!);
          }
        }
      } else {
        for await (const e of Deno.readDir(source.dir)) {
          if (!e.isFile || projectOf(e.name) === undefined || files.has(e.name)) continue;
          if (options.only && !options.only.has(projectOf(e.name)!)) continue;
          admit(e.name, join(source.dir, e.name), undefined);
        }
      }
    } catch (error) {
      throw new MirrorServerError(
        `Cannot read the ${source.kind} source ${source.dir}: ${error}`,
        "bad-source",
        { cause: error },
      );
    }
  }
  for (const list of projects.values()) list.sort();

  const requests: MirrorRequest[] = [];
  const encoder = new TextEncoder();
  // Hashes of flat files and PEP 658 metadata are computed once per project, on its first page
  // request (or by prepare()), so start-up reads no wheel; benchmarks absorb it in a warm-up.
  const prepared = new Map<string, Promise<void>>();

  function prepareProject(project: string): Promise<void> {
    let done = prepared.get(project);
    if (done) return done;
    done = Promise.all((projects.get(project) ?? []).map(async (filename) => {
      const entry = files.get(filename)!;
      entry.sha256 ??= await sha256File(entry.path);
      if (options.json) entry.size = (await Deno.stat(entry.path)).size;
      if (!pep658 || !filename.endsWith(".whl")) return;
      try {
        const md = await wheelMetadata(entry.path);
        if (md) {
          entry.metadata = md;
          entry.metadataSha256 = sha256Bytes(md);
        }
      } catch { /* a broken wheel is served without .metadata, as PyPI would */ }
    })).then(() => {});
    prepared.set(project, done);
    return done;
  }

  function page(project: string, names: readonly string[]): string {
    const links = names.map((f) => {
      const e = files.get(f)!;
      const meta = pep658 && e.metadataSha256
        ? ` data-dist-info-metadata="sha256=${e.metadataSha256}" data-core-metadata="sha256=${e.metadataSha256}"`
        : "";
      return `<a href="/files/${encodeURIComponent(f)}#sha256=${e.sha256}"${meta}>${f}</a><br/>`;
    });
    return `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">` +
      `<title>Links for ${project}</title></head><body>\n<h1>Links for ${project}</h1>\n` +
      `${links.join("\n")}\n</body></html>\n`;
  }

  function jsonPage(project: string, names: readonly string[]): string {
    return JSON.stringify({
      meta: { "api-version": "1.1" },
      name: project,
      versions: [],
      files: names.map((f) => {
        const e = files.get(f)!;
        return {
          filename: f,
          url: `/files/${encodeURIComponent(f)}`,
          hashes: { sha256: e.sha256 },
          ...(e.size !== undefined ? { size: e.size } : {}),
          ...(pep658 && e.metadataSha256 ? { "core-metadata": { sha256: e.metadataSha256 } } : {}),
        };
      }),
    });
  }

  async function handle(req: Request, url: URL): Promise<Response> {
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const path = url.pathname;
    if (path === "/simple/") {
      const body = `<!DOCTYPE html><html><body>\n${
        [...projects.keys()].sort().map((p) => `<a href="/simple/${p}/">${p}</a>`).join("\n")
      }\n</body></html>\n`;
      return new Response(body, { headers: { "content-type": "text/html" } });
    }
    const pm = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (pm) {
      const name = decodeURIComponent(pm[1]!);
      const project = normalizeName(name);
      if (project !== name || !path.endsWith("/")) {
        return new Response(null, { status: 301, headers: { location: `/simple/${project}/` } });
      }
      const names = projects.get(project);
      if (!names) return new Response("not found", { status: 404 });
      await prepareProject(project);
      if (options.json && (req.headers.get("accept") ?? "").includes(JSON_PAGE)) {
        return new Response(jsonPage(project, names), {
          headers: { "content-type": JSON_PAGE, "cache-control": "max-age=600, public" },
        });
      }
      return new Response(page(project, names), {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "max-age=600, public",
        },
      });
    }
    const fm = /^\/files\/([^/]+)$/.exec(path);
    if (!fm) return new Response("not found", { status: 404 });
    let name = decodeURIComponent(fm[1]!);
    const wantsMetadata = pep658 && name.endsWith(".metadata");
    if (wantsMetadata) name = name.slice(0, -".metadata".length);
    const entry = files.get(name);
    if (!entry) return new Response("not found", { status: 404 });
    await prepareProject(projectOf(name)!);
    if (wantsMetadata) {
      if (!entry.metadata) return new Response("not found", { status: 404 });
      return new Response(entry.metadata.slice(), { headers: { "content-type": "text/plain" } });
    }
    const file = await Deno.open(entry.path);
    const size = (await file.stat()).size;
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "accept-ranges": "bytes",
      etag: `"${entry.sha256}"`,
    };
    const rh = req.headers.get("range");
    if (rh) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(rh.trim());
      let start = NaN;
      let end = NaN;
      if (m && m[1] === "" && m[2] !== "") {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
      } else if (m && m[1] !== "") {
        start = Number(m[1]);
        end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (!Number.isFinite(start) || start >= size || end < start) {
        file.close();
        return new Response(null, {
          status: 416,
          headers: { ...headers, "content-range": `bytes */${size}` },
        });
      }
      return new Response(rangeStream(file, start, end - start + 1), {
        status: 206,
        headers: {
          ...headers,
          "content-range": `bytes ${start}-${end}/${size}`,
          "content-length": String(end - start + 1),
        },
      });
    }
    if (req.method === "HEAD") {
      file.close();
      return new Response(null, { headers: { ...headers, "content-length": String(size) } });
    }
    return new Response(rangeStream(file, 0, size), {
      headers: { ...headers, "content-length": String(size) },
    });
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      let response: Response;
      try {
        response = await handle(req, url);
      } catch (error) {
        response = new Response(encoder.encode(`server error: ${error}`), { status: 500 });
      }
      const log: { method: string; path: string; status: number; range?: string } = {
        method: req.method,
        path: url.pathname + url.search,
        status: response.status,
      };
      const range = req.headers.get("range");
      if (range !== null) log.range = range;
      requests.push(log);
      return response;
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: `${origin}/`,
    indexUrl: `${origin}/simple/`,
    requests,
    projects,
    fileUrl: (f) => files.has(f) ? `${origin}/files/${encodeURIComponent(f)}` : undefined,
    filePath: (f) => files.get(f)?.path,
    prepare: async (names) => {
      await Promise.all([...names].map((n) => prepareProject(normalizeName(n))));
    },
    close: () => server.shutdown(),
  };
}

if (import.meta.main) {
  // Standalone: deno run -A bench/mirror_server.ts [--latency MS] [--no-pep658] [--json]
  //   [--flat DIR] SIMPLE_DIR...
  const args = [...Deno.args];
  const sources: MirrorSource[] = [];
  let latencyMs = 0;
  let pep658 = true;
  let json = false;
  while (args.length) {
    const a = args.shift()!;
    if (a === "--latency") latencyMs = Number(args.shift());
    else if (a === "--no-pep658") pep658 = false;
    else if (a === "--json") json = true;
    else if (a === "--flat") sources.push({ kind: "flat", dir: args.shift() ?? "." });
    else sources.push({ kind: "simple", dir: a });
  }
  const server = await startMirrorServer({ sources, latencyMs, pep658, json });
  console.log(server.indexUrl);
}
