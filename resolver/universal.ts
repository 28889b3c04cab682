/**
 * Universal resolution: one resolution valid for every environment of a region (a
 * {@linkcode MarkerSet}, e.g. `python_full_version >= "3.10"`), as uv's `uv lock` does. A fork
 * starts as the whole region; where one package's requirements on one name differ by marker, or
 * a version needs a newer Python than part of the fork has, the fork splits into disjoint parts
 * solved one after the other, each preferring the versions earlier parts chose. The parts are
 * merged into packages that each carry the set of environments that install them.
 *
 * @module
 */

import { MarkerSet } from "../pep/marker_set.ts";
import type { Requirement } from "../pep/requirement.ts";
import type { Version } from "../pep/version.ts";
import { Solver } from "./_pubgrub.ts";
import { explain } from "./_report.ts";
import { Session } from "./_session.ts";
import { ROOT, splitKey } from "./_target_host.ts";
import { type Edge, fileEnvironments, Fork, UniversalHost } from "./_universal_host.ts";
import type { ResolveRunOptions } from "./resolve.ts";
import { type CandidateFile, ResolutionError, type ResolveEvent } from "./types.ts";

/** Options of {@linkcode resolveUniversal}. */
export interface UniversalResolveOptions extends ResolveRunOptions {
  /**
   * The environments to resolve for (a project's `requires-python` as
   * `python_full_version >= "3.10"`, intersected with any `environments` filter).
   */
  readonly environment: MarkerSet;
  /**
   * uv's `required-environments`: each of these (within `environment`) that installs a package
   * must find a file of the chosen version that installs there; otherwise the resolution fails.
   */
  readonly requiredEnvironments?: readonly MarkerSet[];
  /** The most forks to solve before giving up (default 1000). */
  readonly maxForks?: number;
  /** Only files this accepts are usable (e.g. the wheels one target's tags accept). */
  readonly fileFilter?: (f: CandidateFile) => boolean;
  /** The words for the region in messages (e.g. a target's name); default its marker. */
  readonly label?: string;
  /** The file a decided version would download, for `decided` events (early downloads). */
  readonly pickFile?: (files: readonly CandidateFile[]) => CandidateFile | undefined;
}

/** The options of a universal resolution within a session (which has the provider). */
export type RegionOptions = Omit<UniversalResolveOptions, "provider">;

/** A dependency of a universal package and the environments where it applies. */
export interface UniversalRequirement {
  /** The requirement as the metadata states it. */
  readonly requirement: Requirement;
  /** Where it applies (its marker, with the package's extras resolved). */
  readonly marker: MarkerSet;
}

/** One pinned version of a universal resolution and where it is installed. */
export interface UniversalPackage {
  /** Normalised project name. */
  readonly name: string;
  /** The pinned version. */
  readonly version: Version;
  /** Extras activated somewhere, normalised and sorted. */
  readonly extras: readonly string[];
  /** The environments that install this version (a subset of the resolution's environment). */
  readonly marker: MarkerSet;
  /** Its dependencies (extras included) with their markers. */
  readonly requirements: readonly UniversalRequirement[];
  /**
   * The files that serve `marker`: every wheel that installs somewhere in it, and the sdist
   * where no wheel covers a part of it (or there is no wheel at all); ordered by file name.
   */
  readonly files: readonly CandidateFile[];
  /** Every usable file of the version, for callers that narrow `marker` themselves. */
  readonly allFiles: readonly CandidateFile[];
}

/** The result of {@linkcode resolveUniversal}. */
export interface UniversalResolution {
  /** The environments resolved for. */
  readonly environment: MarkerSet;
  /** The disjoint parts the resolution was split into, in the order they were solved. */
  readonly forks: readonly MarkerSet[];
  /** The packages, ordered by name and version; one name may have several versions. */
  readonly packages: readonly UniversalPackage[];
}

interface Solved {
  readonly region: MarkerSet;
  readonly host: UniversalHost;
  readonly decisions: ReadonlyMap<string, number>;
}

/** The lowest `3.N` (or 2.N) minor a region can have, for ordering forks as uv does. */
function lowestMinor(region: MarkerSet): number {
  let low = 0;
  for (let minor = 1; minor <= 40; minor++) {
    const below = MarkerSet.parse(`python_full_version < "3.${minor}"`);
    if (!below.isDisjoint(region)) return low;
    low = minor;
  }
  return low;
}

/** The words for a region in messages. */
export function describeRegion(region: MarkerSet): string {
  return region.isUniversal ? "every environment" : `the environments where ${region}`;
}

/** Where each decided key is reached from the root within the fork: a fixpoint over the edges. */
function reach(solved: Solved): Map<string, MarkerSet> {
  const where = new Map<string, MarkerSet>([[ROOT, solved.region]]);
  const queue = [ROOT];
  while (queue.length > 0) {
    const key = queue.shift()!;
    const index = key === ROOT ? 0 : solved.decisions.get(key);
    if (index === undefined) continue;
    const from = where.get(key)!;
    const edges: readonly Edge[] = solved.host.edges.get(`${key}@${index}`) ?? [];
    for (const edge of edges) {
      if (!solved.decisions.has(edge.key)) continue;
      const add = from.intersect(edge.marker);
      if (add.isEmpty) continue;
      const before = where.get(edge.key) ?? MarkerSet.NEVER;
      const after = before.union(add);
      if (after.equals(before)) continue;
      where.set(edge.key, after);
      queue.push(edge.key);
    }
  }
  return where;
}

/** The wheels that install somewhere in `where`, and the sdist where they leave a gap. */
export function filesServing(files: readonly CandidateFile[], where: MarkerSet): CandidateFile[] {
  const wheels = files.filter((f) => f.kind === "wheel" && !fileEnvironments(f).isDisjoint(where));
  let covered = MarkerSet.NEVER;
  for (const w of wheels) covered = covered.union(fileEnvironments(w));
  const gap = where.intersect(covered.negate());
  const sdists = gap.isEmpty
    ? []
    : files.filter((f) => f.kind === "sdist" && !fileEnvironments(f).isDisjoint(gap)).slice(0, 1);
  return [...wheels, ...sdists].sort((a, b) => (a.filename < b.filename ? -1 : 1));
}

/**
 * Resolves requirements once for every environment of `options.environment`: the packages
 * and versions each part of it installs, with the set of environments of each.
 *
 * @param requirements The root requirements (their markers select where they apply).
 * @param options The provider, the policy and the environments.
 * @returns The merged resolution.
 * @throws {ResolutionError} `unsatisfiable` naming the environments that have no solution,
 *   `provider-failed`, `aborted`.
 * @example
 * ```ts
 * import { resolveUniversal } from "./universal.ts";
 * import { InMemoryProvider } from "./in_memory_provider.ts";
 * import { MarkerSet } from "../pep/marker_set.ts";
 * import { Requirement } from "../pep/requirement.ts";
 * const provider = new InMemoryProvider({
 *   numpy: { "1.26.4": [], "2.1.0": [] },
 * });
 * const result = await resolveUniversal([
 *   Requirement.parse("numpy>=2 ; python_version >= '3.10'"),
 *   Requirement.parse("numpy<2 ; python_version < '3.10'"),
 * ], { provider, environment: MarkerSet.parse("python_version >= '3.9'") });
 * const where = result.packages.map((p) => `${p.version}: ${p.marker}`);
 * if (where.join("; ") !== '1.26.4: python_version == "3.9"; 2.1.0: python_version >= "3.10"') {
 *   throw new Error(where.join("; "));
 * }
 * ```
 */
export async function resolveUniversal(
  requirements: readonly Requirement[],
  options: UniversalResolveOptions,
): Promise<UniversalResolution> {
  return await resolveUniversalIn(new Session(options.provider, options), requirements, options);
}

/** {@linkcode resolveUniversal} within a session shared with other resolutions (targets). */
export async function resolveUniversalIn(
  session: Session,
  requirements: readonly Requirement[],
  options: RegionOptions,
): Promise<UniversalResolution> {
  const environment = options.environment;
  const maxForks = options.maxForks ?? 1000;
  const preferences = new Map<string, Version>(options.preferences ?? []);
  const stack: { region: MarkerSet; inherited: Map<string, Version> }[] = [];
  if (!environment.isEmpty) stack.push({ region: environment, inherited: new Map() });
  const solved: Solved[] = [];
  let attempts = 0;
  while (stack.length > 0) {
    const { region, inherited } = stack.pop()!;
    if (++attempts > maxForks) {
      throw new ResolutionError(
        "unsatisfiable",
        `Universal resolution split into more than ${maxForks} parts; narrow the environments`,
        { target: options.label ?? "universal" },
      );
    }
    const forkPreferences = new Map([...preferences, ...inherited]);
    const host = new UniversalHost(requirements, region, session, {
      ...options,
      preferences: forkPreferences,
    }, {
      ...(options.fileFilter !== undefined ? { fileFilter: options.fileFilter } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
      ...(options.pickFile !== undefined ? { pickFile: options.pickFile } : {}),
    });
    let outcome;
    try {
      outcome = await new Solver(host, { conflictThreshold: 5 }).solve();
    } catch (error) {
      if (error instanceof Fork) {
        const decided = new Map(inherited);
        for (const [key, index] of host.decisions) {
          if (splitKey(key).extra === undefined) {
            decided.set(key, host.candidate(key, index).version);
          }
        }
        // uv's order: parts with a higher lowest Python are solved first (pushed last).
        const parts = error.regions
          .map((r, i) => ({ r, i, low: lowestMinor(r), upper: error.upperBounds[i] ?? 0 }))
          .sort((a, b) => a.low - b.low || a.upper - b.upper || a.i - b.i);
        for (const { r } of parts) stack.push({ region: r, inherited: new Map(decided) });
        continue;
      }
      throw failure(error, region, options);
    }
    if (outcome.kind === "error") {
      const where = options.label === undefined
        ? describeRegion(region)
        : region.equals(environment)
        ? options.label
        : `${options.label} where ${region.simplify(environment)}`;
      const text = explain({
        root: ROOT,
        target: where,
        versions: (key) => host.versionStrings(key),
        display: (key) => key,
        notFound: (key) => host.notFoundReason(key),
      }, outcome.incompatibility);
      throw new ResolutionError("unsatisfiable", `No solution for ${where}:\n${text}`, {
        target: options.label ?? "universal",
      });
    }
    const decisions = new Map([...outcome.decisions].filter(([k]) => k !== ROOT));
    solved.push({ region, host, decisions });
    if (options.resolution !== "lowest-direct") {
      for (const [key, index] of decisions) {
        if (splitKey(key).extra === undefined) {
          preferences.set(key, host.candidate(key, index).version);
        }
      }
    }
  }
  const packages = merge(solved);
  checkRequiredEnvironments(packages, options.requiredEnvironments ?? [], environment);
  reportWarnings(options, solved, packages);
  options.reporter?.onEvent({
    kind: "resolved",
    target: options.label ?? "universal",
    packages: packages.length,
  });
  return { environment, forks: solved.map((s) => s.region), packages };
}

function failure(error: unknown, region: MarkerSet, options: RegionOptions): Error {
  if (error instanceof ResolutionError) return error;
  const target = options.label ?? "universal";
  if (options.signal?.aborted) {
    return new ResolutionError("aborted", `Resolution for ${target} was aborted`, {
      target,
      cause: error,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ResolutionError(
    "provider-failed",
    `Cannot resolve for ${options.label ?? describeRegion(region)}: ${detail}`,
    { target, cause: error },
  );
}

function merge(solved: readonly Solved[]): UniversalPackage[] {
  interface Acc {
    name: string;
    version: Version;
    marker: MarkerSet;
    extras: Set<string>;
    requirements: Map<string, UniversalRequirement>;
    allFiles: CandidateFile[];
  }
  const acc = new Map<string, Acc>();
  for (const s of solved) {
    const where = reach(s);
    for (const [key, index] of s.decisions) {
      const reached = where.get(key);
      if (reached === undefined || reached.isEmpty) continue;
      const { name, extra } = splitKey(key);
      const baseIndex = s.decisions.get(name);
      if (baseIndex === undefined) continue;
      const candidate = s.host.candidate(name, baseIndex);
      const id = `${name}@${candidate.version}`;
      let entry = acc.get(id);
      if (!entry) {
        entry = {
          name,
          version: candidate.version,
          marker: MarkerSet.NEVER,
          extras: new Set(),
          requirements: new Map(),
          allFiles: [...(s.host.state(name).files[baseIndex] ?? [])],
        };
        acc.set(id, entry);
      } else {
        for (const f of s.host.state(name).files[baseIndex] ?? []) {
          if (!entry.allFiles.some((g) => g.url === f.url)) entry.allFiles.push(f);
        }
      }
      if (extra === undefined) entry.marker = entry.marker.union(reached);
      else entry.extras.add(extra);
      for (const { requirement, marker } of s.host.applied.get(`${key}@${index}`) ?? []) {
        const text = requirement.toString();
        const before = entry.requirements.get(text);
        entry.requirements.set(text, {
          requirement,
          marker: before ? before.marker.union(marker) : marker,
        });
      }
    }
  }
  const out: UniversalPackage[] = [];
  for (const e of acc.values()) {
    if (e.marker.isEmpty) continue;
    const allFiles = e.allFiles.sort((a, b) => (a.filename < b.filename ? -1 : 1));
    out.push({
      name: e.name,
      version: e.version,
      extras: [...e.extras].sort(),
      marker: e.marker,
      requirements: [...e.requirements.values()],
      files: filesServing(allFiles, e.marker),
      allFiles,
    });
  }
  return out.sort((
    a,
    b,
  ) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version.compare(b.version)));
}

function checkRequiredEnvironments(
  packages: readonly UniversalPackage[],
  required: readonly MarkerSet[],
  environment: MarkerSet,
): void {
  for (const env of required) {
    const part = env.intersect(environment);
    if (part.isEmpty) continue;
    for (const p of packages) {
      const needed = p.marker.intersect(part);
      if (needed.isEmpty) continue;
      if (p.allFiles.some((f) => !fileEnvironments(f).isDisjoint(needed))) continue;
      throw new ResolutionError(
        "unsatisfiable",
        `${p.name} ${p.version} has no file for ${env}, a required environment that installs it`,
        { target: "universal" },
      );
    }
  }
}

function reportWarnings(
  options: RegionOptions,
  solved: readonly Solved[],
  packages: readonly UniversalPackage[],
): void {
  const reporter = options.reporter;
  if (!reporter) return;
  const kept = new Set(packages.map((p) => `${p.name}@${p.version}`));
  const seen = new Set<string>();
  const emit = (event: Extract<ResolveEvent, { kind: "warning" }>) => {
    const id = `${event.name}\0${event.version}\0${event.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    reporter.onEvent(event);
  };
  for (const s of solved) {
    for (const [key, index] of s.decisions) {
      const { name, extra } = splitKey(key);
      const version = s.host.candidate(key, index).version.toString();
      if (!kept.has(`${name}@${s.host.candidate(key, index).version}`)) continue;
      if (extra !== undefined && s.host.missingExtra(key, index)) {
        emit({
          kind: "warning",
          code: "missing-extra",
          target: options.label ?? "universal",
          name,
          version,
          message: `${name} ${version} does not provide the extra '${extra}'`,
        });
      }
      const file = s.host.state(name).files[index]?.[0];
      if (extra === undefined && file?.yanked) {
        emit({
          kind: "warning",
          code: "yanked",
          target: options.label ?? "universal",
          name,
          version,
          message: `${name} ${version} is yanked${
            file.yankedReason ? ` (reason: ${file.yankedReason})` : ""
          }; it is used only because an exact pin asks for it`,
        });
      }
    }
  }
}
