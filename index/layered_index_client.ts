/**
 * Two index clients as one: the indexes a run names first, then another source (the cache as an
 * index, for offline runs), with the index strategy's rule between them.
 *
 * @module
 */
import type {
  DistFile,
  IndexClient,
  IndexStrategy,
  MetadataOptions,
  MetadataOutcome,
  ProjectFilesOptions,
  ProjectFilesOutcome,
} from "./types.ts";

/** Options of {@linkcode LayeredIndexClient}. */
export interface LayeredIndexClientOptions {
  /**
   * `first-index` (default): a project the first client has is answered by it alone, never mixed
   * with files of the same name from the second (the rule that stops dependency confusion);
   * `unsafe-best-match`: the files of both, the first's winning on a shared file name.
   */
  strategy?: IndexStrategy;
  /** Tells whether a file was listed by the second client (its metadata is read there). */
  fromSecond?: (file: DistFile) => boolean;
}

/**
 * Asks `first`, then `second` for what `first` lacks. Metadata of a file the first lists but
 * cannot read (an offline miss) is asked of the second, which may hold the bytes.
 *
 * @example
 * ```ts
 * import { LayeredIndexClient } from "./layered_index_client.ts";
 * import type { IndexClient } from "./types.ts";
 * const none: IndexClient = {
 *   projectFiles: (project) => Promise.resolve({ kind: "offline-miss", project }),
 *   metadata: (file) => Promise.resolve({ kind: "offline-miss", file }),
 *   authHeaders: () => ({}),
 * };
 * const cache: IndexClient = {
 *   projectFiles: (project) =>
 *     Promise.resolve({ kind: "not-found", project, indexes: ["the cache"] }),
 *   metadata: (file) => Promise.resolve({ kind: "offline-miss", file }),
 *   authHeaders: () => ({}),
 * };
 * const both = new LayeredIndexClient(none, cache);
 * const got = await both.projectFiles("x");
 * if (got.kind !== "offline-miss") throw new Error("the first client's miss is kept");
 * ```
 */
export class LayeredIndexClient implements IndexClient {
  readonly #first: IndexClient;
  readonly #second: IndexClient;
  readonly #strategy: IndexStrategy;
  readonly #fromSecond: (file: DistFile) => boolean;

  /**
   * Layers two clients.
   *
   * @param first The client asked first (the indexes the run names).
   * @param second The client asked for what the first lacks.
   * @param options The strategy, and how to tell the second's files.
   */
  constructor(first: IndexClient, second: IndexClient, options: LayeredIndexClientOptions = {}) {
    this.#first = first;
    this.#second = second;
    this.#strategy = options.strategy ?? "first-index";
    this.#fromSecond = options.fromSecond ?? ((f) => f.index.startsWith("the cache"));
  }

  /**
   * The first client's files of a project, or the second's when the first has none (with
   * `unsafe-best-match`, both).
   *
   * @param name A project name.
   * @param options `signal`.
   * @returns The outcome; when neither has the project, the first's outcome (a `not-found`
   *   lists the second's sources too).
   */
  async projectFiles(name: string, options?: ProjectFilesOptions): Promise<ProjectFilesOutcome> {
    const first = await this.#first.projectFiles(name, options);
    if (first.kind === "found" && this.#strategy === "first-index") return first;
    const second = await this.#second.projectFiles(name, options);
    if (first.kind === "found") {
      if (second.kind !== "found") return first;
      const names = new Set(first.files.map((f) => f.filename));
      return {
        ...first,
        files: [...first.files, ...second.files.filter((f) => !names.has(f.filename))],
      };
    }
    if (second.kind === "found") return second;
    if (first.kind === "not-found" && second.kind === "not-found") {
      return { ...first, indexes: [...first.indexes, ...second.indexes] };
    }
    return first;
  }

  /**
   * Metadata from the client that listed the file; an offline miss of the first is asked of
   * the second.
   *
   * @param file A file from {@linkcode projectFiles}.
   * @param options `signal`.
   * @returns The outcome.
   */
  async metadata(file: DistFile, options?: MetadataOptions): Promise<MetadataOutcome> {
    if (this.#fromSecond(file)) return await this.#second.metadata(file, options);
    const first = await this.#first.metadata(file, options);
    if (first.kind !== "offline-miss") return first;
    const second = await this.#second.metadata(file, options);
    return second.kind === "offline-miss" ? first : second;
  }

  /**
   * The first client's credentials for a URL (the second's files need none).
   *
   * @param url A URL.
   * @returns Headers.
   */
  authHeaders(url: string): Record<string, string> {
    return this.#first.authHeaders(url);
  }
}
