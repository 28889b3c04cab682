/**
 * The index module: which files does project P have on these indexes (PEP 503 HTML, PEP 691
 * JSON, find-links, `file://`), and what is the core metadata of file F (PEP 658, range requests
 * into wheels, download; sdist `PKG-INFO`). Several indexes with an index strategy, credentials
 * that stay on their host, and an HTTP cache of pages with a pure freshness policy.
 *
 * ```ts
 * import { SimpleIndexClient } from "./mod.ts";
 * const client = new SimpleIndexClient({ indexes: ["https://pypi.org/simple/"] });
 * // const files = await client.projectFiles("requests");
 * ```
 *
 * @module
 */

export type * from "./types.ts";
export { IndexError, type IndexErrorCode } from "./index_error.ts";
export {
  type CredentialEnvNames,
  credentialEnvNames,
  CredentialStore,
  type CredentialStoreOptions,
  type NetrcEntry,
  parseNetrc,
  redactText,
  redactUrl,
  splitCredentials,
  type SplitUrl,
} from "./auth.ts";
export { decodeEntities, parseHtmlPage } from "./html_page.ts";
export { JSON_MEDIA_TYPE, parseJsonPage } from "./json_page.ts";
export {
  type CacheDirFs,
  DirHttpCacheStorage,
  MemoryHttpCacheStorage,
} from "./http_cache_storage.ts";
export {
  DEFAULT_INDEX_URL,
  type PageFormat,
  SimpleIndexClient,
  type SimpleIndexClientOptions,
} from "./simple_index_client.ts";
export {
  CacheIndexClient,
  type CacheIndexClientOptions,
  type CataloguedFile,
  type CatalogueSource,
} from "./cache_index_client.ts";
export { LayeredIndexClient, type LayeredIndexClientOptions } from "./layered_index_client.ts";
export { type RangeSource, readWheelMetadata } from "./read_wheel_metadata.ts";
