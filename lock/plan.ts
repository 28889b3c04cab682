/**
 * Lock files to the files each target needs, or every file for all platforms. Pure: parsing is
 * done by `pep/`, fetching by the pipeline; this decides which of the locked files a target
 * installs (the best-ranked compatible wheel, else the sdist).
 *
 * @module
 */
import { basename, isAbsolute, resolve as resolvePath, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parseDistFilename, parseWheelFilename } from "../pep/filename.ts";
import {
  type Pylock,
  PylockError,
  type PylockFile,
  type PylockPackage,
  selectPylockPackages,
} from "../pep/pylock.ts";
import type { Target } from "../pep/tags.ts";
import { tagRanker } from "../pep/tags.ts";
import { Version } from "../pep/version.ts";
import {
  selectUvLockPackages,
  type UvFile,
  type UvLock,
  UvLockError,
  uvLockMembers,
  type UvLockPackage,
} from "../pep/uv_lock.ts";
import {
  LockError,
  type LockKind,
  type LockPlan,
  type LockPlanOptions,
  type MissingFile,
  type PlannedFile,
  type Undownloadable,
} from "./types.ts";

/**
 * The kind of lock a file name says: PEP 751 names (`pylock.toml`, `pylock.<name>.toml`) or
 * uv's `uv.lock`; undefined for other names.
 *
 * @param path A path or file name.
 * @returns The kind, or undefined.
 * @example
 * ```ts
 * import { lockKindOfName } from "./plan.ts";
 * if (lockKindOfName("/x/pylock.dev.toml") !== "pylock") throw new Error("pylock name");
 * if (lockKindOfName("uv.lock") !== "uv") throw new Error("uv name");
 * if (lockKindOfName("requirements.txt") !== undefined) throw new Error("not a lock");
 * ```
 */
export function lockKindOfName(path: string): LockKind | undefined {
  const name = basename(path);
  // PEP 751: "pylock.toml" or "pylock.<name>.toml" where <name> has no dot.
  if (/^pylock\.([^.]+\.)?toml$/.test(name)) return "pylock";
  if (name === "uv.lock") return "uv";
  return undefined;
}

/**
 * The kind of a lock file, by its name or else by its content (`lock-version` is PEP 751's,
 * a top-level `version` with `[[package]]` tables is uv's).
 *
 * @param path The file's path.
 * @param text The file's text.
 * @returns The kind, or undefined when neither fits.
 * @example
 * ```ts
 * import { lockKindOf } from "./plan.ts";
 * if (lockKindOf("deps.lock", 'lock-version = "1.0"\n') !== "pylock") throw new Error("sniff");
 * if (lockKindOf("deps.lock", "version = 1\n[[package]]\n") !== "uv") throw new Error("sniff");
 * ```
 */
export function lockKindOf(path: string, text: string): LockKind | undefined {
  const byName = lockKindOfName(path);
  if (byName !== undefined) return byName;
  if (/^\s*lock-version\s*=/m.test(text)) return "pylock";
  if (/^\s*version\s*=\s*\d+\s*$/m.test(text) && /^\s*\[\[package\]\]/m.test(text)) return "uv";
  return undefined;
}

/** The version a file name carries (an archive entry may give no `version`), or "". */
function fileVersion(filename: string, project: string): string {
  try {
    return parseDistFilename(filename, project).version.toString();
  } catch {
    return "";
  }
}

/** The absolute URL of a locked file: its `url`, or its `path` inside the lock's folder. */
function fileUrl(
  file: { url?: string; path?: string; filename: string },
  lockPath: string,
  project: string,
): string {
  if (file.url !== undefined) {
    let url: URL;
    try {
      url = new URL(file.url);
    } catch {
      throw new LockError(
        "bad-url",
        `${lockPath}: ${project} file "${file.filename}" has an invalid url "${file.url}"`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "file:") {
      throw new LockError(
        "bad-url",
        `${lockPath}: ${project} file "${file.filename}" has a ${url.protocol} url; only http, https and file can be downloaded`,
      );
    }
    return url.href;
  }
  if (file.path === undefined) {
    throw new LockError(
      "no-location",
      `${lockPath}: ${project} file "${file.filename}" has neither url nor path`,
    );
  }
  const folder = resolvePath(lockPath, "..");
  const full = resolvePath(folder, file.path);
  // A lock is input from elsewhere: a path must not reach outside the lock's folder, whether
  // with ".." or as an absolute path (pip's own fixtures use "../packages"; copy them closer).
  if (isAbsolute(file.path) || (full !== folder && !full.startsWith(folder + sep))) {
    throw new LockError(
      "outside-folder",
      `${lockPath}: ${project} file path "${file.path}" points outside the lock file's folder (${folder})`,
    );
  }
  return pathToFileURL(full).href;
}

function sha256Of(hashes: Readonly<Record<string, string>>): string | undefined {
  const h = hashes["sha256"];
  return h === undefined ? undefined : h.toLowerCase();
}

function uvSha256(hash: string | undefined): string | undefined {
  if (hash === undefined) return undefined;
  const [alg, value] = hash.split(":", 2);
  return alg === "sha256" && value !== undefined ? value.toLowerCase() : undefined;
}

function uvAlgorithms(hash: string | undefined): string[] {
  if (hash === undefined) return [];
  const alg = hash.split(":", 1)[0];
  return alg === undefined ? [] : [alg];
}

/** A wheel's tags, or undefined when the name is not a wheel's. */
function wheelTags(filename: string): readonly string[] | undefined {
  if (!filename.endsWith(".whl")) return undefined;
  try {
    return parseWheelFilename(filename).tags;
  } catch {
    return undefined;
  }
}

/**
 * The best wheel of a list for a target, by tag priority then build tag (as pip and uv rank);
 * undefined when none fits.
 */
function bestWheel<F extends { filename: string }>(
  wheels: readonly F[],
  target: Target,
): F | undefined {
  const rank = tagRanker(target);
  let best: F | undefined;
  let bestRank = Infinity;
  let bestBuild: readonly [number, string] | undefined;
  for (const w of wheels) {
    let parsed;
    try {
      parsed = parseWheelFilename(w.filename);
    } catch {
      continue;
    }
    const r = rank(parsed.tags);
    if (r === undefined) continue;
    const build = parsed.buildTag;
    const betterBuild = r === bestRank && build !== undefined &&
      (bestBuild === undefined || build[0] > bestBuild[0] ||
        (build[0] === bestBuild[0] && build[1] > bestBuild[1]));
    if (r < bestRank || betterBuild) {
      best = w;
      bestRank = r;
      bestBuild = build;
    }
  }
  return best;
}

/**
 * A locked file must be a distribution of the package it is listed under: the folder is flat and
 * pip picks files by name, so a `click 8.5.0` entry whose file is named `six-1.17.0-…whl` would
 * put click's bytes where six is looked for.
 */
function checkNamesLocked(lockPath: string, wanted: Omit<PlannedFile, "targets">): void {
  const what = `${wanted.project}${wanted.version === "" ? "" : ` ${wanted.version}`}`;
  let parsed;
  try {
    parsed = parseDistFilename(wanted.filename, wanted.project);
  } catch (e) {
    throw new LockError(
      "wrong-file",
      `${lockPath}: the file "${wanted.filename}" of ${what} is not a wheel or sdist name: ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
  const locked = wanted.version === "" ? undefined : Version.tryParse(wanted.version);
  if (
    parsed.normalizedName !== wanted.project ||
    (locked !== undefined && !parsed.version.equals(locked))
  ) {
    throw new LockError(
      "wrong-file",
      `${lockPath}: the file "${wanted.filename}" is a distribution of ${parsed.normalizedName} ${parsed.version}, not of the locked ${what}`,
    );
  }
}

class Collector {
  readonly #lockPath: string;
  readonly files = new Map<string, PlannedFile>();

  constructor(lockPath: string) {
    this.#lockPath = lockPath;
  }

  add(wanted: Omit<PlannedFile, "targets">, target: string | undefined): void {
    // A file name from a lock becomes a name in the wheelhouse: it must stay a plain name.
    if (!/^[^./\\\0][^/\\\0]*$/.test(wanted.filename)) {
      throw new LockError(
        "bad-filename",
        `${this.#lockPath}: ${wanted.project} file name "${wanted.filename}" is not a plain file name`,
      );
    }
    checkNamesLocked(this.#lockPath, wanted);
    // Keyed by file name: the wheelhouse is flat, so one name can hold one file only.
    const existing = this.files.get(wanted.filename);
    if (existing !== undefined) {
      if (existing.sha256 !== wanted.sha256) {
        throw new LockError(
          "duplicate-file",
          `${this.#lockPath}: the lock lists "${wanted.filename}" twice with different hashes (${
            existing.sha256 ?? "none"
          } and ${wanted.sha256 ?? "none"})`,
        );
      }
      if (target !== undefined && !existing.targets.includes(target)) existing.targets.push(target);
      return;
    }
    this.files.set(wanted.filename, { ...wanted, targets: target === undefined ? [] : [target] });
  }
}

/** Re-throws a lock's "does not fit this target" error with the target's name. */
function forTarget<T>(target: Target, run: () => T): T {
  try {
    return run();
  } catch (e) {
    const code = e instanceof PylockError || e instanceof UvLockError ? e.code : undefined;
    if (code === "unsupported-python" || code === "unsupported-environment") {
      throw new LockError("unsupported-target", `${(e as Error).message} (target ${target.name})`, {
        cause: e,
      });
    }
    throw e;
  }
}

/** A pylock directory package at the lock's own folder is the project the lock was made for. */
function isPylockOwnProject(pkg: PylockPackage, lockPath: string): boolean {
  const dir = pkg.directory;
  return dir !== undefined && !isAbsolute(dir.path) &&
    resolvePath(lockPath, "..", dir.path) === resolvePath(lockPath, "..");
}

/** A folder a lock names, when it stays inside the lock's own folder (locks are input). */
function lockFolder(lockPath: string, path: string): string | undefined {
  const folder = resolvePath(lockPath, "..");
  const full = resolvePath(folder, path);
  return !isAbsolute(path) && (full === folder || full.startsWith(folder + sep)) ? full : undefined;
}

function pylockUndownloadable(pkg: PylockPackage, lockPath: string): Undownloadable | undefined {
  const version = pkg.version === undefined ? {} : { version: pkg.version };
  if (pkg.vcs !== undefined) {
    const url = pkg.vcs.url ??
      (pkg.vcs.path === undefined
        ? undefined
        : lockFolder(lockPath, pkg.vcs.path) === undefined
        ? undefined
        : pathToFileURL(lockFolder(lockPath, pkg.vcs.path)!).href);
    return {
      project: pkg.name,
      reason: `a ${pkg.vcs.type} checkout (${
        pkg.vcs.url ?? pkg.vcs.path ?? "?"
      } at ${pkg.vcs.commitId}) is not a file`,
      ...version,
      targets: [],
      ...(pkg.vcs.type === "git" && url !== undefined
        ? {
          buildable: {
            kind: "git" as const,
            url,
            commit: pkg.vcs.commitId,
            ...(pkg.vcs.subdirectory !== undefined ? { subdirectory: pkg.vcs.subdirectory } : {}),
          },
        }
        : {}),
    };
  }
  if (pkg.directory !== undefined) {
    const path = lockFolder(lockPath, pkg.directory.path);
    return {
      project: pkg.name,
      reason: `a local ${
        pkg.directory.editable ? "editable " : ""
      }directory (${pkg.directory.path}) is not a file`,
      ...version,
      targets: [],
      ...(path !== undefined ? { buildable: { kind: "directory" as const, path } } : {}),
    };
  }
  return undefined;
}

/**
 * Which files of a pylock.toml each target needs (or all of them): per target, the packages
 * whose `marker` holds (with the extras and groups), and of each the best-ranked compatible
 * wheel, else its sdist, else its archive (a wheel archive only when compatible). With
 * `allPlatforms`, every file the lock lists.
 *
 * @param lock A parsed lock.
 * @param options Lock path, targets, extras and groups.
 * @returns The plan: files with their targets, undownloadable packages, and gaps.
 * @throws {LockError} when the lock does not fit a target (requires-python, environments),
 * for paths outside the lock's folder, unusable URLs, or one file name with two hashes.
 * @throws {PylockError} for unknown extras or groups, or overlapping package entries.
 * @example
 * ```ts
 * import { parsePylock } from "../pep/pylock.ts";
 * import { targetFromPreset } from "../pep/tags.ts";
 * import { planPylock } from "./plan.ts";
 * const lock = parsePylock(`
 * lock-version = "1.0"
 * created-by = "demo"
 * [[packages]]
 * name = "a"
 * version = "1.0"
 * wheels = [
 *   { url = "https://example.org/a-1.0-py3-none-any.whl", hashes = { sha256 = "aa" } },
 *   { url = "https://example.org/a-1.0-cp312-cp312-win_amd64.whl", hashes = { sha256 = "bb" } },
 * ]
 * `);
 * const windows = targetFromPreset("windows", { pythonVersion: "3.12" });
 * const plan = planPylock(lock, {
 *   lockPath: "/tmp/pylock.toml", targets: [windows], allPlatforms: false,
 *   extras: [], groups: undefined, noDev: false,
 * });
 * if (plan.files.map((f) => f.filename).join() !== "a-1.0-cp312-cp312-win_amd64.whl") {
 *   throw new Error("the native wheel ranks first on Windows");
 * }
 * ```
 */
export function planPylock(lock: Pylock, options: LockPlanOptions): LockPlan {
  const out = new Collector(options.lockPath);
  const undownloadable = new Map<string, Undownloadable>();
  const own = new Set<string>();
  const missing: MissingFile[] = [];
  const extras = options.extras === "all" ? lock.extras : options.extras;
  const groupOpts = options.groups === undefined ? {} : { groups: options.groups };
  const passes: (Target | undefined)[] = options.allPlatforms ? [undefined] : [...options.targets];
  for (const target of passes) {
    const packages = target === undefined
      ? lock.packages
      : forTarget(target, () =>
        selectPylockPackages(lock, target.markerEnvironment, {
          extras,
          ...groupOpts,
          path: options.lockPath,
        }));
    for (const pkg of packages) {
      const version = pkg.version ?? "";
      if (isPylockOwnProject(pkg, options.lockPath)) {
        own.add(pkg.name);
        continue;
      }
      const cannot = pylockUndownloadable(pkg, options.lockPath);
      if (cannot !== undefined) {
        const known = undownloadable.get(pkg.normalizedName) ?? cannot;
        if (target !== undefined && !known.targets.includes(target.name)) {
          known.targets.push(target.name);
        }
        undownloadable.set(pkg.normalizedName, known);
        continue;
      }
      const add = (f: PylockFile): void =>
        out.add({
          project: pkg.normalizedName,
          version: version || fileVersion(f.filename, pkg.name),
          filename: f.filename,
          url: fileUrl(f, options.lockPath, pkg.name),
          sha256: sha256Of(f.hashes),
          size: f.size,
          hashAlgorithms: Object.keys(f.hashes),
          ...(pkg.requiresPython === undefined
            ? {}
            : { requiresPython: pkg.requiresPython.toString() }),
        }, target?.name);
      if (target === undefined) {
        for (const w of pkg.wheels) add(w);
        if (pkg.sdist) add(pkg.sdist);
        if (pkg.archive) add(pkg.archive);
        continue;
      }
      // An archive may itself be a wheel (pip writes them): it serves only compatible targets.
      const archive = pkg.archive !== undefined &&
          (wheelTags(pkg.archive.filename) === undefined ||
            bestWheel([pkg.archive], target) !== undefined)
        ? pkg.archive
        : undefined;
      const chosen = bestWheel(pkg.wheels, target) ?? pkg.sdist ?? archive;
      if (chosen === undefined) {
        missing.push({
          project: pkg.name,
          version,
          target: target.name,
          tags: [...pkg.wheels, ...(pkg.archive ? [pkg.archive] : [])].map((w) => w.filename),
        });
      } else add(chosen);
    }
  }
  return {
    files: [...out.files.values()],
    undownloadable: [...undownloadable.values()],
    ownProjects: [...own],
    missing,
  };
}

function uvUndownloadable(pkg: UvLockPackage, lockPath: string): Undownloadable | undefined {
  const source = pkg.source;
  const version = pkg.version === undefined ? {} : { version: pkg.version };
  switch (source.kind) {
    case "git": {
      // uv writes `git = "https://host/repo?rev=v1&subdirectory=x#<commit>"`.
      let buildable: Undownloadable["buildable"];
      try {
        const u = new URL(source.url);
        const commit = u.hash.slice(1);
        const subdirectory = u.searchParams.get("subdirectory") ?? undefined;
        u.hash = "";
        u.search = "";
        if (/^[0-9a-f]{7,64}$/i.test(commit)) {
          buildable = {
            kind: "git",
            url: u.href,
            commit,
            ...(subdirectory !== undefined ? { subdirectory } : {}),
          };
        }
      } catch { /* not a URL: not buildable */ }
      return {
        project: pkg.name,
        reason: `its source is a git checkout (${source.url})`,
        ...version,
        targets: [],
        ...(buildable !== undefined ? { buildable } : {}),
      };
    }
    case "directory":
    case "editable":
    case "virtual": {
      const path = source.kind === "virtual" ? undefined : lockFolder(lockPath, source.path);
      return {
        project: pkg.name,
        reason: `its source is a local ${source.kind} (${source.path})`,
        ...version,
        targets: [],
        ...(path !== undefined ? { buildable: { kind: "directory" as const, path } } : {}),
      };
    }
    default:
      return undefined;
  }
}

/** A file of a `url` or `path` source may leave its location to the package's source. */
function withSourceLocation(f: UvFile, pkg: UvLockPackage): UvFile {
  if (f.url !== undefined || f.path !== undefined) return f;
  const source = pkg.source;
  if (source.kind === "url") return { ...f, url: source.url };
  if (source.kind === "path") return { ...f, path: source.path };
  return f;
}

/**
 * Which files of a uv.lock each target needs (or all of them): the packages reachable from the
 * workspace members for the chosen extras and groups (edges whose markers hold on the target),
 * and of each the best-ranked compatible wheel, else its sdist. With `allPlatforms`, every
 * wheel and sdist the lock lists (for an archive or a mirror).
 *
 * @param lock A parsed lock.
 * @param options Lock path, targets, extras, groups and `noDev`.
 * @returns The plan: files with their targets, undownloadable packages, and gaps.
 * @throws {LockError} when a target's Python is outside the lock's requires-python, for paths
 * outside the lock's folder, unusable URLs, or one file name with two hashes.
 * @throws {UvLockError} when extras or groups are unknown.
 * @example
 * ```ts
 * import { parseUvLock } from "../pep/uv_lock.ts";
 * import { planUvLock } from "./plan.ts";
 * const lock = parseUvLock(`
 * version = 1
 * [[package]]
 * name = "app"
 * version = "0.1.0"
 * source = { editable = "." }
 * dependencies = [{ name = "idna" }]
 * [[package]]
 * name = "idna"
 * version = "3.6"
 * source = { registry = "https://pypi.org/simple" }
 * sdist = { url = "https://example.org/idna-3.6.tar.gz", hash = "sha256:aa" }
 * wheels = [{ url = "https://example.org/idna-3.6-py3-none-any.whl", hash = "sha256:bb" }]
 * `);
 * const plan = planUvLock(lock, {
 *   lockPath: "/tmp/uv.lock", targets: [], allPlatforms: true,
 *   extras: [], groups: undefined, noDev: false,
 * });
 * if (plan.files.length !== 2) throw new Error("--all-platforms takes the wheel and the sdist");
 * ```
 */
export function planUvLock(lock: UvLock, options: LockPlanOptions): LockPlan {
  const out = new Collector(options.lockPath);
  const undownloadable = new Map<string, Undownloadable>();
  const members = new Set(uvLockMembers(lock));
  const missing: MissingFile[] = [];
  const passes: (Target | undefined)[] = options.allPlatforms ? [undefined] : [...options.targets];
  for (const target of passes) {
    const select = (): UvLockPackage[] =>
      selectUvLockPackages(lock, {
        ...(target === undefined ? {} : { env: target.markerEnvironment }),
        extras: options.extras,
        ...(options.groups === undefined ? {} : { groups: options.groups }),
        noDev: options.noDev,
        path: options.lockPath,
      });
    // --all-platforms archives the lock: every package it lists (as for pylock.toml), whatever
    // the extras, groups or markers; per target, what the project needs there.
    const packages = target === undefined ? [...lock.packages] : forTarget(target, select);
    for (const pkg of packages) {
      const version = pkg.version ?? "";
      if (members.has(pkg)) continue;
      const cannot = uvUndownloadable(pkg, options.lockPath);
      if (cannot !== undefined) {
        const known = undownloadable.get(pkg.normalizedName) ?? cannot;
        if (target !== undefined && !known.targets.includes(target.name)) {
          known.targets.push(target.name);
        }
        undownloadable.set(pkg.normalizedName, known);
        continue;
      }
      const add = (f: UvFile): void =>
        out.add({
          project: pkg.normalizedName,
          version,
          filename: f.filename,
          url: fileUrl(withSourceLocation(f, pkg), options.lockPath, pkg.name),
          sha256: uvSha256(f.hash),
          size: f.size,
          hashAlgorithms: uvAlgorithms(f.hash),
        }, target?.name);
      if (target === undefined) {
        for (const w of pkg.wheels) add(w);
        if (pkg.sdist) add(pkg.sdist);
        continue;
      }
      const chosen = bestWheel(pkg.wheels, target) ?? pkg.sdist;
      if (chosen === undefined) {
        missing.push({
          project: pkg.name,
          version,
          target: target.name,
          tags: pkg.wheels.map((w) => w.filename),
        });
      } else add(chosen);
    }
  }
  return {
    files: [...out.files.values()],
    undownloadable: [...undownloadable.values()],
    ownProjects: [...members].map((p) => p.name),
    missing,
  };
}
