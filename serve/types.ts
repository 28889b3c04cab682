/**
 * Boundary types of the serve module: the {@linkcode IndexSource} a server serves from (a
 * wheelhouse folder today; the cache as an index and a pull-through proxy later), the
 * {@linkcode Authenticator} that guards it, the small file system the folder source reads
 * through, and {@linkcode ServeError}.
 *
 * @module
 */

/** PEP 592 yank state of a file: `false`, or yanked with a reason (empty when none was given). */
export type Yanked = false | { reason: string };

/** One distribution file a source offers. */
export interface SourceFile {
  /** The file name, one plain path segment (`example_app-1.0.0-py3-none-any.whl`). */
  filename: string;
  /** PEP 503 normalised project name. */
  project: string;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
  /** Size in bytes; `NaN` until known (a proxied file whose upstream page gave none). */
  size: number;
  /** Modification time in ms since the epoch: `Last-Modified` and PEP 700 `upload-time`. */
  mtimeMs: number;
  /** `Requires-Python` of the file, when known. */
  requiresPython?: string;
  /** Whether and why the file is yanked. */
  yanked: Yanked;
  /** Whether {@linkcode IndexSource.metadata} can give its core metadata (wheels). */
  hasMetadata: boolean;
  /**
   * The sha256 of its core metadata when known without reading it (a proxy's upstream page
   * states it): pages use it instead of asking {@linkcode IndexSource.metadata} for every file.
   */
  metadataSha256?: string;
}

/** A file's core metadata (PEP 658), served as `<file>.metadata`. */
export interface CoreMetadataFile {
  /** The bytes of `.dist-info/METADATA`, as stored in the wheel. */
  bytes: Uint8Array;
  /** Lower-case hex sha256 of `bytes`. */
  sha256: string;
}

/** Bytes `[start, end)` of a file (end exclusive). */
export interface ByteRange {
  /** First byte. */
  start: number;
  /** One past the last byte. */
  end: number;
}

/** The project list of a source. */
export interface ProjectList {
  /** PEP 503 normalised names, sorted. */
  projects: string[];
  /** Changes whenever the source's content changes: rendered pages are kept per revision. */
  revision: string;
  /** When the content last changed, ms since the epoch (`Last-Modified` of the pages). */
  lastModifiedMs: number;
}

/** The answer to "which files does project P have". */
export type ProjectLookup =
  | {
    /** Discriminant. */
    kind: "found";
    /** PEP 503 normalised name. */
    project: string;
    /** Its files, sorted by file name. */
    files: SourceFile[];
    /** As in {@linkcode ProjectList.revision}. */
    revision: string;
    /** As in {@linkcode ProjectList.lastModifiedMs}. */
    lastModifiedMs: number;
    /**
     * Why the page may be out of date (a proxy whose upstream cannot be reached serves what
     * its cache holds); sent to clients as the `X-Wheelhouse-Stale` header.
     */
    note?: string;
  }
  | {
    /** Discriminant: the source has no such project. */
    kind: "not-found";
    /** The name asked for, normalised. */
    project: string;
  };

/** The answer to "which file has this name". */
export type FileLookup =
  | {
    /** Discriminant. */
    kind: "found";
    /** The file. */
    file: SourceFile;
  }
  | {
    /** Discriminant: no file of the source has that name. */
    kind: "not-found";
  };

/** The answer to "give me the bytes of this file". */
export type OpenOutcome =
  | {
    /** Discriminant. */
    kind: "opened";
    /** The bytes of the range asked for (or the whole file); cancel it to release the file. */
    body: ReadableStream<Uint8Array>;
  }
  | {
    /**
     * Discriminant: the file is listed but cannot be served any more (deleted, changed size,
     * replaced by a symlink that leaves the folder).
     */
    kind: "gone";
    /** Why, for the server's warnings. */
    reason: string;
  };

/**
 * What a server serves from. Every method answers from the source's current state; a source
 * may change between calls (a folder being refreshed), and says so through `revision`.
 * Expected outcomes are values; only real failures (an I/O error) reject.
 */
export interface IndexSource {
  /** A short description for messages (the folder). */
  readonly description: string;
  /** Lists the projects. */
  projects(): Promise<ProjectList>;
  /** The files of one project; `name` in any spelling. */
  project(name: string): Promise<ProjectLookup>;
  /** Finds a file by its exact name. */
  file(filename: string): Promise<FileLookup>;
  /** Opens a file (or a range of it) for streaming. */
  open(file: SourceFile, range?: ByteRange): Promise<OpenOutcome>;
  /** The core metadata of a file, or undefined when it has none (sdists, broken wheels). */
  metadata(file: SourceFile): Promise<CoreMetadataFile | undefined>;
}

/** Checks the credentials of a request. */
export interface Authenticator {
  /** The realm named in `WWW-Authenticate`. */
  readonly realm: string;
  /**
   * Whether the `Authorization` header value grants access.
   *
   * @param authorization The header value, undefined when absent.
   */
  check(authorization: string | undefined): Promise<boolean>;
}

/** What a file system says about a path (symlinks followed) or an open file. */
export interface ServeStat {
  /** Size in bytes. */
  size: number;
  /** Modification time, ms since the epoch. */
  mtimeMs: number;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
}

/** An open file, read at offsets. */
export interface ServeFileHandle {
  /** What the open file is now. */
  stat(): Promise<ServeStat>;
  /**
   * Reads into `buffer` from `position`.
   *
   * @param buffer Where the bytes go (from offset 0).
   * @param position The file offset.
   * @returns How many bytes were read; 0 at the end.
   */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Releases the file. */
  close(): Promise<void>;
}

/**
 * The file system the folder source reads through; errors carry a Node-style `code`
 * (`ENOENT`, `ELOOP`, ...). The real one is over `node:fs/promises`.
 */
export interface ServeFileSystem {
  /** What a path is, symlinks followed. */
  stat(path: string): Promise<ServeStat>;
  /** The canonical path, symlinks resolved. */
  realpath(path: string): Promise<string>;
  /** Reads a whole (small) file: only `manifest.json`. */
  readFile(path: string): Promise<Uint8Array>;
  /** Opens a file read-only, refusing a symlink as the last component. */
  open(path: string): Promise<ServeFileHandle>;
}

/** What went wrong when starting a server or opening a source. */
export type ServeErrorCode =
  /** The folder does not exist. */
  | "no-folder"
  /** The path is not a folder. */
  | "not-a-folder"
  /** The folder has no `manifest.json`. */
  | "no-manifest"
  /** `manifest.json` is not a manifest this version reads. */
  | "unreadable-manifest"
  /** The address (host and port) is taken. */
  | "address-in-use"
  /** Listening failed otherwise (a privileged port, an unknown host). */
  | "cannot-listen";

/**
 * The serve module's failure.
 *
 * @example
 * ```ts
 * import { ServeError } from "./types.ts";
 * const e = new ServeError("no-manifest", "wheelhouse has no manifest.json");
 * if (e.code !== "no-manifest" || e.name !== "ServeError") throw new Error();
 * ```
 */
export class ServeError extends Error {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "ServeError";
  /** What went wrong. */
  readonly code: ServeErrorCode;

  /**
   * Builds the error.
   *
   * @param code What went wrong.
   * @param message What failed and why.
   * @param options The cause.
   */
  constructor(code: ServeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
