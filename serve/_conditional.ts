// Conditional GET and HEAD (RFC 9110 §13): `If-None-Match` first, `If-Modified-Since` only
// without it. Pure.

/** An entity tag without its weakness prefix, for the weak comparison `If-None-Match` uses. */
function opaque(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}

/**
 * Whether a GET or HEAD can be answered 304 Not Modified.
 *
 * @param headers The request's `If-None-Match` and `If-Modified-Since`.
 * @param etag The representation's entity tag, quoted (weak or strong).
 * @param lastModifiedMs Its modification time, ms since the epoch.
 * @returns True when the client's copy is current.
 */
export function isNotModified(
  headers: { ifNoneMatch?: string | undefined; ifModifiedSince?: string | undefined },
  etag: string,
  lastModifiedMs: number,
): boolean {
  if (headers.ifNoneMatch !== undefined) {
    const value = headers.ifNoneMatch.trim();
    if (value === "*") return true;
    const mine = opaque(etag);
    return value.split(",").some((tag) => opaque(tag.trim()) === mine);
  }
  if (headers.ifModifiedSince !== undefined) {
    const since = Date.parse(headers.ifModifiedSince);
    // HTTP dates have whole seconds; the file's sub-second part must not make it "newer".
    return !Number.isNaN(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
  }
  return false;
}
