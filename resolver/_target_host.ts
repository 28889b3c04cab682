// The solver's view of one target: which versions are usable there (files, tags, Requires-Python,
// yanked, upload time), which dependencies apply (markers with the active extras), and how
// requirement specifiers become version sets (with the pre-release policy).

import type { Requirement } from "../pep/requirement.ts";
import type { SpecifierSet } from "../pep/specifier.ts";
import { tagRanker, type Target } from "../pep/tags.ts";
import { Version } from "../pep/version.ts";
import { Bitset } from "./_bitset.ts";
import type { DependenciesOutcome, Dependency, SolverHost } from "./_pubgrub.ts";
import type { ProjectVersions, Session } from "./_session.ts";
import type {
  CandidateFile,
  PackageMetadata,
  ResolveOptions,
  ResolveWarningCode,
  VersionCandidate,
} from "./types.ts";

export const ROOT = "";

/** Splits a package key `name` / `name[extra]`. */
export function splitKey(key: string): { name: string; extra: string | undefined } {
  const open = key.indexOf("[");
  if (open < 0) return { name: key, extra: undefined };
  return { name: key.slice(0, open), extra: key.slice(open + 1, -1) };
}

interface PackageState {
  readonly versions: ProjectVersions;
  /** Usable files per version index, best first (empty when unusable). */
  readonly files: readonly (readonly CandidateFile[])[];
  readonly unavailable: { set: Bitset; reason: string }[];
  readonly available: Bitset;
  readonly preference: readonly number[];
  readonly sets: Map<string, Bitset>;
}

/**
 * Which formats `--only-binary` / `--no-binary` allow for a project, with pip's precedence
 * (`FormatControl.get_allowed_formats`): a list that names the project beats `:all:` in the
 * other, so `--only-binary :all: --no-binary x` builds x from its sdist and
 * `--no-binary :all: --only-binary x` uses x's wheels. pip lets the later option win when both
 * name the same project (or both say `:all:`); the lists carry no order, so only-binary wins
 * then, as it does in pip's own check order (and nothing is left unusable).
 */
export function allowedFormats(
  onlyBinary: readonly string[] | undefined,
  noBinary: readonly string[] | undefined,
  name: string,
): { readonly wheel: boolean; readonly sdist: boolean } {
  const only = onlyBinary ?? [];
  const no = noBinary ?? [];
  if (only.includes(name)) return { wheel: true, sdist: false };
  if (no.includes(name)) return { wheel: false, sdist: true };
  if (only.includes(":all:")) return { wheel: true, sdist: false };
  if (no.includes(":all:")) return { wheel: false, sdist: true };
  return { wheel: true, sdist: true };
}

/**
 * Whether a version's metadata provides an extra: listed in `Provides-Extra`, or, for metadata
 * that lists no extras at all (written before the field was common), named by a Requires-Dist
 * marker that holds only with the extra.
 */
export function providesExtra(metadata: PackageMetadata, extra: string): boolean {
  if (metadata.providesExtra.includes(extra)) return true;
  if (metadata.providesExtra.length > 0) return false;
  return metadata.requiresDist.some((r) =>
    r.marker !== undefined && r.marker.canHold({}, { extras: [extra] }) &&
    !r.marker.canHold({}, { extras: [] })
  );
}

export function isExactPin(spec: SpecifierSet): boolean {
  return spec.specifiers.length > 0 &&
    spec.specifiers.every((s) =>
      s.operator === "===" || (s.operator === "==" && !s.version.endsWith("*"))
    );
}

/**
 * The order in which the solver tries the usable versions of a project: newest first (oldest
 * first with `resolution: "lowest"`, or `"lowest-direct"` for a root requirement); final
 * releases before pre-releases unless pre-releases are allowed everywhere (even where a
 * specifier names a pre-release: packse "package-prereleases-specifier-boundary"); with
 * --prefer-binary, versions with a usable wheel first; a preferred version (installed, locked,
 * or chosen by an earlier fork) before all. `Array.prototype.sort` is stable, so each key keeps
 * the previous order.
 */
export function preferenceOrder(
  name: string,
  versions: ProjectVersions,
  available: Bitset,
  files: readonly (readonly CandidateFile[])[],
  o: ResolveOptions,
  direct: boolean,
): number[] {
  const lowest = o.resolution === "lowest" || (o.resolution === "lowest-direct" && direct);
  const preference = [...available.indices()];
  if (!lowest) preference.reverse();
  if (!o.prereleases) {
    const pre = (i: number) => versions.candidates[i]!.version.isPrerelease;
    preference.sort((a, b) => Number(pre(a)) - Number(pre(b)));
  }
  if (o.preferBinary) {
    const hasWheel = (i: number) => files[i]![0]?.kind === "wheel";
    preference.sort((a, b) => Number(hasWheel(b)) - Number(hasWheel(a)));
  }
  const preferred = o.preferences?.get(name);
  if (preferred) {
    const at = preference.findIndex((i) => versions.candidates[i]!.version.equals(preferred));
    if (at > 0) preference.unshift(...preference.splice(at, 1));
  }
  return preference;
}

export class TargetHost implements SolverHost {
  readonly root = ROOT;
  readonly target: Target;
  readonly #session: Session;
  readonly #options: ResolveOptions;
  readonly #requirements: readonly Requirement[];
  readonly #constraints: readonly Requirement[];
  readonly #rank: (tags: readonly string[]) => number | undefined;
  readonly #python: Version;
  readonly #packages = new Map<string, PackageState>();
  /** Applied dependencies per decided (key, index), for the result. */
  readonly applied = new Map<string, Requirement[]>();
  /** `name[extra]@index` for extras the version's metadata does not provide. */
  readonly #missingExtras = new Set<string>();
  /** `key@index` of the versions already announced as likely. */
  readonly #likely = new Set<string>();
  /** Keys decided at least once (a backtrack may undo one: then a guess is only not made). */
  readonly #decided = new Set<string>();

  constructor(
    requirements: readonly Requirement[],
    target: Target,
    session: Session,
    options: ResolveOptions,
  ) {
    this.target = target;
    this.#session = session;
    this.#options = options;
    const env = target.markerEnvironment;
    const applies = (r: Requirement) => !r.marker || r.marker.evaluate(env);
    this.#requirements = requirements.filter(applies);
    this.#constraints = (options.constraints ?? []).filter(applies);
    this.#rank = tagRanker(target);
    this.#python = Version.parse(target.pythonFullVersion);
  }

  /** The package state after load (throws if not loaded). */
  state(key: string): PackageState {
    const s = this.#packages.get(splitKey(key).name);
    if (!s) throw new Error(`internal: ${key} not loaded`);
    return s;
  }

  versionStrings(key: string): string[] {
    if (key === ROOT) return [""];
    return this.state(key).versions.candidates.map((c) => c.version.toString());
  }

  /** The provider's reason when a package has no versions at all (not found, offline miss). */
  notFoundReason(key: string): string | undefined {
    if (key === ROOT) return undefined;
    const versions = this.#packages.get(splitKey(key).name)?.versions;
    return versions && !versions.found ? versions.reason : undefined;
  }

  candidate(key: string, index: number): VersionCandidate {
    return this.state(key).versions.candidates[index]!;
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

  /** Which tags were looked for and which the wheels have, for "no wheel" explanations. */
  #tagSummary(files: readonly CandidateFile[]): string {
    const wanted = this.target.tags;
    const lookedFor = `looked for ${wanted.slice(0, 3).join(", ")}${
      wanted.length > 3 ? ` and ${wanted.length - 3} more` : ""
    }`;
    const have = [...new Set(files.filter((f) => f.kind === "wheel").flatMap((f) => f.tags))];
    if (have.length === 0) return `${lookedFor}; it has no wheels`;
    const shown = have.slice(0, 4).join(", ");
    return `${lookedFor}; its wheels have ${shown}${
      have.length > 4 ? ` and ${have.length - 4} more` : ""
    }`;
  }

  #analyse(name: string, versions: ProjectVersions): PackageState {
    const o = this.#options;
    const formats = allowedFormats(o.onlyBinary, o.noBinary, name);
    const onlyBinary = !formats.sdist;
    const noBinary = !formats.wheel;
    const pins = [...this.#requirements, ...this.#constraints]
      .filter((r) => r.normalizedName === name && isExactPin(r.specifier));
    const files: CandidateFile[][] = [];
    const reasons: string[] = [];
    // Each file passes the checks in order (upload time, yank, Requires-Python, binary policy
    // and tags); a version is usable if one file passes all, and otherwise is explained by the
    // last check that its best file reached.
    const rank = this.#rank;
    const python = this.#python;
    for (const c of versions.candidates) {
      const usable: CandidateFile[] = [];
      let furthest = 0;
      let pinned: boolean | undefined;
      let hasSdist = false;
      let blockedPython: CandidateFile | undefined;
      for (const f of c.files) {
        let stage = 1;
        if (
          o.excludeNewer === undefined || f.uploadTime === undefined ||
          f.uploadTime <= o.excludeNewer
        ) {
          stage = 2;
          // PEP 592: yanked files are only for an exact pin in the request.
          if (
            !f.yanked ||
            (pinned ??= pins.some((r) => r.specifier.contains(c.version, { prereleases: true })))
          ) {
            stage = 3;
            if (!f.requiresPython || f.requiresPython.contains(python, { prereleases: true })) {
              stage = 4;
              if (f.kind === "sdist") hasSdist = true;
              if (f.kind === "sdist" ? !onlyBinary : !noBinary && rank(f.tags) !== undefined) {
                stage = 5;
                usable.push(f);
              }
            } else blockedPython ??= f;
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
          reason = `requires Python ${
            blockedPython!.requiresPython
          } but ${this.target.name} has ${python}`;
        } else if (noBinary && !hasSdist) reason = "has only wheels, and --no-binary forbids them";
        else if (onlyBinary && hasSdist) {
          reason =
            `has no wheel for ${this.target.name}, and --only-binary forbids building its sdist (${
              this.#tagSummary(c.files)
            })`;
        } else {
          reason = `has no wheel for ${this.target.name} and no sdist (${
            this.#tagSummary(c.files)
          })`;
        }
      }
      if (usable.length > 1) {
        // Best wheel first (by the target's tag order), sdists last.
        usable.sort((a, b) =>
          (a.kind === "sdist" ? Infinity : rank(a.tags)!) -
          (b.kind === "sdist" ? Infinity : rank(b.tags)!)
        );
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
    return { versions, files, unavailable, available, preference, sets: new Map() };
  }

  /**
   * What a user should hear about the pinned version `index` of `key` (a base key or an extra),
   * once the resolution is final: a yanked file chosen for an exact pin (PEP 592: "installers
   * SHOULD issue a warning"), an extra the version does not provide (pip: "does not provide the
   * extra").
   */
  warnings(key: string, index: number): { code: ResolveWarningCode; message: string }[] {
    if (key === ROOT) return [];
    const { name, extra } = splitKey(key);
    const version = this.candidate(key, index).version;
    if (extra !== undefined) {
      if (!this.#missingExtras.has(`${key}@${index}`)) return [];
      return [{
        code: "missing-extra",
        message: `${name} ${version} does not provide the extra '${extra}'`,
      }];
    }
    const file = this.state(key).files[index]?.[0];
    if (!file?.yanked) return [];
    const pin = [...this.#requirements, ...this.#constraints].find((r) =>
      r.normalizedName === name && isExactPin(r.specifier) &&
      r.specifier.contains(version, { prereleases: true })
    );
    const reason = file.yankedReason ? `reason: ${file.yankedReason}` : "no reason given";
    return [{
      code: "yanked",
      message: `${name} ${version} is yanked (${reason}); it is used only because ${
        pin ? `${pin.name}${pin.specifier}` : "an exact pin"
      } asks for it`,
    }];
  }

  unavailable(key: string): readonly { set: Bitset; reason: string }[] {
    if (key === ROOT) return [];
    // Extras share their base's versions; their base dependency carries the availability.
    return splitKey(key).extra === undefined ? this.state(key).unavailable : [];
  }

  preference(key: string): readonly number[] {
    if (key === ROOT) return [0];
    return this.state(key).preference;
  }

  decided(key: string, index: number): void {
    if (key === ROOT || !this.#options.reporter) return;
    this.#decided.add(key);
    const file = splitKey(key).extra === undefined ? this.state(key).files[index]?.[0] : undefined;
    this.#options.reporter.onEvent({
      kind: "decided",
      target: this.target.name,
      name: key,
      version: this.candidate(key, index).version.toString(),
      ...(file !== undefined ? { file } : {}),
    });
  }

  prefetch(key: string, index: number): void {
    if (key === ROOT) return;
    const state = this.state(key);
    const c = state.versions.candidates[index];
    if (!c) return;
    const { name, extra } = splitKey(key);
    this.#session.prefetchMetadata(name, c);
    // The solver's next pick for a dependency it just met: said once, so a caller may start
    // its file now rather than when the decision comes (often many round trips later).
    const file = state.files[index]?.[0];
    const said = `${key}@${index}`;
    const reporter = this.#options.reporter;
    if (
      file === undefined || extra !== undefined || !reporter || this.#likely.has(said) ||
      this.#decided.has(key)
    ) return;
    this.#likely.add(said);
    // Said once its metadata has arrived (asked for by the prefetch above, within its bound):
    // where an index has no PEP 658 metadata that read is this very file, and a transfer
    // started beside it would fetch it twice.
    this.#session.metadataWhenAsked(name, c).then((outcome) => {
      if (outcome.kind !== "found" || this.#decided.has(key)) return;
      reporter.onEvent({
        kind: "likely",
        target: this.target.name,
        name: key,
        version: c.version.toString(),
        file,
      });
    }, () => {});
  }

  /** The versions of `key` a specifier admits, with the pre-release policy applied. */
  setFor(key: string, spec: SpecifierSet): Bitset {
    const state = this.state(key);
    const text = spec.toString();
    let set: Bitset | undefined = state.sets.get(text);
    if (set) return set;
    const candidates = state.versions.candidates;
    // Every matching version is in the set, pre-releases included; the policy lives in the
    // preference order instead (see #analyse): that way a pre-release is used when no final
    // release can be (uv's "if-necessary" policy as the packse scenarios encode it, uv #19993),
    // also after backtracking, which a per-requirement filter could not express.
    set = Bitset.from(
      candidates.length,
      (i) => spec.contains(candidates[i]!.version, { prereleases: true }),
    );
    state.sets.set(text, set);
    return set;
  }

  #toDependencies(requirement: Requirement, constraint: boolean): Dependency[] {
    const name = requirement.normalizedName;
    const keys = [name, ...requirement.extras.map((e) => `${name}[${e}]`)];
    const spec = requirement.specifier.toString();
    // Direct references (URLs) are not resolved here: any version of the name is accepted.
    return keys.map((key) => ({
      package: key,
      set: this.setFor(key, requirement.specifier),
      text: `${key}${spec}`,
      ...(constraint ? { constraint } : {}),
    }));
  }

  async dependencies(key: string, index: number): Promise<DependenciesOutcome> {
    this.#options.signal?.throwIfAborted();
    const requirements: [Requirement, boolean][] = [];
    const extraOf = splitKey(key);
    let base: Dependency | undefined;
    if (key === ROOT) {
      for (const r of this.#requirements) requirements.push([r, false]);
      for (const r of this.#constraints) requirements.push([r, true]);
    } else {
      const candidate = this.candidate(key, index);
      const outcome = await this.#session.metadata(extraOf.name, candidate);
      if (outcome.kind === "unavailable") return { kind: "unavailable", reason: outcome.reason };
      const metadata: PackageMetadata = outcome.metadata;
      if (
        metadata.requiresPython &&
        !metadata.requiresPython.contains(this.#python, { prereleases: true })
      ) {
        return {
          kind: "unavailable",
          reason:
            `requires Python ${metadata.requiresPython} but ${this.target.name} has ${this.#python}`,
        };
      }
      const env = this.target.markerEnvironment;
      if (extraOf.extra !== undefined && !providesExtra(metadata, extraOf.extra)) {
        this.#missingExtras.add(`${key}@${index}`);
      }
      const applied: Requirement[] = [];
      if (!this.#options.noDeps) {
        for (const r of metadata.requiresDist) {
          if (extraOf.extra === undefined) {
            if (r.marker && !r.marker.evaluate(env)) continue;
          } else {
            // An extra brings the requirements whose marker holds only with that extra; a
            // missing extra brings nothing (uv and pip ignore it with a warning).
            if (!r.marker || !r.marker.evaluate(env, { extras: [extraOf.extra] })) continue;
            if (r.marker.evaluate(env)) continue;
          }
          applied.push(r);
          requirements.push([r, false]);
        }
      }
      this.applied.set(`${key}@${index}`, applied);
      if (extraOf.extra !== undefined) {
        const size = this.state(key).versions.candidates.length;
        base = {
          package: extraOf.name,
          set: Bitset.of(size, [index]),
          text: `${extraOf.name}==${candidate.version}`,
        };
      }
    }
    await Promise.all(requirements.map(([r]) => this.load(r.normalizedName)));
    const dependencies: Dependency[] = base ? [base] : [];
    for (const [r, constraint] of requirements) {
      for (const d of this.#toDependencies(r, constraint)) {
        // A package that depends on itself (often through its own extras) at its own version
        // adds nothing; at another version it is simply unusable, which the set expresses.
        if (d.package === key && d.set.has(index)) continue;
        dependencies.push(d);
      }
    }
    return { kind: "ok", dependencies };
  }
}
