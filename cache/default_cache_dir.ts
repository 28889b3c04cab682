/**
 * Where the cache lives by default, computed from injected environment values (the CLI passes
 * `Deno.env` and `Deno.build.os`; nothing here reads them itself).
 *
 * @module
 */

import { posix, win32 } from "node:path";
import { CacheError } from "./types.ts";

/** Environment variable that overrides the OS cache location. */
export const CACHE_DIR_ENV = "WHEELHOUSE_CACHE_DIR";

/** Inputs of {@linkcode defaultCacheDir}. */
export interface DefaultCacheDirOptions {
  /** Looks an environment variable up (e.g. `(k) => Deno.env.get(k)`). */
  env: (name: string) => string | undefined;
  /** `Deno.build.os`: `"linux"`, `"darwin"`, `"windows"`, `"freebsd"`, ... */
  platform: string;
  /** Home directory, when the environment does not say (`HOME` / `USERPROFILE` are tried first). */
  home?: string;
  /** An explicit `--cache-dir`; wins over everything. */
  cacheDir?: string;
}

/**
 * The cache directory: `--cache-dir`, else `$WHEELHOUSE_CACHE_DIR`, else the OS's cache location:
 * `$XDG_CACHE_HOME/wheelhouse` or `~/.cache/wheelhouse` (Linux and other Unix),
 * `~/Library/Caches/wheelhouse` (macOS), `%LOCALAPPDATA%\wheelhouse\cache` (Windows).
 *
 * @param options Environment lookup, platform and overrides.
 * @returns An absolute path.
 * @throws {CacheError} With code `not-found` when no home directory can be determined.
 * @example
 * ```ts
 * import { defaultCacheDir } from "./default_cache_dir.ts";
 * const env = (k: string) => ({ HOME: "/home/ada" } as Record<string, string>)[k];
 * if (defaultCacheDir({ env, platform: "linux" }) !== "/home/ada/.cache/wheelhouse") throw new Error();
 * if (defaultCacheDir({ env, platform: "darwin" }) !== "/home/ada/Library/Caches/wheelhouse") {
 *   throw new Error();
 * }
 * ```
 */
export function defaultCacheDir(options: DefaultCacheDirOptions): string {
  const windows = options.platform === "windows";
  const path = windows ? win32 : posix;
  const nonEmpty = (value: string | undefined): string | undefined =>
    value === undefined || value.trim() === "" ? undefined : value;
  const explicit = nonEmpty(options.cacheDir) ?? nonEmpty(options.env(CACHE_DIR_ENV));
  if (explicit !== undefined) return path.resolve(explicit);
  const home = nonEmpty(options.env(windows ? "USERPROFILE" : "HOME")) ?? nonEmpty(options.home);
  if (windows) {
    const local = nonEmpty(options.env("LOCALAPPDATA")) ??
      (home === undefined ? undefined : win32.join(home, "AppData", "Local"));
    if (local === undefined) throw noHome("LOCALAPPDATA or USERPROFILE");
    return win32.join(local, "wheelhouse", "cache");
  }
  if (options.platform === "darwin") {
    if (home === undefined) throw noHome("HOME");
    return posix.join(home, "Library", "Caches", "wheelhouse");
  }
  // XDG Base Directory spec: a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = nonEmpty(options.env("XDG_CACHE_HOME"));
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, "wheelhouse");
  if (home === undefined) throw noHome("HOME or XDG_CACHE_HOME");
  return posix.join(home, ".cache", "wheelhouse");
}

function noHome(variables: string): CacheError {
  return new CacheError(
    "not-found",
    `Cannot choose a cache directory: ${variables} is not set; pass --cache-dir or set ${CACHE_DIR_ENV}`,
  );
}
