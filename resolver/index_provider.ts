/**
 * Adapts an {@linkcode IndexClient} (index/) into the resolver's {@linkcode Provider}: files are
 * grouped by version, and metadata is read from the best file of a version (a wheel when there
 * is one, since its METADATA is authoritative; else the sdist).
 *
 * @module
 */

import type { DistFile, IndexClient } from "../index/types.ts";
import { SpecifierSet } from "../pep/specifier.ts";
import type { Version } from "../pep/version.ts";
import type {
  CandidateFile,
  MetadataOutcome,
  Provider,
  ProviderCallOptions,
  VersionCandidate,
  VersionsOutcome,
} from "./types.ts";

/** A candidate file that remembers the index file it came from. */
interface IndexCandidateFile extends CandidateFile {
  readonly source: DistFile;
}

function toCandidateFile(file: DistFile): IndexCandidateFile {
  let requiresPython: SpecifierSet | undefined;
  if (file.requiresPython !== undefined && file.requiresPython.trim() !== "") {
    try {
      requiresPython = SpecifierSet.parse(file.requiresPython);
    } catch {
      // pip ignores an invalid data-requires-python rather than the file.
      requiresPython = undefined;
    }
  }
  const uploadTime = file.uploadTime === undefined ? NaN : Date.parse(file.uploadTime);
  return {
    filename: file.filename,
    url: file.url,
    kind: file.parsed.kind,
    tags: file.parsed.kind === "wheel" ? file.parsed.tags : [],
    ...(requiresPython ? { requiresPython } : {}),
    yanked: file.yanked !== false,
    ...(file.yanked !== false && file.yanked.reason.trim() !== ""
      ? { yankedReason: file.yanked.reason.trim() }
      : {}),
    ...(Number.isNaN(uploadTime) ? {} : { uploadTime }),
    ...(file.size === undefined ? {} : { size: file.size }),
    hashes: file.hashes,
    origin: file.index,
    source: file,
  };
}

/**
 * Groups an index's files into version candidates whose metadata {@linkcode IndexProvider} can
 * read (each file keeps its `DistFile`). Also for files that come from elsewhere, such as a
 * direct `name @ url` reference.
 *
 * @param files Files of one project.
 * @returns One candidate per version, in the order first seen.
 * @example
 * ```ts
 * import { candidatesFromFiles } from "./index_provider.ts";
 * import { parseDistFilename } from "../pep/filename.ts";
 * const filename = "demo-1.0-py3-none-any.whl";
 * const [c] = candidatesFromFiles([{
 *   filename, url: `https://example.org/${filename}`, hashes: {}, yanked: false,
 *   coreMetadata: false, index: "direct", parsed: parseDistFilename(filename),
 * }]);
 * if (c?.version.toString() !== "1.0" || c.files[0]?.kind !== "wheel") throw new Error();
 * ```
 */
export function candidatesFromFiles(files: readonly DistFile[]): VersionCandidate[] {
  const byVersion = new Map<string, { version: Version; files: IndexCandidateFile[] }>();
  for (const file of files) {
    const key = file.parsed.version.toString();
    const entry = byVersion.get(key);
    if (entry) entry.files.push(toCandidateFile(file));
    else byVersion.set(key, { version: file.parsed.version, files: [toCandidateFile(file)] });
  }
  return [...byVersion.values()];
}

/**
 * A {@linkcode Provider} backed by an {@linkcode IndexClient}; it asks the resolver to
 * prefetch, since every call is a network round-trip.
 *
 * @example
 * ```ts
 * import { IndexProvider } from "./index_provider.ts";
 * import type { IndexClient } from "../index/types.ts";
 * const client: IndexClient = {
 *   projectFiles: (name) => Promise.resolve({ kind: "not-found", project: name, indexes: [] }),
 *   metadata: () => Promise.reject(new Error("unused")),
 *   authHeaders: () => ({}),
 * };
 * const outcome = await new IndexProvider(client).versions("nothing");
 * if (outcome.kind !== "not-found") throw new Error();
 * ```
 */
export class IndexProvider implements Provider {
  readonly prefetch = true;
  readonly #client: IndexClient;

  /**
   * Creates a provider that asks `client` for versions and metadata.
   *
   * @param client The index client to ask.
   */
  constructor(client: IndexClient) {
    this.#client = client;
  }

  /**
   * Lists the versions of a project with their files.
   *
   * @param name Normalised project name.
   * @param options Cancellation.
   * @returns `found`, or `not-found` with the indexes consulted (also when offline without a cached page).
   * @throws Whatever the index client throws (`IndexError`).
   */
  async versions(name: string, options: ProviderCallOptions = {}): Promise<VersionsOutcome> {
    const outcome = await this.#client.projectFiles(
      name,
      options.signal ? { signal: options.signal } : {},
    );
    if (outcome.kind === "not-found") {
      const where = outcome.indexes.length > 0 ? ` on ${outcome.indexes.join(", ")}` : "";
      const empty = outcome.emptyIndexes ?? [];
      const why = empty.length > 0 ? ` (${empty.join(", ")} lists no usable files for it)` : "";
      return { kind: "not-found", reason: `was not found${where}${why}` };
    }
    if (outcome.kind === "offline-miss") {
      return { kind: "not-found", reason: "is not in the offline cache" };
    }
    return { kind: "found", candidates: candidatesFromFiles(outcome.files) };
  }

  /**
   * Reads the metadata of a version from its best file.
   *
   * @param _name Normalised project name (the file knows it).
   * @param candidate The version and its files (as returned by {@linkcode IndexProvider.versions}).
   * @param options Cancellation.
   * @returns `found`, or `unavailable` when only a build could tell or the cache is offline.
   * @throws Whatever the index client throws (`IndexError`).
   */
  async metadata(
    _name: string,
    candidate: VersionCandidate,
    options: ProviderCallOptions = {},
  ): Promise<MetadataOutcome> {
    const files = candidate.files as readonly CandidateFile[];
    const pick = files.find((f) => f.kind === "wheel" && !f.yanked) ??
      files.find((f) => f.kind === "wheel") ?? files[0];
    const source = pick && (pick as Partial<IndexCandidateFile>).source;
    if (!source) return { kind: "unavailable", reason: "has no file to read metadata from" };
    const outcome = await this.#client.metadata(
      source,
      options.signal ? { signal: options.signal } : {},
    );
    if (outcome.kind === "found") {
      const m = outcome.metadata;
      return {
        kind: "found",
        metadata: {
          requiresDist: m.requiresDist,
          requiresPython: m.requiresPython,
          providesExtra: m.providesExtra,
        },
      };
    }
    if (outcome.kind === "needs-build") {
      return {
        kind: "unavailable",
        reason:
          `has only an sdist without static metadata (${outcome.reason}); building is not supported`,
      };
    }
    return { kind: "unavailable", reason: "has no cached metadata (offline)" };
  }
}
