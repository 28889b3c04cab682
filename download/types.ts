/**
 * The pipeline's boundary: what {@linkcode download} and {@linkcode plan} take, what they report
 * while they work, what they return, and how they fail.
 *
 * @module
 */
import type { CoreMetadata } from "../pep/metadata.ts";
import type { Target } from "../pep/tags.ts";
import type { Reporter as TransferReporter } from "../fetcher/types.ts";
import type { PlannedFile } from "../lock/types.ts";

export type { PlannedFile } from "../lock/types.ts";

/** Credentials for one index: from the caller's environment, keychain or prompt. */
export interface IndexCredentials {
  /** The user name. */
  username?: string;
  /** The password or token. */
  password?: string;
}

/** Everything one download takes. Only `dest` and `targets` are required. */
export interface DownloadOptions {
  /** The destination folder (created when missing); relative to `cwd`. */
  dest: string;
  /**
   * The targets to download for, or a function that works them out (called once, while the root
   * projects' pages are fetched: detecting the host can take a second). `[]` with `allPlatforms`.
   */
  targets: readonly Target[] | (() => Promise<readonly Target[]>);
  /** The folder relative paths are resolved against; default the process's. */
  cwd?: string;
  /** PEP 508 requirements (`"requests>=2.31"`, `"name @ https://…/name-1.0-py3-none-any.whl"`). */
  requirements?: readonly string[];
  /** pip requirement files (or a `pyproject.toml`), read with pip's syntax. */
  requirementFiles?: readonly string[];
  /** pip constraint files. */
  constraintFiles?: readonly string[];
  /** A project folder: its `pyproject.toml` dependencies. */
  project?: string;
  /** Extras of the project (or lock) to include. */
  extras?: readonly string[];
  /** Include every extra. */
  allExtras?: boolean;
  /** PEP 735 dependency groups (or a lock's groups). */
  groups?: readonly string[];
  /** A `pylock.toml` or `uv.lock`: download exactly what it lists instead of resolving. */
  lock?: string;
  /** With `lock`: every file of the lock, for every platform (`targets` must be `[]`). */
  allPlatforms?: boolean;
  /**
   * Resolve once for every environment of a region instead of per target (uv's universal
   * resolution), and download every file any of those environments installs; `targets` must
   * be `[]`. The folder's requirements.txt and pylock.toml carry a marker per package.
   */
  universal?: UniversalOptions;
  /** With a uv.lock: leave out the `dev` group. */
  noDev?: boolean;
  /** The index (default PyPI's); with a lock, a mirror of the lock's files. */
  indexUrl?: string;
  /** More indexes, asked after `indexUrl`. */
  extraIndexUrls?: readonly string[];
  /** Ask no index: only `findLinks` (and direct references). */
  noIndex?: boolean;
  /** Folders or pages of archives (pip's `--find-links`), relative to `cwd`. */
  findLinks?: readonly string[];
  /** `first-index` (default: a project comes from the first index that has it) or `unsafe-best-match`. */
  indexStrategy?: "first-index" | "unsafe-best-match";
  /** Credentials for an index URL, when the URL carries none; sent only to that origin. */
  credentials?: (indexUrl: string) => IndexCredentials | undefined;
  /** The text of a `.netrc` file, for credentials by host. */
  netrc?: string;
  /** Download only the named requirements, not their dependencies. */
  noDeps?: boolean;
  /** Allow pre-releases. */
  pre?: boolean;
  /** pip's `--only-binary` values (`:all:`, `:none:`, names). */
  onlyBinary?: readonly string[];
  /** pip's `--no-binary` values. */
  noBinary?: readonly string[];
  /** Prefer an older wheel to a newer sdist. */
  preferBinary?: boolean;
  /** pip's hash-checking mode (also on when a requirement file gives any `--hash`). */
  requireHashes?: boolean;
  /** Ignore files uploaded after this moment. */
  excludeNewer?: Date;
  /** Use only what the cache holds: no network. */
  offline?: boolean;
  /** Never run build code (no metadata hooks, no builds); what needs it fails the call. */
  noBuild?: boolean;
  /** The interpreter that builds (`python3` by default). */
  python?: string;
  /** Build with the interpreter's own packages instead of an isolated environment. */
  noBuildIsolation?: boolean;
  /**
   * Build a wheel of every sdist chosen for a target this host can build for (same platform and
   * Python, or a pure-Python result), and put it beside the sdist as the file that target installs.
   */
  buildWheels?: boolean;
  /** Also bring each sdist's build requirements, so the folder builds it offline. */
  buildDeps?: boolean;
  /** Revalidate cached index pages. */
  refresh?: boolean;
  /**
   * The cache folder; without one a temporary cache serves this call and is removed after. It
   * must be a writable folder (or not exist yet), apart from `dest`: neither inside the other.
   */
  cacheDir?: string;
  /** Experimental: take wheels an existing uv cache holds (rebuilt, so never where hashes are required). */
  uvCacheDir?: string;
  /** Transfers at once; default 16. */
  concurrency?: number;
  /** Retries per request; default 5. */
  retries?: number;
  /** Connect and idle-read timeout per request, in milliseconds; default 30 000. */
  timeoutMs?: number;
  /** Also write a PEP 503 `simple/` tree into the folder. */
  simpleIndex?: boolean;
  /** Remove the files an earlier run wrote into the folder that this call does not want. */
  prune?: boolean;
  /** Receives progress and messages; nothing is printed otherwise. */
  reporter?: DownloadReporter;
  /** Cancels the call; partial downloads stay in the cache and resume next time. */
  signal?: AbortSignal;
  /** HTTP client; default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Looks up `${VAR}` references in requirement files; default: none are set. */
  env?: (name: string) => string | undefined;
  /**
   * Reads an input file as text; default `node:fs` through a file handle, at most 16 MiB a file
   * (so `-r /dev/zero` ends). Each path is read once per call.
   */
  readText?: (path: string) => Promise<string>;
}

/** The region a universal download covers, and the platforms it downloads for. */
export interface UniversalOptions {
  /**
   * The Pythons to cover: `"3.11"` is every 3.11.x, `"3.11.4"` that release alone. Without
   * them, `requiresPython` (or the project's `requires-python`) gives the range.
   */
  pythonVersions?: readonly string[];
  /**
   * A Requires-Python specifier for the range (`">=3.10"`) when no versions are given and the
   * project states none (the CLI passes this machine's Python and newer, as uv does).
   */
  requiresPython?: string;
  /** uv's `environments`: PEP 508 markers whose union bounds the region. */
  environments?: readonly string[];
  /**
   * Platform presets (`x86_64-manylinux_2_28`, `windows`, …): only their wheels (and sdists
   * where none fits) are downloaded, and the folder's lock covers only them. The resolution
   * does not change.
   */
  platforms?: readonly string[];
}

/** What a call reports while it works (besides the transfers themselves). */
export type DownloadEvent =
  /** Something the user should know (a yanked pin, a missing extra). */
  | { kind: "warning"; message: string }
  /** A message for every run (e.g. a wheel rebuilt from a uv cache). */
  | { kind: "note"; message: string }
  /** A detail for verbose output (retries, mirrors, timings). */
  | { kind: "detail"; message: string }
  /** Resolution began. */
  | { kind: "resolving"; targets: number }
  /**
   * The resolver moved on: how many (target, package) decisions stand so far and the project it
   * is looking at (pages or metadata being read, or just decided).
   */
  | { kind: "resolving-progress"; decided: number; project: string }
  /** Resolution ended well. */
  | { kind: "resolved"; packages: number; targets: readonly string[]; ms: number }
  /** The transfers after planning begin (some may have started during resolution). */
  | { kind: "transfers-started"; files: number; bytes: number }
  /** Those transfers ended (well or not). */
  | { kind: "transfers-finished" };

/** Receives a call's events; every member is optional. */
export interface DownloadReporter {
  /** Receives each event. */
  event?(e: DownloadEvent): void;
  /** Receives the start, progress, retries and end of every transfer. */
  transfer?: TransferReporter;
}

/** Per target name, the pinned project names and versions of that target. */
export type TargetPins = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Where a planned file will come from. */
export type FileSource = "present" | "cached" | "fetch";

/** One file of a plan and where it will come from. */
export interface PlanEntry extends PlannedFile {
  /** Already in the destination, in the cache, or to be fetched. */
  source: FileSource;
}

/** What a download would do: {@linkcode plan}'s answer, what `--dry-run` shows. */
export interface DownloadPlan {
  /** The destination, absolute. */
  dest: string;
  /** The targets planned for. */
  targets: readonly Target[];
  /** Every file the folder will hold, with its source. */
  files: PlanEntry[];
  /** The pins per target. */
  pins: TargetPins;
  /** How many distinct (project, version) pairs were resolved (0 for a lock). */
  packages: number;
  /** How long resolution (or lock planning) took, in milliseconds. */
  resolveMs: number;
  /** The lock file planned from, as given. */
  lock?: string;
}

/** One file now in the destination. */
export interface DeliveredFile {
  /** Normalised project name. */
  project: string;
  /** Its version. */
  version: string;
  /** The file name in the folder. */
  filename: string;
  /** Where it came from, credentials redacted. */
  url: string;
  /** Its sha256, verified. */
  sha256: string;
  /** Its size in bytes. */
  size: number;
  /** The targets that install it. */
  targets: string[];
  /** Whether this call transferred it (else it came from the cache or was in the folder). */
  fetched: boolean;
  /** Where its bytes came from in this call: the folder itself, the cache, or a transfer. */
  from: "folder" | "cache" | "transfer";
  /** For an sdist built from a git reference: the repository and the commit it resolved to. */
  vcs?: { url: string; requestedRevision?: string; commitId: string };
  /** The core metadata of its version as the resolver read it (absent for locks). */
  metadata?: CoreMetadata;
  /** Whether a direct reference (`name @ url`) of the run names it. */
  direct?: boolean;
  /** PEP 592: whether the index marks it yanked. */
  yanked?: boolean;
  /**
   * Per target name where the project is a top-level requirement of the run: the extras
   * requested with it, normalised and sorted. Absent for locks.
   */
  requested?: Readonly<Record<string, readonly string[]>>;
  /** Requires-Python of the file as the index or lock states it, when known. */
  requiresPython?: string;
}

/** What {@linkcode download} did. */
export interface DownloadResult {
  /** The destination, absolute. */
  dest: string;
  /** The targets downloaded for. */
  targets: readonly Target[];
  /** Every file of the folder's manifest. */
  files: DeliveredFile[];
  /** The pins per target. */
  pins: TargetPins;
  /** How many distinct (project, version) pairs were resolved (0 for a lock). */
  packages: number;
  /** How long resolution (or lock planning) took, in milliseconds. */
  resolveMs: number;
  /** Files transferred by this call. */
  fetchedFiles: number;
  /** Their bytes. */
  fetchedBytes: number;
  /** How long the transfers after planning took, in milliseconds. */
  fetchMs: number;
  /** Bytes of files actually received in this call (a resumed file counts what was sent again). */
  transferredBytes: number;
  /** Wall time from the first transfer's start (often during resolution) to the last one's end. */
  transferMs: number;
  /** The side files written (`requirements.txt`, `pylock.toml`, …), by name. */
  sideFiles: string[];
  /** How the folder installs: per set of targets, the requirements file to give pip. */
  installSets: { targets: string[]; requirements: string }[];
  /** Files an earlier run wrote that this call does not want, left in the folder. */
  unwanted: string[];
  /** Files an earlier run wrote that this call removed (`prune`). */
  removed: string[];
  /** The lock file downloaded from, as given. */
  lock?: string;
}

/** Why a download failed. */
export type DownloadErrorCode =
  /** Bad input: requirements, files, options that do not fit together. */
  | "invalid-input"
  /** The destination cannot be used, or holds files wheelhouse must not overwrite. */
  | "unusable-destination"
  /** pip's hash-checking mode refused a requirement or file. */
  | "hash-check"
  /** The pinned version's files all have hashes other than the ones given. */
  | "hash-mismatch"
  /** An offline run lacks pages, metadata or files in the cache. */
  | "offline-miss"
  /** Some transfers failed. */
  | "download-failed"
  /** A lock has no file for some target, or a mirror lacks a locked file. */
  | "lock-unservable"
  /** A locked size does not match the file with the locked hash. */
  | "size-mismatch"
  /** Something needs a build that was not allowed (`noBuild`) or failed. */
  | "build-failed";

/**
 * A download that could not be done. The message says what failed and why, on its own lines.
 *
 * @example
 * ```ts
 * import { DownloadError } from "./types.ts";
 * const e = new DownloadError("offline-miss", "Offline, and the cache lacks 1 file");
 * if (e.code !== "offline-miss" || e.name !== "DownloadError") throw new Error();
 * ```
 */
export class DownloadError extends Error {
  /** Always `"DownloadError"`. */
  override name = "DownloadError";
  /** What kind of failure. */
  readonly code: DownloadErrorCode;

  /**
   * Builds the error.
   *
   * @param code What kind of failure.
   * @param message What failed and why.
   * @param options The underlying error, if any.
   */
  constructor(code: DownloadErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
