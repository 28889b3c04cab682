/**
 * `uv.lock` reader (lock `version = 1`, any `revision`) and selection of the packages a
 * project needs for chosen extras, dependency groups and (optionally) one environment.
 *
 * uv writes one `[[package]]` per (name, version, source); a dependency names its target and
 * adds `version`/`source` only when the name alone is ambiguous (a "fork"). Parsing checks
 * that every dependency points at exactly one package.
 *
 * @module
 */

import { Marker, type MarkerEnvironment } from "./marker.ts";
import { normalizeName } from "./name.ts";
import { SpecifierSet } from "./specifier.ts";
import { Version } from "./version.ts";
import { fileReader, lastSegment, parseTomlFile, type Reader, type Table } from "./_toml.ts";
import { TomlFileError } from "./toml_file_error.ts";

/** The newest `version` of uv.lock this reader understands. */
const SUPPORTED_VERSION = 1;

/** Why a uv.lock was rejected, or why selection from it failed. */
export type UvLockErrorCode =
  | "toml"
  | "missing-key"
  | "invalid-value"
  | "unsupported-version"
  | "unresolved-dependency"
  | "unsupported-python"
  | "unknown-extra"
  | "unknown-group";

/** A uv.lock that cannot be used; `line`/`column` are set for TOML syntax errors. */
export class UvLockError extends TomlFileError<UvLockErrorCode> {
  /** Always `"UvLockError"`. */
  override readonly name = "UvLockError";
}

/** Where a locked package comes from. */
export type UvSource =
  | { readonly kind: "registry"; readonly url: string }
  | { readonly kind: "git"; readonly url: string }
  | { readonly kind: "url"; readonly url: string; readonly subdirectory?: string }
  | { readonly kind: "path"; readonly path: string }
  | { readonly kind: "directory"; readonly path: string }
  | { readonly kind: "editable"; readonly path: string }
  | { readonly kind: "virtual"; readonly path: string };

/** A dependency edge. */
export interface UvDependency {
  /** Name as written. */
  readonly name: string;
  /** Normalised name. */
  readonly normalizedName: string;
  /** Disambiguating version, when the lock has several packages with this name. */
  readonly version?: string;
  /** Disambiguating source, when the lock has several packages with this name. */
  readonly source?: UvSource;
  /** Extras of the target that this edge enables (`extra = [...]`), normalised. */
  readonly extras: readonly string[];
  /** When the edge applies. */
  readonly marker?: Marker;
}

/** An sdist or wheel. */
export interface UvFile {
  /** Download URL. */
  readonly url?: string;
  /** Local path (relative to the lock's folder unless absolute). */
  readonly path?: string;
  /** File name (from `filename`, else the last segment of `url`/`path`). */
  readonly filename: string;
  /** `"sha256:<hex>"`, when recorded. */
  readonly hash?: string;
  /** Size in bytes. */
  readonly size?: number;
  /** Upload time. */
  readonly uploadTime?: Date;
}

/** One `[[package]]`. */
export interface UvLockPackage {
  /** Name as written. */
  readonly name: string;
  /** Normalised name. */
  readonly normalizedName: string;
  /** Version (absent for some dynamic local projects). */
  readonly version?: string;
  /** Where it comes from. */
  readonly source: UvSource;
  /** Base dependencies. */
  readonly dependencies: readonly UvDependency[];
  /** `[package.optional-dependencies]`, keyed by normalised extra. */
  readonly optionalDependencies: ReadonlyMap<string, readonly UvDependency[]>;
  /** `[package.dev-dependencies]` (dependency groups), keyed by normalised group. */
  readonly devDependencies: ReadonlyMap<string, readonly UvDependency[]>;
  /** The sdist. */
  readonly sdist?: UvFile;
  /** The wheels (empty when none). */
  readonly wheels: readonly UvFile[];
  /** `resolution-markers` as written. */
  readonly resolutionMarkers: readonly string[];
  /** `[package.metadata]` as written. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A parsed uv.lock. */
export interface UvLock {
  /** `version` (always 1 here). */
  readonly version: number;
  /** `revision` (0 when absent). */
  readonly revision: number;
  /** `requires-python`. */
  readonly requiresPython?: SpecifierSet;
  /** Top-level `resolution-markers` as written (the forks). */
  readonly resolutionMarkers: readonly string[];
  /** `supported-markers` as written. */
  readonly supportedMarkers: readonly string[];
  /** `[manifest] members`: workspace member names, normalised (empty for a single project). */
  readonly members: readonly string[];
  /** `[manifest]` as written. */
  readonly manifest?: Readonly<Record<string, unknown>>;
  /** `[options]` as written. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Packages in file order. */
  readonly packages: readonly UvLockPackage[];
}

/** Options for {@linkcode parseUvLock}. */
export interface ParseUvLockOptions {
  /** Label for error messages; default `"uv.lock"`. */
  readonly path?: string;
}

const SOURCE_KINDS = [
  "registry",
  "git",
  "url",
  "path",
  "directory",
  "editable",
  "virtual",
] as const;

/**
 * Parse and check a uv.lock.
 *
 * @param text The file's text.
 * @param options `path`, the label for error messages.
 * @returns The lock.
 * @throws {UvLockError} On invalid TOML, a `version` other than 1, a missing or invalid key, or a
 * dependency that does not point at exactly one package.
 * @example
 * ```ts
 * import { parseUvLock } from "./uv_lock.ts";
 * const lock = parseUvLock(`
 * version = 1
 * revision = 3
 * requires-python = ">=3.12"
 * [[package]]
 * name = "app"
 * version = "0.1.0"
 * source = { virtual = "." }
 * dependencies = [{ name = "idna" }]
 * [[package]]
 * name = "idna"
 * version = "3.6"
 * source = { registry = "https://pypi.org/simple" }
 * wheels = [{ url = "https://example.org/idna-3.6-py3-none-any.whl", hash = "sha256:00" }]
 * `);
 * if (lock.packages[1]?.wheels[0]?.filename !== "idna-3.6-py3-none-any.whl") throw new Error();
 * ```
 */
export function parseUvLock(text: string, options: ParseUvLockOptions = {}): UvLock {
  const file = options.path ?? "uv.lock";
  const doc = parseTomlFile(text, file, UvLockError);
  const r = fileReader(file, UvLockError, { invalid: "invalid-value", missing: "missing-key" });
  const version = r.integer(doc, "version", "");
  if (version === undefined) {
    throw new UvLockError("version is missing; this is not a uv.lock file", {
      code: "missing-key",
      file,
    });
  }
  if (version !== SUPPORTED_VERSION) {
    throw new UvLockError(
      version > SUPPORTED_VERSION
        ? `lock version ${version} is newer than this reader supports (${SUPPORTED_VERSION}); it was written by a newer uv`
        : `lock version ${version} is not supported (expected ${SUPPORTED_VERSION})`,
      { code: "unsupported-version", file },
    );
  }
  // A newer revision only adds optional fields (uv reads older and newer revisions of v1).
  const revision = r.integer(doc, "revision", "") ?? 0;
  const rp = r.string(doc, "requires-python", "");
  let requiresPython: SpecifierSet | undefined;
  if (rp !== undefined) {
    try {
      requiresPython = SpecifierSet.parse(rp);
    } catch (error) {
      throw new UvLockError(`requires-python "${rp}" is invalid: ${(error as Error).message}`, {
        code: "invalid-value",
        file,
        cause: error,
      });
    }
  }
  const manifest = r.table(doc, "manifest", "");
  const members = (manifest === undefined ? undefined : r.strings(manifest, "members", "manifest"))
    ?.map(normalizeName) ?? [];
  const packages = (r.tables(doc, "package", "") ?? []).map((p, i) =>
    readPackage(p, `package[${i}]`, r)
  );
  const lockOptions = r.table(doc, "options", "");
  const lock: UvLock = {
    version,
    revision,
    ...(requiresPython === undefined ? {} : { requiresPython }),
    resolutionMarkers: r.strings(doc, "resolution-markers", "") ?? [],
    supportedMarkers: r.strings(doc, "supported-markers", "") ?? [],
    members,
    ...(manifest === undefined ? {} : { manifest }),
    ...(lockOptions === undefined ? {} : { options: lockOptions }),
    packages,
  };
  // Every edge must name exactly one package; report the first that does not.
  const index = indexPackages(lock);
  lock.packages.forEach((p, i) => {
    for (const [what, deps] of edges(p)) {
      deps.forEach((d, j) => {
        const found = index.resolve(d);
        if (typeof found === "string") {
          throw new UvLockError(
            `package[${i}] ("${p.name}") ${what}[${j}] -> "${d.name}": ${found}`,
            { code: "unresolved-dependency", file },
          );
        }
      });
    }
  });
  return lock;
}

function readPackage(p: Table, path: string, r: Reader): UvLockPackage {
  const name = r.requiredString(p, "name", path);
  const label = `${path} ("${name}")`;
  const version = r.string(p, "version", path);
  const sourceT = r.table(p, "source", path);
  if (sourceT === undefined) throw r.fail(`${label}.source`, "is missing");
  const source = readSource(sourceT, `${label}.source`, r);
  const deps = (list: Table[] | undefined, where: string): UvDependency[] =>
    (list ?? []).map((d, i) => readDependency(d, `${where}[${i}]`, r));
  const dependencies = deps(r.tables(p, "dependencies", label), `${label}.dependencies`);
  const groupMap = (key: string): Map<string, UvDependency[]> => {
    const out = new Map<string, UvDependency[]>();
    const t = r.table(p, key, label) ?? {};
    for (const k of Object.keys(t)) {
      out.set(normalizeName(k), deps(r.tables(t, k, `${label}.${key}`), `${label}.${key}.${k}`));
    }
    return out;
  };
  const sdistT = r.table(p, "sdist", label);
  const sdist = sdistT === undefined ? undefined : readFile(sdistT, `${label}.sdist`, r);
  const wheels = (r.tables(p, "wheels", label) ?? []).map((w, i) =>
    readFile(w, `${label}.wheels[${i}]`, r)
  );
  const metadata = r.table(p, "metadata", label);
  return {
    name,
    normalizedName: normalizeName(name),
    ...(version === undefined ? {} : { version }),
    source,
    dependencies,
    optionalDependencies: groupMap("optional-dependencies"),
    devDependencies: groupMap("dev-dependencies"),
    ...(sdist === undefined ? {} : { sdist }),
    wheels,
    resolutionMarkers: r.strings(p, "resolution-markers", label) ?? [],
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function readSource(t: Table, path: string, r: Reader): UvSource {
  const kinds = SOURCE_KINDS.filter((k) => t[k] !== undefined);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined) {
    throw r.fail(path, `must have exactly one of ${SOURCE_KINDS.join(", ")}`);
  }
  const value = r.requiredString(t, kind, path);
  switch (kind) {
    case "registry":
    case "git":
      return { kind, url: value };
    case "url": {
      const subdirectory = r.string(t, "subdirectory", path);
      return { kind, url: value, ...(subdirectory === undefined ? {} : { subdirectory }) };
    }
    default:
      return { kind, path: value };
  }
}

function readDependency(t: Table, path: string, r: Reader): UvDependency {
  const name = r.requiredString(t, "name", path);
  const version = r.string(t, "version", path);
  const sourceT = r.table(t, "source", path);
  const m = r.string(t, "marker", path);
  return {
    name,
    normalizedName: normalizeName(name),
    ...(version === undefined ? {} : { version }),
    ...(sourceT === undefined ? {} : { source: readSource(sourceT, `${path}.source`, r) }),
    extras: (r.strings(t, "extra", path) ?? []).map(normalizeName),
    ...(m === undefined ? {} : { marker: r.parse(m, `${path}.marker`, "marker", Marker.parse) }),
  };
}

function readFile(t: Table, path: string, r: Reader): UvFile {
  const url = r.string(t, "url", path);
  const filePath = r.string(t, "path", path);
  const name = r.string(t, "filename", path);
  const location = url ?? filePath;
  if (location === undefined && name === undefined) {
    throw r.fail(path, "needs a url, a path or a filename");
  }
  const hash = r.string(t, "hash", path);
  const size = r.integer(t, "size", path);
  const uploadTime = r.date(t, "upload-time", path);
  return {
    ...(url === undefined ? {} : { url }),
    ...(filePath === undefined ? {} : { path: filePath }),
    filename: name ?? lastSegment(location!),
    ...(hash === undefined ? {} : { hash }),
    ...(size === undefined ? {} : { size }),
    ...(uploadTime === undefined ? {} : { uploadTime }),
  };
}

function sourceKey(s: UvSource): string {
  return `${s.kind}:${"url" in s ? s.url : s.path}`;
}

function* edges(p: UvLockPackage): Generator<[string, readonly UvDependency[]]> {
  yield ["dependencies", p.dependencies];
  for (const [k, v] of p.optionalDependencies) yield [`optional-dependencies.${k}`, v];
  for (const [k, v] of p.devDependencies) yield [`dev-dependencies.${k}`, v];
}

function indexPackages(lock: UvLock): { resolve(d: UvDependency): number | string } {
  const byName = new Map<string, number[]>();
  lock.packages.forEach((p, i) => {
    const list = byName.get(p.normalizedName);
    if (list === undefined) byName.set(p.normalizedName, [i]);
    else list.push(i);
  });
  return {
    resolve(d: UvDependency): number | string {
      const candidates = (byName.get(d.normalizedName) ?? []).filter((i) => {
        const p = lock.packages[i]!;
        if (d.version !== undefined && p.version !== d.version) return false;
        if (d.source !== undefined && sourceKey(d.source) !== sourceKey(p.source)) return false;
        return true;
      });
      if (candidates.length === 1) return candidates[0]!;
      return candidates.length === 0
        ? "no such package in the lock"
        : `${candidates.length} packages match; the edge needs a version and source`;
    },
  };
}

/** Options for {@linkcode selectUvLockPackages}. */
export interface SelectUvLockOptions {
  /** The target; undefined keeps every edge (all platforms, as the lock is universal). */
  readonly env?: MarkerEnvironment;
  /** Extras of the workspace members to include, or `"all"`. */
  readonly extras?: readonly string[] | "all";
  /** Dependency groups of the workspace members to include (besides `dev`, see `noDev`). */
  readonly groups?: readonly string[];
  /** Leave out the `dev` group, which uv includes by default. */
  readonly noDev?: boolean;
  /** Label for error messages; default `"uv.lock"`. */
  readonly path?: string;
}

/**
 * The packages a project needs from its lock: everything reachable from the workspace
 * members (the `[manifest] members`, else the `editable`/`virtual` project at `"."`) through
 * base dependencies, the chosen extras and groups, and the extras each edge enables.
 * With `env`, an edge is followed only when its marker holds there (uv's conflict markers
 * `extra == 'extra-N-pkg-x'` / `'group-N-pkg-g'` see the chosen extras and groups).
 * The members themselves are not returned: they are the project, not something to download.
 *
 * @param lock A parsed lock.
 * @param options `env`, `extras`, `groups`, `noDev`.
 * @returns The packages, in lock order.
 * @throws {UvLockError} When `env`'s Python is outside the lock's `requires-python`, or an
 * extra or group is not defined by any member.
 * @example
 * ```ts
 * import { parseUvLock, selectUvLockPackages } from "./uv_lock.ts";
 * const lock = parseUvLock(`
 * version = 1
 * [[package]]
 * name = "app"
 * version = "0.1.0"
 * source = { editable = "." }
 * dependencies = [{ name = "colorama", marker = "sys_platform == 'win32'" }]
 * [[package]]
 * name = "colorama"
 * version = "0.4.6"
 * source = { registry = "https://pypi.org/simple" }
 * `);
 * if (selectUvLockPackages(lock).length !== 1) throw new Error("all platforms");
 * ```
 */
export function selectUvLockPackages(
  lock: UvLock,
  options: SelectUvLockOptions = {},
): UvLockPackage[] {
  const file = options.path ?? "uv.lock";
  const env = options.env;
  if (env !== undefined && lock.requiresPython !== undefined) {
    const python = Version.tryParse(env.python_full_version);
    if (python !== undefined && !lock.requiresPython.contains(python, { prereleases: true })) {
      throw new UvLockError(
        `requires-python ${lock.requiresPython.toString()} does not allow the target's Python ${env.python_full_version}`,
        { code: "unsupported-python", file },
      );
    }
  }
  const rootPackages = uvLockMembers(lock);
  const roots = rootPackages.map((p) => lock.packages.indexOf(p));

  const allExtras = new Set(rootPackages.flatMap((p) => [...p.optionalDependencies.keys()]));
  const extras = options.extras === "all"
    ? [...allExtras]
    : (options.extras ?? []).map(normalizeName);
  for (const e of extras) {
    if (!allExtras.has(e)) {
      throw new UvLockError(
        `no workspace member defines the extra "${e}" (known: ${
          [...allExtras].join(", ") || "none"
        })`,
        { code: "unknown-extra", file },
      );
    }
  }
  const allGroups = new Set(rootPackages.flatMap((p) => [...p.devDependencies.keys()]));
  const requested = (options.groups ?? []).map(normalizeName);
  for (const g of requested) {
    if (!allGroups.has(g)) {
      throw new UvLockError(
        `no workspace member defines the dependency group "${g}" (known: ${
          [...allGroups].join(", ") || "none"
        })`,
        { code: "unknown-group", file },
      );
    }
  }
  const groups = new Set(requested);
  if (options.noDev !== true && allGroups.has("dev")) groups.add("dev");

  // uv encodes conflicting extras/groups in markers as `extra == 'extra-<len>-<pkg>-<name>'`.
  const markerExtras = [...extras];
  for (const p of rootPackages) {
    for (const e of extras) {
      markerExtras.push(`extra-${p.normalizedName.length}-${p.normalizedName}-${e}`);
    }
    for (const g of groups) {
      markerExtras.push(`group-${p.normalizedName.length}-${p.normalizedName}-${g}`);
    }
  }
  const holds = (d: UvDependency) =>
    env === undefined || d.marker === undefined ||
    d.marker.evaluate(env, { extras: markerExtras, dependencyGroups: [...groups] });

  const index = indexPackages(lock);
  const reached = new Set<number>();
  const visited = new Set<string>();
  const queue: [number, string | undefined][] = [];
  const follow = (deps: readonly UvDependency[]) => {
    for (const d of deps) {
      if (!holds(d)) continue;
      const target = index.resolve(d);
      if (typeof target === "string") continue; // checked by parseUvLock
      queue.push([target, undefined]);
      for (const e of d.extras) queue.push([target, e]);
    }
  };
  for (const i of roots) {
    const p = lock.packages[i]!;
    queue.push([i, undefined]);
    for (const e of extras) if (p.optionalDependencies.has(e)) queue.push([i, e]);
    for (const g of groups) follow(p.devDependencies.get(g) ?? []);
  }
  while (queue.length > 0) {
    const [i, extra] = queue.shift()!;
    const key = `${i}:${extra ?? ""}`;
    if (visited.has(key)) continue;
    visited.add(key);
    reached.add(i);
    const p = lock.packages[i]!;
    follow(extra === undefined ? p.dependencies : p.optionalDependencies.get(extra) ?? []);
  }
  const rootSet = new Set(roots);
  return lock.packages.filter((_, i) => reached.has(i) && !rootSet.has(i));
}

/**
 * The workspace members of a uv.lock: the `[manifest] members` (as local `editable`/`virtual`
 * packages), else the local project at `"."`, else every local project. They are the project
 * the lock was made for, not something to download.
 *
 * @param lock A parsed lock.
 * @returns The member packages, in lock order.
 * @example
 * ```ts
 * import { parseUvLock, uvLockMembers } from "./uv_lock.ts";
 * const lock = parseUvLock(`
 * version = 1
 * [[package]]
 * name = "app"
 * version = "0.1.0"
 * source = { virtual = "." }
 * `);
 * if (uvLockMembers(lock).map((p) => p.name).join() !== "app") throw new Error("the root");
 * ```
 */
export function uvLockMembers(lock: UvLock): UvLockPackage[] {
  const isLocalProject = (p: UvLockPackage) =>
    p.source.kind === "editable" || p.source.kind === "virtual";
  if (lock.members.length > 0) {
    return lock.packages.filter((p) =>
      lock.members.includes(p.normalizedName) && isLocalProject(p)
    );
  }
  const atRoot = lock.packages.filter((p) =>
    isLocalProject(p) && "path" in p.source && (p.source.path === "." || p.source.path === "")
  );
  return atRoot.length > 0 ? atRoot : lock.packages.filter(isLocalProject);
}
