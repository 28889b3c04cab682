// Planning from requirements for every environment at once (`--universal`): one forking
// resolution over a region of environments (a Python range, optionally narrowed by uv-style
// `environments` markers), then every file any environment of the region installs: the wheels of
// every platform and the sdist where no wheel covers a part of the region. Platform presets, when
// given, narrow what is downloaded (and what the folder's lock covers), not the resolution.
import { MarkerSet } from "../pep/marker_set.ts";
import type { Requirement } from "../pep/requirement.ts";
import { SpecifierSet } from "../pep/specifier.ts";
import { pythonEnvironments } from "../pep/tag_markers.ts";
import { type Target, targetFromPreset } from "../pep/tags.ts";
import {
  describeRegion as describe,
  filesServing,
  resolveUniversal,
} from "../resolver/universal.ts";
import type { CandidateFile } from "../resolver/types.ts";
import type { PlannedFile } from "../lock/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { DownloadError, type UniversalOptions } from "./types.ts";
import { checkHashes } from "./_providers.ts";
import { prepareResolution, resolutionFailure, resolverOptions } from "./_resolve.ts";
import type { Planned, Session, UniversalPin } from "./_session.ts";

/** Where a root requirement applies (a root marker has no `extra`). */
function markerOf(r: Requirement): MarkerSet {
  return r.marker === undefined
    ? MarkerSet.ALWAYS
    : MarkerSet.fromMarker(r.marker).restrict({ extra: "" });
}

const PYTHON_VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?t?$/;

/** The Python part of the region: the versions given, else a `requires-python`. */
function pythonRegion(u: UniversalOptions, projectRequiresPython: string | undefined): MarkerSet {
  let region: MarkerSet | undefined;
  for (const given of u.pythonVersions ?? []) {
    const m = PYTHON_VERSION.exec(given.trim());
    if (m === null) {
      throw new DownloadError(
        "invalid-input",
        `A Python version for universal resolution looks like 3.12 (every 3.12.x) or 3.12.4, got "${given}"`,
      );
    }
    // "3.12" is every 3.12.x release; "3.12.4" is that release alone. Pre-releases of 3.12
    // (3.12.0rc1 < 3.12.0) are left out, as wheel tags and Requires-Python leave them out:
    // otherwise they would be a part of the region that only an sdist serves (uv does the same).
    const [major, minor] = [Number(m[1]), Number(m[2])];
    const part = m[3] === undefined
      ? MarkerSet.parse(
        `python_full_version >= "${major}.${minor}" and python_full_version < "${major}.${
          minor + 1
        }"`,
      )
      : MarkerSet.parse(`python_full_version == "${major}.${minor}.${m[3]}"`);
    region = region === undefined ? part : region.union(part);
  }
  const spec = projectRequiresPython ?? u.requiresPython;
  let bound: MarkerSet | undefined;
  if (spec !== undefined) {
    try {
      bound = pythonEnvironments(SpecifierSet.parse(spec));
    } catch (e) {
      throw new DownloadError(
        "invalid-input",
        `Not a Requires-Python specifier: "${spec}" (${e instanceof Error ? e.message : e})`,
      );
    }
  }
  if (region === undefined && bound === undefined) {
    throw new DownloadError(
      "invalid-input",
      "Universal resolution needs the Pythons to cover: give Python versions (3.11 means every 3.11.x) or a requires-python",
    );
  }
  // The project's own requires-python bounds the versions given: nothing outside it installs.
  if (region !== undefined && bound !== undefined && projectRequiresPython !== undefined) {
    const inside = region.intersect(bound);
    if (inside.isEmpty) {
      throw new DownloadError(
        "invalid-input",
        `The project requires Python ${projectRequiresPython}, which none of the Python versions given (${
          (u.pythonVersions ?? []).join(", ")
        }) meets`,
      );
    }
    return inside;
  }
  return region ?? bound!;
}

/** The union of uv-style `environments` markers (all environments when none are given). */
function environmentsRegion(markers: readonly string[] | undefined): MarkerSet {
  if (markers === undefined || markers.length === 0) return MarkerSet.ALWAYS;
  let out = MarkerSet.NEVER;
  for (const text of markers) {
    let set: MarkerSet;
    try {
      set = MarkerSet.parse(text);
    } catch (e) {
      throw new DownloadError(
        "invalid-input",
        `Not a PEP 508 marker: "${text}" (${e instanceof Error ? e.message : e})`,
      );
    }
    out = out.union(set);
  }
  return out;
}

/** A platform preset as the environments it names and the platform tags its wheels carry. */
interface PlatformFilter {
  name: string;
  where: MarkerSet;
  platformTags: ReadonlySet<string>;
}

function platformFilter(preset: string): PlatformFilter {
  let target: Target;
  try {
    // Only the platform half of the preset matters here: the region gives the Pythons.
    target = targetFromPreset(preset, { pythonVersion: "3.12" });
  } catch (e) {
    throw new DownloadError("invalid-input", e instanceof Error ? e.message : String(e));
  }
  const env = target.markerEnvironment;
  // A preset is a CPython interpreter on that platform, as the per-target runs are.
  const where = MarkerSet.where({
    sys_platform: env.sys_platform,
    platform_system: env.platform_system,
    platform_machine: env.platform_machine,
    os_name: env.os_name,
    implementation_name: env.implementation_name,
    platform_python_implementation: env.platform_python_implementation,
  });
  const platformTags = new Set(
    target.tags.map((t) => t.split("-")[2]!).filter((p) => p !== "any"),
  );
  return { name: target.name, where, platformTags };
}

/** Whether a wheel's platform tags are those of one of the filters (or none at all: `any`). */
function wheelFits(f: CandidateFile, filters: readonly PlatformFilter[]): boolean {
  const platforms = new Set(f.tags.map((t) => t.split("-")[2]!));
  if (platforms.has("any")) return true;
  return filters.some((p) => [...platforms].some((tag) => p.platformTags.has(tag)));
}

/**
 * Resolves the session's requirements once for every environment of the universal region and
 * lists every file that serves some part of it.
 */
export async function planUniversal(s: Session): Promise<Planned> {
  const u = s.options.universal!;
  const prepared = await prepareResolution(s);
  const { inputs, client, recorded } = prepared;
  const t0 = s.now();
  const filters = (u.platforms ?? []).map(platformFilter);
  const resolved = pythonRegion(u, inputs.projectRequiresPython).intersect(
    environmentsRegion(u.environments),
  );
  if (resolved.isEmpty) {
    throw new DownloadError(
      "invalid-input",
      "The environments given and the Pythons given have no environment in common: nothing to resolve for",
    );
  }
  // Platform presets narrow what the folder serves, never what is resolved.
  let served = resolved;
  if (filters.length > 0) {
    let platforms = MarkerSet.NEVER;
    for (const f of filters) platforms = platforms.union(f.where);
    served = resolved.intersect(platforms);
    if (served.isEmpty) {
      throw new DownloadError(
        "invalid-input",
        `None of the platforms given (${
          filters.map((f) => f.name).join(", ")
        }) is among the environments resolved for (${resolved})`,
      );
    }
  }
  s.emit({ kind: "resolving", targets: 1 });
  s.emit({ kind: "detail", message: `Resolving once for ${describe(resolved)}` });
  let resolution;
  try {
    resolution = await resolveUniversal(inputs.requirements, {
      ...resolverOptions(s, prepared),
      environment: resolved,
    });
  } catch (e) {
    throw await resolutionFailure(s, prepared, e);
  }
  const resolveMs = s.now() - t0;
  if (resolution.forks.length > 1) {
    s.emit({
      kind: "detail",
      message: `The resolution split into ${resolution.forks.length} parts:\n  ${
        resolution.forks.map((f) => describe(f)).join("\n  ")
      }`,
    });
  }
  const files: PlannedFile[] = [];
  const pins: UniversalPin[] = [];
  for (const p of resolution.packages) {
    const where = p.marker.intersect(served);
    if (where.isEmpty) continue;
    const usable = filters.length === 0
      ? p.allFiles
      : p.allFiles.filter((f) => f.kind !== "wheel" || wheelFits(f, filters));
    const chosen = filesServing(usable, where);
    if (chosen.length === 0) {
      s.emit({
        kind: "warning",
        message: `${p.name} ${p.version} has no file for ${describe(where)}`,
      });
      continue;
    }
    const version = p.version.toString();
    // The marker the resolution gives (within the region resolved): the platforms served are
    // said once, in the lock's `environments`, not repeated in every package's marker.
    const simplified = p.marker.simplify(resolved);
    pins.push({
      name: p.name,
      version,
      marker: simplified.isUniversal ? "" : simplified.toString(),
    });
    const roots = inputs.requirements.filter((r) =>
      r.normalizedName === p.name && !markerOf(r).isDisjoint(p.marker)
    );
    const direct = roots.some((r) => r.url !== undefined);
    const requested = roots.length === 0
      ? {}
      : { universal: [...new Set(roots.flatMap((r) => r.extras))].sort() };
    const metadata = recorded.read.get(`${p.name}==${version}`);
    for (const f of chosen) {
      files.push({
        project: p.name,
        version,
        filename: f.filename,
        url: f.url,
        ...(f.origin !== undefined ? { origin: f.origin } : {}),
        sha256: f.hashes["sha256"]?.toLowerCase(),
        size: f.size,
        targets: [],
        ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython.toString() } : {}),
        direct,
        yanked: f.yanked,
        requested,
        ...(metadata !== undefined ? { metadata } : {}),
      });
    }
  }
  s.emit({ kind: "resolved", packages: pins.length, targets: ["universal"], ms: resolveMs });
  for (const f of files) {
    if (f.origin !== undefined) {
      s.emit({ kind: "detail", message: `${f.filename}: listed by ${redactUrl(f.origin)}` });
    }
  }
  checkHashes(inputs, files, s.hashesRequired);
  return {
    targets: [],
    files,
    pins: new Map(),
    packages: pins.length,
    resolveMs,
    headersFor: (url) => client.authHeaders(url),
    findMirror: () => Promise.resolve(undefined),
    sources: inputs,
    universal: pins,
    environments: served.isUniversal ? [] : [served.toString()],
  };
}
