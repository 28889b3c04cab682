/**
 * Moving bytes: {@linkcode HttpFetchStrategy} transfers HTTP(S) and `file://` URLs to disk with a
 * running sha256, retries with back-off and full jitter, resumes with `Range` + `If-Range`, and
 * caps concurrency overall and per host. Every side effect is injected.
 *
 * ```ts
 * import { HttpFetchStrategy } from "./mod.ts";
 * const fetcher = new HttpFetchStrategy({ concurrency: 16, maxAttempts: 5 });
 * // await fetcher.fetch({ url, destination, sha256 });
 * ```
 *
 * @module
 */

export { HttpFetchStrategy, type HttpFetchStrategyOptions } from "./http_fetch_strategy.ts";
export {
  CrashError,
  FsError,
  type MemoryDisk,
  MemoryFs,
  type MemoryFsOptions,
} from "./memory_fs.ts";
export { nodeFs } from "./node_fs.ts";
export {
  type OwnerAlive,
  parseOwner,
  type PartialOwner,
  privatePartialPid,
  processAlive,
  thisOwner,
} from "./partial_owner.ts";
// The type of the `backoff` option of HttpFetchStrategy and retryingFetch.
export { redactUrl } from "./redact.ts";
export { retryingFetch, type RetryingFetchOptions } from "./retrying_fetch.ts";
export {
  type BackoffPolicy,
  type FetchCallOptions,
  FetchError,
  type FetchErrorCode,
  type FetchErrorOptions,
  type FetchRequest,
  type FetchResult,
  type FetchStrategy,
  type FileStat,
  type FileSystem,
  type Reporter,
  type WritableFile,
} from "./types.ts";
