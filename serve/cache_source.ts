/**
 * {@linkcode CacheSource}: the {@linkcode IndexSource} over everything a wheelhouse cache holds
 * (its catalogue: every archive with its project, whatever index, folder or path it came from),
 * so a machine's cache can be the team's index. Files are read from the content-addressed
 * archive store by their sha256, so no request names a path; an archive whose size is not what
 * the catalogue says is not served.
 *
 * @module
 */

import { normalizeName } from "../pep/name.ts";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import { metadataOfHandle, streamHandle } from "./_file_stream.ts";
import { createHash } from "node:crypto";
import { type FileIndex, indexFiles } from "./_file_index.ts";
import { mapLimit } from "./_map_limit.ts";
import { nodeServeFs } from "./_node_fs.ts";
import {
  type ByteRange,
  type CoreMetadataFile,
  type FileLookup,
  type IndexSource,
  type OpenOutcome,
  type ProjectList,
  type ProjectLookup,
  ServeError,
  type ServeFileHandle,
  type ServeFileSystem,
  type SourceFile,
} from "./types.ts";

/** Options of {@linkcode CacheSource.open}. */
export interface CacheSourceOptions {
  /** File system the archives are read through; the real one by default. */
  fs?: ServeFileSystem;
  /** The clock, ms since the epoch, for `recheckMs`. */
  now?: () => number;
  /** How often to read the catalogue again, so new downloads are offered; default 2000 ms. */
  recheckMs?: number;
  /** Told about archives that are left out. */
  onWarning?: (message: string) => void;
  /** The largest METADATA read from a wheel; default 16 MiB. */
  maxMetadataBytes?: number;
}

interface State extends FileIndex {
  revision: string;
  lastModifiedMs: number;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A wheelhouse cache as an index source.
 *
 * @example
 * ```ts
 * import { CacheSource } from "./cache_source.ts";
 * import { LocalDirStore } from "../cache/local_dir_store.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/demo-1.0.tar.gz`, "an sdist");
 * await new LocalDirStore(`${dir}/cache`).put(
 *   { path: `${dir}/demo-1.0.tar.gz` },
 *   { filename: "demo-1.0.tar.gz", project: "demo" },
 * );
 * const source = await CacheSource.open(`${dir}/cache`);
 * if ((await source.projects()).projects.join() !== "demo") throw new Error();
 * const found = await source.project("Demo");
 * if (found.kind !== "found" || found.files[0]?.filename !== "demo-1.0.tar.gz") throw new Error();
 * const opened = await source.open(found.files[0], { start: 3, end: 8 });
 * if (opened.kind !== "opened" || await new Response(opened.body).text() !== "sdist") {
 *   throw new Error();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class CacheSource implements IndexSource {
  /** The cache folder, as given. */
  readonly description: string;
  #store: LocalDirStore;
  #fs: ServeFileSystem;
  #now: () => number;
  #recheckMs: number;
  #warn: (message: string) => void;
  #maxMetadata: number;
  #state: State;
  #checkedAt: number;
  #loads = 1;
  #reloading: Promise<void> | undefined;
  #metadata = new Map<string, Promise<CoreMetadataFile | undefined>>();

  private constructor(dir: string, store: LocalDirStore, state: State, o: CacheSourceOptions) {
    this.description = dir;
    this.#store = store;
    this.#fs = o.fs ?? nodeServeFs;
    this.#now = o.now ?? Date.now;
    this.#recheckMs = o.recheckMs ?? 2000;
    this.#warn = o.onWarning ?? (() => {});
    this.#maxMetadata = o.maxMetadataBytes ?? 16 * 1024 * 1024;
    this.#state = state;
    this.#checkedAt = this.#now();
  }

  /**
   * Opens a cache folder for serving.
   *
   * @param dir The cache folder (`wheelhouse cache dir` names the default one).
   * @param options Effects and intervals.
   * @returns The source.
   * @throws {ServeError} `no-folder` or `not-a-folder`.
   */
  static async open(dir: string, options: CacheSourceOptions = {}): Promise<CacheSource> {
    const fs = options.fs ?? nodeServeFs;
    try {
      const st = await fs.stat(dir);
      if (!st.isDirectory) throw new ServeError("not-a-folder", `${dir} is not a folder`);
    } catch (e) {
      if (e instanceof ServeError) throw e;
      throw new ServeError("no-folder", `${dir} does not exist`, { cause: e });
    }
    const store = new LocalDirStore(dir);
    const state = await load(store, fs, options.now ?? Date.now, 1);
    return new CacheSource(dir, store, state, options);
  }

  /** How many files the source offers now. */
  get fileCount(): number {
    return this.#state.byName.size;
  }

  /** Lists the projects that have at least one archive. */
  async projects(): Promise<ProjectList> {
    const s = await this.#current();
    return { projects: s.projects, revision: s.revision, lastModifiedMs: s.lastModifiedMs };
  }

  /** The archives of one project, by file name. */
  async project(name: string): Promise<ProjectLookup> {
    const s = await this.#current();
    const project = normalizeName(name);
    const files = s.byProject.get(project);
    if (files === undefined) return { kind: "not-found", project };
    return {
      kind: "found",
      project,
      files,
      revision: s.revision,
      lastModifiedMs: s.lastModifiedMs,
    };
  }

  /** Finds an archive by file name. */
  async file(filename: string): Promise<FileLookup> {
    const f = (await this.#current()).byName.get(filename);
    return f === undefined ? { kind: "not-found" } : { kind: "found", file: f };
  }

  /** Streams an archive (or a range of it) from the archive store. */
  async open(file: SourceFile, range?: ByteRange): Promise<OpenOutcome> {
    const opened = await this.#openChecked(file);
    if ("reason" in opened) return { kind: "gone", reason: opened.reason };
    return { kind: "opened", body: streamHandle(opened.handle, file, range) };
  }

  /** A wheel's METADATA, read once per archive and kept. */
  metadata(file: SourceFile): Promise<CoreMetadataFile | undefined> {
    if (!file.hasMetadata) return Promise.resolve(undefined);
    let pending = this.#metadata.get(file.sha256);
    if (pending === undefined) {
      pending = this.#readMetadata(file);
      this.#metadata.set(file.sha256, pending);
    }
    return pending;
  }

  async #readMetadata(file: SourceFile): Promise<CoreMetadataFile | undefined> {
    const opened = await this.#openChecked(file);
    if ("reason" in opened) {
      this.#metadata.delete(file.sha256);
      return undefined;
    }
    try {
      const found = await metadataOfHandle(opened.handle, file, this.#maxMetadata);
      if (found === undefined) {
        this.#warn(`${file.filename} has no .dist-info/METADATA: served without a metadata file`);
      }
      return found;
    } catch (e) {
      this.#warn(`Cannot read the METADATA of ${file.filename}: ${describe(e)}`);
      return undefined;
    } finally {
      await opened.handle.close().catch(() => {});
    }
  }

  async #openChecked(file: SourceFile): Promise<{ handle: ServeFileHandle } | { reason: string }> {
    let handle: ServeFileHandle;
    try {
      handle = await this.#fs.open(this.#store.pathOf(file.sha256));
    } catch (e) {
      return { reason: `it is gone from the cache: ${describe(e)}` };
    }
    try {
      const st = await handle.stat();
      if (!st.isFile) throw new Error("not a regular file");
      if (st.size !== file.size) throw new Error(`it has ${st.size} bytes, not ${file.size}`);
      return { handle };
    } catch (e) {
      await handle.close().catch(() => {});
      return { reason: describe(e) };
    }
  }

  async #current(): Promise<State> {
    if (this.#now() - this.#checkedAt >= this.#recheckMs) {
      this.#reloading ??= (async () => {
        this.#checkedAt = this.#now();
        try {
          this.#state = await load(this.#store, this.#fs, this.#now, ++this.#loads);
        } catch (e) {
          this.#warn(`Cannot read the cache's catalogue: ${describe(e)}; serving what it held`);
        }
      })().finally(() => {
        this.#reloading = undefined;
      });
      await this.#reloading;
    }
    return this.#state;
  }
}

async function load(
  store: LocalDirStore,
  fs: ServeFileSystem,
  now: () => number,
  loads: number,
): Promise<State> {
  const names = await store.catalogueProjects();
  const catalogues = await mapLimit(names, 16, (p) => store.catalogue(p));
  const byName = new Map<string, SourceFile>();
  for (const c of catalogues) {
    for (const e of c.files) {
      const before = byName.get(e.filename);
      // One file name, two archives (a rebuilt wheel): the one catalogued last is served.
      if (before !== undefined && before.mtimeMs >= (e.addedMs ?? 0)) continue;
      const f: SourceFile = {
        filename: e.filename,
        project: c.project,
        sha256: e.sha256,
        size: e.size,
        mtimeMs: e.addedMs ?? 0,
        yanked: false,
        hasMetadata: e.filename.toLowerCase().endsWith(".whl"),
        ...(e.requiresPython !== undefined && e.requiresPython !== ""
          ? { requiresPython: e.requiresPython }
          : {}),
      };
      byName.set(e.filename, f);
    }
  }
  // Archives whose addition time is unknown take the archive's own time.
  await mapLimit([...byName.values()].filter((f) => f.mtimeMs === 0), 16, async (f) => {
    const st = await fs.stat(store.pathOf(f.sha256)).catch(() => undefined);
    f.mtimeMs = st?.mtimeMs ?? now();
  });
  let lastModifiedMs = 0;
  for (const f of byName.values()) lastModifiedMs = Math.max(lastModifiedMs, f.mtimeMs);
  const digest = [...byName.values()].map((f) => `${f.filename}:${f.sha256}`).sort().join("\n");
  return {
    revision: `${loads}:${createHash("sha256").update(digest).digest("hex").slice(0, 16)}`,
    lastModifiedMs,
    ...indexFiles(byName.values()),
  };
}
