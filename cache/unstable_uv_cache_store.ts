/**
 * Reads wheels that an existing uv cache already holds, so they need not be downloaded again.
 *
 * uv keeps registry wheels unpacked: `wheels-v<N>/<index>/<project>/<wheel stem>.http` is a
 * pointer (a MessagePack `Archive { id, hashes, ... }` followed by uv's HTTP cache policy and a
 * little-endian u64 payload length) to the unpacked tree `archive-v<M>/<id>/`. Local wheels use
 * `.rev` pointers (plain MessagePack). This reader finds those pointers, detects the bucket
 * versions present, and rebuilds a `.whl` from the unpacked tree. A rebuilt wheel is not
 * byte-identical to the original, so its sha256 differs from the index's: it is never offered
 * where hashes are required. Writing into uv's private format is not attempted.
 *
 * @experimental The layout is uv's private business and changes between uv releases.
 * @module
 */

import { basename, join } from "node:path";
import { nodeFs } from "../fetcher/node_fs.ts";
import type { FileSystem } from "../fetcher/types.ts";
import { parseWheelFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";
import { isNotFound, writeAtomic } from "./_atomic.ts";
import { decodeMsgpack, type MsgValue } from "./_msgpack.ts";
import { CacheError } from "./types.ts";
import { byFilename } from "./_order.ts";

/** One wheel found in a uv cache. */
export interface UvWheelEntry {
  /** The wheel's file name (`idna-3.10-py3-none-any.whl`). */
  filename: string;
  /** PEP 503 normalised project name. */
  project: string;
  /** The unpacked tree. */
  archiveDir: string;
  /** The pointer file that led to it. */
  pointer: string;
  /** Bucket it was found in, e.g. `wheels-v5`. */
  bucket: string;
  /** sha256 of the original wheel, when uv recorded one. The rebuilt file does NOT have it. */
  originalSha256?: string;
}

/** Result of {@linkcode UvCacheReader.rebuildWheel}. */
export interface RebuiltWheel {
  path: string;
  /** sha256 of the rebuilt file (not the original's). */
  sha256: string;
  size: number;
  /** Always true: the bytes were rebuilt from uv's unpacked tree, not copied. */
  rebuilt: true;
  /** A sentence to show the user. */
  note: string;
}

/** Outcome of {@linkcode UvCacheReader.find}. */
export type UvLookup =
  | { kind: "found"; entry: UvWheelEntry }
  | { kind: "absent" }
  /** uv holds it, but only unpacked: a rebuilt file cannot satisfy a required hash. */
  | { kind: "unusable"; reason: "hashes-required"; entry: UvWheelEntry };

/** Bucket directories present in a uv cache, newest version first. */
export interface UvBuckets {
  wheels: string[];
  archive: string[];
}

// Fixed zip timestamps make a rebuild reproducible: the same tree always gives the same bytes.
const ZIP_MTIME = new Date(1980, 0, 2);
const SHA256 = /^[0-9a-f]{64}$/;

function versionOf(name: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}-v(\\d+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Every string in a decoded value, depth first. */
function strings(value: MsgValue, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) { for (const v of value) strings(v, out); }
  else if (value instanceof Map) { for (const [k, v] of value) strings(k, strings(v, out)); }
  return out;
}

/** sha256 digests recorded as `{algorithm: "sha256", digest}` maps or `["sha256", digest]` arrays. */
function sha256Digests(value: MsgValue, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    const [alg, digest] = value;
    if (
      value.length === 2 && typeof alg === "string" && alg.toLowerCase() === "sha256" &&
      typeof digest === "string"
    ) {
      if (SHA256.test(digest)) out.push(digest);
    }
    for (const v of value) sha256Digests(v, out);
  } else if (value instanceof Map) {
    const alg = value.get("algorithm");
    const digest = value.get("digest");
    if (
      typeof alg === "string" && alg.toLowerCase() === "sha256" && typeof digest === "string" &&
      SHA256.test(digest)
    ) {
      out.push(digest);
    }
    for (const v of value.values()) sha256Digests(v, out);
  }
  return out;
}

/**
 * Decodes a uv `.http` pointer file: the MessagePack payload comes first and its length is the
 * file's last 8 bytes (little-endian u64), whatever uv stored between them.
 *
 * @param bytes The file.
 * @returns The decoded payload, or undefined when the file is not in that shape.
 */
function decodeHttpPointer(bytes: Uint8Array): MsgValue | undefined {
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getBigUint64(bytes.length - 8, true);
  if (length <= 0n || length > BigInt(bytes.length - 8)) return undefined;
  try {
    return decodeMsgpack(bytes.subarray(0, Number(length))).value;
  } catch {
    return undefined;
  }
}

function decodePlainPointer(bytes: Uint8Array): MsgValue | undefined {
  try {
    return decodeMsgpack(bytes).value;
  } catch {
    return undefined;
  }
}

/**
 * Finds wheels in a uv cache and rebuilds `.whl` files from them.
 *
 * @experimental
 * @example
 * ```ts
 * import { UvCacheReader } from "./unstable_uv_cache_store.ts";
 * const root = await Deno.makeTempDir();
 * const reader = new UvCacheReader(root);
 * const buckets = await reader.buckets();
 * if (buckets.wheels.length !== 0 || (await reader.list()).length !== 0) throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class UvCacheReader {
  #root: string;
  #fs: FileSystem;

  /**
   * @param root uv's cache directory (`uv cache dir`).
   * @param options File system to read through.
   */
  constructor(root: string, options: { fs?: FileSystem } = {}) {
    this.#root = root;
    this.#fs = options.fs ?? nodeFs;
  }

  /** The wheel and archive bucket directories present, newest version first. */
  async buckets(): Promise<UvBuckets> {
    let names: string[];
    try {
      names = await this.#fs.readdir(this.#root);
    } catch (e) {
      if (isNotFound(e)) return { wheels: [], archive: [] };
      throw new CacheError("io", `Cannot read the uv cache at ${this.#root}: ${String(e)}`, {
        cause: e,
      });
    }
    const pick = (prefix: string): string[] =>
      names.filter((n) => versionOf(n, prefix) !== undefined)
        .sort((a, b) => versionOf(b, prefix)! - versionOf(a, prefix)!);
    return { wheels: pick("wheels"), archive: pick("archive") };
  }

  async #isDir(path: string): Promise<boolean> {
    return (await this.#fs.stat(path).catch(() => undefined))?.isDirectory ?? false;
  }

  async #pointers(dir: string, depth: number, out: string[]): Promise<void> {
    if (depth > 6) return;
    let names: string[];
    try {
      names = await this.#fs.readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (/\.(http|rev|msgpack)$/.test(name)) out.push(path);
      else if (await this.#isDir(path)) await this.#pointers(path, depth + 1, out);
    }
  }

  /** Every wheel whose unpacked tree is present, once per file name (newest bucket wins). */
  async list(): Promise<UvWheelEntry[]> {
    const { wheels, archive } = await this.buckets();
    const seen = new Map<string, UvWheelEntry>();
    for (const bucket of wheels) {
      const pointers: string[] = [];
      await this.#pointers(join(this.#root, bucket), 0, pointers);
      for (const pointer of pointers.sort()) {
        const stem = basename(pointer).replace(/\.(http|rev|msgpack)$/, "");
        const filename = `${stem}.whl`;
        if (seen.has(filename)) continue;
        let project: string;
        try {
          project = parseWheelFilename(filename).normalizedName;
        } catch {
          continue; // Pointers of source builds and metadata, not wheels.
        }
        const bytes = await this.#fs.readFile(pointer).catch(() => undefined);
        if (!bytes) continue;
        const value = pointer.endsWith(".http")
          ? decodeHttpPointer(bytes)
          : decodePlainPointer(bytes);
        if (value === undefined) continue;
        let archiveDir: string | undefined;
        for (const candidate of strings(value)) {
          if (!/^[A-Za-z0-9_-]{8,128}$/.test(candidate)) continue;
          for (const a of archive) {
            const dir = join(this.#root, a, candidate);
            if (await this.#isDir(dir)) {
              archiveDir = dir;
              break;
            }
          }
          if (archiveDir) break;
        }
        if (!archiveDir) continue;
        const entry: UvWheelEntry = { filename, project, archiveDir, pointer, bucket };
        const [sha] = sha256Digests(value);
        if (sha !== undefined) entry.originalSha256 = sha;
        seen.set(filename, entry);
      }
    }
    return [...seen.values()].sort(byFilename);
  }

  /**
   * Looks a wheel up by file name. With `requireHashes`, a hit is reported as unusable: the
   * rebuilt file cannot match the index's hash.
   *
   * @param filename The wheel file name.
   * @param options `requireHashes` when the run verifies hashes.
   */
  async find(filename: string, options: { requireHashes?: boolean } = {}): Promise<UvLookup> {
    const entry = (await this.list()).find((e) => e.filename === filename);
    if (!entry) return { kind: "absent" };
    if (options.requireHashes) return { kind: "unusable", reason: "hashes-required", entry };
    return { kind: "found", entry };
  }

  /**
   * Wheels of one project.
   *
   * @param project Any spelling of the name.
   */
  async forProject(project: string): Promise<UvWheelEntry[]> {
    const wanted = normalizeName(project);
    return (await this.list()).filter((e) => e.project === wanted);
  }

  async #files(dir: string, prefix: string, out: [string, string][]): Promise<void> {
    for (const name of await this.#fs.readdir(dir)) {
      const path = join(dir, name);
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      const st = await this.#fs.stat(path);
      if (st.isDirectory) await this.#files(path, rel, out);
      else if (st.isFile) out.push([rel, path]);
    }
  }

  /**
   * Zips the unpacked tree back into a wheel at `destination` (written atomically). The result is
   * installable, but it is not the original file: its sha256 differs.
   *
   * @param entry A wheel from {@linkcode UvCacheReader.list}.
   * @param destination Path of the `.whl` to write.
   * @throws {CacheError} With code `not-found` when the tree has no `.dist-info/RECORD`.
   */
  async rebuildWheel(entry: UvWheelEntry, destination: string): Promise<RebuiltWheel> {
    const files: [string, string][] = [];
    await this.#files(entry.archiveDir, "", files);
    const record = files.find(([rel]) => /^[^/]+\.dist-info\/RECORD$/.test(rel));
    if (!record) {
      throw new CacheError(
        "not-found",
        `Cannot rebuild ${entry.filename} from the uv cache: ${entry.archiveDir} has no .dist-info/RECORD`,
      );
    }
    // The .dist-info directory goes last, as wheel builders do (PEP 427 recommends it).
    files.sort(([a], [b]) => {
      const da = /^[^/]+\.dist-info\//.test(a) ? 1 : 0;
      const db = /^[^/]+\.dist-info\//.test(b) ? 1 : 0;
      return da - db || (a < b ? -1 : a > b ? 1 : 0);
    });
    const zipInput: Record<string, [Uint8Array, { mtime: Date }]> = {};
    for (const [rel, path] of files) {
      zipInput[rel] = [await this.#fs.readFile(path), { mtime: ZIP_MTIME }];
    }
    const { zipSync } = await import("fflate");
    const bytes = zipSync(zipInput, { level: 6 });
    const written = await writeAtomic(destination, bytes, {
      fs: this.#fs,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
    });
    return {
      path: destination,
      sha256: written.sha256,
      size: written.size,
      rebuilt: true,
      note:
        `${entry.filename} was rebuilt from uv's unpacked cache (${entry.archiveDir}); its bytes differ from the original wheel, so it is not used where hashes are required`,
    };
  }
}
