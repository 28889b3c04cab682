// Small helpers shared by the build module: hashing, environments for child processes, atomic
// publication of folders into the cache, path containment.

import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import type { InterpreterInfo } from "./types.ts";

/** The cache's own folder; versioned so a later layout can live beside this one. */
export const CACHE_SUBDIR = "build-v1";

export function errnoOf(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A stable hash of a JSON value: object keys sorted at every level. */
export function hashJson(value: unknown): string {
  return sha256Hex(stableJson(value));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** `{…, "A": undefined}` → `{…}`: what `spawn` wants. */
export function definedEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * The part of an interpreter that decides what it builds: cache keys use it, so two interpreters
 * with the same tags share built wheels and environments.
 */
export function interpreterFingerprint(info: InterpreterInfo): Record<string, string> {
  return {
    implementation: info.implementation,
    pythonVersion: info.pythonVersion,
    interpreterTag: info.interpreterTag,
    abiTag: info.abiTag,
    platformTag: info.platformTag,
    libc: `${info.libc.name}${info.libc.version}`,
  };
}

/** Whether `child` is `parent` or inside it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && rel.split(sep)[0] !== "..");
}

export function randomToken(random: () => number): string {
  return Math.floor(random() * 2 ** 48).toString(36).padStart(10, "0");
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh folder under `<cache>/build-v1/tmp/`: work in progress lives there, on the cache's
 * file system, so publishing it is a rename.
 */
export async function makeTempDir(
  cacheDir: string,
  label: string,
  random: () => number,
): Promise<string> {
  const parent = join(resolve(cacheDir), CACHE_SUBDIR, "tmp");
  await fsp.mkdir(parent, { recursive: true });
  const safe = label.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);
  // The pid only tells leftover folders apart by eye; uniqueness comes from the random token.
  const dir = join(parent, `${safe}-${process.pid}-${randomToken(random)}`);
  await fsp.mkdir(dir);
  return dir;
}

/**
 * Publishes a finished folder at `final` by renaming it there. When another process published the
 * same entry first (rename onto a non-empty folder fails), its copy wins and ours is removed:
 * entries are keyed by their content's inputs, so both are equally good. Returns whether ours was
 * the one published.
 */
export async function publishDir(temp: string, final: string): Promise<boolean> {
  await fsp.mkdir(dirname(final), { recursive: true });
  try {
    await fsp.rename(temp, final);
    return true;
  } catch (e) {
    const code = errnoOf(e);
    if ((code === "ENOTEMPTY" || code === "EEXIST" || code === "EPERM") && await exists(final)) {
      await fsp.rm(temp, { recursive: true, force: true });
      return false;
    }
    throw e;
  }
}

/** Removes leftovers of killed runs from `<cache>/build-v1/tmp/` that are older than `maxAgeMs`. */
export async function sweepTemp(cacheDir: string, nowMs: number, maxAgeMs: number): Promise<void> {
  const parent = join(resolve(cacheDir), CACHE_SUBDIR, "tmp");
  let names: string[];
  try {
    names = await fsp.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(parent, name);
    try {
      const st = await fsp.stat(path);
      if (nowMs - st.mtimeMs > maxAgeMs) await fsp.rm(path, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

/** The last `n` lines of a text, without the trailing empty line. */
export function lastLines(text: string, n: number): string[] {
  const lines = text.replace(/\s+$/, "").split(/\r?\n/);
  return lines.slice(Math.max(0, lines.length - n));
}

/**
 * Writes a text file atomically (temp + rename), unless an equal one is already there: the hook
 * runner and the isolation script are shared by concurrent builds.
 */
export async function writeFileOnce(
  path: string,
  text: string,
  random: () => number,
): Promise<void> {
  try {
    if (await fsp.readFile(path, "utf8") === text) return;
  } catch {
    // Not there yet.
  }
  await fsp.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${randomToken(random)}`;
  await fsp.writeFile(temp, text);
  await fsp.rename(temp, path);
}
