// One run's shared knowledge: versions and metadata are fetched once per (name) and
// (name, version) and shared by every target; concurrent requests for one key share a promise.

import { normalizeName } from "../pep/name.ts";
import type {
  MetadataOutcome,
  Provider,
  Reporter,
  VersionCandidate,
  VersionsOutcome,
} from "./types.ts";

/** A project's versions, deduplicated and sorted ascending. */
export interface ProjectVersions {
  readonly found: boolean;
  readonly reason?: string;
  readonly candidates: readonly VersionCandidate[];
}

class Limiter {
  #active = 0;
  readonly #queue: (() => void)[] = [];
  constructor(readonly limit: number) {}
  run(task: () => void): void {
    if (this.#active < this.limit) this.#start(task);
    else this.#queue.push(task);
  }
  #start(task: () => void): void {
    this.#active++;
    task();
  }
  done(): void {
    this.#active--;
    const next = this.#queue.shift();
    if (next) this.#start(next);
  }
}

interface Lazy<T> {
  promise: Promise<T>;
  start(): void;
}

export class Session {
  readonly #provider: Provider;
  readonly #reporter: Reporter | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #versions = new Map<string, Lazy<ProjectVersions>>();
  readonly #metadata = new Map<string, Lazy<MetadataOutcome>>();
  readonly #limiter: Limiter;
  readonly #prefetch: boolean;
  readonly #noDeps: boolean;

  constructor(
    provider: Provider,
    options: {
      reporter?: Reporter | undefined;
      signal?: AbortSignal | undefined;
      concurrency?: number | undefined;
      noDeps?: boolean | undefined;
    },
  ) {
    this.#noDeps = options.noDeps ?? false;
    this.#provider = provider;
    this.#reporter = options.reporter;
    this.#signal = options.signal;
    this.#limiter = new Limiter(Math.max(1, options.concurrency ?? 16));
    this.#prefetch = provider.prefetch === true && options.concurrency !== 0;
  }

  #lazy<T>(fetch: () => Promise<T>): Lazy<T> {
    let resolve!: (value: T) => void, reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Prefetches may fail; the real request observes the same rejection.
    promise.catch(() => {});
    let started = false;
    return {
      promise,
      start: () => {
        if (started) return;
        started = true;
        fetch().then(resolve, reject);
      },
    };
  }

  #versionsEntry(name: string): Lazy<ProjectVersions> {
    let entry = this.#versions.get(name);
    if (!entry) {
      entry = this.#lazy(async () => {
        this.#signal?.throwIfAborted();
        this.#reporter?.onEvent({ kind: "versions", name });
        const outcome: VersionsOutcome = await this.#provider.versions(
          name,
          this.#signal ? { signal: this.#signal } : {},
        );
        if (outcome.kind === "not-found") {
          return {
            found: false,
            candidates: [],
            ...(outcome.reason ? { reason: outcome.reason } : {}),
          };
        }
        return { found: true, candidates: mergeCandidates(outcome.candidates) };
      });
      this.#versions.set(name, entry);
    }
    return entry;
  }

  versions(name: string): Promise<ProjectVersions> {
    const entry = this.#versionsEntry(name);
    entry.start();
    return entry.promise;
  }

  prefetchVersions(name: string): void {
    if (!this.#prefetch) return;
    const entry = this.#versionsEntry(name);
    this.#limiter.run(() => {
      entry.start();
      // Not `.finally()`: its promise would reject with the page's error and nobody awaits it
      // (an unhandled rejection, e.g. every cancelled prefetch on Ctrl-C).
      const done = (): void => this.#limiter.done();
      entry.promise.then((versions) => {
        done();
        // The version most likely chosen is the newest final release: its metadata (and then
        // the pages of its dependencies) is asked for now, not when the resolver reaches the
        // project one round trip later. A guess that loses costs one metadata request.
        const likely = likelyCandidate(versions);
        if (likely !== undefined) this.prefetchMetadata(name, likely);
      }, done);
    });
  }

  #metadataEntry(name: string, candidate: VersionCandidate): Lazy<MetadataOutcome> {
    const key = `${name}@${candidate.version.toString()}`;
    let entry = this.#metadata.get(key);
    if (!entry) {
      entry = this.#lazy(async () => {
        this.#signal?.throwIfAborted();
        this.#reporter?.onEvent({ kind: "metadata", name, version: candidate.version.toString() });
        const outcome = await this.#provider.metadata(
          name,
          candidate,
          this.#signal ? { signal: this.#signal } : {},
        );
        return outcome;
      });
      this.#metadata.set(key, entry);
    }
    return entry;
  }

  metadata(name: string, candidate: VersionCandidate): Promise<MetadataOutcome> {
    const entry = this.#metadataEntry(name, candidate);
    entry.start();
    return entry.promise;
  }

  /**
   * The metadata of one version once somebody asks for it ({@linkcode Session.metadata} or a
   * prefetch); asks for nothing itself, so the prefetch bound holds.
   */
  metadataWhenAsked(name: string, candidate: VersionCandidate): Promise<MetadataOutcome> {
    return this.#metadataEntry(name, candidate).promise;
  }

  /** Starts fetching metadata in the background (bounded), and the pages of its dependencies. */
  prefetchMetadata(name: string, candidate: VersionCandidate): void {
    const key = `${name}@${candidate.version.toString()}`;
    if (!this.#prefetch || this.#metadata.has(key)) return;
    const entry = this.#metadataEntry(name, candidate);
    this.#limiter.run(() => {
      entry.start();
      entry.promise.then((outcome) => {
        // With --no-deps no dependency is looked at: asking for their pages is only traffic.
        if (outcome.kind !== "found" || this.#noDeps) return;
        for (const r of outcome.metadata.requiresDist) {
          // Dependencies of extras nobody asked for (`extra == "aws"`) are most of a big
          // project's Requires-Dist; prefetching them costs requests (often 404s) for nothing.
          if (r.marker !== undefined && !r.marker.canHold({}, { extras: [] })) continue;
          const dep = normalizeName(r.name);
          if (!this.#versions.has(dep)) this.prefetchVersions(dep);
        }
      }, () => {}).finally(() => this.#limiter.done());
    });
  }
}

/** The newest final release with a file that is not yanked (candidates are ascending). */
function likelyCandidate(versions: ProjectVersions): VersionCandidate | undefined {
  if (!versions.found) return undefined;
  for (let i = versions.candidates.length - 1; i >= 0; i--) {
    const c = versions.candidates[i]!;
    if (c.version.isPrerelease) continue;
    if (c.files.some((f) => !f.yanked)) return c;
  }
  return undefined;
}

/** Sorts candidates ascending and merges the files of equal versions (`1.0` and `1.0.0`). */
function mergeCandidates(candidates: readonly VersionCandidate[]): VersionCandidate[] {
  let sorted = true;
  for (let i = 1; i < candidates.length && sorted; i++) {
    if (candidates[i - 1]!.version.compare(candidates[i]!.version) >= 0) sorted = false;
  }
  // Already strictly ascending or descending (the common cases): nothing to sort or merge.
  if (sorted) return [...candidates];
  let descending = true;
  for (let i = 1; i < candidates.length && descending; i++) {
    if (candidates[i - 1]!.version.compare(candidates[i]!.version) <= 0) descending = false;
  }
  if (descending) return [...candidates].reverse();
  const ordered = [...candidates].sort((a, b) => a.version.compare(b.version));
  const out: VersionCandidate[] = [];
  for (const c of ordered) {
    const last = out[out.length - 1];
    if (last && last.version.compare(c.version) === 0) {
      out[out.length - 1] = { version: last.version, files: [...last.files, ...c.files] };
    } else out.push(c);
  }
  return out;
}
