/**
 * {@linkcode UpstreamSource}: a pull-through proxy as an {@linkcode IndexSource}. Project pages
 * come from the upstream indexes (first index that has the project wins) through the HTTP cache;
 * the server renders them with its own file URLs, so upstream URLs and credentials never reach
 * a client. A file is fetched into the cache on its first request, checked against the upstream's
 * sha256 before the cache publishes it, and streamed to the client while it arrives; clients
 * asking for the same file share one transfer. When the upstream cannot be reached (or with
 * `offline`), what the cache holds is served, and the lookup says so (`note`).
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { createHash } from "node:crypto";
import { normalizeName } from "../pep/name.ts";
import { parseDistFilename } from "../pep/filename.ts";
import type { DistFile, IndexClient } from "../index/types.ts";
import type { LocalDirStore } from "../cache/local_dir_store.ts";
import type { FetchStrategy } from "../fetcher/types.ts";
import { byFilename } from "../cache/wheelhouse_store.ts";
import { metadataOfHandle, streamHandle } from "./_file_stream.ts";
import { nodeServeFs } from "./_node_fs.ts";
import type {
  ByteRange,
  CoreMetadataFile,
  FileLookup,
  IndexSource,
  OpenOutcome,
  ProjectList,
  ProjectLookup,
  ServeFileHandle,
  SourceFile,
} from "./types.ts";

/** Options of {@linkcode UpstreamSource}. */
export interface UpstreamSourceOptions {
  /**
   * Makes an index client over the upstream indexes, with the HTTP cache. One is made per page
   * lookup: a client remembers the pages it read for its lifetime, and a proxy runs for days
   * (the HTTP cache says when a page must be asked for again).
   */
  client: () => IndexClient;
  /** The cache files are fetched into and served from. */
  store: LocalDirStore;
  /** Transfers files; its partial files are in `store.partialDir`. */
  fetcher: FetchStrategy;
  /** Where the fetcher writes a URL's bytes while they arrive, to stream them on at once. */
  partialPathOf?: (url: string) => string;
  /** Fetches PEP 658 metadata files from the upstream; `globalThis.fetch` by default. */
  fetch?: typeof globalThis.fetch;
  /** Never ask the upstream: serve what the cache holds. */
  offline?: boolean;
  /** Told about upstream failures and files left out. */
  onWarning?: (message: string) => void;
  /** For messages: the upstream URLs, credentials removed. */
  description: string;
  /** The clock, ms since the epoch. */
  now?: () => number;
  /** How long to wait between looks at a partial file that is still growing; default 25 ms. */
  pollMs?: number;
}

interface Known {
  file: SourceFile;
  /** The upstream's file, absent for one known from the cache alone. */
  dist?: DistFile;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function hashText(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A pull-through proxy of upstream indexes, over the cache.
 *
 * @example
 * ```ts
 * import { UpstreamSource } from "./upstream_source.ts";
 * import { LocalDirStore } from "../cache/local_dir_store.ts";
 * import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
 * import type { IndexClient } from "../index/types.ts";
 * const dir = await Deno.makeTempDir();
 * const store = new LocalDirStore(dir);
 * // An upstream that is down: the proxy answers from the cache (here: nothing).
 * const down: IndexClient = {
 *   projectFiles: () => Promise.reject(new Error("connection refused")),
 *   metadata: () => Promise.reject(new Error("connection refused")),
 *   authHeaders: () => ({}),
 * };
 * const source = new UpstreamSource({
 *   client: () => down, store, fetcher: new HttpFetchStrategy({ partialDir: store.partialDir }),
 *   description: "https://pypi.org/simple/",
 * });
 * const found = await source.project("requests");
 * if (found.kind !== "not-found") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UpstreamSource implements IndexSource {
  /** The upstreams, for messages. */
  readonly description: string;
  #o: UpstreamSourceOptions;
  #known = new Map<string, Known>();
  #metadata = new Map<string, Promise<CoreMetadataFile | undefined>>();
  #transfers = new Map<string, Promise<{ path: string; size: number }>>();
  #now: () => number;
  #auth: IndexClient;

  /**
   * Creates the proxy source; nothing is asked of the upstream until a page is.
   *
   * @param options The upstream client, the cache and the fetcher.
   */
  constructor(options: UpstreamSourceOptions) {
    this.#o = options;
    this.#auth = options.client();
    this.description = options.description;
    this.#now = options.now ?? Date.now;
  }

  /** How many files the proxy knows of now (pages read, plus the cache). */
  get fileCount(): number {
    return this.#known.size;
  }

  /** The projects the cache holds or the proxy has been asked for (an index has no list). */
  async projects(): Promise<ProjectList> {
    const names = new Set(await this.#o.store.catalogueProjects());
    for (const k of this.#known.values()) names.add(k.file.project);
    const projects = [...names].sort();
    return { projects, revision: hashText(projects.join("\n")), lastModifiedMs: this.#now() };
  }

  /** A project's files: the upstream's page, else (unreachable, offline) what the cache holds. */
  async project(name: string): Promise<ProjectLookup> {
    const project = normalizeName(name);
    if (!this.#o.offline) {
      try {
        const outcome = await this.#o.client().projectFiles(project);
        if (outcome.kind !== "found") return await this.#fromCache(project, undefined);
        const files: SourceFile[] = [];
        for (const d of outcome.files) {
          const sha256 = d.hashes["sha256"]?.toLowerCase();
          if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
            // No hash to check the bytes against before they are published: not proxied.
            continue;
          }
          const file = this.#sourceFile(d, project, sha256);
          files.push(file);
          this.#known.set(file.filename, { file, dist: d });
        }
        files.sort(byFilename);
        const revision = hashText(files.map((f) => `${f.filename}:${f.sha256}:${f.size}`).join());
        return { kind: "found", project, files, revision, lastModifiedMs: this.#now() };
      } catch (e) {
        this.#o.onWarning?.(
          `The upstream cannot be reached for ${project} (${describe(e)}): serving the cache`,
        );
        return await this.#fromCache(project, "upstream unreachable; served from the cache");
      }
    }
    return await this.#fromCache(project, "offline; served from the cache");
  }

  /** Finds a file by name (asking for its project's page when it was not listed yet). */
  async file(filename: string): Promise<FileLookup> {
    let known = this.#known.get(filename);
    if (known === undefined) {
      let project;
      try {
        project = parseDistFilename(filename).normalizedName;
      } catch {
        return { kind: "not-found" };
      }
      await this.project(project);
      known = this.#known.get(filename);
      if (known === undefined) return { kind: "not-found" };
    }
    // A page without sizes (PEP 503 HTML): the size is known once the file is here.
    if (!Number.isFinite(known.file.size)) {
      try {
        const got = await this.#obtain(known);
        known.file.size = got.size;
      } catch (e) {
        this.#o.onWarning?.(`Cannot fetch ${filename}: ${describe(e)}`);
        return { kind: "not-found" };
      }
    }
    return { kind: "found", file: known.file };
  }

  /** Streams a file: from the cache, or from the upstream through the cache as it arrives. */
  async open(file: SourceFile, range?: ByteRange): Promise<OpenOutcome> {
    const cached = await this.#openCached(file);
    if (cached !== undefined) return { kind: "opened", body: streamHandle(cached, file, range) };
    const known = this.#known.get(file.filename);
    if (this.#o.offline || known?.dist === undefined) {
      return { kind: "gone", reason: "not in the cache, and the upstream is not asked" };
    }
    const transfer = this.#obtain(known);
    if (range !== undefined || this.#o.partialPathOf === undefined) {
      try {
        await transfer;
      } catch (e) {
        return { kind: "gone", reason: `the upstream transfer failed: ${describe(e)}` };
      }
      const handle = await this.#openCached(file);
      return handle === undefined
        ? { kind: "gone", reason: "gone from the cache" }
        : { kind: "opened", body: streamHandle(handle, file, range) };
    }
    return { kind: "opened", body: this.#follow(file, known.dist.url, transfer) };
  }

  /** A wheel's METADATA: the upstream's PEP 658 file (hash checked), else the cached wheel's. */
  metadata(file: SourceFile): Promise<CoreMetadataFile | undefined> {
    if (!file.hasMetadata) return Promise.resolve(undefined);
    let pending = this.#metadata.get(file.sha256);
    if (pending === undefined) {
      pending = this.#readMetadata(file).then((m) => {
        if (m === undefined) this.#metadata.delete(file.sha256);
        return m;
      });
      this.#metadata.set(file.sha256, pending);
    }
    return pending;
  }

  async #readMetadata(file: SourceFile): Promise<CoreMetadataFile | undefined> {
    const known = this.#known.get(file.filename);
    if (!this.#o.offline && known?.dist !== undefined && file.metadataSha256 !== undefined) {
      try {
        const url = `${known.dist.url.split("#")[0]}.metadata`;
        const response = await (this.#o.fetch ?? globalThis.fetch)(url, {
          headers: this.#auth.authHeaders(url),
        });
        if (response.ok) {
          const bytes = new Uint8Array(await response.arrayBuffer());
          const sha256 = createHash("sha256").update(bytes).digest("hex");
          if (sha256 === file.metadataSha256) return { bytes, sha256 };
          this.#o.onWarning?.(`${file.filename}.metadata from the upstream has the wrong sha256`);
        } else await response.body?.cancel();
      } catch (e) {
        this.#o.onWarning?.(`Cannot fetch ${file.filename}.metadata: ${describe(e)}`);
      }
    }
    // The wheel itself, when the cache has it (the upstream down, or no PEP 658 there).
    const handle = await this.#openCached(file);
    if (handle === undefined) return undefined;
    try {
      return await metadataOfHandle(handle, file, 16 * 1024 * 1024);
    } catch {
      return undefined;
    } finally {
      await handle.close().catch(() => {});
    }
  }

  #sourceFile(d: DistFile, project: string, sha256: string): SourceFile {
    const uploaded = d.uploadTime === undefined ? NaN : Date.parse(d.uploadTime);
    const metadataSha256 = d.coreMetadata === false
      ? undefined
      : d.coreMetadata.hashes["sha256"]?.toLowerCase();
    return {
      filename: d.filename,
      project,
      sha256,
      size: d.size ?? NaN,
      mtimeMs: Number.isFinite(uploaded) ? uploaded : this.#now(),
      ...(d.requiresPython !== undefined ? { requiresPython: d.requiresPython } : {}),
      yanked: d.yanked,
      hasMetadata: d.filename.toLowerCase().endsWith(".whl"),
      ...(metadataSha256 !== undefined ? { metadataSha256 } : {}),
    };
  }

  async #fromCache(project: string, note: string | undefined): Promise<ProjectLookup> {
    const catalogue = await this.#o.store.catalogue(project);
    const files: SourceFile[] = [];
    for (const e of catalogue.files) {
      const before = this.#known.get(e.filename);
      const file: SourceFile = before?.file ?? {
        filename: e.filename,
        project,
        sha256: e.sha256,
        size: e.size,
        mtimeMs: e.addedMs ?? this.#now(),
        ...(e.requiresPython !== undefined ? { requiresPython: e.requiresPython } : {}),
        yanked: false,
        hasMetadata: e.filename.toLowerCase().endsWith(".whl"),
      };
      if (before === undefined) this.#known.set(e.filename, { file });
      files.push(file);
    }
    if (files.length === 0) return { kind: "not-found", project };
    files.sort(byFilename);
    return {
      kind: "found",
      project,
      files,
      revision: hashText(`cache:${files.map((f) => `${f.filename}:${f.sha256}`).join()}`),
      lastModifiedMs: this.#now(),
      ...(note !== undefined ? { note } : {}),
    };
  }

  /** One transfer per file, whoever asks (the store also shares one per URL across calls). */
  #obtain(known: Known): Promise<{ path: string; size: number }> {
    const d = known.dist!;
    let running = this.#transfers.get(known.file.sha256);
    if (running === undefined) {
      running = this.#o.store.obtain(this.#o.fetcher, {
        url: d.url,
        sha256: known.file.sha256,
        filename: d.filename,
        project: known.file.project,
        ...(d.size !== undefined ? { size: d.size } : {}),
        headers: this.#auth.authHeaders(d.url),
        origin: d.index,
        ...(d.requiresPython !== undefined ? { requiresPython: d.requiresPython } : {}),
      }).then((r) => ({ path: r.path, size: r.size }))
        .finally(() => this.#transfers.delete(known.file.sha256));
      this.#transfers.set(known.file.sha256, running);
    }
    return running;
  }

  async #openCached(file: SourceFile): Promise<ServeFileHandle | undefined> {
    if (!(await this.#o.store.has(file.sha256))) return undefined;
    let handle: ServeFileHandle;
    try {
      handle = await nodeServeFs.open(this.#o.store.pathOf(file.sha256));
    } catch {
      return undefined;
    }
    const st = await handle.stat().catch(() => undefined);
    if (st === undefined || !st.isFile || (Number.isFinite(file.size) && st.size !== file.size)) {
      await handle.close().catch(() => {});
      return undefined;
    }
    return handle;
  }

  /**
   * The bytes of a file being transferred, as they land in its partial file; once the transfer
   * is done (and the cache has published the checked file), the rest comes from the cache. The
   * last bytes go out only once the transfer is checked and published.
   */
  #follow(
    file: SourceFile,
    url: string,
    transfer: Promise<{ path: string; size: number }>,
  ): ReadableStream<Uint8Array> {
    const partial = this.#o.partialPathOf!(url);
    const pollMs = this.#o.pollMs ?? 25;
    let settled: { ok: true } | { ok: false; error: unknown } | undefined;
    transfer.then(() => settled = { ok: true }, (error) => settled = { ok: false, error });
    let handle: fsp.FileHandle | undefined;
    let fromCache = false;
    let position = 0;
    const close = async () => {
      const h = handle;
      handle = undefined;
      await h?.close().catch(() => {});
    };
    const readInto = async (buffer: Uint8Array): Promise<number> => {
      if (handle === undefined) return 0;
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      return bytesRead;
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          if (position >= file.size) {
            await close();
            controller.close();
            return;
          }
          if (settled !== undefined && !settled.ok) {
            await close();
            controller.error(settled.error);
            return;
          }
          if (settled?.ok && !fromCache) {
            // Done and published: the rest from the checked copy in the cache.
            await close();
            handle = await fsp.open(this.#o.store.pathOf(file.sha256), "r").catch(() => undefined);
            if (handle === undefined) {
              controller.error(new Error(`${file.filename} is gone from the cache`));
              return;
            }
            fromCache = true;
          }
          if (handle === undefined) {
            handle = await fsp.open(partial, "r").catch(() => undefined);
            if (handle === undefined) {
              await Promise.race([transfer.catch(() => {}), sleep(pollMs)]);
              continue;
            }
          }
          const buffer = new Uint8Array(Math.min(256 * 1024, file.size - position));
          const n = await readInto(buffer).catch(() => 0);
          if (n > 0) {
            if (position + n >= file.size && !fromCache) {
              // The last bytes wait for the check and the publish: a client never holds the
              // whole body of a file that failed its hash, and a proxy stopped once a client has
              // its file has that file in the cache (the offline proxy serves it).
              const outcome = await transfer.then(() => undefined, (error: unknown) => ({ error }));
              if (outcome !== undefined) {
                await close();
                controller.error(outcome.error);
                return;
              }
            }
            position += n;
            controller.enqueue(n === buffer.length ? buffer : buffer.subarray(0, n));
            return;
          }
          if (fromCache) {
            await close();
            controller.error(new Error(`${file.filename} is shorter than listed`));
            return;
          }
          await Promise.race([transfer.catch(() => {}), sleep(pollMs)]);
        }
      },
      cancel: close,
    }, { highWaterMark: 0 });
  }
}
