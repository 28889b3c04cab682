/**
 * {@linkcode WheelhouseSource}: the {@linkcode IndexSource} over a folder that `wheelhouse
 * download` wrote. Only the files its `manifest.json` lists are offered, with the manifest's
 * sha256 and `Requires-Python`; a listed file that is missing, has another size, or is a symlink
 * that leaves the folder is left out (with a warning) and never opened.
 *
 * @module
 */

import { join, sep } from "node:path";
import { parseDistFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";
import { type ManifestEntry, parseManifest } from "../cache/wheelhouse_store.ts";
import { type FileIndex, indexFiles } from "./_file_index.ts";
import { mapLimit } from "./_map_limit.ts";
import { nodeServeFs } from "./_node_fs.ts";
import { metadataOfHandle, streamHandle } from "./_file_stream.ts";
import {
  type ByteRange,
  type CoreMetadataFile,
  type FileLookup,
  type IndexSource,
  type OpenOutcome,
  type ProjectList,
  type ProjectLookup,
  ServeError,
  type ServeFileHandle,
  type ServeFileSystem,
  type SourceFile,
} from "./types.ts";

/** Options of {@linkcode WheelhouseSource.open}. */
export interface WheelhouseSourceOptions {
  /** File system; the real one (over `node:fs/promises`) by default. */
  fs?: ServeFileSystem;
  /** The clock, ms since the epoch, for `recheckMs`. */
  now?: () => number;
  /**
   * How often to look at `manifest.json` again (one `stat`), so a folder that `wheelhouse
   * download` refreshes is served as it is now; default 1000 ms. `Infinity` never looks again.
   */
  recheckMs?: number;
  /** Told about each listed file that is left out, and about a manifest that cannot be re-read. */
  onWarning?: (message: string) => void;
  /** The largest METADATA read from a wheel; default 16 MiB. */
  maxMetadataBytes?: number;
}

interface State extends FileIndex {
  /** `mtime:size` of the manifest this state was read from. */
  manifestKey: string;
  revision: string;
  lastModifiedMs: number;
}

const MANIFEST = "manifest.json";
const SHA256 = /^[0-9a-f]{64}$/;
const DEFAULT_MAX_METADATA = 16 * 1024 * 1024;

function code(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.startsWith(".") &&
    // Control characters are exactly what must never reach a file name.
    // deno-lint-ignore no-control-regex
    !/[/\\\u0000-\u001f\u007f]/.test(name);
}

/** Whether the canonical path `real` is inside the canonical folder `root`. */
function isInside(root: string, real: string): boolean {
  return real.startsWith(root.endsWith(sep) ? root : root + sep);
}

function projectOf(entry: ManifestEntry): string | undefined {
  if (entry.project !== "") return normalizeName(entry.project);
  try {
    return parseDistFilename(entry.filename).normalizedName;
  } catch {
    return undefined;
  }
}

/**
 * A wheelhouse folder as an index source.
 *
 * @example
 * ```ts
 * import { WheelhouseSource } from "./wheelhouse_source.ts";
 * import { createHash } from "node:crypto";
 * const dir = await Deno.makeTempDir();
 * const bytes = new TextEncoder().encode("an sdist");
 * await Deno.writeFile(`${dir}/Demo_Pkg-1.0.tar.gz`, bytes);
 * await Deno.writeFile(`${dir}/other-2.0.tar.gz`, bytes); // not in the manifest: never served
 * const sha256 = createHash("sha256").update(bytes).digest("hex");
 * await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({
 *   version: 1, generator: "wheelhouse", files: [{
 *     filename: "Demo_Pkg-1.0.tar.gz", project: "demo-pkg", sha256, size: bytes.length,
 *     url: "", targets: [], requiresPython: ">=3.9",
 *   }],
 * }));
 * const source = await WheelhouseSource.open(dir);
 * if ((await source.projects()).projects.join() !== "demo-pkg") throw new Error();
 * const found = await source.project("Demo.Pkg");
 * if (found.kind !== "found" || found.files[0]?.requiresPython !== ">=3.9") throw new Error();
 * if ((await source.file("other-2.0.tar.gz")).kind !== "not-found") throw new Error();
 * const opened = await source.open(found.files[0], { start: 3, end: 8 });
 * if (opened.kind !== "opened") throw new Error();
 * if (await new Response(opened.body).text() !== "sdist") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class WheelhouseSource implements IndexSource {
  /** The folder, as given. */
  readonly description: string;
  #dir: string;
  #root: string;
  #fs: ServeFileSystem;
  #now: () => number;
  #recheckMs: number;
  #warn: (message: string) => void;
  #maxMetadata: number;
  #state: State;
  #checkedAt: number;
  #loads = 1;
  #reloading: Promise<void> | undefined;
  #metadata = new Map<string, Promise<CoreMetadataFile | undefined>>();

  private constructor(
    dir: string,
    root: string,
    state: State,
    options: WheelhouseSourceOptions,
  ) {
    this.description = dir;
    this.#dir = dir;
    this.#root = root;
    this.#state = state;
    this.#fs = options.fs ?? nodeServeFs;
    this.#now = options.now ?? Date.now;
    this.#recheckMs = options.recheckMs ?? 1000;
    this.#warn = options.onWarning ?? (() => {});
    this.#maxMetadata = options.maxMetadataBytes ?? DEFAULT_MAX_METADATA;
    this.#checkedAt = this.#now();
  }

  /**
   * Reads a wheelhouse folder: its manifest, and a `stat` of every file it lists.
   *
   * @param dir The folder.
   * @param options File system, clock, re-check interval, warnings.
   * @returns The source.
   * @throws {ServeError} `no-folder`, `not-a-folder`, `no-manifest` or `unreadable-manifest`.
   */
  static async open(dir: string, options: WheelhouseSourceOptions = {}): Promise<WheelhouseSource> {
    const fs = options.fs ?? nodeServeFs;
    let root: string;
    try {
      if (!(await fs.stat(dir)).isDirectory) {
        throw new ServeError("not-a-folder", `${dir} is not a folder`);
      }
      root = await fs.realpath(dir);
    } catch (e) {
      if (e instanceof ServeError) throw e;
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") {
        throw new ServeError("no-folder", `${dir} does not exist`, { cause: e });
      }
      throw new ServeError("no-folder", `Cannot read ${dir}: ${describe(e)}`, { cause: e });
    }
    const state = await load(dir, root, fs, options.onWarning ?? (() => {}), 1);
    return new WheelhouseSource(dir, root, state, options);
  }

  /** How many files are offered now. */
  get fileCount(): number {
    return this.#state.byName.size;
  }

  /**
   * Lists the projects.
   *
   * @returns The normalised names, sorted, with the revision.
   */
  async projects(): Promise<ProjectList> {
    const s = await this.#current();
    return { projects: s.projects, revision: s.revision, lastModifiedMs: s.lastModifiedMs };
  }

  /**
   * The files of a project.
   *
   * @param name The name in any spelling.
   * @returns `found` with the files sorted by name, or `not-found`.
   */
  async project(name: string): Promise<ProjectLookup> {
    const s = await this.#current();
    const project = normalizeName(name);
    const files = s.byProject.get(project);
    if (files === undefined) return { kind: "not-found", project };
    return {
      kind: "found",
      project,
      files,
      revision: s.revision,
      lastModifiedMs: s.lastModifiedMs,
    };
  }

  /**
   * Finds a listed file by its exact name.
   *
   * @param filename The file name.
   * @returns `found` or `not-found`.
   */
  async file(filename: string): Promise<FileLookup> {
    const file = (await this.#current()).byName.get(filename);
    return file === undefined ? { kind: "not-found" } : { kind: "found", file };
  }

  /**
   * Opens a listed file, after checking it is still inside the folder, a regular file, and of
   * the listed size.
   *
   * @param file A file from this source.
   * @param range The bytes wanted; the whole file by default.
   * @returns `opened` with a stream of the bytes, or `gone` with the reason.
   */
  async open(file: SourceFile, range?: ByteRange): Promise<OpenOutcome> {
    const opened = await this.#openChecked(file);
    if ("reason" in opened) return { kind: "gone", reason: opened.reason };
    return { kind: "opened", body: streamHandle(opened.handle, file, range) };
  }

  /**
   * The core metadata of a wheel: its `.dist-info/METADATA`, read once from the central
   * directory and then kept in memory (per file name and sha256).
   *
   * @param file A file from this source.
   * @returns The bytes and their sha256, or undefined for sdists and wheels that cannot be read.
   */
  metadata(file: SourceFile): Promise<CoreMetadataFile | undefined> {
    if (!file.hasMetadata) return Promise.resolve(undefined);
    const key = `${file.filename}\0${file.sha256}`;
    let pending = this.#metadata.get(key);
    if (pending === undefined) {
      pending = this.#readMetadata(file);
      this.#metadata.set(key, pending);
    }
    return pending;
  }

  async #readMetadata(file: SourceFile): Promise<CoreMetadataFile | undefined> {
    const opened = await this.#openChecked(file);
    if ("reason" in opened) {
      // Not kept: the file may come back with the next manifest.
      this.#metadata.delete(`${file.filename}\0${file.sha256}`);
      return undefined;
    }
    const handle = opened.handle;
    try {
      const found = await metadataOfHandle(handle, file, this.#maxMetadata);
      if (found === undefined) {
        this.#warn(`${file.filename} has no .dist-info/METADATA: served without a metadata file`);
        return undefined;
      }
      return found;
    } catch (e) {
      this.#warn(`Cannot read the METADATA of ${file.filename}: ${describe(e)}`);
      return undefined;
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** Opens a listed file if it still is what the listing says, inside the folder. */
  async #openChecked(file: SourceFile): Promise<{ handle: ServeFileHandle } | { reason: string }> {
    let real: string;
    try {
      real = await this.#fs.realpath(join(this.#dir, file.filename));
    } catch (e) {
      return { reason: `cannot find it: ${describe(e)}` };
    }
    if (!isInside(this.#root, real)) return { reason: "it leads outside the folder" };
    let handle: ServeFileHandle;
    try {
      handle = await this.#fs.open(real);
    } catch (e) {
      return { reason: `cannot open it: ${describe(e)}` };
    }
    try {
      const st = await handle.stat();
      if (!st.isFile) throw new Error("not a regular file");
      if (st.size !== file.size) throw new Error(`it has ${st.size} bytes, not ${file.size}`);
      return { handle };
    } catch (e) {
      await handle.close().catch(() => {});
      return { reason: describe(e) };
    }
  }

  async #current(): Promise<State> {
    if (this.#now() - this.#checkedAt >= this.#recheckMs) {
      this.#reloading ??= this.#recheck().finally(() => {
        this.#reloading = undefined;
      });
      await this.#reloading;
    }
    return this.#state;
  }

  async #recheck(): Promise<void> {
    this.#checkedAt = this.#now();
    let key: string;
    try {
      key = manifestKey(await this.#fs.stat(join(this.#dir, MANIFEST)));
    } catch (e) {
      this.#warn(
        `Cannot read ${join(this.#dir, MANIFEST)}: ${describe(e)}; serving what it listed`,
      );
      return;
    }
    if (key === this.#state.manifestKey) return;
    try {
      this.#state = await load(this.#dir, this.#root, this.#fs, this.#warn, ++this.#loads);
    } catch (e) {
      this.#warn(`${describe(e)}; serving what it listed before`);
      return;
    }
    for (const k of this.#metadata.keys()) {
      const [name, sha256] = k.split("\0");
      if (this.#state.byName.get(name!)?.sha256 !== sha256) this.#metadata.delete(k);
    }
  }
}

function manifestKey(st: { mtimeMs: number; size: number }): string {
  return `${st.mtimeMs}:${st.size}`;
}

async function load(
  dir: string,
  root: string,
  fs: ServeFileSystem,
  warn: (message: string) => void,
  loads: number,
): Promise<State> {
  const path = join(dir, MANIFEST);
  let text: string;
  let key: string;
  let lastModifiedMs: number;
  try {
    const st = await fs.stat(path);
    key = manifestKey(st);
    lastModifiedMs = st.mtimeMs;
    text = new TextDecoder().decode(await fs.readFile(path));
  } catch (e) {
    if (code(e) === "ENOENT") {
      throw new ServeError(
        "no-manifest",
        `${dir} has no manifest.json: not a folder wheelhouse wrote`,
        { cause: e },
      );
    }
    throw new ServeError("unreadable-manifest", `${path} cannot be read: ${describe(e)}`, {
      cause: e,
    });
  }
  const manifest = parseManifest(text);
  if (manifest === undefined) {
    throw new ServeError(
      "unreadable-manifest",
      `${path} cannot be read: not valid JSON, or not a version 1 wheelhouse manifest`,
    );
  }
  const seen = new Set<string>();
  const entries: { entry: ManifestEntry; project: string }[] = [];
  for (const entry of manifest.files) {
    if (seen.has(entry.filename)) continue;
    seen.add(entry.filename);
    const project = projectOf(entry);
    if (!isPlainName(entry.filename) || project === undefined) {
      warn(`Not serving ${JSON.stringify(entry.filename)}: not a distribution file name`);
      continue;
    }
    if (!SHA256.test(entry.sha256.toLowerCase())) {
      warn(`Not serving ${entry.filename}: the manifest gives no valid sha256`);
      continue;
    }
    entries.push({ entry, project });
  }
  const files = await mapLimit(entries, 32, async ({ entry, project }) => {
    const file = join(dir, entry.filename);
    try {
      const real = await fs.realpath(file);
      if (!isInside(root, real)) {
        warn(`Not serving ${entry.filename}: it is a symlink that leads outside ${dir}`);
        return undefined;
      }
      const st = await fs.stat(real);
      if (!st.isFile) {
        warn(`Not serving ${entry.filename}: not a regular file`);
        return undefined;
      }
      if (st.size !== entry.size) {
        warn(
          `Not serving ${entry.filename}: it has ${st.size} bytes, the manifest says ${entry.size} (run "wheelhouse verify")`,
        );
        return undefined;
      }
      const out: SourceFile = {
        filename: entry.filename,
        project,
        sha256: entry.sha256.toLowerCase(),
        size: entry.size,
        mtimeMs: st.mtimeMs,
        yanked: false,
        hasMetadata: entry.filename.toLowerCase().endsWith(".whl"),
      };
      if (entry.requiresPython !== undefined && entry.requiresPython !== "") {
        out.requiresPython = entry.requiresPython;
      }
      return out;
    } catch (e) {
      warn(`Not serving ${entry.filename}: ${code(e) === "ENOENT" ? "missing" : describe(e)}`);
      return undefined;
    }
  });
  return {
    manifestKey: key,
    revision: `${loads}:${key}`,
    lastModifiedMs,
    ...indexFiles(files.filter((f): f is SourceFile => f !== undefined)),
  };
}
