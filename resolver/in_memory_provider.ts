/**
 * A {@linkcode Provider} over an in-memory package universe, for tests, examples and offline
 * experiments.
 *
 * @module
 */

import { normalizeName } from "../pep/name.ts";
import { Requirement } from "../pep/requirement.ts";
import { SpecifierSet } from "../pep/specifier.ts";
import { Version } from "../pep/version.ts";
import type {
  CandidateFile,
  MetadataOutcome,
  PackageMetadata,
  Provider,
  VersionCandidate,
  VersionsOutcome,
} from "./types.ts";

interface Entry {
  readonly candidate: VersionCandidate;
  readonly metadata: () => PackageMetadata;
}

/** One file of an in-memory version. */
export interface InMemoryFile {
  /** Whether the file is a wheel (with `tags`) or an sdist (tags do not apply). */
  readonly kind: "wheel" | "sdist";
  /** Wheel tags, e.g. `["cp312-cp312-win_amd64"]`; default `["py3-none-any"]`. */
  readonly tags?: readonly string[];
  /** `Requires-Python` of the file, as an index would state it (PEP 503 `data-requires-python`). */
  readonly requiresPython?: string;
  /** Yanked (PEP 592); a string marks it yanked with that reason. */
  readonly yanked?: boolean | string;
  /** Epoch milliseconds. */
  readonly uploadTime?: number;
}

/** An in-memory version: its requirements, or a full description. */
export type InMemoryVersion =
  | readonly string[]
  | {
    /** Requires-Dist strings (markers with `extra == "x"` allowed). */
    readonly requires?: readonly string[];
    /** Requires-Python of the metadata (and of the default files). */
    readonly requiresPython?: string;
    /** Provides-Extra name -> requirements (they get an `extra == "name"` marker). */
    readonly extras?: Readonly<Record<string, readonly string[]>>;
    /** Files; default one `py3-none-any` wheel. */
    readonly files?: readonly InMemoryFile[];
    /** Marks every default file yanked; a string is the yank reason. */
    readonly yanked?: boolean | string;
  };

/** Project name -> version string -> version. */
export type InMemoryUniverse = Readonly<Record<string, Readonly<Record<string, InMemoryVersion>>>>;

/**
 * Serves versions and metadata from a plain object; counts metadata requests per version.
 *
 * @example
 * ```ts
 * import { InMemoryProvider } from "./in_memory_provider.ts";
 * const p = new InMemoryProvider({ a: { "1.0": ["b>=2"] } });
 * const v = await p.versions("a");
 * if (v.kind !== "found" || v.candidates.length !== 1) throw new Error();
 * const m = await p.metadata("a", v.candidates[0]!);
 * if (m.kind !== "found" || m.metadata.requiresDist[0]!.name !== "b") throw new Error();
 * ```
 */
export class InMemoryProvider implements Provider {
  readonly #raw = new Map<string, Readonly<Record<string, InMemoryVersion>>[]>();
  readonly #projects = new Map<string, Map<string, Entry>>();
  readonly #byVersion = new WeakMap<Version, Entry>();
  readonly #specifiers = new Map<string, SpecifierSet>();
  /** Metadata requests, `name@version`, in order. */
  readonly requests: string[] = [];

  /**
   * Creates a provider over a fixed set of projects, for tests and examples.
   *
   * @param universe The packages.
   * @throws Never; versions and requirements are parsed (and may throw `SyntaxError`s) when a
   * project or its metadata is first asked for.
   */
  constructor(universe: InMemoryUniverse) {
    for (const [rawName, versions] of Object.entries(universe)) {
      if (typeof versions !== "object" || versions === null) continue;
      const name = normalizeName(rawName);
      this.#raw.set(name, [...(this.#raw.get(name) ?? []), versions]);
    }
  }

  // Projects are parsed on first use: real indexes are large and a resolution reads few of them.
  #project(name: string): Map<string, Entry> | undefined {
    const known = this.#projects.get(name);
    if (known) return known;
    const raw = this.#raw.get(name);
    if (!raw) return undefined;
    const map = new Map<string, Entry>();
    const stem = name.replace(/-/g, "_");
    for (const versions of raw) {
      for (const [text, spec] of Object.entries(versions)) {
        const version = Version.parse(text);
        const detail = Array.isArray(spec)
          ? { requires: spec as readonly string[] }
          : spec as Exclude<InMemoryVersion, readonly string[]>;
        const files = (detail.files ?? DEFAULT_FILES).map((f, i) =>
          this.#file(name, `${stem}-${text}`, f, i, detail.requiresPython, detail.yanked ?? false)
        );
        let metadata: PackageMetadata | undefined;
        const entry: Entry = {
          candidate: { version, files },
          metadata: () => metadata ??= parseMetadata(detail),
        };
        map.set(text, entry);
        this.#byVersion.set(version, entry);
      }
    }
    this.#projects.set(name, map);
    return map;
  }

  #file(
    name: string,
    stem: string,
    f: InMemoryFile,
    i: number,
    requiresPython: string | undefined,
    yanked: boolean | string,
  ): CandidateFile {
    const tags = f.kind === "wheel" ? f.tags ?? DEFAULT_TAGS : NO_TAGS;
    const filename = f.kind === "wheel" ? `${stem}-${tags[0]}.whl` : `${stem}.tar.gz`;
    const rp = f.requiresPython ?? requiresPython;
    const file: { -readonly [K in keyof CandidateFile]: CandidateFile[K] } = {
      filename,
      url: `memory:///${name}/${i}/${filename}`,
      kind: f.kind,
      tags,
      yanked: (f.yanked ?? yanked) !== false,
      hashes: {},
    };
    const reason = f.yanked ?? yanked;
    if (typeof reason === "string" && reason !== "") file.yankedReason = reason;
    if (rp !== undefined) {
      let parsed = this.#specifiers.get(rp);
      if (!parsed) this.#specifiers.set(rp, parsed = SpecifierSet.parse(rp));
      file.requiresPython = parsed;
    }
    if (f.uploadTime !== undefined) file.uploadTime = f.uploadTime;
    return file;
  }

  /**
   * Lists a project's versions.
   *
   * @param name Normalised name.
   * @returns `found` with the candidates, or `not-found`.
   */
  versions(name: string): Promise<VersionsOutcome> {
    let project;
    try {
      project = this.#project(normalizeName(name));
    } catch (error) {
      return Promise.reject(error);
    }
    if (!project) return Promise.resolve({ kind: "not-found" });
    return Promise.resolve({
      kind: "found",
      candidates: [...project.values()].map((v) => v.candidate),
    });
  }

  /**
   * Returns a version's metadata.
   *
   * @param name Normalised name.
   * @param candidate The version.
   * @returns `found`, or `unavailable` for an unknown version.
   */
  metadata(name: string, candidate: VersionCandidate): Promise<MetadataOutcome> {
    const key = candidate.version.toString();
    this.requests.push(`${name}@${key}`);
    try {
      const project = this.#project(normalizeName(name));
      const entry = this.#byVersion.get(candidate.version) ??
        [...project?.values() ?? []].find((e) => e.candidate.version.equals(candidate.version));
      if (!entry) return Promise.resolve({ kind: "unavailable", reason: "has no metadata" });
      return Promise.resolve({ kind: "found", metadata: entry.metadata() });
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function parseMetadata(detail: Exclude<InMemoryVersion, readonly string[]>): PackageMetadata {
  const requiresDist = (detail.requires ?? []).map((r) => Requirement.parse(r));
  for (const [extra, reqs] of Object.entries(detail.extras ?? {})) {
    for (const r of reqs) requiresDist.push(withExtra(r, normalizeName(extra)));
  }
  return {
    requiresDist,
    requiresPython: detail.requiresPython === undefined
      ? undefined
      : SpecifierSet.parse(detail.requiresPython),
    providesExtra: Object.keys(detail.extras ?? {}).map(normalizeName),
  };
}

function withExtra(text: string, extra: string): Requirement {
  const r = Requirement.parse(text);
  const semicolon = text.indexOf(";");
  const head = semicolon < 0 ? text : text.slice(0, semicolon);
  const marker = r.marker ? `(${r.marker}) and extra == "${extra}"` : `extra == "${extra}"`;
  return Requirement.parse(`${head.trim()} ; ${marker}`);
}

const DEFAULT_FILES: readonly InMemoryFile[] = [{ kind: "wheel" }];
const DEFAULT_TAGS: readonly string[] = ["py3-none-any"];
const NO_TAGS: readonly string[] = [];
