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
 * - `lock`: pylock.toml and uv.lock to the files each target needs.
 * - `download`: the whole pipeline as one call, {@linkcode download} (and {@linkcode plan}).
 *
 * @example
 * ```ts
 * import { Requirement, targetFromPreset } from "./mod.ts";
 * const target = targetFromPreset("aarch64-apple-darwin", { pythonVersion: "3.12" });
 * const req = Requirement.parse("pywin32>=306; sys_platform == 'win32'");
 * if (req.marker?.evaluate(target.markerEnvironment) !== false) throw new Error("not for macOS");
 * ```
 *
 * A whole run, into a folder that `pip install --no-index --find-links` uses offline:
 *
 * ```ts ignore
 * import { download, targetFromPreset } from "./mod.ts";
 * const result = await download({
 *   dest: "wheelhouse",
 *   cacheDir: ".cache/wheelhouse",
 *   requirements: ["requests>=2.31"],
 *   targets: [targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" })],
 * });
 * console.log(result.files.map((f) => f.filename));
 * ```
 *
 * `examples/library.ts` runs one against a local index.
 *
 * @module
 */

export * as pep from "./pep/mod.ts";
export * as index from "./index/mod.ts";
export * as resolver from "./resolver/mod.ts";
export * as fetcher from "./fetcher/mod.ts";
export * as cache from "./cache/mod.ts";
export * as lock from "./lock/mod.ts";
export * as build from "./build/mod.ts";
export * as serve from "./serve/mod.ts";

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
export {
  type DeliveredFile,
  download,
  DownloadError,
  type DownloadErrorCode,
  type DownloadEvent,
  type DownloadOptions,
  type DownloadPlan,
  type DownloadReporter,
  type DownloadResult,
  type IndexCredentials,
  plan,
  type PlanEntry,
  reportJson,
  type TargetPins,
  type UniversalOptions,
} from "./download/mod.ts";
