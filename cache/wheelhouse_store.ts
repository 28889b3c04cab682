/**
 * The wheelhouse: a flat directory of `.whl`/sdist files usable as-is by
 * `pip install --no-index --find-links DIR` and `uv pip install --find-links DIR`, with an
 * `index.html` find-links page, optionally a PEP 503 `simple/` tree, and a `manifest.json` of
 * every file (sha256, size, redacted source URL, the targets it serves).
 *
 * Planning is pure ({@linkcode planWheelhouse}); {@linkcode WheelhouseStore.sync} applies a plan:
 * good files stay, bad ones are replaced, new ones come from the cache by hard link (a copy across
 * file systems) or are fetched.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { nodeFs } from "../fetcher/node_fs.ts";
import { redactUrl } from "../fetcher/redact.ts";
import type { FetchStrategy, FileSystem } from "../fetcher/types.ts";
import { parseDistFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";
import {
  type AtomicOptions,
  errorCode,
  fingerprintHolds,
  hashStream,
  isNotFound,
  recordableFingerprint,
  renameWithRetry,
  tempName,
  writeAtomic,
} from "./_atomic.ts";
import type { LocalDirStore } from "./local_dir_store.ts";
import { CacheError } from "./types.ts";
import { byFilename } from "./_order.ts";

// The one order of file listings (folder pages, the cache's catalogue, `serve`'s pages).
export { byFilename };

/** A file the wheelhouse must contain. */
export interface WantedFile {
  /** The file name to use in the wheelhouse, as the index gave it. */
  filename: string;
  /** Lowercase hex sha256 (from the index or the download). */
  sha256: string;
  /** Where to download it from; credentials are redacted before the URL goes into the manifest. */
  url: string;
  /** Expected size in bytes, when the index states it; a present file of another size is bad. */
  size?: number;
  /** Project name; inferred from the filename when omitted. */
  project?: string;
  /** `Requires-Python` of the file, repeated in the index pages. */
  requiresPython?: string;
  /** Names of the targets (platforms) this file serves. */
  targets?: string[];
  /** The sdists this file is a build requirement of, when it is one. */
  buildDependencyOf?: string[];
}

/** What is on disk for one file name (sha256 known from the manifest or by hashing). */
export interface PresentFile {
  /** Size in bytes of the file on disk. */
  size: number;
  /** Lower-case hex sha256, when the manifest records it or the file was hashed. */
  sha256?: string;
}

/** One step of a plan. */
export type WheelhouseAction =
  /** The file is there and good. */
  | { kind: "keep"; file: WantedFile }
  /** The cache holds it: hard-link (or copy) it in; `replace` when a bad file is in the way. */
  | { kind: "link"; file: WantedFile; replace: boolean }
  /** Download it. */
  | { kind: "fetch"; file: WantedFile; replace: boolean };

/** Output of {@linkcode planWheelhouse}. */
export interface WheelhousePlan {
  /** One action per distinct wanted file name (duplicates merged), sorted by file name. */
  actions: WheelhouseAction[];
  /** Files in the directory that no wanted file names (left alone unless pruned). */
  extra: string[];
}

/** One line of `manifest.json`. */
export interface ManifestEntry {
  /** The file name in the wheelhouse. */
  filename: string;
  /** Normalised project name (used for the `simple/` tree). */
  project: string;
  /** Lower-case hex sha256 of the file. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Source URL, credentials redacted. */
  url: string;
  /** Names of the targets (platforms) the file serves. */
  targets: string[];
  /** The sdists this file is a build requirement of (`--build-deps`), when it is one. */
  buildDependencyOf?: string[];
  /** `Requires-Python` of the file, repeated in `simple/` as PEP 503 `data-requires-python`. */
  requiresPython?: string;
}

/** `manifest.json`. */
export interface Manifest {
  /** Format version of the manifest; a manifest of another version is treated as absent. */
  version: 1;
  /** The program that wrote the manifest (`wheelhouse`). */
  generator: string;
  /** Every file of the wheelhouse, sorted by file name. */
  files: ManifestEntry[];
}

const MANIFEST = "manifest.json";
/** The stat fingerprints of the files as this store last wrote or verified them. */
const STATE = ".wheelhouse-state.json";
/** The mark in every page this store writes: a page without it is someone else's. */
const GENERATOR_META = '<meta name="generator" content="wheelhouse">';
const INDEX = "index.html";
const SIMPLE = "simple";
/** PEP 658: a wheel's core metadata is served at its URL with this suffix. */
const METADATA_SUFFIX = ".metadata";
const PARTIAL = ".wheelhouse-partial";
const ARCHIVE = /\.(whl|tar\.gz|zip|tar\.bz2|tar\.xz|tgz|tar)$/i;

function projectOf(file: WantedFile): string {
  if (file.project !== undefined) return normalizeName(file.project);
  try {
    return parseDistFilename(file.filename).normalizedName;
  } catch {
    // Not a standard name: the part before the first dash is the best guess for grouping.
    return normalizeName(file.filename.split("-", 1)[0] ?? file.filename);
  }
}

function checkFilename(filename: string): void {
  if (
    filename === "" || filename !== basename(filename) || filename.startsWith(".") ||
    /[\\/\0]/.test(filename)
  ) {
    throw new CacheError(
      "conflict",
      `Cannot put "${filename}" in a wheelhouse: not a plain file name`,
    );
  }
}

/**
 * Decides what to do for each wanted file, given what is already in the directory and which
 * hashes the cache holds. Pure.
 *
 * @param wanted The files the wheelhouse must contain.
 * @param state Files present (by name) and hashes the cache holds.
 * @returns Actions in file-name order, and the names present but not wanted.
 * @throws {CacheError} With code `conflict` when one name is wanted with two different hashes, or
 * a name is not a plain file name.
 * @example
 * ```ts
 * import { planWheelhouse } from "./wheelhouse_store.ts";
 * const a = { filename: "a-1.0-py3-none-any.whl", sha256: "a".repeat(64), url: "https://x/a" };
 * const b = { filename: "b-1.0-py3-none-any.whl", sha256: "b".repeat(64), url: "https://x/b" };
 * const plan = planWheelhouse([a, b], {
 *   present: new Map([[a.filename, { size: 1, sha256: "a".repeat(64) }], ["old.whl", { size: 1 }]]),
 *   cached: new Set(["b".repeat(64)]),
 * });
 * if (plan.actions.map((x) => x.kind).join() !== "keep,link") throw new Error();
 * if (plan.extra.join() !== "old.whl") throw new Error();
 * ```
 */
export function planWheelhouse(
  wanted: readonly WantedFile[],
  state: { present: ReadonlyMap<string, PresentFile>; cached: ReadonlySet<string> },
): WheelhousePlan {
  const byName = new Map<string, WantedFile>();
  for (const file of wanted) {
    checkFilename(file.filename);
    const sha256 = file.sha256.toLowerCase();
    const seen = byName.get(file.filename);
    if (seen && seen.sha256.toLowerCase() !== sha256) {
      throw new CacheError(
        "conflict",
        `Cannot build the wheelhouse: "${file.filename}" is wanted with two different hashes (${seen.sha256} from ${
          redactUrl(seen.url)
        }, ${sha256} from ${redactUrl(file.url)})`,
      );
    }
    if (seen) {
      // The same file serving several targets: merge the target lists.
      const targets = [...new Set([...(seen.targets ?? []), ...(file.targets ?? [])])];
      byName.set(file.filename, { ...seen, targets });
    } else {
      byName.set(file.filename, { ...file, sha256 });
    }
  }
  const actions: WheelhouseAction[] = [];
  for (const name of [...byName.keys()].sort()) {
    const file = byName.get(name)!;
    const present = state.present.get(name);
    const good = present !== undefined && present.sha256 === file.sha256 &&
      (file.size === undefined || present.size === file.size);
    if (good) {
      actions.push({ kind: "keep", file });
      continue;
    }
    const replace = present !== undefined;
    actions.push({ kind: state.cached.has(file.sha256) ? "link" : "fetch", file, replace });
  }
  const extra = [...state.present.keys()].filter((name) => !byName.has(name)).sort();
  return { actions, extra };
}

/**
 * Escapes text for HTML element content and double-quoted attribute values.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` escaped.
 * @example
 * ```ts
 * import { escapeHtml } from "./wheelhouse_store.ts";
 * if (escapeHtml(`<a href="x">&'`) !== "&lt;a href=&quot;x&quot;&gt;&amp;&#39;") throw new Error();
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function anchor(href: string, entry: ManifestEntry, metadataSha256?: string): string {
  const attrs = [`href="${escapeHtml(`${href}#sha256=${entry.sha256}`)}"`];
  if (entry.requiresPython !== undefined) {
    attrs.push(`data-requires-python="${escapeHtml(entry.requiresPython)}"`);
  }
  if (metadataSha256 !== undefined) {
    // PEP 658's attribute and PEP 714's new name: pip reads either.
    attrs.push(`data-dist-info-metadata="sha256=${metadataSha256}"`);
    attrs.push(`data-core-metadata="sha256=${metadataSha256}"`);
  }
  return `    <a ${attrs.join(" ")}>${escapeHtml(entry.filename)}</a><br>`;
}

function page(title: string, lines: string[]): string {
  return [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    '    <meta name="pypi:repository-version" content="1.0">',
    `    ${GENERATOR_META}`,
    `    <title>${escapeHtml(title)}</title>`,
    "  </head>",
    "  <body>",
    `    <h1>${escapeHtml(title)}</h1>`,
    ...lines,
    "  </body>",
    "</html>",
    "",
  ].join("\n");
}

/**
 * The flat find-links page listing every file with its `#sha256=` fragment.
 *
 * @param entries Manifest entries.
 * @returns HTML text.
 * @example
 * ```ts
 * import { renderFindLinksPage } from "./wheelhouse_store.ts";
 * const html = renderFindLinksPage([{
 *   filename: "a-1.0+local-py3-none-any.whl", project: "a", sha256: "0".repeat(64), size: 1,
 *   url: "https://x/a", targets: [], requiresPython: ">=3.8",
 * }]);
 * if (!html.includes(`href="a-1.0%2Blocal-py3-none-any.whl#sha256=${"0".repeat(64)}"`)) throw new Error();
 * if (!html.includes('data-requires-python="&gt;=3.8"')) throw new Error();
 * ```
 */
export function renderFindLinksPage(entries: readonly ManifestEntry[]): string {
  const sorted = [...entries].sort(byFilename);
  return page("Links", sorted.map((e) => anchor(encodeURIComponent(e.filename), e)));
}

/**
 * A PEP 503 tree over the flat files: `simple/index.html` lists projects, and
 * `simple/<project>/index.html` links to `../../<file>` so any static server can serve the
 * directory as an index.
 *
 * @param entries Manifest entries.
 * @returns Relative paths (POSIX separators) to HTML text.
 * @example
 * ```ts
 * import { renderSimpleTree } from "./wheelhouse_store.ts";
 * const tree = renderSimpleTree([{
 *   filename: "Foo_Bar-1.0.tar.gz", project: "foo-bar", sha256: "1".repeat(64), size: 1, url: "u", targets: [],
 * }]);
 * if (!tree.get("simple/index.html")?.includes('href="foo-bar/"')) throw new Error();
 * if (!tree.get("simple/foo-bar/index.html")?.includes('href="../../Foo_Bar-1.0.tar.gz#sha256=')) throw new Error();
 * ```
 */
export function renderSimpleTree(
  entries: readonly ManifestEntry[],
  metadata: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const byProject = new Map<string, ManifestEntry[]>();
  for (const entry of entries) {
    const list = byProject.get(entry.project) ?? [];
    list.push(entry);
    byProject.set(entry.project, list);
  }
  const projects = [...byProject.keys()].sort();
  const out = new Map<string, string>();
  out.set(
    `${SIMPLE}/index.html`,
    page(
      "Simple index",
      projects.map((p) =>
        `    <a href="${escapeHtml(`${encodeURIComponent(p)}/`)}">${escapeHtml(p)}</a><br>`
      ),
    ),
  );
  out.set(
    `${SIMPLE}/index.json`,
    JSON.stringify({
      meta: { "api-version": "1.1" },
      projects: projects.map((name) => ({ name })),
    }) + "\n",
  );
  for (const project of projects) {
    const files = byProject.get(project)!.sort(byFilename);
    out.set(
      `${SIMPLE}/${project}/index.html`,
      page(
        `Links for ${project}`,
        files.map((e) =>
          anchor(`../../${encodeURIComponent(e.filename)}`, e, metadata.get(e.filename))
        ),
      ),
    );
    out.set(`${SIMPLE}/${project}/index.json`, projectJson(project, files, metadata));
  }
  return out;
}

/** The PEP 691 JSON page of one project (API 1.1: PEP 700 `versions` and `size`). */
function projectJson(
  project: string,
  files: readonly ManifestEntry[],
  metadata: ReadonlyMap<string, string>,
): string {
  const versions = new Set<string>();
  for (const e of files) {
    try {
      versions.add(parseDistFilename(e.filename).version.toString());
    } catch {
      // Not a standard name: listed as a file, with no version.
    }
  }
  return JSON.stringify({
    meta: { "api-version": "1.1" },
    name: project,
    versions: [...versions].sort(),
    files: files.map((e) => {
      const m = metadata.get(e.filename);
      return {
        filename: e.filename,
        url: `../../${encodeURIComponent(e.filename)}`,
        hashes: { sha256: e.sha256 },
        ...(e.requiresPython !== undefined ? { "requires-python": e.requiresPython } : {}),
        size: e.size,
        yanked: false,
        "core-metadata": m === undefined ? false : { sha256: m },
        "dist-info-metadata": m === undefined ? false : { sha256: m },
      };
    }),
  }) + "\n";
}

/**
 * Reads a manifest, tolerating absence and damage (an unreadable manifest is treated as empty, so
 * every file gets re-hashed).
 *
 * @param text The manifest text.
 * @returns The manifest, or undefined when it is not one.
 * @example
 * ```ts
 * import { parseManifest } from "./wheelhouse_store.ts";
 * if (parseManifest("{ nope") !== undefined) throw new Error();
 * if (parseManifest('{"version":1,"generator":"w","files":[]}')?.files.length !== 0) throw new Error();
 * ```
 */
export function parseManifest(text: string): Manifest | undefined {
  try {
    const raw: unknown = JSON.parse(text);
    if (typeof raw !== "object" || raw === null) return undefined;
    const m = raw as Record<string, unknown>;
    if (m.version !== 1 || !Array.isArray(m.files)) return undefined;
    const files: ManifestEntry[] = [];
    for (const f of m.files as unknown[]) {
      if (typeof f !== "object" || f === null) continue;
      const e = f as Record<string, unknown>;
      if (
        typeof e.filename !== "string" || typeof e.sha256 !== "string" || typeof e.size !== "number"
      ) continue;
      const entry: ManifestEntry = {
        filename: e.filename,
        project: typeof e.project === "string" ? e.project : "",
        sha256: e.sha256,
        size: e.size,
        url: typeof e.url === "string" ? e.url : "",
        targets: Array.isArray(e.targets)
          ? e.targets.filter((t): t is string => typeof t === "string")
          : [],
      };
      if (typeof e.requiresPython === "string") entry.requiresPython = e.requiresPython;
      if (Array.isArray(e.buildDependencyOf)) {
        entry.buildDependencyOf = e.buildDependencyOf.filter((x): x is string =>
          typeof x === "string"
        );
      }
      files.push(entry);
    }
    return { version: 1, generator: typeof m.generator === "string" ? m.generator : "", files };
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode WheelhouseStore}. */
export interface WheelhouseStoreOptions {
  /** File system. Defaults to the real one. */
  fs?: FileSystem;
  /** Waits between rename retries. */
  sleep?: (ms: number) => Promise<void>;
  /** Randomness for temp names. */
  random?: () => number;
  /** Clock, for telling fingerprints recorded too close to a change; default `Date.now`. */
  now?: () => number;
}

/** Options of {@linkcode WheelhouseStore.sync}. */
export interface SyncOptions {
  /** Where downloads go; without a cache they are fetched straight into the directory. */
  fetcher?: FetchStrategy;
  /** The cache to take files from and to fill (by hard link). */
  cache?: LocalDirStore;
  /**
   * With `simple`: reads a wheel's core metadata (its `.dist-info/METADATA`) from the file at
   * `path`, so the tree offers it as PEP 658 `<wheel>.metadata` files; undefined for none.
   */
  coreMetadata?: (path: string, entry: ManifestEntry) => Promise<Uint8Array | undefined>;
  /** Also write the PEP 503 `simple/` tree. */
  simple?: boolean;
  /** Hash every present file instead of trusting the manifest for files whose size matches. */
  verify?: boolean;
  /** Remove files that the previous manifest listed but that are no longer wanted. */
  prune?: boolean;
  /** Cancels the sync: checked before each file and passed to downloads. */
  signal?: AbortSignal;
  /** What {@linkcode WheelhouseStore.scan} just found, so the files are not hashed twice. */
  present?: ReadonlyMap<string, PresentFile>;
}

/** What {@linkcode WheelhouseStore.sync} did. */
export interface SyncReport {
  /** Files that were already present and intact. */
  kept: string[];
  /** Files hard-linked from the cache. */
  linked: string[];
  /** Files copied from the cache (where a hard link was not possible). */
  copied: string[];
  /** Files downloaded. */
  fetched: string[];
  /** Bad files that were replaced. */
  replaced: string[];
  /** Old files removed by `prune`. */
  removed: string[];
  /** Files an earlier run wrote that this one does not want, left in place (no `prune`). */
  unwanted: string[];
  /** The manifest as written. */
  manifest: Manifest;
}

/**
 * A flat wheelhouse directory.
 *
 * @example
 * ```ts
 * import { WheelhouseStore } from "./wheelhouse_store.ts";
 * import { LocalDirStore } from "./local_dir_store.ts";
 * const root = await Deno.makeTempDir();
 * const cache = new LocalDirStore(`${root}/cache`);
 * const info = await cache.put({ bytes: new TextEncoder().encode("w") }, { filename: "a-1.0-py3-none-any.whl" });
 * const house = new WheelhouseStore(`${root}/wh`);
 * const report = await house.sync([
 *   { filename: "a-1.0-py3-none-any.whl", sha256: info.sha256, url: "https://x/a.whl", targets: ["linux"] },
 * ], { cache });
 * if (report.linked.length + report.copied.length !== 1) throw new Error();
 * if (!(await Deno.readTextFile(`${root}/wh/index.html`)).includes("a-1.0-py3-none-any.whl#sha256=")) throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class WheelhouseStore {
  #dir: string;
  #fs: FileSystem;
  #sleep: (ms: number) => Promise<void>;
  #random: () => number;
  #now: () => number;

  /**
   * Opens a wheelhouse at `dir`; nothing touches the disk until the first call.
   *
   * @param dir The wheelhouse directory (created when needed).
   * @param options Injected effects.
   */
  constructor(dir: string, options: WheelhouseStoreOptions = {}) {
    this.#dir = dir;
    this.#fs = options.fs ?? nodeFs;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** The wheelhouse directory. */
  get dir(): string {
    return this.#dir;
  }

  #atomic(): { fs: FileSystem; sleep: (ms: number) => Promise<void>; random: () => number } {
    return { fs: this.#fs, sleep: this.#sleep, random: this.#random };
  }

  /** The manifest on disk, or undefined when absent or unreadable. */
  async readManifest(): Promise<Manifest | undefined> {
    try {
      return parseManifest(
        new TextDecoder().decode(await this.#fs.readFile(join(this.#dir, MANIFEST))),
      );
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new CacheError("io", `Cannot read ${join(this.#dir, MANIFEST)}: ${String(e)}`, {
        cause: e,
      });
    }
  }

  /**
   * The archives present in the directory, with their sha256: from the manifest when the file's
   * stat fingerprint (size, mtime, ctime, inode) is the one recorded when it was written or last
   * verified, or the one `cache` recorded for the entry the file is a hard link of (a link of
   * that entry into another folder changes the file's ctime, not its bytes), else (and with
   * `verify`, always) by hashing it. Same-size damage, even under a restored mtime, is hashed and
   * seen.
   *
   * @param options `verify: true` hashes every file; `cache`, the cache the folder links from.
   */
  async scan(
    options: { verify?: boolean; cache?: LocalDirStore } = {},
  ): Promise<Map<string, PresentFile>> {
    const manifest = new Map((await this.readManifest())?.files.map((f) => [f.filename, f]) ?? []);
    const state = await this.#readState();
    let names: string[];
    try {
      names = await this.#fs.readdir(this.#dir);
    } catch (e) {
      if (isNotFound(e)) return new Map();
      throw new CacheError("io", `Cannot list ${this.#dir}: ${String(e)}`, { cause: e });
    }
    const present = new Map<string, PresentFile>();
    for (const name of names) {
      if (name.startsWith(".") || !ARCHIVE.test(name)) continue;
      const path = join(this.#dir, name);
      const st = await this.#fs.stat(path).catch(() => undefined);
      if (!st?.isFile) continue;
      const listed = manifest.get(name);
      if (
        !options.verify && listed !== undefined && listed.size === st.size &&
        (fingerprintHolds(state.get(name), st) ||
          await options.cache?.vouches(listed.sha256, st))
      ) {
        present.set(name, { size: st.size, sha256: listed.sha256 });
      } else {
        present.set(name, await hashStream(this.#fs.read(path)));
      }
    }
    return present;
  }

  /** Files an earlier run wrote and left in place when they were no longer wanted. */
  async #readStale(): Promise<string[]> {
    try {
      const raw = JSON.parse(
        new TextDecoder().decode(await this.#fs.readFile(join(this.#dir, STATE))),
      ) as { version?: unknown; stale?: unknown };
      if (raw.version !== 1 || !Array.isArray(raw.stale)) return [];
      return raw.stale.filter((n): n is string => typeof n === "string");
    } catch {
      return [];
    }
  }

  async #readState(): Promise<Map<string, string>> {
    try {
      const raw: unknown = JSON.parse(
        new TextDecoder().decode(await this.#fs.readFile(join(this.#dir, STATE))),
      );
      const files = (raw as { version?: unknown; files?: unknown }).files;
      if ((raw as { version?: unknown }).version !== 1 || typeof files !== "object" || !files) {
        return new Map();
      }
      return new Map(
        Object.entries(files).filter((e): e is [string, string] => typeof e[1] === "string"),
      );
    } catch {
      // Absent or unreadable: every file is hashed, which is always safe.
      return new Map();
    }
  }

  /**
   * Records the fingerprint of every manifest file as it is now, right after it was written or
   * verified. Advisory: a lost or stale state only leads to hashing.
   */
  async #writeState(
    entries: readonly ManifestEntry[],
    stale: readonly string[] = [],
    metadata?: readonly string[],
  ): Promise<void> {
    metadata ??= await this.#readMetadataNames();
    const files: Record<string, string> = {};
    for (const e of entries) {
      const st = await this.#fs.stat(join(this.#dir, e.filename)).catch(() => undefined);
      const fingerprint = st?.isFile ? recordableFingerprint(st, this.#now()) : undefined;
      if (fingerprint !== undefined) files[e.filename] = fingerprint;
    }
    await this.#publish(
      join(this.#dir, STATE),
      new TextEncoder().encode(JSON.stringify({ version: 1, files, stale, metadata })),
      { ...this.#atomic(), sync: false },
    ).catch(() => {});
  }

  /**
   * The files and folders this store writes that are in the directory but were not written by
   * wheelhouse (a user's own `index.html`, `manifest.json` or, with `simple`, `simple/`): a
   * caller refuses to run rather than overwrite them.
   *
   * @param options `simple`: whether the `simple/` tree will be written.
   * @returns Their names, relative to the directory.
   */
  async foreignFiles(options: { simple?: boolean } = {}): Promise<string[]> {
    const out: string[] = [];
    const text = async (name: string): Promise<string | undefined> => {
      try {
        return new TextDecoder().decode(await this.#fs.readFile(join(this.#dir, name)));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        // A folder or an unreadable file by a generated name is not ours to replace.
        return "";
      }
    };
    const manifestText = await text(MANIFEST);
    const manifest = manifestText === undefined ? undefined : parseManifest(manifestText);
    const ours = manifest?.generator === "wheelhouse";
    if (manifestText !== undefined && !ours) out.push(MANIFEST);
    const ownPage = (html: string | undefined, title: string): boolean =>
      html === undefined || html.includes(GENERATOR_META) ||
      // Pages of earlier versions carry no mark: they are ours when the manifest is.
      (ours && html.startsWith("<!DOCTYPE html>") && html.includes(`<title>${title}</title>`));
    if (!ownPage(await text(INDEX), "Links")) out.push(INDEX);
    if (options.simple) {
      const st = await this.#fs.stat(join(this.#dir, SIMPLE)).catch(() => undefined);
      if (
        st !== undefined &&
        (!st.isDirectory || !ownPage(await text(`${SIMPLE}/index.html`), "Simple index") ||
          (await text(`${SIMPLE}/index.html`)) === undefined)
      ) {
        out.push(`${SIMPLE}/`);
      }
      // A `<wheel>.metadata` this store did not write is someone's own: never replaced.
      const written = new Set(await this.#readMetadataNames());
      const names = await this.#fs.readdir(this.#dir).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (name.endsWith(`.whl${METADATA_SUFFIX}`) && !written.has(name)) out.push(name);
      }
    }
    return out;
  }

  /**
   * Makes the directory hold exactly the wanted files (plus untouched extras), then writes the
   * manifest, `index.html` and, on request, the `simple/` tree. Every file is published by rename,
   * so pip never sees half a file.
   *
   * @param wanted The files.
   * @param options Where files come from, and what to write.
   * @throws {CacheError} On conflicts, missing sources (no cache and no fetcher) or I/O failures.
   * @throws {FetchError} When a download fails.
   */
  async sync(wanted: readonly WantedFile[], options: SyncOptions = {}): Promise<SyncReport> {
    await this.#fs.mkdir(this.#dir, { recursive: true });
    const present = options.present ??
      await this.scan(
        options.verify ? { verify: true } : options.cache ? { cache: options.cache } : {},
      );
    const cached = new Set<string>();
    if (options.cache) {
      for (const file of wanted) {
        if (await options.cache.has(file.sha256.toLowerCase())) {
          cached.add(file.sha256.toLowerCase());
        }
      }
    }
    const plan = planWheelhouse(wanted, { present, cached });
    const report: SyncReport = {
      kept: [],
      linked: [],
      copied: [],
      fetched: [],
      replaced: [],
      removed: [],
      unwanted: [],
      manifest: { version: 1, generator: "wheelhouse", files: [] },
    };
    const entries: ManifestEntry[] = new Array(plan.actions.length);
    const apply = async (action: WheelhouseAction, index: number): Promise<void> => {
      options.signal?.throwIfAborted();
      const { file } = action;
      const target = join(this.#dir, file.filename);
      // Known from the cache entry a file is linked or copied from; else read from the result.
      let size: number | undefined;
      if (action.kind === "keep") {
        report.kept.push(file.filename);
      } else {
        let source: string | undefined;
        if (action.kind === "link" && options.cache) {
          // Entries untouched since they were published are trusted; others are hashed.
          const hit = await options.cache.get(file.sha256, { verify: "changed" });
          if (hit.kind === "hit") {
            source = hit.path;
            size = hit.info.size;
          }
        }
        if (source === undefined && options.cache && options.fetcher) {
          const got = await options.cache.obtain(options.fetcher, {
            url: file.url,
            sha256: file.sha256,
            filename: file.filename,
            ...(file.size === undefined ? {} : { size: file.size }),
            ...(file.project === undefined ? {} : { project: file.project }),
          }, options.signal === undefined ? {} : { signal: options.signal });
          source = got.path;
          if (got.fetched) report.fetched.push(file.filename);
        }
        if (source !== undefined) {
          const how = await this.#linkIn(source, target, action.replace);
          // The link changed the cache entry's ctime, not its bytes: keep it trusted.
          if (how === "link" && options.cache) {
            await options.cache.linked(file.sha256).catch(() => {});
          }
          if (!report.fetched.includes(file.filename)) {
            (how === "link" ? report.linked : report.copied).push(file.filename);
          }
        } else if (options.fetcher) {
          await options.fetcher.fetch({
            url: file.url,
            destination: target,
            sha256: file.sha256,
            ...(file.size === undefined ? {} : { size: file.size }),
          }, options.signal === undefined ? {} : { signal: options.signal });
          report.fetched.push(file.filename);
        } else {
          throw new CacheError(
            "not-found",
            `Cannot add "${file.filename}" to the wheelhouse: the cache does not hold sha256 ${file.sha256} and no fetcher was given`,
          );
        }
        if (action.replace) report.replaced.push(file.filename);
      }
      size = action.kind === "keep"
        ? present.get(file.filename)!.size
        : size ?? (await this.#fs.stat(target)).size;
      const entry: ManifestEntry = {
        filename: file.filename,
        project: projectOf(file),
        sha256: file.sha256,
        size,
        url: redactUrl(file.url),
        targets: [...(file.targets ?? [])].sort(),
      };
      if (file.requiresPython !== undefined) entry.requiresPython = file.requiresPython;
      if (file.buildDependencyOf !== undefined && file.buildDependencyOf.length > 0) {
        entry.buildDependencyOf = [...file.buildDependencyOf].sort();
      }
      entries[index] = entry;
    };
    // Transfers are bounded by the fetcher's own limits; this bounds open files for links.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.actions.length) {
        const index = next++;
        try {
          await apply(plan.actions[index]!, index);
        } catch (e) {
          next = plan.actions.length; // The first failure stops the other workers.
          throw e;
        }
      }
    };
    // Every worker is waited for, failed or not: one that is still copying when another fails
    // removes its own temp file before the error goes up (a full disk left `.tmp-*` files when
    // the run ended on the first failure).
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(16, plan.actions.length) }, worker),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    report.manifest.files = entries;
    for (
      const list of [report.kept, report.linked, report.copied, report.fetched, report.replaced]
    ) list.sort();
    // Files an earlier run wrote that this one does not want: removed with `prune`, else left
    // and reported (a narrower re-run must not drop them from the pages without a word).
    // Files the manifest never listed are the user's and are neither.
    // Files left by a run before this one stay ours: they are in the state's `stale` list.
    const previous = new Set([
      ...((await this.readManifest())?.files.map((f) => f.filename) ?? []),
      ...(await this.#readStale()),
    ]);
    for (const name of plan.extra) {
      if (!previous.has(name)) continue;
      if (options.prune) {
        await this.#fs.rm(join(this.#dir, name));
        report.removed.push(name);
      } else report.unwanted.push(name);
    }
    const metadata = await this.#writeIndexes(
      report.manifest,
      options.simple ?? false,
      options.coreMetadata,
    );
    await this.#writeState(report.manifest.files, report.unwanted, metadata);
    await this.#fs.rm(join(this.#dir, PARTIAL), { recursive: true });
    return report;
  }

  /**
   * Links (else copies) a cache entry into the folder. A new name is linked in place: a hard
   * link appears whole or not at all, so no temporary name and rename are needed. A file in the
   * way (`replace`, or one that appeared since the scan) is replaced through a temporary link.
   */
  async #linkIn(source: string, target: string, replace: boolean): Promise<"link" | "copy"> {
    if (!replace) {
      try {
        await this.#fs.link(source, target);
        return "link";
      } catch { /* in the way, or no hard links here: the general path below says why */ }
    }
    const temp = tempName(target, this.#random);
    let how: "link" | "copy" = "link";
    try {
      try {
        await this.#fs.link(source, temp);
      } catch (e) {
        // EXDEV: another file system; EPERM/ENOTSUP/EMLINK: no hard links here (FAT, some mounts).
        if (!["EXDEV", "EPERM", "ENOTSUP", "EMLINK", "EOPNOTSUPP"].includes(errorCode(e) ?? "")) {
          throw e;
        }
        how = "copy";
        await this.#fs.copyFile(source, temp);
      }
      await renameWithRetry(temp, target, this.#atomic());
      return how;
    } catch (e) {
      await this.#fs.rm(temp).catch(() => {});
      if (e instanceof CacheError) throw e;
      const why = errorCode(e) === "ENOSPC" ? "the disk is full" : String(e);
      throw new CacheError("io", `Cannot add ${basename(target)} to ${this.#dir}: ${why}`, {
        cause: e,
      });
    }
  }

  /**
   * Publishes a text file (e.g. `requirements.txt`) in the folder atomically, with the same
   * rename retries as every other file here, so readers never see half of it.
   *
   * @param name A plain file name in the folder.
   * @param text The contents.
   * @throws {CacheError} `conflict` for a name that is not a plain file name, `rename-failed`/`io`.
   */
  async writeFile(name: string, text: string): Promise<void> {
    checkFilename(name);
    await this.#fs.mkdir(this.#dir, { recursive: true });
    await this.#publish(join(this.#dir, name), new TextEncoder().encode(text), this.#atomic());
  }

  /**
   * Publishes `bytes` at `path` atomically, unless the file there holds exactly these bytes
   * already: a run that changes nothing rewrites (and flushes) none of the folder's side files.
   */
  async #publish(path: string, bytes: Uint8Array, options: AtomicOptions): Promise<void> {
    const current = await this.#fs.readFile(path).catch(() => undefined);
    if (current !== undefined && sameBytes(current, bytes)) return;
    await writeAtomic(path, bytes, options);
  }

  async #writeIndexes(
    manifest: Manifest,
    simple: boolean,
    coreMetadata: SyncOptions["coreMetadata"],
  ): Promise<string[]> {
    const enc = new TextEncoder();
    const write = (name: string, text: string | Uint8Array): Promise<unknown> =>
      this.#publish(
        join(this.#dir, ...name.split("/")),
        typeof text === "string" ? enc.encode(text) : text,
        this.#atomic(),
      );
    await write(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
    await write(INDEX, renderFindLinksPage(manifest.files));
    const before = await this.#readMetadataNames();
    if (!simple) return before;
    // PEP 658: each wheel's METADATA beside it, as `<wheel>.metadata`, so that pip resolving
    // from the static tree reads a few KiB per candidate instead of whole wheels.
    const hashes = new Map<string, string>();
    const written: string[] = [];
    for (const e of manifest.files) {
      if (!e.filename.toLowerCase().endsWith(".whl")) continue;
      const bytes = coreMetadata === undefined
        ? undefined
        : await coreMetadata(join(this.#dir, e.filename), e).catch(() => undefined);
      if (bytes === undefined) continue;
      await write(`${e.filename}${METADATA_SUFFIX}`, bytes);
      hashes.set(e.filename, createHash("sha256").update(bytes).digest("hex"));
      written.push(`${e.filename}${METADATA_SUFFIX}`);
    }
    const now = new Set(written);
    for (const name of before) {
      if (!now.has(name)) await this.#fs.rm(join(this.#dir, name));
    }
    const tree = renderSimpleTree(manifest.files, hashes);
    // Pages of projects no longer present must not linger.
    await this.#fs.rm(join(this.#dir, SIMPLE), { recursive: true });
    for (const [name, text] of tree) await write(name, text);
    return written.sort();
  }

  /** The `.metadata` files an earlier run wrote (they are ours to replace or remove). */
  async #readMetadataNames(): Promise<string[]> {
    try {
      const raw = JSON.parse(
        new TextDecoder().decode(await this.#fs.readFile(join(this.#dir, STATE))),
      ) as { version?: unknown; metadata?: unknown };
      if (raw.version !== 1 || !Array.isArray(raw.metadata)) return [];
      return raw.metadata.filter((n): n is string =>
        typeof n === "string" && n.endsWith(METADATA_SUFFIX) && n === basename(n)
      );
    } catch {
      return [];
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
