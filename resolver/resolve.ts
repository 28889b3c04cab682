/**
 * Resolution of root requirements into pinned versions, one PubGrub run per target, with the
 * provider's answers shared between targets.
 *
 * @module
 */

import type { Requirement } from "../pep/requirement.ts";
import { tagRanker, type Target } from "../pep/tags.ts";
import { MarkerSet } from "../pep/marker_set.ts";
import { Solver } from "./_pubgrub.ts";
import { explain } from "./_report.ts";
import { Session } from "./_session.ts";
import { ROOT, splitKey, TargetHost } from "./_target_host.ts";
import { fileEnvironments } from "./_universal_host.ts";
import { resolveUniversalIn } from "./universal.ts";
import {
  type CandidateFile,
  type MultiResolution,
  type PlannedFile,
  type Provider,
  type Reporter,
  type Resolution,
  ResolutionError,
  type ResolutionError as ResolutionErrorType,
  type ResolvedPackage,
  type ResolveEvent,
  type ResolveOptions,
} from "./types.ts";

/** Options of {@linkcode resolve} and {@linkcode resolveTargets}: a provider and the policy. */
export interface ResolveRunOptions extends ResolveOptions {
  /** Where versions and metadata come from. */
  readonly provider: Provider;
}

type WarningEvent = Extract<ResolveEvent, { kind: "warning" }>;

/**
 * The environments a target that is a range of Python releases stands for: its marker values,
 * with every `X.Y.z` release (not pre-releases) of its Python.
 */
export function targetRegion(target: Target): MarkerSet {
  const {
    python_full_version: _full,
    python_version: _minor,
    implementation_version: _impl,
    ...fixed
  } = target.markerEnvironment;
  const [major, minor] = target.pythonVersion.split(".").map(Number) as [number, number];
  return MarkerSet.where(fixed).intersect(
    MarkerSet.parse(
      `python_full_version >= '${major}.${minor}' and python_full_version < '${major}.${
        minor + 1
      }'`,
    ),
  );
}

/**
 * Resolves for a target that is a range of Python releases: a universal resolution over its
 * region, with only the files its tags accept; what only part of the range installs keeps the
 * marker of that part.
 */
async function resolveRange(
  requirements: readonly Requirement[],
  target: Target,
  session: Session,
  options: ResolveOptions,
): Promise<{ resolution: Resolution; warnings: WarningEvent[] }> {
  const region = targetRegion(target);
  const rank = tagRanker(target);
  const order = (files: readonly CandidateFile[]): CandidateFile[] =>
    [...files].sort((a, b) =>
      (a.kind === "sdist" ? Infinity : rank(a.tags)!) -
      (b.kind === "sdist" ? Infinity : rank(b.tags)!)
    );
  const result = await resolveUniversalIn(session, requirements, {
    ...options,
    environment: region,
    label: target.name,
    fileFilter: (f) => f.kind === "sdist" || rank(f.tags) !== undefined,
    pickFile: (files) => order(files)[0],
  });
  const packages = new Map<string, ResolvedPackage>();
  for (const p of result.packages) {
    const where = p.marker.simplify(region);
    const serving = p.allFiles.filter((f) => !fileEnvironments(f).isDisjoint(p.marker));
    const key = packages.has(p.name) ? `${p.name}==${p.version}` : p.name;
    packages.set(key, {
      name: p.name,
      version: p.version,
      extras: p.extras,
      requirements: p.requirements.map((r) => r.requirement),
      files: order(serving),
      ...(where.isUniversal ? {} : { marker: where }),
    });
  }
  return { resolution: { target, packages }, warnings: [] };
}

async function resolveWith(
  requirements: readonly Requirement[],
  target: Target,
  session: Session,
  options: ResolveOptions,
): Promise<{ resolution: Resolution; warnings: WarningEvent[] }> {
  if (target.anyPatch) return await resolveRange(requirements, target, session, options);
  const host = new TargetHost(requirements, target, session, options);
  const solver = new Solver(host);
  let outcome;
  try {
    outcome = await solver.solve();
  } catch (error) {
    if (error instanceof ResolutionError) throw error;
    if (options.signal?.aborted) {
      throw new ResolutionError("aborted", `Resolution for ${target.name} was aborted`, {
        target: target.name,
        cause: error,
      });
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new ResolutionError(
      "provider-failed",
      `Cannot resolve for ${target.name}: ${detail}`,
      { target: target.name, cause: error },
    );
  }
  if (outcome.kind === "error") {
    const text = explain({
      root: ROOT,
      target: target.name,
      versions: (key) => host.versionStrings(key),
      display: (key) => key,
      notFound: (key) => host.notFoundReason(key),
    }, outcome.incompatibility);
    throw new ResolutionError(
      "unsatisfiable",
      `No solution for ${target.name}:\n${text}`,
      { target: target.name },
    );
  }
  const extras = new Map<string, string[]>();
  for (const key of outcome.decisions.keys()) {
    const { name, extra } = splitKey(key);
    if (extra !== undefined) extras.set(name, [...(extras.get(name) ?? []), extra]);
  }
  const packages: [string, ResolvedPackage][] = [];
  const warnings: WarningEvent[] = [];
  for (const [key, index] of outcome.decisions) {
    for (const { code, message } of host.warnings(key, index)) {
      warnings.push({
        kind: "warning",
        code,
        target: target.name,
        name: splitKey(key).name,
        version: host.candidate(key, index).version.toString(),
        message,
      });
    }
    if (key === ROOT || splitKey(key).extra !== undefined) continue;
    const active = (extras.get(key) ?? []).sort();
    const requirements = [
      ...(host.applied.get(`${key}@${index}`) ?? []),
      ...active.flatMap((e) => host.applied.get(`${key}[${e}]@${index}`) ?? []),
    ];
    packages.push([key, {
      name: key,
      version: host.candidate(key, index).version,
      extras: active,
      requirements,
      files: host.state(key).files[index] ?? [],
    }]);
  }
  packages.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  options.reporter?.onEvent({ kind: "resolved", target: target.name, packages: packages.length });
  // Sorted like the packages, so that the order does not depend on the solver's decision order.
  const order = (w: WarningEvent) => `${w.name}\0${w.message}`;
  warnings.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { resolution: { target, packages: new Map(packages) }, warnings };
}

/** Reports warnings once per package, version and message, keeping the first target's. */
function reportWarnings(reporter: Reporter | undefined, warnings: readonly WarningEvent[]): void {
  if (!reporter) return;
  const seen = new Set<string>();
  for (const w of warnings) {
    const key = `${w.name}\0${w.version}\0${w.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reporter.onEvent(w);
  }
}

/**
 * Resolves requirements for one target: the newest compatible versions, deterministically.
 * Once it succeeds, `warning` events (a yanked version used for an exact pin, an extra the
 * pinned version does not provide) go to `options.reporter`; the resolver never prints.
 *
 * @param requirements The root requirements (markers are evaluated for the target).
 * @param target The environment to resolve for.
 * @param options The provider and the resolution policy.
 * @returns The pinned packages.
 * @throws {ResolutionError} `unsatisfiable` with an explanation, `provider-failed`, `aborted`.
 * @example
 * ```ts
 * import { resolve } from "./resolve.ts";
 * import { InMemoryProvider } from "./in_memory_provider.ts";
 * import { Requirement } from "../pep/requirement.ts";
 * import { targetFromPreset } from "../pep/tags.ts";
 * const provider = new InMemoryProvider({
 *   a: { "1.0": ["b>=2"], "2.0": ["b<2"] },
 *   b: { "1.5": [], "2.1": [] },
 * });
 * const result = await resolve([Requirement.parse("a"), Requirement.parse("b>=2")],
 *   targetFromPreset("linux", { pythonVersion: "3.11" }), { provider });
 * if (result.packages.get("a")?.version.toString() !== "1.0") throw new Error("a");
 * if (result.packages.get("b")?.version.toString() !== "2.1") throw new Error("b");
 * ```
 */
export async function resolve(
  requirements: readonly Requirement[],
  target: Target,
  options: ResolveRunOptions,
): Promise<Resolution> {
  const session = new Session(options.provider, options);
  const { resolution, warnings } = await resolveWith(requirements, target, session, options);
  reportWarnings(options.reporter, warnings);
  return resolution;
}

/**
 * Resolves requirements for several targets, sharing versions and metadata between them, and
 * returns the union of the files to download, each with the targets it serves. Once every
 * target succeeded, `warning` events go to `options.reporter`, each once per package, version and
 * message (naming the first target, in the order given, it applies to).
 *
 * @param requirements The root requirements.
 * @param targets The environments, e.g. CPython 3.11 and 3.13 on Linux, macOS and Windows.
 * @param options The provider and the resolution policy.
 * @returns One resolution per target and the planned files.
 * @throws {ResolutionError} For the first target (in the order given) that fails.
 * @example
 * ```ts
 * import { resolveTargets } from "./resolve.ts";
 * import { InMemoryProvider } from "./in_memory_provider.ts";
 * import { Requirement } from "../pep/requirement.ts";
 * import { targetFromPreset } from "../pep/tags.ts";
 * const provider = new InMemoryProvider({ six: { "1.16.0": [] } });
 * const targets = ["linux", "windows"].map((p) => targetFromPreset(p, { pythonVersion: "3.12" }));
 * const result = await resolveTargets([Requirement.parse("six")], targets, { provider });
 * if (result.files.length !== 1 || result.files[0]!.targets.length !== 2) throw new Error();
 * ```
 */
export async function resolveTargets(
  requirements: readonly Requirement[],
  targets: readonly Target[],
  options: ResolveRunOptions,
): Promise<MultiResolution> {
  const session = new Session(options.provider, options);
  const settled = await Promise.allSettled(
    targets.map((t) => resolveWith(requirements, t, session, options)),
  );
  const resolutions: Resolution[] = [];
  const warnings: WarningEvent[] = [];
  for (const s of settled) {
    if (s.status === "rejected") throw s.reason as ResolutionErrorType;
    resolutions.push(s.value.resolution);
    warnings.push(...s.value.warnings);
  }
  reportWarnings(options.reporter, warnings);
  const files = new Map<string, PlannedFile & { targets: string[] }>();
  for (const resolution of resolutions) {
    for (const p of resolution.packages.values()) {
      const file = p.files[0];
      if (!file) continue;
      const key = file.url;
      const entry = files.get(key);
      if (entry) entry.targets.push(resolution.target.name);
      else {
        files.set(key, {
          name: p.name,
          version: p.version,
          file,
          targets: [resolution.target.name],
        });
      }
    }
  }
  const planned = [...files.values()].sort((a, b) =>
    a.name < b.name
      ? -1
      : a.name > b.name
      ? 1
      : a.version.compare(b.version) || (a.file.filename < b.file.filename ? -1 : 1)
  );
  return { resolutions, files: planned };
}
