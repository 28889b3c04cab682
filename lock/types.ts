/**
 * Types of the lock planner: what a lock file asks a target (or every platform) to download.
 *
 * @module
 */
import type { CoreMetadata } from "../pep/metadata.ts";
import type { Target } from "../pep/tags.ts";

/** One file to download, with the targets it serves. */
export interface PlannedFile {
  /** Normalised project name. */
  project: string;
  /** The version ("" for a version-less archive). */
  version: string;
  /** The file name it keeps in the wheelhouse (a plain name, no separators). */
  filename: string;
  /** Absolute URL (http, https or file). */
  url: string;
  /** Where the file was listed (an index, a find-links location, "direct reference"). */
  origin?: string;
  /** The sdists this file is a build requirement of (`--build-deps`), not an install. */
  buildDependencyOf?: string[];
  /** For an sdist built from a git reference: the repository and the commit it resolved to. */
  vcs?: { url: string; requestedRevision?: string; commitId: string };
  /** Lower-case hex sha256, when known. */
  sha256: string | undefined;
  /** Size in bytes, when known. */
  size: number | undefined;
  /** Names of the targets that install this file ([] with `allPlatforms`). */
  targets: string[];
  /** Requires-Python of the file, when known (goes into the wheelhouse's pages). */
  requiresPython?: string;
  /** Hash algorithms the lock gives for the file (to explain a missing sha256). */
  hashAlgorithms?: string[];
  /** The core metadata of the file's version as the resolver read it (absent for locks). */
  metadata?: CoreMetadata;
  /** Whether a direct reference (`name @ url`) of the run names the file. */
  direct?: boolean;
  /** PEP 592: whether the index marks the file yanked (an exact pin still takes it). */
  yanked?: boolean;
  /**
   * Per target name where the project is a top-level requirement of the run (its marker holds
   * there): the extras requested with it, normalised and sorted (often none). Absent for locks.
   */
  requested?: Readonly<Record<string, readonly string[]>>;
}

/** A package the lock names that cannot be downloaded as a file (VCS, directory, editable). */
export interface Undownloadable {
  /** The package's name as the lock spells it. */
  project: string;
  /** Why, in a few words. */
  reason: string;
  /** Its locked version, when the lock gives one. */
  version?: string;
  /** The targets that need it ([] with `allPlatforms`). */
  targets: string[];
  /**
   * What a builder could make an sdist of: a git repository at the locked commit, or a local
   * folder (absolute). Absent for what cannot be built (other VCS, a folder outside the lock's).
   */
  buildable?:
    | { kind: "git"; url: string; commit: string; subdirectory?: string }
    | { kind: "directory"; path: string };
}

/** A package with no file for some target. */
export interface MissingFile {
  /** The package's name as the lock spells it. */
  project: string;
  /** Its locked version. */
  version: string;
  /** The target's name. */
  target: string;
  /** The file names the lock lists for the package. */
  tags: string[];
}

/** What a lock file asks for. */
export interface LockPlan {
  /** The files, each once, with the targets it serves. */
  files: PlannedFile[];
  /** Packages that are no files (VCS, directories) and that the lock's own project needs. */
  undownloadable: Undownloadable[];
  /**
   * The projects the lock was made for (uv's workspace members, a pylock's directory at the
   * lock's own folder): they are not downloaded, and that is not a gap.
   */
  ownProjects: string[];
  /** Packages with no file for some target. */
  missing: MissingFile[];
}

/** Options of the lock planners. */
export interface LockPlanOptions {
  /** The lock file's absolute path: relative `path` entries are resolved against its folder. */
  lockPath: string;
  /** The targets; ignored with `allPlatforms`, which takes every file. */
  targets: readonly Target[];
  /** Every file of the lock, for every platform. */
  allPlatforms: boolean;
  /** Extras to include, or every extra the lock knows. */
  extras: readonly string[] | "all";
  /** Dependency groups; undefined means the lock's defaults (`default-groups`, uv's `dev`). */
  groups: readonly string[] | undefined;
  /** uv.lock only: leave out the `dev` group. */
  noDev: boolean;
}

/** The two kinds of lock file the planners read. */
export type LockKind = "pylock" | "uv";

/** Why a lock cannot be planned. */
export type LockErrorCode =
  | "bad-url"
  | "no-location"
  | "outside-folder"
  | "bad-filename"
  | "duplicate-file"
  | "wrong-file"
  | "unsupported-target";

/**
 * A lock file that cannot be planned: a file outside the lock's folder, an unusable URL, one file
 * name with two hashes, a file whose name is not a distribution of the locked project and version,
 * or a target the lock does not support. The input is at fault.
 *
 * @example
 * ```ts
 * import { LockError } from "./types.ts";
 * const e = new LockError("outside-folder", "/x/pylock.toml: a path points outside");
 * if (e.code !== "outside-folder" || e.name !== "LockError") throw new Error();
 * ```
 */
export class LockError extends Error {
  /** Always `"LockError"`. */
  override name = "LockError";
  /** What is wrong. */
  readonly code: LockErrorCode;

  /**
   * Builds the error.
   *
   * @param code What is wrong.
   * @param message What failed and why, naming the lock file.
   * @param options The underlying error, if any.
   */
  constructor(code: LockErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
