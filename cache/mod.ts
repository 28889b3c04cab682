/**
 * Keeping bytes: {@linkcode LocalDirStore} (the content-addressed local cache, with the index
 * pages' HTTP cache), {@linkcode WheelhouseStore} (a flat find-links directory with manifest and
 * optional PEP 503 tree) and {@linkcode defaultCacheDir}. The uv cache reader lives outside this
 * module in `unstable_uv_cache_store.ts` until it is solid.
 *
 * ```ts
 * import { defaultCacheDir, LocalDirStore } from "./mod.ts";
 * const root = defaultCacheDir({ env: () => undefined, platform: "linux", home: "/home/me" });
 * const store = new LocalDirStore(root);
 * if (!store.partialDir.startsWith("/home/me/.cache/wheelhouse")) throw new Error();
 * ```
 *
 * @module
 */

export {
  CACHE_DIR_ENV,
  defaultCacheDir,
  type DefaultCacheDirOptions,
} from "./default_cache_dir.ts";
export {
  LocalDirStore,
  type LocalDirStoreOptions,
  type ObtainRequest,
  type ObtainResult,
} from "./local_dir_store.ts";
export {
  type CacheEntryInfo,
  CacheError,
  type CacheErrorCode,
  type CacheLookup,
  type CacheStats,
  type CacheStore,
  type CatalogueEntry,
  type HttpCacheEntry,
  type HttpCacheStorage,
  type ProjectCatalogue,
  type PruneReport,
  type PutInfo,
  type PutSource,
  type VerifyMode,
} from "./types.ts";
export {
  type VerifiedDamaged,
  type VerifiedFile,
  type VerifiedMissing,
  type VerifiedOk,
  type VerifiedUnknown,
  type VerifyFileSystem,
  verifyWheelhouse,
  type VerifyWheelhouseOptions,
  type WheelhouseVerification,
} from "./verify_wheelhouse.ts";
export {
  escapeHtml,
  type Manifest,
  type ManifestEntry,
  parseManifest,
  planWheelhouse,
  type PresentFile,
  renderFindLinksPage,
  renderSimpleTree,
  type SyncOptions,
  type SyncReport,
  type WantedFile,
  type WheelhouseAction,
  type WheelhousePlan,
  WheelhouseStore,
  type WheelhouseStoreOptions,
} from "./wheelhouse_store.ts";
