/**
 * PEP 751 `pylock.toml` reader and the installer's package selection.
 *
 * Parsing validates the structure the spec requires (lock-version major 1, `created-by`,
 * one source per package, `hashes` on every archive, sdist and wheel); selection follows the
 * spec's installation steps: check `requires-python` and `environments`, check the requested
 * extras and groups, evaluate each package `marker` with the `extras` and
 * `dependency_groups` marker variables, check each selected package's `requires-python`, and
 * refuse two selected packages with one name.
 *
 * @module
 */

import { Marker, type MarkerEnvironment } from "./marker.ts";
import { isValidName, normalizeName } from "./name.ts";
import { SpecifierSet } from "./specifier.ts";
import { Version } from "./version.ts";
import { fileReader, lastSegment, parseTomlFile, type Reader, type Table } from "./_toml.ts";
import { TomlFileError } from "./toml_file_error.ts";

/** Why a pylock.toml was rejected, or why selection from it failed. */
export type PylockErrorCode =
  | "toml"
  | "missing-key"
  | "invalid-value"
  | "unsupported-version"
  | "unsupported-python"
  | "unsupported-environment"
  | "unknown-extra"
  | "unknown-group"
  | "conflicting-packages";

/** A pylock.toml that cannot be used; `line`/`column` are set for TOML syntax errors. */
export class PylockError extends TomlFileError<PylockErrorCode> {
  /** Always `"PylockError"`. */
  override readonly name = "PylockError";
}

/** A file (archive, sdist or wheel) with its location and hashes. */
export interface PylockFile {
  /** The file name: `name` when given, else the last segment of `url` or `path`. */
  readonly filename: string;
  /** Where to download it from. */
  readonly url?: string;
  /** Local path, relative to the lock file's folder unless absolute. */
  readonly path?: string;
  /** Size in bytes. */
  readonly size?: number;
  /** When the file was uploaded to its index. */
  readonly uploadTime?: Date;
  /**
   * Algorithm → lower-case hex digest. Required by the spec; an empty table is accepted
   * because uv writes `hashes = {}` for indexes that publish no hashes (e.g. PyTorch's).
   */
  readonly hashes: Readonly<Record<string, string>>;
}

/** An archive source (`[packages.archive]`): a file plus an optional subdirectory. */
export interface PylockArchive extends PylockFile {
  /** Folder inside the archive that holds the project. */
  readonly subdirectory?: string;
}

/** A VCS source (`[packages.vcs]`). */
export interface PylockVcs {
  /** `git`, `hg`, `bzr` or `svn`. */
  readonly type: string;
  /** Repository URL. */
  readonly url?: string;
  /** Local repository path. */
  readonly path?: string;
  /** The revision the user asked for. */
  readonly requestedRevision?: string;
  /** The exact commit. */
  readonly commitId: string;
  /** Folder inside the repository that holds the project. */
  readonly subdirectory?: string;
}

/** A local source tree (`[packages.directory]`). */
export interface PylockDirectory {
  /** Path, relative to the lock file's folder unless absolute. */
  readonly path: string;
  /** Install as editable. */
  readonly editable: boolean;
  /** Folder inside `path` that holds the project. */
  readonly subdirectory?: string;
}

/** One `[[packages]]` entry. */
export interface PylockPackage {
  /** Name as written. */
  readonly name: string;
  /** PEP 503 normalised name. */
  readonly normalizedName: string;
  /** Version as written, when recorded. */
  readonly version?: string;
  /** When to install this package. */
  readonly marker?: Marker;
  /** Python versions the package supports. */
  readonly requiresPython?: SpecifierSet;
  /** The index the sdist/wheels came from. */
  readonly index?: string;
  /** `dependencies` entries as written (informational in PEP 751). */
  readonly dependencies: readonly Readonly<Record<string, unknown>>[];
  /** VCS source. */
  readonly vcs?: PylockVcs;
  /** Directory source. */
  readonly directory?: PylockDirectory;
  /** Archive source. */
  readonly archive?: PylockArchive;
  /** Source distribution. */
  readonly sdist?: PylockFile;
  /** Wheels (empty when there are none). */
  readonly wheels: readonly PylockFile[];
  /** `attestation-identities` as written. */
  readonly attestationIdentities: readonly Readonly<Record<string, unknown>>[];
  /** `[packages.tool]` as written. */
  readonly tool?: Readonly<Record<string, unknown>>;
}

/** A parsed pylock.toml. */
export interface Pylock {
  /** `lock-version`, e.g. `"1.0"`. */
  readonly lockVersion: string;
  /** `environments`: the lock is only valid where one of these holds. */
  readonly environments?: readonly Marker[];
  /** `requires-python`. */
  readonly requiresPython?: SpecifierSet;
  /** `extras` the lock can install, normalised. */
  readonly extras: readonly string[];
  /** `dependency-groups` the lock can install, normalised. */
  readonly dependencyGroups: readonly string[];
  /** `default-groups`, normalised. */
  readonly defaultGroups: readonly string[];
  /** `created-by`. */
  readonly createdBy: string;
  /** `[[packages]]` in file order. */
  readonly packages: readonly PylockPackage[];
  /** `[tool]` as written. */
  readonly tool?: Readonly<Record<string, unknown>>;
}

/** Options for {@linkcode parsePylock}. */
export interface ParsePylockOptions {
  /** Label for error messages; default `"pylock.toml"`. */
  readonly path?: string;
}

/**
 * Parse and validate a pylock.toml.
 *
 * @param text The file's text.
 * @param options `path`, the label for error messages.
 * @returns The lock.
 * @throws {PylockError} On invalid TOML, a missing `lock-version` or one whose major is not 1,
 * a missing required key, a package with no or several sources, or a file without `hashes`.
 * @example
 * ```ts
 * import { parsePylock } from "./pylock.ts";
 * const lock = parsePylock(`
 * lock-version = "1.0"
 * created-by = "demo"
 * [[packages]]
 * name = "attrs"
 * version = "25.1.0"
 * wheels = [{ url = "https://example.org/attrs-25.1.0-py3-none-any.whl", hashes = { sha256 = "00" } }]
 * `);
 * if (lock.packages[0]?.wheels[0]?.filename !== "attrs-25.1.0-py3-none-any.whl") {
 *   throw new Error("filename comes from the url");
 * }
 * ```
 */
export function parsePylock(text: string, options: ParsePylockOptions = {}): Pylock {
  const file = options.path ?? "pylock.toml";
  const doc = parseTomlFile(text, file, PylockError);
  const r = fileReader(file, PylockError, { invalid: "invalid-value", missing: "missing-key" });
  const lockVersion = r.string(doc, "lock-version", "");
  if (lockVersion === undefined) {
    throw new PylockError("lock-version is missing; this is not a PEP 751 lock file", {
      code: "missing-key",
      file,
    });
  }
  const lv = /^(\d+)\.(\d+)$/.exec(lockVersion);
  if (lv === null) {
    throw new PylockError(`lock-version "${lockVersion}" is not MAJOR.MINOR`, {
      code: "unsupported-version",
      file,
    });
  }
  // PEP 751: an installer must refuse a major version it does not know; a newer minor is fine.
  if (lv[1] !== "1") {
    throw new PylockError(
      `lock-version ${lockVersion} is not supported (this reader knows lock-version 1.x)`,
      { code: "unsupported-version", file },
    );
  }
  const createdBy = r.requiredString(doc, "created-by", "");
  const names = (key: string): string[] =>
    (r.strings(doc, key, "") ?? []).map((n, i) => {
      if (!isValidName(n)) throw r.fail(`${key}[${i}]`, `"${n}" is not a valid name`);
      return normalizeName(n);
    });

  const environmentsRaw = r.strings(doc, "environments", "");
  const environments = environmentsRaw?.map((m, i) =>
    r.parse(m, `environments[${i}]`, "marker", Marker.parse)
  );
  const rp = r.string(doc, "requires-python", "");
  const requiresPython = rp === undefined
    ? undefined
    : r.parse(rp, "requires-python", "specifier", SpecifierSet.parse);
  const packagesRaw = r.tables(doc, "packages", "");
  if (packagesRaw === undefined) throw r.fail("packages", "is missing");
  const packages = packagesRaw.map((p, i) => readPackage(p, `packages[${i}]`, r));
  const tool = r.table(doc, "tool", "");
  return {
    lockVersion,
    ...(environments === undefined ? {} : { environments }),
    ...(requiresPython === undefined ? {} : { requiresPython }),
    extras: names("extras"),
    dependencyGroups: names("dependency-groups"),
    defaultGroups: names("default-groups"),
    createdBy,
    packages,
    ...(tool === undefined ? {} : { tool }),
  };
}

function readPackage(p: Table, path: string, r: Reader): PylockPackage {
  const name = r.requiredString(p, "name", path);
  if (!isValidName(name)) throw r.fail(`${path}.name`, `"${name}" is not a valid project name`);
  const label = `${path} ("${name}")`;
  const version = r.string(p, "version", path);
  if (version !== undefined && Version.tryParse(version) === undefined) {
    throw r.fail(`${label}.version`, `"${version}" is not a valid version`);
  }
  const m = r.string(p, "marker", path);
  const rp = r.string(p, "requires-python", path);
  const index = r.string(p, "index", path);
  const dependencies = r.tables(p, "dependencies", path) ?? [];
  const attestationIdentities = r.tables(p, "attestation-identities", path) ?? [];
  const tool = r.table(p, "tool", path);

  const vcsT = r.table(p, "vcs", path);
  const dirT = r.table(p, "directory", path);
  const archiveT = r.table(p, "archive", path);
  const sdistT = r.table(p, "sdist", path);
  const wheelsT = r.tables(p, "wheels", path);
  const exclusive = [vcsT, dirT, archiveT].filter((t) => t !== undefined).length;
  const hasDists = sdistT !== undefined || wheelsT !== undefined;
  if (exclusive > 1 || exclusive === 1 && hasDists) {
    throw r.fail(label, "has more than one of vcs, directory, archive and sdist/wheels");
  }
  if (exclusive === 0 && !hasDists) {
    throw r.fail(
      label,
      "has no source: one of vcs, directory, archive, sdist or wheels is required",
    );
  }

  let vcs: PylockVcs | undefined;
  if (vcsT !== undefined) {
    const vp = `${label}.vcs`;
    const url = r.string(vcsT, "url", vp);
    const vpath = r.string(vcsT, "path", vp);
    if (url === undefined && vpath === undefined) throw r.fail(vp, "needs a url or a path");
    const requestedRevision = r.string(vcsT, "requested-revision", vp);
    const subdirectory = r.string(vcsT, "subdirectory", vp);
    vcs = {
      type: r.requiredString(vcsT, "type", vp),
      ...(url === undefined ? {} : { url }),
      ...(vpath === undefined ? {} : { path: vpath }),
      ...(requestedRevision === undefined ? {} : { requestedRevision }),
      commitId: r.requiredString(vcsT, "commit-id", vp),
      ...(subdirectory === undefined ? {} : { subdirectory }),
    };
  }
  let directory: PylockDirectory | undefined;
  if (dirT !== undefined) {
    const dp = `${label}.directory`;
    const subdirectory = r.string(dirT, "subdirectory", dp);
    directory = {
      path: r.requiredString(dirT, "path", dp),
      editable: r.boolean(dirT, "editable", dp) ?? false,
      ...(subdirectory === undefined ? {} : { subdirectory }),
    };
  }
  let archive: PylockArchive | undefined;
  if (archiveT !== undefined) {
    const ap = `${label}.archive`;
    const subdirectory = r.string(archiveT, "subdirectory", ap);
    archive = {
      ...readFile(archiveT, ap, r),
      ...(subdirectory === undefined ? {} : { subdirectory }),
    };
  }
  const sdist = sdistT === undefined ? undefined : readFile(sdistT, `${label}.sdist`, r);
  const wheels = (wheelsT ?? []).map((w, i) => readFile(w, `${label}.wheels[${i}]`, r));

  return {
    name,
    normalizedName: normalizeName(name),
    ...(version === undefined ? {} : { version }),
    ...(m === undefined ? {} : { marker: r.parse(m, `${label}.marker`, "marker", Marker.parse) }),
    ...(rp === undefined ? {} : {
      requiresPython: r.parse(rp, `${label}.requires-python`, "specifier", SpecifierSet.parse),
    }),
    ...(index === undefined ? {} : { index }),
    dependencies,
    ...(vcs === undefined ? {} : { vcs }),
    ...(directory === undefined ? {} : { directory }),
    ...(archive === undefined ? {} : { archive }),
    ...(sdist === undefined ? {} : { sdist }),
    wheels,
    attestationIdentities,
    ...(tool === undefined ? {} : { tool }),
  };
}

function readFile(t: Table, path: string, r: Reader): PylockFile {
  const url = r.string(t, "url", path);
  const filePath = r.string(t, "path", path);
  if (url === undefined && filePath === undefined) throw r.fail(path, "needs a url or a path");
  const hashesT = r.table(t, "hashes", path);
  if (hashesT === undefined) throw r.fail(path, "has no hashes");
  const hashes: Record<string, string> = {};
  for (const [algorithm, digest] of Object.entries(hashesT)) {
    if (typeof digest !== "string" || !/^[0-9a-fA-F]+$/.test(digest)) {
      throw r.fail(`${path}.hashes.${algorithm}`, "must be a hex digest string");
    }
    hashes[algorithm.toLowerCase()] = digest.toLowerCase();
  }
  const name = r.string(t, "name", path);
  const filename = name ?? lastSegment((url ?? filePath)!);
  if (filename === "") {
    throw r.fail(path, "has no name and its url/path does not end in a file name");
  }
  const size = r.integer(t, "size", path);
  const uploadTime = r.date(t, "upload-time", path);
  return {
    filename,
    ...(url === undefined ? {} : { url }),
    ...(filePath === undefined ? {} : { path: filePath }),
    ...(size === undefined ? {} : { size }),
    ...(uploadTime === undefined ? {} : { uploadTime }),
    hashes,
  };
}

/** Options for {@linkcode selectPylockPackages}. */
export interface SelectPylockOptions {
  /** Extras to install; each must be listed in the lock's `extras`. */
  readonly extras?: readonly string[];
  /** Dependency groups to install; `default-groups` when undefined. */
  readonly groups?: readonly string[];
  /** Label for error messages; default `"pylock.toml"`. */
  readonly path?: string;
}

/**
 * The packages to install from a lock for one environment, following PEP 751's steps.
 *
 * @param lock A parsed lock.
 * @param env The target's marker environment (`python_full_version` is used for
 * `requires-python`).
 * @param options `extras`, `groups` (default: the lock's `default-groups`).
 * @returns The selected packages, in lock order.
 * @throws {PylockError} When the target's Python is outside the lock's (or a selected
 * package's) `requires-python`, no `environments` marker holds, an extra or group is not in
 * the lock, or two selected packages share a name.
 * @example
 * ```ts
 * import { parsePylock, selectPylockPackages } from "./pylock.ts";
 * import type { MarkerEnvironment } from "./marker.ts";
 * const lock = parsePylock(`
 * lock-version = "1.0"
 * created-by = "demo"
 * [[packages]]
 * name = "colorama"
 * marker = "sys_platform == 'win32'"
 * archive = { url = "https://example.org/colorama-0.4.6-py3-none-any.whl", hashes = { sha256 = "00" } }
 * `);
 * const linux: MarkerEnvironment = {
 *   implementation_name: "cpython", implementation_version: "3.12.1", os_name: "posix",
 *   platform_machine: "x86_64", platform_python_implementation: "CPython", platform_release: "",
 *   platform_system: "Linux", platform_version: "", python_full_version: "3.12.1",
 *   python_version: "3.12", sys_platform: "linux",
 * };
 * if (selectPylockPackages(lock, linux).length !== 0) throw new Error("win32 only");
 * ```
 */
export function selectPylockPackages(
  lock: Pylock,
  env: MarkerEnvironment,
  options: SelectPylockOptions = {},
): PylockPackage[] {
  const file = options.path ?? "pylock.toml";
  const python = Version.tryParse(env.python_full_version);
  if (lock.requiresPython !== undefined && python !== undefined) {
    if (!lock.requiresPython.contains(python, { prereleases: true })) {
      throw new PylockError(
        `requires-python ${lock.requiresPython.toString()} does not allow the target's Python ${env.python_full_version}`,
        { code: "unsupported-python", file },
      );
    }
  }
  if (lock.environments !== undefined && lock.environments.length > 0) {
    if (!lock.environments.some((m) => m.evaluate(env))) {
      throw new PylockError(
        `none of the lock's environments holds for the target (${
          lock.environments.map((m) => m.toString()).join(" | ")
        })`,
        { code: "unsupported-environment", file },
      );
    }
  }
  const extras = (options.extras ?? []).map(normalizeName);
  for (const extra of extras) {
    if (!lock.extras.includes(extra)) {
      throw new PylockError(
        `the extra "${extra}" is not in the lock (extras: ${lock.extras.join(", ") || "none"})`,
        { code: "unknown-extra", file },
      );
    }
  }
  const groups = options.groups === undefined
    ? [...lock.defaultGroups]
    : options.groups.map(normalizeName);
  for (const group of groups) {
    if (!lock.dependencyGroups.includes(group)) {
      throw new PylockError(
        `the dependency group "${group}" is not in the lock (dependency-groups: ${
          lock.dependencyGroups.join(", ") || "none"
        })`,
        { code: "unknown-group", file },
      );
    }
  }
  const selected: PylockPackage[] = [];
  const byName = new Map<string, PylockPackage>();
  for (const pkg of lock.packages) {
    if (
      pkg.marker !== undefined && !pkg.marker.evaluate(env, { extras, dependencyGroups: groups })
    ) {
      continue;
    }
    if (pkg.requiresPython !== undefined && python !== undefined) {
      if (!pkg.requiresPython.contains(python, { prereleases: true })) {
        throw new PylockError(
          `${pkg.name} ${
            pkg.version ?? ""
          } requires Python ${pkg.requiresPython.toString()}, not ${env.python_full_version}`,
          { code: "unsupported-python", file },
        );
      }
    }
    const previous = byName.get(pkg.normalizedName);
    if (previous !== undefined) {
      throw new PylockError(
        `two entries for "${pkg.name}" apply to the target (${previous.version ?? "?"} and ${
          pkg.version ?? "?"
        }); their markers must not overlap`,
        { code: "conflicting-packages", file },
      );
    }
    byName.set(pkg.normalizedName, pkg);
    selected.push(pkg);
  }
  return selected;
}
