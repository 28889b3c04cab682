// The solver's view of one fork of a universal resolution: a region (a set of environments)
// instead of one environment. A version is usable when one of its files can install somewhere in
// the region; a dependency applies when its marker meets the region, and keeps its marker as the
// edge's condition. When one package's requirements on one name differ by marker, or a version
// needs a newer Python than part of the region has, the host stops the solve with a Fork: the
// region splits into disjoint parts, each solved on its own (uv's forking resolver).

import { MarkerSet } from "../pep/marker_set.ts";
import type { Requirement } from "../pep/requirement.ts";
import { pythonEnvironments, wheelEnvironments } from "../pep/tag_markers.ts";
import { Bitset } from "./_bitset.ts";
import type { DependenciesOutcome, Dependency, SolverHost } from "./_pubgrub.ts";
import type { ProjectVersions, Session } from "./_session.ts";
import {
  allowedFormats,
  isExactPin,
  preferenceOrder,
  providesExtra,
  ROOT,
  splitKey,
} from "./_target_host.ts";
import type { CandidateFile, PackageMetadata, ResolveOptions, VersionCandidate } from "./types.ts";

/** Thrown by the host when the fork must split; the solve is abandoned and each part re-solved. */
export class Fork {
  constructor(
    /**
     * Disjoint parts of the region, covering it, in uv's order: the driver stacks them and
     * solves the last one first (after ordering by lowest Python, then by `upperBounds`).
     */
    readonly regions: readonly MarkerSet[],
    /**
     * Per part, how many of the provoking package's requirements that apply there have an
     * upper bound: uv solves `numpy<2` before `numpy>=1`, since what the bounded part picks
     * usually suits the other and not the reverse.
     */
    readonly upperBounds: readonly number[],
    /** The package whose version provoked the split, and why, for `-v`. */
    readonly reason: string,
  ) {}
}

/** A dependency edge of a decided version: the package key it leads to, under which marker. */
export interface Edge {
  readonly key: string;
  readonly marker: MarkerSet;
}

interface PackageState {
  readonly versions: ProjectVersions;
  /** Files usable somewhere in the region, per version index. */
  readonly files: readonly (readonly CandidateFile[])[];
  readonly unavailable: { set: Bitset; reason: string }[];
  readonly preference: readonly number[];
  readonly sets: Map<string, Bitset>;
}

/** The environments a file can install in (its tags and its Requires-Python). */
export function fileEnvironments(f: CandidateFile): MarkerSet {
  let set = f.kind === "wheel" ? wheelEnvironments(f.tags) : MarkerSet.ALWAYS;
  if (f.requiresPython) set = set.intersect(pythonEnvironments(f.requiresPython));
  return set;
}

const PYTHON_ATOM =
  /python_(?:full_)?version\s*(>=|>|==|~=)\s*(['"])([^'"]+)\2|(['"])([^'"]+)\4\s*(<=|<|==)\s*python_(?:full_)?version/g;

/**
 * The lower Python bounds a marker's text names (`python_version >= "3.9"`), as sets: uv forks
 * even on a single requirement when its marker raises the region's lowest Python, so that the
 * part with the newer Python can use versions the older one cannot.
 */
function pythonFloors(marker: string): MarkerSet[] {
  const out: MarkerSet[] = [];
  for (const m of marker.matchAll(PYTHON_ATOM)) {
    const op = m[1] ?? ({ "<=": ">=", "<": ">", "==": "==" } as Record<string, string>)[m[6]!]!;
    const version = m[3] ?? m[5]!;
    const usesMinor = /python_version/.test(m[0]) && !/python_full_version/.test(m[0]);
    try {
      const floor = op === "==" || op === "~="
        ? MarkerSet.parse(`python_full_version >= "${version.replace(/\.\*$/, "")}"`)
        : MarkerSet.parse(
          `${usesMinor ? "python_version" : "python_full_version"} ${op} "${version}"`,
        );
      out.push(floor);
    } catch {
      // Not a version: no floor to fork on.
    }
  }
  return out;
}

/** What a caller resolving for one target's region adds to a fork's host. */
export interface HostExtras {
  /** Only files this accepts are usable (a target's compatible tags). */
  readonly fileFilter?: (f: CandidateFile) => boolean;
  /** The words for the region in messages (a target's name). */
  readonly label?: string;
  /** The file a decided version would download, for `decided` events (early downloads). */
  readonly pickFile?: (files: readonly CandidateFile[]) => CandidateFile | undefined;
}

export class UniversalHost implements SolverHost {
  readonly root = ROOT;
  readonly region: MarkerSet;
  readonly #session: Session;
  readonly #options: ResolveOptions;
  readonly #fileFilter: ((f: CandidateFile) => boolean) | undefined;
  readonly #label: string | undefined;
  readonly #pickFile: HostExtras["pickFile"];
  readonly #requirements: readonly Requirement[];
  readonly #constraints: readonly Requirement[];
  readonly #packages = new Map<string, PackageState>();
  /** The edges of each decided (key, index), for reachability. */
  readonly edges = new Map<string, Edge[]>();
  /** The requirements that applied per (key, index), with their markers. */
  readonly applied = new Map<string, { requirement: Requirement; marker: MarkerSet }[]>();
  /** Versions chosen so far (the last choice per package), handed to child forks. */
  readonly decisions = new Map<string, number>();
  readonly #missingExtras = new Set<string>();

  constructor(
    requirements: readonly Requirement[],
    region: MarkerSet,
    session: Session,
    options: ResolveOptions,
    extra: HostExtras = {},
  ) {
    this.region = region;
    this.#session = session;
    this.#options = options;
    this.#fileFilter = extra.fileFilter;
    this.#label = extra.label;
    this.#pickFile = extra.pickFile;
    const meets = (r: Requirement) => !this.region.isDisjoint(markerOf(r));
    this.#requirements = requirements.filter(meets);
    this.#constraints = (options.constraints ?? []).filter(meets);
  }

  state(key: string): PackageState {
    const s = this.#packages.get(splitKey(key).name);
    if (!s) throw new Error(`internal: ${key} not loaded`);
    return s;
  }

  versionStrings(key: string): string[] {
    if (key === ROOT) return [""];
    return this.state(key).versions.candidates.map((c) => c.version.toString());
  }

  notFoundReason(key: string): string | undefined {
    if (key === ROOT) return undefined;
    const versions = this.#packages.get(splitKey(key).name)?.versions;
    return versions && !versions.found ? versions.reason : undefined;
  }

  candidate(key: string, index: number): VersionCandidate {
    return this.state(key).versions.candidates[index]!;
  }

  missingExtra(key: string, index: number): boolean {
    return this.#missingExtras.has(`${key}@${index}`);
  }

  async load(key: string): Promise<number> {
    if (key === ROOT) return 1;
    const { name } = splitKey(key);
    let state = this.#packages.get(name);
    if (!state) {
      const versions = await this.#session.versions(name);
      state = this.#packages.get(name) ?? this.#analyse(name, versions);
      this.#packages.set(name, state);
    }
    return state.versions.candidates.length;
  }

  #analyse(name: string, versions: ProjectVersions): PackageState {
    const o = this.#options;
    const formats = allowedFormats(o.onlyBinary, o.noBinary, name);
    const pins = [...this.#requirements, ...this.#constraints]
      .filter((r) => r.normalizedName === name && isExactPin(r.specifier));
    const files: CandidateFile[][] = [];
    const reasons: string[] = [];
    for (const c of versions.candidates) {
      const usable: CandidateFile[] = [];
      let furthest = 0;
      let pinned: boolean | undefined;
      for (const f of c.files) {
        let stage = 1;
        if (
          o.excludeNewer === undefined || f.uploadTime === undefined ||
          f.uploadTime <= o.excludeNewer
        ) {
          stage = 2;
          if (
            !f.yanked ||
            (pinned ??= pins.some((r) => r.specifier.contains(c.version, { prereleases: true })))
          ) {
            stage = 3;
            if (f.kind === "sdist" ? formats.sdist : formats.wheel) {
              stage = 4;
              if (
                !fileEnvironments(f).isDisjoint(this.region) &&
                (this.#fileFilter === undefined || this.#fileFilter(f))
              ) {
                stage = 5;
                usable.push(f);
              }
            }
          }
        }
        if (stage > furthest) furthest = stage;
      }
      let reason = "";
      if (furthest < 5) {
        if (c.files.length === 0) reason = "has no files";
        else if (furthest === 1) {
          reason = `was uploaded after ${
            new Date(o.excludeNewer!).toISOString()
          } (--exclude-newer)`;
        } else if (furthest === 2) reason = "is yanked";
        else if (furthest === 3) {
          reason = formats.wheel
            ? "has only sdists, and --only-binary forbids them"
            : "has only wheels, and --no-binary forbids them";
        } else {reason = `has no file for ${
            this.#label ?? (this.region.isUniversal ? "any environment" : this.region)
          }`;}
      }
      files.push(usable);
      reasons.push(reason);
    }
    const size = versions.candidates.length;
    const byReason = new Map<string, number[]>();
    reasons.forEach((r, i) => {
      if (r) byReason.set(r, [...(byReason.get(r) ?? []), i]);
    });
    const unavailable = [...byReason].map(([reason, idx]) => ({
      set: Bitset.of(size, idx),
      reason,
    }));
    const available = Bitset.from(size, (i) => reasons[i] === "");
    const direct = this.#requirements.some((r) => r.normalizedName === name);
    const preference = preferenceOrder(name, versions, available, files, o, direct);
    return { versions, files, unavailable, preference, sets: new Map() };
  }

  unavailable(key: string): readonly { set: Bitset; reason: string }[] {
    if (key === ROOT) return [];
    return splitKey(key).extra === undefined ? this.state(key).unavailable : [];
  }

  preference(key: string): readonly number[] {
    if (key === ROOT) return [0];
    return this.state(key).preference;
  }

  decided(key: string, index: number): void {
    if (key === ROOT) return;
    this.decisions.set(key, index);
    const reporter = this.#options.reporter;
    if (!reporter) return;
    const file = this.#pickFile?.(this.state(key).files[index] ?? []);
    reporter.onEvent({
      kind: "decided",
      target: this.#label ?? "universal",
      name: key,
      version: this.candidate(key, index).version.toString(),
      ...(file !== undefined ? { file } : {}),
    });
  }

  prefetch(key: string, index: number): void {
    if (key === ROOT) return;
    const c = this.state(key).versions.candidates[index];
    if (c) this.#session.prefetchMetadata(splitKey(key).name, c);
  }

  setFor(key: string, spec: Requirement["specifier"]): Bitset {
    const state = this.state(key);
    const text = spec.toString();
    let set = state.sets.get(text);
    if (set) return set;
    const candidates = state.versions.candidates;
    set = Bitset.from(
      candidates.length,
      (i) => spec.contains(candidates[i]!.version, { prereleases: true }),
    );
    state.sets.set(text, set);
    return set;
  }

  /**
   * uv's fork rule over one package's requirements (each with its marker, already known to meet
   * the region): a name required once, or always under the same marker, does not fork unless
   * the marker raises the lowest Python; otherwise each marker splits every part it cuts into
   * the part where it holds and the part where it does not.
   */
  #forks(requirements: readonly { requirement: Requirement; marker: MarkerSet }[]): MarkerSet[] {
    const byName = new Map<string, MarkerSet[]>();
    for (const { requirement, marker } of requirements) {
      const list = byName.get(requirement.normalizedName) ?? [];
      list.push(marker);
      byName.set(requirement.normalizedName, list);
    }
    let parts = [this.region];
    for (const [, markers] of byName) {
      const same = markers.every((m) => m.equals(markers[0]!));
      const splitters: MarkerSet[] = [];
      if (markers.length === 1 || same) {
        // Fork only where the marker raises the region's lowest Python.
        const m = markers[0]!.intersect(this.region);
        const text = markers[0]!.toString();
        const raises = pythonFloors(text).some((floor) =>
          m.isSubsetOf(floor) && !this.region.isSubsetOf(floor)
        );
        if (!raises) continue;
        splitters.push(markers[0]!);
      } else splitters.push(...markers);
      for (const marker of splitters) {
        const next: MarkerSet[] = [];
        for (const part of parts) {
          const inside = part.intersect(marker);
          if (inside.isEmpty) {
            next.push(part);
            continue;
          }
          const outside = part.intersect(marker.negate());
          // uv solves the part where the marker holds before the rest.
          if (!outside.isEmpty) next.push(outside);
          next.push(inside);
        }
        parts = next;
      }
    }
    return parts;
  }

  async dependencies(key: string, index: number): Promise<DependenciesOutcome> {
    this.#options.signal?.throwIfAborted();
    const requirements: { requirement: Requirement; marker: MarkerSet; constraint: boolean }[] = [];
    const extraOf = splitKey(key);
    let base: Dependency | undefined;
    if (key === ROOT) {
      for (const r of this.#requirements) {
        requirements.push({ requirement: r, marker: markerOf(r), constraint: false });
      }
      for (const r of this.#constraints) {
        requirements.push({ requirement: r, marker: markerOf(r), constraint: true });
      }
    } else {
      const candidate = this.candidate(key, index);
      const outcome = await this.#session.metadata(extraOf.name, candidate);
      if (outcome.kind === "unavailable") return { kind: "unavailable", reason: outcome.reason };
      const metadata: PackageMetadata = outcome.metadata;
      if (metadata.requiresPython) {
        const python = pythonEnvironments(metadata.requiresPython);
        if (python.isDisjoint(this.region)) {
          return {
            kind: "unavailable",
            reason:
              `requires Python ${metadata.requiresPython}, which ${this.#regionText()} excludes`,
          };
        }
        if (!this.region.isSubsetOf(python)) {
          // Older part, newer part: the newer one is solved first and gets the newest versions.
          throw new Fork(
            [this.region.intersect(python.negate()), this.region.intersect(python)],
            [0, 0],
            `${extraOf.name} ${candidate.version} requires Python ${metadata.requiresPython}`,
          );
        }
      }
      if (extraOf.extra !== undefined && !providesExtra(metadata, extraOf.extra)) {
        this.#missingExtras.add(`${key}@${index}`);
      }
      if (!this.#options.noDeps) {
        for (const r of metadata.requiresDist) {
          let marker: MarkerSet;
          if (r.marker === undefined) {
            if (extraOf.extra !== undefined) continue;
            marker = MarkerSet.ALWAYS;
          } else {
            const whole = MarkerSet.fromMarker(r.marker);
            const plain = whole.restrict({ extra: "" });
            // An extra brings what holds with it and not already without it.
            marker = extraOf.extra === undefined
              ? plain
              : whole.restrict({ extra: extraOf.extra }).intersect(plain.negate());
          }
          if (marker.isDisjoint(this.region)) continue;
          requirements.push({ requirement: r, marker, constraint: false });
        }
      }
      if (extraOf.extra !== undefined) {
        const size = this.state(key).versions.candidates.length;
        base = {
          package: extraOf.name,
          set: Bitset.of(size, [index]),
          text: `${extraOf.name}==${candidate.version}`,
        };
      }
    }
    const parts = this.#forks(requirements.filter((r) => !r.constraint));
    if (parts.length > 1) {
      const names = [...new Set(requirements.map((r) => r.requirement.normalizedName))];
      const bounded = requirements.filter((r) => !r.constraint && hasUpperBound(r.requirement));
      throw new Fork(
        parts,
        parts.map((part) => bounded.filter((r) => !r.marker.isDisjoint(part)).length),
        `${key === ROOT ? "the requirements" : key} (${names.join(", ")})`,
      );
    }
    await Promise.all(requirements.map(({ requirement }) => this.load(requirement.normalizedName)));
    const dependencies: Dependency[] = base ? [base] : [];
    const edges: Edge[] = base ? [{ key: extraOf.name, marker: MarkerSet.ALWAYS }] : [];
    const applied: { requirement: Requirement; marker: MarkerSet }[] = [];
    for (const { requirement: r, marker, constraint } of requirements) {
      if (!constraint) applied.push({ requirement: r, marker });
      const name = r.normalizedName;
      const keys = [name, ...r.extras.map((e) => `${name}[${e}]`)];
      for (const k of keys) {
        const set = this.setFor(k, r.specifier);
        if (k === key && set.has(index)) continue;
        dependencies.push({
          package: k,
          set,
          text: `${k}${r.specifier}${r.marker ? ` ; ${r.marker}` : ""}`,
          ...(constraint ? { constraint } : {}),
        });
        if (!constraint) edges.push({ key: k, marker });
      }
    }
    this.edges.set(`${key}@${index}`, edges);
    this.applied.set(`${key}@${index}`, applied);
    return { kind: "ok", dependencies };
  }

  #regionText(): string {
    return this.region.isUniversal ? "every environment" : `the environments ${this.region}`;
  }
}

function hasUpperBound(r: Requirement): boolean {
  return r.specifier.specifiers.some((s) =>
    s.operator !== ">=" && s.operator !== ">" && s.operator !== "!="
  );
}

/** The environments where a requirement applies (root and constraint markers have no extra). */
export function markerOf(r: Requirement): MarkerSet {
  return r.marker === undefined
    ? MarkerSet.ALWAYS
    : MarkerSet.fromMarker(r.marker).restrict({ extra: "" });
}
