// `wheelhouse cache dir|info|list [PROJECT...]|clean [PROJECT...]|prune`: look after the
// download cache.
import * as fsp from "node:fs/promises";
import { constants } from "node:fs";
import { resolve } from "node:path";
import { defaultCacheDir } from "../cache/default_cache_dir.ts";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import type { CliIo } from "./io.ts";
import { parseCacheArgs, UsageError } from "./_options.ts";
import { isValidName } from "../pep/name.ts";
import { parseDistFilename } from "../pep/filename.ts";
import { formatBytes, plural } from "./_format.ts";
import { thisMachine } from "./_host.ts";
import { InputError } from "./_errors.ts";

const HELP = `Usage: wheelhouse cache ACTION [--cache-dir DIR]

Actions:
  dir                 print the cache directory
  info                entries, sizes, cached index pages and partial downloads
  list [PROJECT...]   what the cache holds per project (versions, files, where from): what
                      an --offline run can serve
  clean [PROJECT...]  remove everything, or only these projects' files and index pages
  prune               remove stale temporary and partial files and corrupt entries

The cache lives in --cache-dir, else $WHEELHOUSE_CACHE_DIR, else the OS cache folder.
`;

/** Resolves the cache directory of a run: --cache-dir, the env var, or the OS default. */
export function cacheDirOf(cacheDir: string | undefined, io: CliIo): string {
  return defaultCacheDir({
    env: (k) => {
      const v = io.env(k);
      // Relative values are relative to the run's working directory, not the process's.
      return v !== undefined && k === "WHEELHOUSE_CACHE_DIR" ? resolve(io.cwd, v) : v;
    },
    platform: thisMachine().os,
    ...(cacheDir !== undefined ? { cacheDir: resolve(io.cwd, cacheDir) } : {}),
  });
}

/**
 * Checks the cache folder before an action reads or changes it: a file there is no cache (info
 * would report an empty one and exit 0; clean and prune failed with a raw OS error), and an
 * action that removes files needs to be able to. A cache that does not exist yet is empty.
 *
 * @throws {InputError} naming the problem.
 */
async function checkCacheRoot(root: string, write: boolean): Promise<void> {
  const st = await fsp.stat(root).catch(() => undefined);
  if (st === undefined) return;
  if (!st.isDirectory()) throw new InputError(`The cache "${root}" exists and is not a folder`);
  if (!write) return;
  try {
    await fsp.access(root, constants.W_OK | constants.X_OK);
  } catch {
    throw new InputError(`Cannot write to the cache "${root}": permission denied`);
  }
}

/**
 * Runs `cache`.
 *
 * @returns The exit code.
 * @throws {UsageError} for bad arguments, {InputError} for a cache folder that cannot be used.
 */
export async function cacheCommand(args: string[], io: CliIo): Promise<number> {
  const options = parseCacheArgs(args);
  if (options.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const root = cacheDirOf(options.cacheDir, io);
  // `dir` only says where the cache is; the others read or change it.
  if (options.action !== "dir") await checkCacheRoot(root, options.action !== "info");
  const store = new LocalDirStore(root);
  switch (options.action) {
    case "dir":
      io.stdout.write(`${root}\n`);
      return 0;
    case "info": {
      const s = await store.stats();
      io.stdout.write(
        [
          `Cache directory: ${s.root}`,
          `Files: ${s.entries} (${formatBytes(s.bytes)})`,
          `Index pages: ${s.httpEntries} (${formatBytes(s.httpBytes)})`,
          `Partial downloads: ${s.partialFiles} (${formatBytes(s.partialBytes)})`,
          "",
        ].join("\n"),
      );
      return 0;
    }
    case "list":
      return await listCache(store, options.projects, io);
    case "clean": {
      const bad = options.projects.filter((p) => !isValidName(p));
      if (bad.length > 0) {
        throw new UsageError(
          `cache clean takes project names; not project names: ${
            bad.map((b) => `"${b}"`).join(", ")
          }`,
        );
      }
      const targets = options.projects.length > 0 ? options.projects : [undefined];
      let files = 0;
      let bytes = 0;
      for (const project of targets) {
        const r = await store.clean(project);
        files += r.removedFiles;
        bytes += r.freedBytes;
      }
      io.stdout.write(`Removed ${plural(files, "file")} (${formatBytes(bytes)}) from ${root}\n`);
      return 0;
    }
    case "prune": {
      const r = await store.prune({ verify: true });
      io.stdout.write(
        `Pruned ${plural(r.removedFiles, "file")} (${formatBytes(r.freedBytes)}) from ${root}\n`,
      );
      return 0;
    }
  }
}

/** `cache list`: per project, its versions and files with where each came from. */
async function listCache(store: LocalDirStore, projects: string[], io: CliIo): Promise<number> {
  const bad = projects.filter((p) => !isValidName(p));
  if (bad.length > 0) {
    throw new UsageError(
      `cache list takes project names; not project names: ${bad.map((b) => `"${b}"`).join(", ")}`,
    );
  }
  const names = projects.length > 0 ? projects : await store.catalogueProjects();
  const out: string[] = [];
  let shown = 0;
  for (const name of names) {
    const c = await store.catalogue(name);
    if (c.files.length === 0 && c.pages.length === 0) {
      if (projects.length > 0) out.push(`${c.project}: nothing in the cache`);
      continue;
    }
    shown++;
    const versions = new Set<string>();
    for (const f of c.files) {
      const v = versionOf(f.filename, c.project);
      if (v !== undefined) versions.add(v);
    }
    out.push(
      `${c.project}: ${plural(c.files.length, "file")}${
        versions.size > 0 ? ` (${[...versions].join(", ")})` : ""
      }`,
    );
    for (const f of c.files) {
      out.push(`  ${f.filename}  ${formatBytes(f.size)}  from ${f.origin ?? f.url ?? "?"}`);
    }
    for (const p of c.pages) out.push(`  index page kept from ${p}`);
  }
  if (projects.length === 0 && shown === 0) out.push(`The cache ${store.root} holds no files`);
  io.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

function versionOf(filename: string, project: string): string | undefined {
  try {
    return parseDistFilename(filename, project).version.toString();
  } catch {
    return undefined;
  }
}
