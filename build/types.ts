/**
 * Boundary types of the build front end: what it is handed ({@linkcode BuildEnvironmentProvider},
 * {@linkcode RunProcess}, {@linkcode BuildReporter}), what it builds from ({@linkcode BuildSource})
 * and what it returns, and its one error class {@linkcode BuildError}.
 *
 * @module
 */

import type { MarkerEnvironment } from "../pep/marker.ts";

/** Why a build (or one of its steps) failed. */
export type BuildErrorCode =
  /** The Python interpreter cannot be started (not found, not executable). */
  | "interpreter-missing"
  /** The interpreter starts but cannot answer what it is (too old, broken). */
  | "interpreter-failed"
  /** The `git` binary cannot be started. */
  | "git-missing"
  /** A git command failed: unreachable repository, unknown revision. */
  | "git-failed"
  /** The source tree is not a buildable project: bad pyproject.toml, backend-path outside, no project files. */
  | "invalid-project"
  /** An sdist that cannot be unpacked: corrupt, unsupported format, members escaping its root. */
  | "invalid-archive"
  /** The build environment cannot be made: the provider failed or handed back unusable wheels. */
  | "environment-failed"
  /** The build backend cannot be imported (usually: missing from `[build-system] requires`). */
  | "backend-unavailable"
  /** The backend has no such hook (a mandatory one, or one with no fallback). */
  | "hook-missing"
  /** The backend raised PEP 517's `UnsupportedOperation` (e.g. it cannot make an sdist). */
  | "hook-unsupported"
  /** A hook raised, or the hook process died. */
  | "backend-failed"
  /** A hook returned something that is not what PEP 517 says it returns. */
  | "invalid-result"
  /** The operation was cancelled through its `signal`. */
  | "aborted";

/** Details a {@linkcode BuildError} may carry besides its code. */
export interface BuildErrorOptions extends ErrorOptions {
  /** The PEP 517 hook that failed. */
  hook?: string;
  /** The project being built, as named in messages. */
  project?: string;
  /** Exit code of the hook process, when it exited. */
  exitCode?: number;
  /** The full build log, kept in the cache. */
  logPath?: string;
}

/**
 * The build module's one error class. Messages say what failed and why; a failing backend's
 * message also carries the hook, the project, the last lines of its output, the exit code and the
 * log's path (which are fields too).
 *
 * @example
 * ```ts
 * import { BuildError } from "./types.ts";
 * const e = new BuildError("git-missing", "Cannot run git: not found");
 * if (e.code !== "git-missing" || e.name !== "BuildError") throw new Error();
 * ```
 */
export class BuildError extends Error {
  /** Always `"BuildError"`. */
  override readonly name = "BuildError";
  /** Machine-readable reason. */
  readonly code: BuildErrorCode;
  /** The PEP 517 hook that failed, when a hook failed. */
  readonly hook: string | undefined;
  /** The project, when known. */
  readonly project: string | undefined;
  /** Exit code of the hook process, when it exited. */
  readonly exitCode: number | undefined;
  /** Path of the full build log in the cache, when there is one. */
  readonly logPath: string | undefined;
  /**
   * Builds the error.
   *
   * @param code Machine-readable reason.
   * @param message What failed and why.
   * @param options The cause and the details (hook, project, exit code, log path).
   */
  constructor(code: BuildErrorCode, message: string, options: BuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hook = options.hook;
    this.project = options.project;
    this.exitCode = options.exitCode;
    this.logPath = options.logPath;
  }
}

/** What an interpreter says about itself: the facts that decide wheel tags and markers. */
export interface InterpreterInfo {
  /** What the interpreter was asked as (`python3`, a path). */
  readonly command: string;
  /** `sys.executable`: the real binary, which the hooks run with. */
  readonly executable: string;
  /** `platform.python_version()`, e.g. `"3.11.7"`. */
  readonly version: string;
  /** `major.minor`, e.g. `"3.11"`. */
  readonly pythonVersion: string;
  /** `sys.implementation.name`, e.g. `"cpython"`, `"pypy"`. */
  readonly implementation: string;
  /** `sysconfig.get_platform()`, e.g. `"linux-x86_64"`, `"macosx-11.0-arm64"`, `"win-amd64"`. */
  readonly platform: string;
  /** `sysconfig.get_config_var("SOABI")`, e.g. `"cpython-311-x86_64-linux-gnu"`; undefined on Windows. */
  readonly soabi: string | undefined;
  /** `sysconfig.get_config_var("EXT_SUFFIX")`, e.g. `".cpython-311-x86_64-linux-gnu.so"`. */
  readonly extSuffix: string | undefined;
  /** The interpreter tag of wheels it builds, e.g. `"cp311"`. */
  readonly interpreterTag: string;
  /** The ABI tag of extension wheels it builds, e.g. `"cp311"`, `"cp313t"`. */
  readonly abiTag: string;
  /** The platform tag of extension wheels it builds, e.g. `"linux_x86_64"`. */
  readonly platformTag: string;
  /** `platform.libc_ver()`, e.g. `{ name: "glibc", version: "2.36" }`; empty strings when unknown. */
  readonly libc: { readonly name: string; readonly version: string };
  /** Size of a pointer in bits (32 or 64). */
  readonly pointerBits: number;
  /** The PEP 508 marker variables of this interpreter. */
  readonly markerEnvironment: MarkerEnvironment;
}

/** Options the front end passes to {@linkcode BuildEnvironmentProvider.installRequirements}. */
export interface InstallRequirementsOptions {
  /** Cancels the work. */
  signal?: AbortSignal;
}

/**
 * Hands the build front end the wheels of a build environment. The front end knows no resolver
 * and no HTTP: the caller resolves `requirements` (PEP 508 strings, markers included) for the
 * interpreter, with their dependencies, and returns local wheel files; the front end unpacks them
 * into a cached, isolated site folder.
 */
export interface BuildEnvironmentProvider {
  /**
   * Returns the paths of local `.whl` files that together satisfy `requirements` and their
   * dependencies for `interpreter` (its tags and marker environment), one wheel per project.
   *
   * @throws Anything; the front end reports it as a {@linkcode BuildError} `environment-failed`.
   */
  installRequirements(
    requirements: readonly string[],
    interpreter: InterpreterInfo,
    options: InstallRequirementsOptions,
  ): Promise<string[]>;
}

/** What a project builds from. */
export type BuildSource =
  /** An sdist: `.tar.gz`, `.tgz`, `.tar` or `.zip`. */
  | { kind: "archive"; path: string; name?: string }
  /** A source tree, built in place. */
  | { kind: "directory"; path: string; name?: string }
  /** A git repository: `git+https://…`, `git+file://…`, optionally `@rev` and `#subdirectory=`. */
  | { kind: "git"; url: string; rev?: string; subdirectory?: string; name?: string };

/** What the front end used to build, as returned with every result. */
export interface SourceInfo {
  /** The kind of the source. */
  readonly kind: BuildSource["kind"];
  /** The project's name as used in messages (`[project] name`, PKG-INFO, or the folder's name). */
  readonly project: string;
  /** The source's identity in the cache: its sha256, commit id or tree hash. */
  readonly identity: string;
  /** For git sources: the commit that was built. */
  readonly commit?: string;
}

/** A built (or cached) wheel. */
export interface BuiltWheel {
  /** Absolute path of the wheel, inside the cache. */
  readonly path: string;
  /** Its file name. */
  readonly filename: string;
  /** Whether it came from the built-wheel cache without running a backend. */
  readonly cached: boolean;
  /** What it was built from. */
  readonly source: SourceInfo;
  /** The log of the build that made it (kept beside it in the cache), when there is one. */
  readonly logPath: string | undefined;
}

/** A built (or cached) sdist. */
export interface BuiltSdist {
  /** Absolute path of the sdist, inside the cache. */
  readonly path: string;
  /** Its file name. */
  readonly filename: string;
  /** Whether it came from the cache without running a backend. */
  readonly cached: boolean;
  /** What it was built from. */
  readonly source: SourceInfo;
}

/** Prepared (or cached) wheel metadata. */
export interface PreparedMetadata {
  /** The `.dist-info` folder, inside the cache. */
  readonly distInfoDir: string;
  /** The text of its `METADATA`. */
  readonly metadata: string;
  /** Whether it came from the cache without running a backend. */
  readonly cached: boolean;
  /**
   * `hook` when `prepare_metadata_for_build_wheel` made it; `wheel` when it was read from a built
   * wheel (the backend lacks the hook, as pip falls back, or the wheel was already cached).
   */
  readonly via: "hook" | "wheel";
  /** What it was prepared from. */
  readonly source: SourceInfo;
}

/** PEP 517 `config_settings`. */
export type ConfigSettings = Readonly<Record<string, string | readonly string[]>>;

/** The PEP 517 hooks the front end calls. */
export type HookName =
  | "get_requires_for_build_wheel"
  | "get_requires_for_build_sdist"
  | "prepare_metadata_for_build_wheel"
  | "build_wheel"
  | "build_sdist";

/** Something the front end did, for progress display and measurements. */
export type BuildEvent =
  | {
    kind: "cache-hit";
    what: "wheel" | "sdist" | "metadata";
    project: string;
    path: string;
  }
  | {
    kind: "environment-created";
    requirements: readonly string[];
    path: string;
    ms: number;
  }
  | { kind: "environment-reused"; requirements: readonly string[]; path: string }
  | { kind: "hook-started"; hook: HookName; project: string }
  | { kind: "hook-finished"; hook: HookName; project: string; ms: number };

/** Receives {@linkcode BuildEvent}s. */
export interface BuildReporter {
  /** Called for each event; must not throw. */
  event(event: BuildEvent): void;
}

/** How a process ended, or why it did not start. */
export type ProcessOutcome =
  | {
    kind: "exited";
    /** The exit code, or null when a signal ended it. */
    code: number | null;
    /** The signal that ended it (`"SIGKILL"`), or null. */
    signal: string | null;
    /** Captured stdout ("" when it went to a log file). */
    stdout: string;
    /** Captured stderr ("" when it went to a log file). */
    stderr: string;
  }
  /** The executable does not exist. */
  | { kind: "not-found" }
  /** It exists but cannot be started (permissions, not an executable). */
  | { kind: "failed-to-start"; message: string };

/** Options of one {@linkcode RunProcess} call. */
export interface RunProcessOptions {
  /** Working directory. */
  cwd: string;
  /** The whole environment of the process. */
  env: Readonly<Record<string, string>>;
  /** When set, stdout and stderr are appended to this file instead of being captured. */
  logFile?: string;
  /** Kills the process. */
  signal?: AbortSignal;
}

/** Starts a process and waits for it; the front end's only way to run Python and git. */
export type RunProcess = (
  command: string,
  args: readonly string[],
  options: RunProcessOptions,
) => Promise<ProcessOutcome>;

/** A git checkout in the cache. */
export interface GitCheckout {
  /** The repository URL as git is given it (no `git+`, no `@rev`, no fragment). */
  readonly url: string;
  /** The full commit id that `rev` resolved to. */
  readonly commit: string;
  /** The checkout's root (a work tree with its `.git`). */
  readonly root: string;
  /** The project folder: `root` or its `subdirectory`. */
  readonly directory: string;
}

/** A project's PEP 518 `[build-system]`, with pip's defaults filled in. */
export interface BuildSystem {
  /** `requires`: PEP 508 strings. */
  readonly requires: readonly string[];
  /** `build-backend`, e.g. `"hatchling.build"` or `"setuptools.build_meta:__legacy__"`. */
  readonly backend: string;
  /** `backend-path`, as written (relative to the project folder). */
  readonly backendPath: readonly string[];
  /** Whether pip's defaults were used (no pyproject.toml, or no `[build-system]`, or no backend). */
  readonly defaulted: boolean;
  /** `[project] name`, when the pyproject.toml has one. */
  readonly projectName: string | undefined;
}
