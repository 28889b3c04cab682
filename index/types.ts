/**
 * The boundary of the index module: the {@linkcode IndexClient} interface the resolver and the
 * downloader code against, its outcomes, and the small structural interfaces (HTTP cache storage,
 * file system) that callers inject.
 *
 * @module
 */

import type { DistFilename } from "../pep/filename.ts";
import type { CoreMetadata } from "../pep/metadata.ts";

/** Hashes of a file keyed by algorithm name (`sha256`, …), hex digests in lower case. */
export type Hashes = Record<string, string>;

/** PEP 592 yank state of a file: `false`, or yanked with a reason (empty when none was given). */
export type Yanked = false | { reason: string };

/**
 * One distribution file offered by an index or a find-links location: what its page said
 * ({@linkcode PageFile}, with the URL made absolute and credential-free, and an empty
 * `requiresPython` dropped), where it came from, and its parsed name.
 */
export interface DistFile extends PageFile {
  /** The index or find-links location this file came from, credentials redacted. */
  index: string;
  /** The parsed file name. */
  parsed: DistFilename;
}

/** Options of {@linkcode IndexClient.projectFiles}. */
export interface ProjectFilesOptions {
  /** Cancels the requests. */
  signal?: AbortSignal;
}

/** Options of {@linkcode IndexClient.metadata}. */
export interface MetadataOptions {
  /** Cancels the requests. */
  signal?: AbortSignal;
}

/** The answer to "which files does project P have". */
export type ProjectFilesOutcome =
  | {
    kind: "found";
    /** Normalised project name. */
    project: string;
    /**
     * Files from all locations consulted, in page order (invalid file names skipped).
     * `SimpleIndexClient` reports a project without usable files as `not-found` instead.
     */
    files: DistFile[];
    /** The (first) index that had the project, credentials redacted. */
    index: string;
    /** PEP 700 `versions`, when every index consulted gave them. */
    versions?: string[];
  }
  | {
    /**
     * No location offers a usable file of the project: no page (404/410), or a page without
     * (parsable) file links for it. pip treats an empty page as "no versions"; naming the
     * locations makes the message say where the project was looked for.
     */
    kind: "not-found";
    project: string;
    /** Every location consulted, in order, credentials redacted. */
    indexes: string[];
    /**
     * Those of `indexes` that have a page for the project listing no usable files; absent when
     * none has. Under `first-index` such a page still ends the search, as for uv: the project
     * exists there, and taking it from a later index would open the door to dependency
     * confusion.
     */
    emptyIndexes?: string[];
  }
  | {
    /** Offline and no cached page: the CLI reports it by project name. */
    kind: "offline-miss";
    project: string;
  };

/** How core metadata was obtained. */
export type MetadataVia =
  | "pep658"
  | "range"
  | "download"
  | "sdist-pkg-info"
  | "local"
  | "build";

/** The answer to "what is the core metadata of file F". */
export type MetadataOutcome =
  | { kind: "found"; metadata: CoreMetadata; via: MetadataVia }
  | {
    /** An sdist without trustworthy static metadata: only a build could tell. */
    kind: "needs-build";
    file: DistFile;
    reason: string;
  }
  | {
    /** Offline and the metadata is not available without the network. */
    kind: "offline-miss";
    file: DistFile;
  };

/**
 * Which files does project P have on these indexes, and what is the core metadata of file F.
 * Real failures (HTTP errors, malformed pages, hash mismatches) throw `IndexError`.
 */
export interface IndexClient {
  /** Lists the files of a project (name in any spelling). */
  projectFiles(name: string, options?: ProjectFilesOptions): Promise<ProjectFilesOutcome>;
  /** Reads the core metadata of a file without downloading it whole where possible. */
  metadata(file: DistFile, options?: MetadataOptions): Promise<MetadataOutcome>;
  /** Headers (e.g. `Authorization`) to send when downloading `url`; empty for other hosts. */
  authHeaders(url: string): Record<string, string>;
}

/** `first-index` (default, against dependency confusion) or `unsafe-best-match`. */
export type IndexStrategy = "first-index" | "unsafe-best-match";

/** One index with optional credentials (e.g. read by the CLI from an environment variable). */
export interface IndexSpec {
  /** Simple-API root (`https://pypi.org/simple/`), `file://` URL; may carry user-info. */
  url: string;
  /** A name for messages and for per-index environment variables. */
  name?: string;
  /** User name for this index; takes precedence over `.netrc`. */
  username?: string;
  /** Password or token for this index; takes precedence over `.netrc`. */
  password?: string;
}

/** Metadata stored with a cached HTTP response. */
export interface CachedResponseMeta {
  /** URL of the response, credentials redacted. */
  url: string;
  /** Epoch milliseconds when the response was received or last revalidated. */
  storedAt: number;
  /** HTTP status of the stored response. */
  status: number;
  /** The `Content-Type` header, which says whether the page is PEP 691 JSON or PEP 503 HTML. */
  contentType?: string;
  /** The `ETag` header, sent back as `If-None-Match` to revalidate. */
  etag?: string;
  /** The `Last-Modified` header, sent back as `If-Modified-Since` to revalidate. */
  lastModified?: string;
  /** The `Cache-Control` header, which decides freshness. */
  cacheControl?: string;
  /** The `Age` header in seconds at reception, if any. */
  age?: number;
}

/** A cached response. */
export interface CachedResponse {
  /** The response body. */
  body: Uint8Array;
  /** Its status, headers and storage time. */
  meta: CachedResponseMeta;
}

/** Where HTTP responses of index pages are cached; the cache module provides a disk one. */
export interface HttpCacheStorage {
  /** Returns the stored response for `key`, or undefined. */
  get(key: string): Promise<CachedResponse | undefined>;
  /** Stores (replaces) the response for `key`. */
  put(key: string, body: Uint8Array, meta: CachedResponseMeta): Promise<void>;
}

/** The file-system operations the index client needs for find-links directories and `file://`. */
export interface IndexFs {
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Names of the entries of a directory (files only is fine). */
  readDir(path: string): Promise<string[]>;
  /**
   * Random access to a local file, so metadata is read from a wheel's central directory
   * instead of the whole file. Optional: without it the whole file is read.
   */
  openRange?(path: string): Promise<LocalRangeFile>;
}

/** A local file opened for reads at offsets. */
export interface LocalRangeFile {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads bytes [start, end). */
  read(start: number, end: number): Promise<Uint8Array>;
  /** Releases the file. */
  close(): void;
}

/** One file as a project page (HTML or JSON) describes it, before its name is parsed. */
export interface PageFile {
  /** The file name, not yet parsed or validated. */
  filename: string;
  /** Absolute URL as the page gave it (resolved against `<base href>` / the page URL). */
  url: string;
  /** Hashes by algorithm, from the URL fragment (PEP 503) or `hashes` (PEP 691). */
  hashes: Hashes;
  /** `Requires-Python` of the file (PEP 503 `data-requires-python`, PEP 691 `requires-python`). */
  requiresPython?: string;
  /** Whether and why the file is yanked (PEP 592). */
  yanked: Yanked;
  /** Whether the index serves the core metadata separately, and its hashes (PEP 658/714). */
  coreMetadata: false | { hashes: Hashes };
  /** Size in bytes (PEP 700). */
  size?: number;
  /** Upload time, ISO 8601 (PEP 700 `upload-time`). */
  uploadTime?: string;
}

/** A parsed project page (PEP 503 HTML or PEP 691 JSON) or flat find-links page. */
export interface ProjectPage {
  /** `meta.api-version` (JSON) or `pypi:repository-version` (HTML), when given. */
  apiVersion?: string;
  /** The project name the page states (JSON `name`). */
  name?: string;
  /** The files listed, in page order. */
  files: PageFile[];
  /** PEP 700 `versions`. */
  versions?: string[];
}
