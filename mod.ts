/**
 * wheelhouse: resolve Python requirements and download wheels and sdists from PyPI-compatible
 * indexes into a cache or a flat folder that pip and uv install from offline.
 *
 * The modules, each usable on its own:
 * - `pep`: the packaging standards (versions, specifiers, requirements, markers, tags, file names,
 *   metadata, requirement files, pyproject.toml, pylock.toml, uv.lock), pure.
 * - `index`: an `IndexClient` for Simple API indexes (HTML and JSON), find-links and `file://`.
 * - `resolver`: PubGrub resolution for one or many targets over a `Provider`.
 * - `fetcher`: HTTP and file transfers with retries, resume and sha256 checks.
 * - `cache`: a content-addressed local cache and the flat wheelhouse output.
 *
 * @example
 * ```ts
 * import { Requirement, targetFromPreset } from "./mod.ts";
 * const target = targetFromPreset("aarch64-apple-darwin", { pythonVersion: "3.12" });
 * const req = Requirement.parse("pywin32>=306; sys_platform == 'win32'");
 * if (req.marker?.evaluate(target.markerEnvironment) !== false) throw new Error("not for macOS");
 * ```
 *
 * See `examples/library.ts` for a whole resolve-and-download run.
 *
 * @module
 */

export * as pep from "./pep/mod.ts";
export * as index from "./index/mod.ts";
export * as resolver from "./resolver/mod.ts";
export * as fetcher from "./fetcher/mod.ts";
export * as cache from "./cache/mod.ts";

export {
  Marker,
  type MarkerEnvironment,
  Requirement,
  SpecifierSet,
  type Target,
  targetFromPipOptions,
  targetFromPreset,
  Version,
} from "./pep/mod.ts";
export { DEFAULT_INDEX_URL, SimpleIndexClient } from "./index/mod.ts";
export { IndexProvider, ResolutionError, resolve, resolveTargets } from "./resolver/mod.ts";
export { HttpFetchStrategy } from "./fetcher/mod.ts";
export { defaultCacheDir, LocalDirStore, WheelhouseStore } from "./cache/mod.ts";
