/**
 * The pipeline as a library: requirements (or a lock file) in, a wheelhouse folder out.
 * {@linkcode download} is the one call; {@linkcode plan} is the planning step on its own (what
 * `--dry-run` shows); {@linkcode reportJson} is the machine-readable account of either.
 *
 * @example
 * ```ts
 * import { download, DownloadError } from "./mod.ts";
 * try {
 *   await download({ dest: "wh", targets: [] });
 *   throw new Error("unreachable");
 * } catch (e) {
 *   if (!(e instanceof DownloadError) || e.code !== "invalid-input") throw e;
 * }
 * ```
 *
 * @module
 */
export { download } from "./download.ts";
export { plan } from "./plan.ts";
export { reportJson } from "./report.ts";
export { VERSION } from "./version.ts";
export {
  type DeliveredFile,
  DownloadError,
  type DownloadErrorCode,
  type DownloadEvent,
  type DownloadOptions,
  type DownloadPlan,
  type DownloadReporter,
  type DownloadResult,
  type FileSource,
  type IndexCredentials,
  type PlanEntry,
  type PlannedFile,
  type TargetPins,
  type UniversalOptions,
} from "./types.ts";
