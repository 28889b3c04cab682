/**
 * The boundary of the resolver module: the {@linkcode Provider} it asks for versions and
 * metadata (the index client through `index_provider.ts`, or an in-memory one in tests), the
 * options and results of a resolution, the {@linkcode Reporter} for progress, and
 * {@linkcode ResolutionError}.
 *
 * @module
 */

import type { Version } from "../pep/version.ts";
import type { Requirement } from "../pep/requirement.ts";
import type { SpecifierSet } from "../pep/specifier.ts";
import type { Target } from "../pep/tags.ts";
import type { MarkerSet } from "../pep/marker_set.ts";

/** One distribution file of a version, as far as the resolver cares. */
export interface CandidateFile {
  /** File name, e.g. `six-1.16.0-py2.py3-none-any.whl`. */
  readonly filename: string;
  /** Where to download it from. */
  readonly url: string;
  /** `wheel` or `sdist`. */
  readonly kind: "wheel" | "sdist";
  /** Expanded compatibility tags of a wheel (`cp311-cp311-manylinux_2_17_x86_64`); empty for sdists. */
  readonly tags: readonly string[];
  /** `Requires-Python` the index states for the file (PEP 503 `data-requires-python`). */
  readonly requiresPython?: SpecifierSet;
  /** PEP 592: a yanked file is only used for an exact `==` pin. */
  readonly yanked: boolean;
  /** PEP 592: why the file was yanked, when it is and the index gave a (non-empty) reason. */
  readonly yankedReason?: string;
  /** Upload time in epoch milliseconds (PEP 700), for `excludeNewer`. */
  readonly uploadTime?: number;
  /** Size in bytes, when known. */
  readonly size?: number;
  /** Hashes by algorithm, lower-case hex. */
  readonly hashes: Readonly<Record<string, string>>;
  /** Where the file was listed (an index URL, a find-links location, the cache), when known. */
  readonly origin?: string;
}

/** One version of a project with its files. */
export interface VersionCandidate {
  /** The version. */
  readonly version: Version;
  /** Its files (wheels and sdists); filtering by target is the resolver's job. */
  readonly files: readonly CandidateFile[];
}

/** The answer to "which versions does project P have". */
export type VersionsOutcome =
  | { readonly kind: "found"; readonly candidates: readonly VersionCandidate[] }
  | { readonly kind: "not-found"; readonly reason?: string };

/** The part of core metadata the resolver uses. */
export interface PackageMetadata {
  /** `Requires-Dist` (core metadata 1.2+, PEP 508 requirements), markers not yet evaluated. */
  readonly requiresDist: readonly Requirement[];
  /** `Requires-Python` (core metadata 1.2); undefined when the metadata does not state it. */
  readonly requiresPython?: SpecifierSet | undefined;
  /** Normalised `Provides-Extra` names; empty when the metadata does not list any. */
  readonly providesExtra: readonly string[];
}

/** The answer to "what does version V of P depend on". */
export type MetadataOutcome =
  | { readonly kind: "found"; readonly metadata: PackageMetadata }
  | { readonly kind: "unavailable"; readonly reason: string };

/** Options passed to every provider call. */
export interface ProviderCallOptions {
  /** Cancels the call; providers pass it to their requests. */
  readonly signal?: AbortSignal;
}

/**
 * Where versions and metadata come from. Failures (HTTP errors and the like) throw; expected
 * outcomes are values. The resolver calls `metadata` once per (name, version) and run.
 */
export interface Provider {
  /**
   * True when requests are slow (network), so that fetching metadata the resolver will probably
   * need next, concurrently and bounded, pays off. In-memory providers leave it unset.
   */
  readonly prefetch?: boolean;
  /** The versions of a project (normalised name), in any order. */
  versions(name: string, options?: ProviderCallOptions): Promise<VersionsOutcome>;
  /** The metadata of one version; `candidate` carries the files to read it from. */
  metadata(
    name: string,
    candidate: VersionCandidate,
    options?: ProviderCallOptions,
  ): Promise<MetadataOutcome>;
}

/** Progress events of a resolution. */
export type ResolveEvent =
  | { readonly kind: "versions"; readonly name: string }
  | { readonly kind: "metadata"; readonly name: string; readonly version: string }
  | {
    readonly kind: "decided";
    readonly target: string;
    readonly name: string;
    readonly version: string;
    /**
     * The file this target would use for that version (best first), so a caller can start
     * downloading before the resolution ends; absent for extras. A later backtrack may undo it.
     */
    readonly file?: CandidateFile;
  }
  | {
    /**
     * The version the resolver will most likely choose for a dependency it has just met: its
     * first preference among the versions the requirement admits, with the file this target
     * would use. Emitted once per version and target when that version's metadata has arrived,
     * unless the name was decided first (so only where the provider prefetches, as over the
     * network); the decision may still pick another version. A caller
     * can start a long transfer on it while the resolution goes on.
     */
    readonly kind: "likely";
    readonly target: string;
    readonly name: string;
    readonly version: string;
    readonly file: CandidateFile;
  }
  | { readonly kind: "resolved"; readonly target: string; readonly packages: number }
  | {
    readonly kind: "warning";
    readonly code: ResolveWarningCode;
    /** The first target (in the order given) the warning applies to. */
    readonly target: string;
    /** Normalised project name. */
    readonly name: string;
    /** The pinned version the warning is about. */
    readonly version: string;
    /** One line for the user, e.g. `a 1.0 does not provide the extra 'nope'`. */
    readonly message: string;
  };

/**
 * Why a resolution warns. A warning is emitted once per package, version and message, after the
 * resolution succeeded (never for versions a backtrack abandoned):
 * - `yanked`: the pinned version's file is yanked and used because an exact pin asks for it
 *   (PEP 592); the message carries the yank reason when the index gave one.
 * - `missing-extra`: a requested extra is not provided by the pinned version (`Provides-Extra`);
 *   it brings no dependencies.
 */
export type ResolveWarningCode = "yanked" | "missing-extra";

/** Receives progress; the resolver never prints. */
export interface Reporter {
  /** Called for every event; must not throw. */
  onEvent(event: ResolveEvent): void;
}

/** Which versions a resolution tries first (uv's `--resolution`). */
export type ResolutionStrategy = "highest" | "lowest" | "lowest-direct";

/** A package list for `onlyBinary` / `noBinary`: normalised names, or `":all:"` for all. */
export type PackageSelector = readonly string[];

/** Options of a resolution. */
export interface ResolveOptions {
  /** `-c` constraints: apply only to packages that are otherwise required. */
  readonly constraints?: readonly Requirement[];
  /** Allow pre-releases everywhere (otherwise only where a specifier names one or nothing else fits). */
  readonly prereleases?: boolean;
  /** Ignore files uploaded after this time (epoch milliseconds). */
  readonly excludeNewer?: number;
  /** Never use sdists for these packages (`":all:"` for all). */
  readonly onlyBinary?: PackageSelector;
  /** Never use wheels for these packages (`":all:"` for all). */
  readonly noBinary?: PackageSelector;
  /** Prefer versions that have a compatible wheel over newer ones that only have an sdist. */
  readonly preferBinary?: boolean;
  /**
   * Versions to prefer when they are allowed (normalised name -> version), e.g. what is already
   * installed or locked; otherwise the newest compatible version is chosen.
   */
  readonly preferences?: ReadonlyMap<string, Version>;
  /**
   * Which versions to try first: the newest (`highest`, the default), the oldest (`lowest`), or
   * the oldest for root requirements and the newest for the rest (`lowest-direct`), as uv's
   * `--resolution`.
   */
  readonly resolution?: ResolutionStrategy;
  /** Resolve only the given requirements, not their dependencies. */
  readonly noDeps?: boolean;
  /** How many requests may be in flight for prefetching (default 16; 0 disables prefetching). */
  readonly concurrency?: number;
  /** Progress events, and `warning` events once a resolution succeeded. */
  readonly reporter?: Reporter;
  /** Cancels the resolution; it then fails with code `aborted`. */
  readonly signal?: AbortSignal;
}

/** One pinned package of a resolution. */
export interface ResolvedPackage {
  /** Normalised project name. */
  readonly name: string;
  /** The pinned version. */
  readonly version: Version;
  /** Extras that were activated, normalised and sorted. */
  readonly extras: readonly string[];
  /** The dependencies that applied for the target (markers evaluated, extras included). */
  readonly requirements: readonly Requirement[];
  /** The files usable for the target, best first (the first is the one to download). */
  readonly files: readonly CandidateFile[];
  /**
   * For a target that is a range of Python releases ({@linkcode Target.anyPatch}): the part of
   * it that installs this version, when not all of it (`python_full_version < "3.11.3"`).
   */
  readonly marker?: MarkerSet;
}

/** The result of resolving for one target. */
export interface Resolution {
  /** The target the packages were resolved for (its markers and tags). */
  readonly target: Target;
  /**
   * Pinned packages keyed by normalised name, in name order. A target that is a range of Python
   * releases may install two versions of one name in disjoint parts of it (each with its
   * `marker`): the later ones are keyed `name==version`.
   */
  readonly packages: ReadonlyMap<string, ResolvedPackage>;
}

/** A file to fetch and the targets it serves. */
export interface PlannedFile {
  /** Normalised project name. */
  readonly name: string;
  /** The pinned version the file belongs to. */
  readonly version: Version;
  /** The file to download, with its URL, hashes and tags. */
  readonly file: CandidateFile;
  /** Target names, in the order the targets were given. */
  readonly targets: readonly string[];
}

/** The result of resolving for several targets. */
export interface MultiResolution {
  /** One resolution per target, in the order given. */
  readonly resolutions: readonly Resolution[];
  /** The union of the files to download (one per package and target), ordered by name, version, filename. */
  readonly files: readonly PlannedFile[];
}

/** Why a resolution failed. */
export type ResolutionErrorCode = "unsatisfiable" | "aborted" | "provider-failed";

/**
 * A resolution failed: `unsatisfiable` carries an explanation in words, naming the target.
 *
 * @example
 * ```ts
 * import { ResolutionError } from "./types.ts";
 * const e = new ResolutionError("unsatisfiable", "a cannot be used", { target: "t" });
 * if (e.name !== "ResolutionError" || e.code !== "unsatisfiable") throw new Error();
 * ```
 */
export class ResolutionError extends Error {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override readonly name = "ResolutionError";
  /** Machine-readable reason; only `unsatisfiable` is caused by the requirements themselves. */
  readonly code: ResolutionErrorCode;
  /** The target the resolution was for. */
  readonly target: string | undefined;

  /**
   * Builds the error.
   *
   * @param code What kind of failure.
   * @param message The explanation.
   * @param options The target and the underlying cause.
   */
  constructor(
    code: ResolutionErrorCode,
    message: string,
    options: { target?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.target = options.target;
  }
}
