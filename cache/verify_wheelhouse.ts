/**
 * `wheelhouse verify`: re-hashes every byte of a wheelhouse folder against its `manifest.json`,
 * and against the hashes its side files state (`requirements*.txt` `--hash=sha256:` values and
 * `pylock.toml` `hashes.sha256` and `size`), and says what is damaged, missing or unknown.
 *
 * This is what runs after a folder was copied to a USB stick, so it trusts no stat data: no size
 * or mtime shortcut (the store's `.wheelhouse-state.json` is ignored), every file is streamed
 * through sha256 in full, one chunk at a time.
 *
 * @module
 */

import { basename, join, posix, relative } from "node:path";
import { nodeFs } from "../fetcher/node_fs.ts";
import { parseDistFilename } from "../pep/filename.ts";
import { normalizeName } from "../pep/name.ts";
import { parsePylock, type PylockFile } from "../pep/pylock.ts";
import { parseRequirementsFile, type RequirementLine } from "../pep/requirements_file.ts";
import type { Version } from "../pep/version.ts";
import { errorCode, hashStream, isNotFound } from "./_atomic.ts";
import { byFilename } from "./_order.ts";
import { type ManifestEntry, parseManifest } from "./wheelhouse_store.ts";

/**
 * What verification reads through: the part of the fetcher's file system it needs (the real one,
 * `nodeFs`, is one). Errors carry a Node-style `code` (`ENOENT`, `EISDIR`, `EIO`, ...).
 */
export interface VerifyFileSystem {
  /** Reads a file in chunks: how every archive is read. */
  read(path: string): AsyncIterable<Uint8Array>;
  /** Reads a whole file: only `manifest.json` and the side files. */
  readFile(path: string): Promise<Uint8Array>;
  /** Names (not paths) of the entries of a directory. */
  readdir(path: string): Promise<string[]>;
  /** What a path is; rejects with code `ENOENT` when it does not exist. */
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean }>;
}

/** Options of {@linkcode verifyWheelhouse}. */
export interface VerifyWheelhouseOptions {
  /** File system; the real one by default. Archives are only ever read with `read` (streamed). */
  fs?: VerifyFileSystem;
  /** Cancels the run: checked before each file and between chunks. */
  signal?: AbortSignal;
}

/** A file whose bytes are what the manifest says. */
export interface VerifiedOk {
  /** Discriminant. */
  status: "ok";
  /** The file name in the folder. */
  filename: string;
  /** Its lower-case hex sha256, as hashed now (and as the manifest and side files state). */
  actual: string;
  /** Its size in bytes, as read now. */
  size: number;
}

/**
 * A file that is not what `source` says: its sha256 or size differs, or it cannot be read. A side
 * file that cannot be parsed is damaged too (`filename` is the side file, `reason` says why).
 */
export interface VerifiedDamaged {
  /** Discriminant. */
  status: "damaged";
  /** The file name in the folder. */
  filename: string;
  /** The file that states the expectation: `manifest.json`, `pylock.toml`, `requirements.txt`… */
  source: string;
  /** The sha256 `source` states. */
  expected?: string;
  /** The sha256 of the bytes on disk (absent when they cannot be read). */
  actual?: string;
  /** The size `source` states, when it states one. */
  expectedSize?: number;
  /** The size of the bytes on disk (absent when they cannot be read). */
  actualSize?: number;
  /** Why there is no `actual`: the file cannot be read, or the side file cannot be parsed. */
  reason?: string;
  /** The line of `source` that states the hash (requirement files). */
  line?: number;
}

/**
 * A file that `source` lists but the folder does not hold. A requirement file names hashes, not
 * files: for one of its hashes that no file has, `filename` is the requirement as written
 * (`example-app==1.1.0`) and `line` is where it is.
 */
export interface VerifiedMissing {
  /** Discriminant. */
  status: "missing";
  /** The file name (or, for a requirement file's hash, the requirement). */
  filename: string;
  /** The file that lists it. */
  source: string;
  /** The sha256 `source` states, when it states one. */
  expected?: string;
  /** The line of `source` that names it (requirement files). */
  line?: number;
}

/** An archive (`*.whl`, `*.tar.gz`, `*.zip`) in the folder that the manifest does not list. */
export interface VerifiedUnknown {
  /** Discriminant. */
  status: "unknown";
  /** The file name in the folder. */
  filename: string;
  /** Its sha256 (absent when it cannot be read). */
  actual?: string;
  /** Its size in bytes (absent when it cannot be read). */
  size?: number;
}

/** What verification says about one file (or one side-file hash). */
export type VerifiedFile = VerifiedOk | VerifiedDamaged | VerifiedMissing | VerifiedUnknown;

/**
 * The outcome of {@linkcode verifyWheelhouse}. `verified` is a folder that was checked (`ok` when
 * every entry of `files` is `ok`); the other kinds are folders that cannot be checked at all.
 */
export type WheelhouseVerification =
  | {
    /** Discriminant. */
    kind: "verified";
    /** The folder, as given. */
    dir: string;
    /** Whether everything is right. */
    ok: boolean;
    /** The manifest's files (ok, damaged or missing), then side-file findings and unknown files. */
    files: VerifiedFile[];
    /** The side files that were read (`requirements*.txt`, `pylock.toml`), sorted. */
    sideFiles: string[];
  }
  /** The folder does not exist. */
  | { kind: "not-found"; dir: string }
  /** The path is not a folder. */
  | { kind: "not-a-folder"; dir: string }
  /** The folder has no `manifest.json`: wheelhouse did not write it. */
  | { kind: "no-manifest"; dir: string }
  /** `manifest.json` is there but is not a manifest this version can read (damaged?). */
  | { kind: "unreadable-manifest"; dir: string; reason: string };

const MANIFEST = "manifest.json";
/** What `unknown` looks for: the archives pip's find-links would pick up. */
const ARCHIVE = /\.(whl|tar\.gz|zip)$/i;
const REQUIREMENTS = /^requirements.*\.txt$/;
// PEP 751 names: `pylock.toml` or `pylock.<name>.toml`.
const PYLOCK = /^pylock(\.[^.]+)?\.toml$/;
const SHA256 = /^[0-9a-f]{64}$/;

type Actual = { sha256: string; size: number } | { error: string; notFound: boolean };

function isPlainName(name: string): boolean {
  return name !== "" && name === basename(name) && !/[\\/\0]/.test(name) && name !== "." &&
    name !== "..";
}

function describe(e: unknown): string {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Chunks of `source`, stopping with the signal's reason when it is aborted. */
async function* abortable(
  source: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    signal?.throwIfAborted();
    yield chunk;
  }
}

function versionOf(entry: ManifestEntry): { project: string; version?: Version } {
  try {
    const parsed = parseDistFilename(entry.filename, entry.project || undefined);
    return { project: entry.project || parsed.normalizedName, version: parsed.version };
  } catch {
    return { project: entry.project };
  }
}

/**
 * Re-hashes a wheelhouse folder: every file the manifest lists, every archive it does not, and
 * the hashes its side files state. Nothing is trusted from `stat` (a byte flipped under a
 * restored mtime is found); every archive is streamed, never read whole.
 *
 * Findings, in `files`: each manifest entry is `ok`, `damaged` (sha256 or size differs, or
 * unreadable) or `missing`; an archive on disk the manifest does not list is `unknown`; a
 * `pylock.toml` entry whose file differs from its `hashes.sha256`/`size` is `damaged` with that
 * side file as `source` (or `missing`); a `requirements*.txt` hash that no manifest entry (and no
 * file) has is `damaged` against the file of that requirement that it fails to match, else
 * `missing`. A side file that cannot be parsed is `damaged` with a `reason`.
 *
 * @param dir The wheelhouse folder.
 * @param options `fs` and `signal`.
 * @returns `verified` with the findings, or why the folder cannot be verified.
 * @throws {DOMException} `AbortError` (the signal's reason) when `signal` is aborted.
 * @example
 * ```ts
 * import { verifyWheelhouse } from "./verify_wheelhouse.ts";
 * import { createHash } from "node:crypto";
 * const dir = await Deno.makeTempDir();
 * const bytes = new TextEncoder().encode("not really a wheel");
 * await Deno.writeFile(`${dir}/a-1.0-py3-none-any.whl`, bytes);
 * const sha256 = createHash("sha256").update(bytes).digest("hex");
 * await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({
 *   version: 1, generator: "wheelhouse",
 *   files: [{ filename: "a-1.0-py3-none-any.whl", project: "a", sha256, size: bytes.length, url: "", targets: [] }],
 * }));
 * const result = await verifyWheelhouse(dir);
 * if (result.kind !== "verified" || !result.ok || result.files[0]?.status !== "ok") throw new Error();
 * await Deno.writeFile(`${dir}/b-1.0-py3-none-any.whl`, bytes);
 * const again = await verifyWheelhouse(dir);
 * if (again.kind !== "verified" || again.ok || again.files[1]?.status !== "unknown") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyWheelhouse(
  dir: string,
  options: VerifyWheelhouseOptions = {},
): Promise<WheelhouseVerification> {
  const fs = options.fs ?? nodeFs;
  const signal = options.signal;
  try {
    if (!(await fs.stat(dir)).isDirectory) return { kind: "not-a-folder", dir };
  } catch (e) {
    if (isNotFound(e)) return { kind: "not-found", dir };
    throw e;
  }
  let manifestText: string;
  try {
    manifestText = new TextDecoder().decode(await fs.readFile(join(dir, MANIFEST)));
  } catch (e) {
    if (isNotFound(e)) return { kind: "no-manifest", dir };
    return { kind: "unreadable-manifest", dir, reason: describe(e) };
  }
  const manifest = parseManifest(manifestText);
  if (manifest === undefined) {
    return {
      kind: "unreadable-manifest",
      dir,
      reason: "not valid JSON, or not a version 1 wheelhouse manifest",
    };
  }
  const names = (await fs.readdir(dir)).sort();
  const onDisk = new Set(names);

  const actuals = new Map<string, Actual>();
  const hash = async (name: string): Promise<Actual> => {
    const known = actuals.get(name);
    if (known !== undefined) return known;
    signal?.throwIfAborted();
    let actual: Actual;
    try {
      actual = await hashStream(abortable(fs.read(join(dir, name)), signal));
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      actual = { error: describe(e), notFound: isNotFound(e) };
    }
    actuals.set(name, actual);
    return actual;
  };

  const files: VerifiedFile[] = [];
  const byName = new Map<string, ManifestEntry>();
  for (const entry of [...manifest.files].sort(byFilename)) {
    if (byName.has(entry.filename)) continue;
    byName.set(entry.filename, entry);
    const expected = entry.sha256.toLowerCase();
    // A name with a path in it is not a file of this flat folder; never read outside it.
    if (!isPlainName(entry.filename)) {
      files.push({ status: "missing", filename: entry.filename, source: MANIFEST, expected });
      continue;
    }
    const actual = await hash(entry.filename);
    if ("error" in actual) {
      files.push(
        actual.notFound
          ? { status: "missing", filename: entry.filename, source: MANIFEST, expected }
          : {
            status: "damaged",
            filename: entry.filename,
            source: MANIFEST,
            expected,
            expectedSize: entry.size,
            reason: `cannot read it: ${actual.error}`,
          },
      );
    } else if (actual.sha256 !== expected || actual.size !== entry.size) {
      files.push({
        status: "damaged",
        filename: entry.filename,
        source: MANIFEST,
        expected,
        actual: actual.sha256,
        expectedSize: entry.size,
        actualSize: actual.size,
      });
    } else {
      files.push({
        status: "ok",
        filename: entry.filename,
        actual: actual.sha256,
        size: actual.size,
      });
    }
  }

  const sideFiles = names.filter((n) => REQUIREMENTS.test(n) || PYLOCK.test(n));
  for (const side of sideFiles) {
    signal?.throwIfAborted();
    const found = PYLOCK.test(side)
      ? await checkPylock(side, { dir, fs, byName, onDisk, hash })
      : await checkRequirements(side, { dir, fs, byName, hash });
    files.push(...found);
  }

  for (const name of names) {
    if (byName.has(name) || name.startsWith(".") || !ARCHIVE.test(name)) continue;
    const stat = await fs.stat(join(dir, name)).catch(() => undefined);
    if (stat !== undefined && !stat.isFile) continue;
    const actual = await hash(name);
    files.push(
      "error" in actual
        ? { status: "unknown", filename: name }
        : { status: "unknown", filename: name, actual: actual.sha256, size: actual.size },
    );
  }
  return { kind: "verified", dir, ok: files.every((f) => f.status === "ok"), files, sideFiles };
}

interface SideContext {
  dir: string;
  fs: VerifyFileSystem;
  byName: ReadonlyMap<string, ManifestEntry>;
  hash: (name: string) => Promise<Actual>;
}

/** The name in the folder that a pylock file entry points at, when it is a file of the folder. */
function pylockName(file: PylockFile): string | undefined {
  if (file.path === undefined) return isPlainName(file.filename) ? file.filename : undefined;
  // PEP 751: `path` is relative to the lock's folder; only `./name` (or `name`) is this folder.
  const normal = posix.normalize(file.path.replaceAll("\\", "/"));
  return isPlainName(normal) ? normal : undefined;
}

async function checkPylock(
  side: string,
  context: SideContext & { onDisk: ReadonlySet<string> },
): Promise<VerifiedFile[]> {
  const { dir, fs, byName, onDisk, hash } = context;
  let lock;
  try {
    lock = parsePylock(new TextDecoder().decode(await fs.readFile(join(dir, side))), {
      path: side,
    });
  } catch (e) {
    return [{ status: "damaged", filename: side, source: side, reason: describe(e) }];
  }
  const out: VerifiedFile[] = [];
  const seen = new Set<string>();
  for (const pkg of lock.packages) {
    const entries = [
      ...(pkg.archive ? [pkg.archive] : []),
      ...(pkg.sdist ? [pkg.sdist] : []),
      ...pkg.wheels,
    ];
    for (const file of entries) {
      const name = pylockName(file);
      if (name === undefined || seen.has(name)) continue;
      seen.add(name);
      const expected = file.hashes["sha256"]?.toLowerCase();
      const listed = byName.get(name);
      // The same expectation as the manifest's is already checked (and reported) once.
      if (
        listed !== undefined && expected === listed.sha256.toLowerCase() &&
        (file.size === undefined || file.size === listed.size)
      ) continue;
      if (!onDisk.has(name)) {
        // A manifest entry's absence is already reported; a file only the lock names is not.
        if (listed === undefined) {
          out.push({
            status: "missing",
            filename: name,
            source: side,
            ...(expected !== undefined ? { expected } : {}),
          });
        }
        continue;
      }
      const actual = await hash(name);
      if ("error" in actual) continue; // reported as the manifest's damage or an unknown file
      const hashDiffers = expected !== undefined && actual.sha256 !== expected;
      const sizeDiffers = file.size !== undefined && actual.size !== file.size;
      if (!hashDiffers && !sizeDiffers) continue;
      out.push({
        status: "damaged",
        filename: name,
        source: side,
        ...(expected !== undefined ? { expected } : {}),
        actual: actual.sha256,
        ...(file.size !== undefined ? { expectedSize: file.size } : {}),
        actualSize: actual.size,
      });
    }
  }
  return out;
}

async function checkRequirements(side: string, context: SideContext): Promise<VerifiedFile[]> {
  const { dir, fs, byName, hash } = context;
  let parsed;
  try {
    parsed = await parseRequirementsFile(join(dir, side), {
      reader: { readFile: async (p) => new TextDecoder().decode(await fs.readFile(p)) },
      env: {},
    });
  } catch (e) {
    return [{ status: "damaged", filename: side, source: side, reason: describe(e) }];
  }
  // What the folder holds: the manifest's hashes, and what its files hash to now (when the
  // manifest is the damaged one, the side file agreeing with the bytes is right).
  const known = new Set<string>();
  for (const entry of byName.values()) {
    known.add(entry.sha256.toLowerCase());
    const actual = isPlainName(entry.filename) ? await hash(entry.filename) : undefined;
    if (actual !== undefined && !("error" in actual)) known.add(actual.sha256);
  }
  const out: VerifiedFile[] = [];
  for (const line of [...parsed.requirements, ...parsed.constraints]) {
    const hashes = sha256sOf(line);
    const strays = hashes.filter((h) => !known.has(h)).sort();
    if (strays.length === 0) continue;
    // The files of this requirement that none of its hashes match: what each stray hash was
    // meant to be, most likely (a digit changed in the side file, or the file changed).
    const name = line.requirement.normalizedName;
    const candidates = [];
    for (const entry of byName.values()) {
      const { project, version } = versionOf(entry);
      if (
        normalizeName(project) !== name || hashes.includes(entry.sha256.toLowerCase()) ||
        (version !== undefined &&
          !line.requirement.specifier.contains(version, { prereleases: true }))
      ) continue;
      // A file that is not there (the manifest says so) cannot be what the hash was meant for.
      const actual = isPlainName(entry.filename) ? await hash(entry.filename) : undefined;
      if (actual !== undefined && !("error" in actual)) candidates.push({ entry, actual });
    }
    candidates.sort((a, b) => a.entry.filename < b.entry.filename ? -1 : 1);
    // A nested `-r` file is named relative to the folder.
    const source = relative(dir, line.source.file) || side;
    for (const [i, stray] of strays.entries()) {
      const candidate = candidates[i];
      if (candidate === undefined) {
        out.push({
          status: "missing",
          filename: line.requirement.toString(),
          source,
          expected: stray,
          line: line.source.line,
        });
        continue;
      }
      out.push({
        status: "damaged",
        filename: candidate.entry.filename,
        source,
        expected: stray,
        actual: candidate.actual.sha256,
        actualSize: candidate.actual.size,
        line: line.source.line,
      });
    }
  }
  return out;
}

function sha256sOf(line: RequirementLine): string[] {
  const out: string[] = [];
  for (const h of line.hashes) {
    const [algorithm, digest] = h.split(":", 2);
    // Only sha256 can be compared with the manifest; the others are pip's business.
    if (algorithm === "sha256" && digest !== undefined && SHA256.test(digest.toLowerCase())) {
      out.push(digest.toLowerCase());
    }
  }
  return out;
}
