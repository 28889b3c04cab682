/**
 * The cache as an index: an {@linkcode IndexClient} over what a cache holds, by project name,
 * whatever index, folder, path or URL each archive first came from. Offline runs resolve from it,
 * so a private wheel installed once from a path is found later by name (uv#4728).
 *
 * This module knows no cache: it reads an injected {@linkcode CatalogueSource} (the local cache
 * implements it) and reads metadata from the archives' local copies.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { normalizeName } from "../pep/name.ts";
import { type DistFilename, parseDistFilename } from "../pep/filename.ts";
import type {
  DistFile,
  IndexClient,
  IndexFs,
  MetadataOptions,
  MetadataOutcome,
  ProjectFilesOptions,
  ProjectFilesOutcome,
} from "./types.ts";
import { SimpleIndexClient } from "./simple_index_client.ts";

/** One archive a cache holds. */
export interface CataloguedFile {
  /** The distribution file name. */
  filename: string;
  /** Lowercase hex sha256. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Absolute path of the cached bytes. */
  path: string;
  /** Where it was downloaded from (redacted), when known. */
  url?: string;
  /** Where it was listed (an index URL, a find-links location), when known. */
  origin?: string;
  /** Its Requires-Python, when its listing gave one. */
  requiresPython?: string;
}

/** What a cache tells about one project. */
export interface CatalogueSource {
  /** The archives held under a (normalised) project name. */
  files(project: string): Promise<CataloguedFile[]>;
  /** The path of cached bytes by sha256, or undefined when they are not held. */
  pathOf(sha256: string): Promise<string | undefined>;
}

/** Options of {@linkcode CacheIndexClient}. */
export interface CacheIndexClientOptions {
  /** File system for reading archives' metadata; defaults to the real one. */
  fs?: IndexFs;
}

/** The name a cached file is listed under in `DistFile.index`. */
function originLabel(f: CataloguedFile): string {
  return `the cache (from ${f.origin ?? f.url ?? "an earlier run"})`;
}

/**
 * An index over a cache's catalogue: `projectFiles` lists every archive held for the project,
 * with its sha256 (so delivery links it from the cache, no transfer); `metadata` reads the
 * archive's own METADATA (a wheel's central directory, an sdist's static PKG-INFO). It never
 * touches the network; a project the cache does not hold is `not-found` naming "the cache".
 *
 * @example
 * ```ts
 * import { CacheIndexClient } from "./cache_index_client.ts";
 * const client = new CacheIndexClient({
 *   files: () => Promise.resolve([{
 *     filename: "private_pkg-0.1-py3-none-any.whl",
 *     sha256: "a".repeat(64),
 *     size: 10,
 *     path: "/cache/archives-v1/aa/" + "a".repeat(64),
 *     origin: "/home/me/wheels",
 *   }]),
 *   pathOf: () => Promise.resolve(undefined),
 * });
 * const got = await client.projectFiles("Private.Pkg");
 * if (got.kind !== "found" || got.files[0]?.hashes["sha256"] !== "a".repeat(64)) {
 *   throw new Error("listed with its hash");
 * }
 * ```
 */
export class CacheIndexClient implements IndexClient {
  readonly #source: CatalogueSource;
  readonly #reader: SimpleIndexClient;
  readonly #paths = new Map<string, string>();

  /**
   * Builds the client over a cache's catalogue.
   *
   * @param source The cache's catalogue.
   * @param options File system for metadata reads.
   */
  constructor(source: CatalogueSource, options: CacheIndexClientOptions = {}) {
    this.#source = source;
    // Reads local archives only: no index, no network.
    this.#reader = new SimpleIndexClient({
      noIndex: true,
      offline: true,
      ...(options.fs !== undefined ? { fs: options.fs } : {}),
    });
  }

  /**
   * Every archive the cache holds for a project.
   *
   * @param name A project name (any spelling).
   * @param _options Unused: nothing here waits on the network.
   * @returns `found` with the files (index "the cache (from …)"), else `not-found`.
   */
  async projectFiles(name: string, _options?: ProjectFilesOptions): Promise<ProjectFilesOutcome> {
    const project = normalizeName(name);
    const files: DistFile[] = [];
    for (const f of await this.#source.files(project)) {
      let parsed: DistFilename;
      try {
        parsed = parseDistFilename(f.filename, project);
      } catch {
        continue;
      }
      if (parsed.normalizedName !== project) continue;
      this.#paths.set(f.sha256, f.path);
      const file: DistFile = {
        filename: f.filename,
        // The original location, so the folder's manifest and requirements say where it came
        // from; delivery finds the bytes in the cache by sha256 and never fetches it.
        url: f.url ?? pathToFileURL(f.path).href,
        hashes: { sha256: f.sha256 },
        yanked: false,
        coreMetadata: false,
        size: f.size,
        index: originLabel(f),
        parsed,
      };
      if (f.requiresPython !== undefined) file.requiresPython = f.requiresPython;
      files.push(file);
    }
    if (files.length === 0) return { kind: "not-found", project, indexes: ["the cache"] };
    return { kind: "found", project, files, index: "the cache" };
  }

  /**
   * Reads a file's metadata from the cached copy of its bytes (found by its sha256).
   *
   * @param file A file whose sha256 is known (from this client or any other).
   * @param options `signal`.
   * @returns `found` via `local`, `needs-build` for a dynamic sdist, or `offline-miss` when the
   *   cache does not hold the bytes.
   * @throws {IndexError} `invalid-archive`/`invalid-metadata` for a broken archive.
   */
  async metadata(file: DistFile, options: MetadataOptions = {}): Promise<MetadataOutcome> {
    const sha256 = file.hashes["sha256"]?.toLowerCase();
    if (sha256 === undefined) return { kind: "offline-miss", file };
    const path = this.#paths.get(sha256) ?? await this.#source.pathOf(sha256);
    if (path === undefined) return { kind: "offline-miss", file };
    const local: DistFile = { ...file, url: pathToFileURL(path).href };
    const outcome = await this.#reader.metadata(local, options);
    // Outcomes name the caller's file, not the cache path.
    if (outcome.kind === "found") return outcome;
    return { ...outcome, file };
  }

  /**
   * No credentials: the cache needs none.
   *
   * @param _url Any URL.
   * @returns An empty header set.
   */
  authHeaders(_url: string): Record<string, string> {
    return {};
  }
}
