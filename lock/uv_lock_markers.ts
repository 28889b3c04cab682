/**
 * Where each package of a uv.lock is installed: the set of environments (a `MarkerSet`) in which
 * it is reached from the workspace members, through dependency edges whose markers hold. A lock
 * downloaded for every platform can then say, per package, which environments need it.
 *
 * @module
 */
import { MarkerSet } from "../pep/marker_set.ts";
import { normalizeName } from "../pep/name.ts";
import type { UvDependency, UvLock, UvLockPackage } from "../pep/uv_lock.ts";
import { uvLockMembers } from "../pep/uv_lock.ts";

/** Options of {@linkcode uvLockMarkers}: what `download --lock uv.lock` selects. */
export interface UvLockMarkersOptions {
  /** Extras of the members, or every extra they define. */
  extras: readonly string[] | "all";
  /** Dependency groups of the members besides `dev`. */
  groups: readonly string[] | undefined;
  /** Leave out the `dev` group. */
  noDev: boolean;
}

/** Per package, the environments that install it (packages no environment reaches are absent). */
export type UvLockMarkers = Map<UvLockPackage, MarkerSet>;

function targetOf(lock: UvLock, d: UvDependency): UvLockPackage | undefined {
  const candidates = lock.packages.filter((p) => p.normalizedName === d.normalizedName);
  if (candidates.length <= 1) return candidates[0];
  return candidates.find((p) => d.version === undefined || p.version === d.version) ??
    candidates[0];
}

/**
 * Computes where each package is installed: members everywhere (within `requires-python`),
 * then, to a fixpoint, each dependency where its parent is and its edge marker holds (extras
 * requested on an edge bring the target's optional dependencies there too). uv's conflict
 * markers (`extra == 'extra-N-pkg-name'`, `group-…`) are fixed to the selection.
 *
 * @param lock A parsed uv.lock.
 * @param options The extras and groups selected.
 * @returns Each reached package (members excluded) with its environments.
 * @example
 * ```ts
 * import { parseUvLock } from "../pep/uv_lock.ts";
 * import { uvLockMarkers } from "./uv_lock_markers.ts";
 * const lock = parseUvLock(`
 * version = 1
 * requires-python = ">=3.9"
 * [[package]]
 * name = "app"
 * version = "0.1.0"
 * source = { virtual = "." }
 * dependencies = [{ name = "colorama", marker = "sys_platform == 'win32'" }]
 * [[package]]
 * name = "colorama"
 * version = "0.4.6"
 * source = { registry = "https://pypi.org/simple" }
 * `);
 * const markers = uvLockMarkers(lock, { extras: [], groups: undefined, noDev: false });
 * const [pkg, where] = [...markers][0]!;
 * if (pkg.name !== "colorama" || where.toString() !== 'sys_platform == "win32"') {
 *   throw new Error(where.toString());
 * }
 * ```
 */
export function uvLockMarkers(lock: UvLock, options: UvLockMarkersOptions): UvLockMarkers {
  const members = uvLockMembers(lock);
  const extras = options.extras === "all"
    ? [...new Set(members.flatMap((p) => [...p.optionalDependencies.keys()]))]
    : options.extras.map(normalizeName);
  const groups = new Set((options.groups ?? []).map(normalizeName));
  if (!options.noDev && members.some((p) => p.devDependencies.has("dev"))) groups.add("dev");
  const conflictExtras = [...extras];
  for (const p of members) {
    for (const e of extras) {
      conflictExtras.push(`extra-${p.normalizedName.length}-${p.normalizedName}-${e}`);
    }
    for (const g of groups) {
      conflictExtras.push(`group-${p.normalizedName.length}-${p.normalizedName}-${g}`);
    }
  }
  const region = lock.requiresPython === undefined || lock.requiresPython.isAny
    ? MarkerSet.ALWAYS
    : MarkerSet.parse(
      lock.requiresPython.specifiers.map((s) => `python_full_version ${s.operator} '${s.version}'`)
        .join(" and "),
    );
  const edgeSet = (d: UvDependency): MarkerSet =>
    d.marker === undefined ? MarkerSet.ALWAYS : MarkerSet.fromMarker(d.marker).restrict({
      extras: conflictExtras,
      dependencyGroups: [...groups],
    });
  // Reach per (package, extra or ""): the union of the environments it is reached in.
  const reach = new Map<UvLockPackage, Map<string, MarkerSet>>();
  const queue: [UvLockPackage, string, MarkerSet][] = [];
  const push = (p: UvLockPackage, extra: string, where: MarkerSet): void => {
    if (where.isEmpty) return;
    const byExtra = reach.get(p) ?? new Map<string, MarkerSet>();
    const before = byExtra.get(extra) ?? MarkerSet.NEVER;
    if (where.implies(before)) return;
    byExtra.set(extra, before.union(where));
    reach.set(p, byExtra);
    queue.push([p, extra, where]);
  };
  const follow = (deps: readonly UvDependency[], where: MarkerSet): void => {
    for (const d of deps) {
      const target = targetOf(lock, d);
      if (target === undefined) continue;
      const there = where.intersect(edgeSet(d));
      push(target, "", there);
      for (const e of d.extras) push(target, normalizeName(e), there);
    }
  };
  for (const m of members) {
    push(m, "", region);
    for (const e of extras) if (m.optionalDependencies.has(e)) push(m, e, region);
    for (const g of groups) follow(m.devDependencies.get(g) ?? [], region);
  }
  while (queue.length > 0) {
    const [p, extra, where] = queue.shift()!;
    follow(extra === "" ? p.dependencies : p.optionalDependencies.get(extra) ?? [], where);
  }
  const memberSet = new Set(members);
  const out: UvLockMarkers = new Map();
  for (const [p, byExtra] of reach) {
    if (memberSet.has(p)) continue;
    const where = byExtra.get("") ?? MarkerSet.NEVER;
    if (!where.isEmpty) out.set(p, where.simplify(region));
  }
  return out;
}
