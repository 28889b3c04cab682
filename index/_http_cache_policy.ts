/**
 * Pure HTTP cache policy for index pages: what to do before a request given what is stored, and
 * what to store after the response. (As in uv's `httpcache`: `BeforeRequest` / `AfterResponse`.)
 *
 * @module
 */

import type { CachedResponseMeta } from "./types.ts";

/** Request flags that change the decision. */
export interface CacheRequestFlags {
  /** `--refresh`: ignore stored responses. */
  refresh?: boolean;
  /** Offline: use only stored responses, however old. */
  offline?: boolean;
}

/** The decision before a request. */
export type BeforeRequest =
  | { kind: "use-stored" }
  | { kind: "revalidate"; headers: Record<string, string> }
  | { kind: "fetch" }
  | { kind: "offline-miss" };

/** Parsed `Cache-Control` directives (lower-case names; value or true). */
export function parseCacheControl(header: string | undefined): Map<string, string | true> {
  const out = new Map<string, string | true>();
  if (!header) return out;
  for (const part of header.split(",")) {
    const [rawName, ...rest] = part.split("=");
    const name = (rawName ?? "").trim().toLowerCase();
    if (name === "") continue;
    const value = rest.join("=").trim().replace(/^"(.*)"$/, "$1");
    out.set(name, rest.length > 0 ? value : true);
  }
  return out;
}

/**
 * Whether a stored response is still fresh: `max-age` minus its age at reception and the time
 * since; `no-cache` means never fresh. No heuristic freshness: without `max-age` a page is always
 * revalidated (index pages change when a release is uploaded).
 */
export function isFresh(meta: CachedResponseMeta, now: number): boolean {
  const cc = parseCacheControl(meta.cacheControl);
  if (cc.has("no-cache") || cc.has("no-store")) return false;
  const maxAge = cc.get("max-age");
  if (typeof maxAge !== "string" || !/^\d+$/.test(maxAge)) return false;
  const ageMs = Math.max(0, now - meta.storedAt) + (meta.age ?? 0) * 1000;
  return ageMs < Number(maxAge) * 1000;
}

/**
 * Decides what to do before requesting a page. Pure of (stored meta, flags, now).
 *
 * @param stored The stored response's metadata, if any.
 * @param flags `refresh` / `offline`.
 * @param now Epoch milliseconds.
 * @returns Use the stored body, revalidate with conditional headers, fetch, or an offline miss.
 */
export function beforeRequest(
  stored: CachedResponseMeta | undefined,
  flags: CacheRequestFlags,
  now: number,
): BeforeRequest {
  if (flags.offline) return stored ? { kind: "use-stored" } : { kind: "offline-miss" };
  if (!stored || flags.refresh) return { kind: "fetch" };
  if (isFresh(stored, now)) return { kind: "use-stored" };
  const headers: Record<string, string> = {};
  if (stored.etag !== undefined) headers["if-none-match"] = stored.etag;
  if (stored.lastModified !== undefined) headers["if-modified-since"] = stored.lastModified;
  return Object.keys(headers).length > 0 ? { kind: "revalidate", headers } : { kind: "fetch" };
}

/**
 * Whether a response may be stored (`no-store` forbids it; only 200 is stored).
 *
 * @param status The HTTP status.
 * @param cacheControl The `Cache-Control` header.
 */
export function isStorable(status: number, cacheControl: string | undefined): boolean {
  return status === 200 && !parseCacheControl(cacheControl).has("no-store");
}

/**
 * Builds the metadata to store from a response's headers.
 *
 * @param url Redacted URL.
 * @param status HTTP status.
 * @param headers Response headers.
 * @param now Epoch milliseconds of reception.
 */
export function metaFromResponse(
  url: string,
  status: number,
  headers: Headers,
  now: number,
): CachedResponseMeta {
  const meta: CachedResponseMeta = { url, status, storedAt: now };
  const ct = headers.get("content-type");
  if (ct !== null) meta.contentType = ct;
  const etag = headers.get("etag");
  if (etag !== null) meta.etag = etag;
  const lm = headers.get("last-modified");
  if (lm !== null) meta.lastModified = lm;
  const cc = headers.get("cache-control");
  if (cc !== null) meta.cacheControl = cc;
  const age = headers.get("age");
  if (age !== null && /^\d+$/.test(age.trim())) meta.age = Number(age.trim());
  return meta;
}

/**
 * Updates stored metadata after a `304 Not Modified`: new validators and cache headers replace
 * the old ones (RFC 9111 §4.3.4), and the response counts as received now.
 *
 * @param stored The stored metadata.
 * @param headers The 304's headers.
 * @param now Epoch milliseconds.
 */
export function metaAfterNotModified(
  stored: CachedResponseMeta,
  headers: Headers,
  now: number,
): CachedResponseMeta {
  const fresh = metaFromResponse(stored.url, stored.status, headers, now);
  const out: CachedResponseMeta = { ...stored, storedAt: now };
  delete out.age;
  if (fresh.etag !== undefined) out.etag = fresh.etag;
  if (fresh.lastModified !== undefined) out.lastModified = fresh.lastModified;
  if (fresh.cacheControl !== undefined) out.cacheControl = fresh.cacheControl;
  if (fresh.age !== undefined) out.age = fresh.age;
  return out;
}
