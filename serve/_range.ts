// `Range` and `If-Range` on files (RFC 9110 §14): one byte range or the whole file. Pure.

/** What a `Range` header asks of a file of known size. */
export type RangeAnswer =
  /** No usable range: send the whole file with 200 (absent, malformed, several ranges). */
  | { kind: "whole" }
  /** Send bytes `[start, end)` with 206. */
  | { kind: "partial"; start: number; end: number }
  /** A well-formed range that the file cannot satisfy: 416. */
  | { kind: "unsatisfiable" };

const SPEC = /^(\d*)-(\d*)$/;

/**
 * Reads a `Range` header against a file's size. Only `bytes` ranges are known; a header with
 * several ranges is answered with the whole file (allowed by RFC 9110 §14.2, and simpler than
 * multipart bodies nobody here needs), as is any header that is not well formed.
 *
 * @param header The header value.
 * @param size The file's size.
 * @returns The answer to give.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: "whole" };
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return { kind: "whole" };
  const specs = header.slice(eq + 1).split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length !== 1) return { kind: "whole" };
  const m = SPEC.exec(specs[0]!);
  if (m === null) return { kind: "whole" };
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return { kind: "whole" };
  const a = first === "" ? undefined : Number(first);
  const b = last === "" ? undefined : Number(last);
  if (
    (a !== undefined && !Number.isSafeInteger(a)) || (b !== undefined && !Number.isSafeInteger(b))
  ) {
    // Larger than any file: a suffix that long is the whole file, a start that far is past it.
    if (a === undefined) {
      return size > 0 ? { kind: "partial", start: 0, end: size } : { kind: "unsatisfiable" };
    }
    return { kind: "unsatisfiable" };
  }
  if (a === undefined) {
    // `-N`: the last N bytes.
    if (b === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - b!), end: size };
  }
  if (b !== undefined && b < a) return { kind: "whole" };
  if (a >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start: a, end: b === undefined ? size : Math.min(b + 1, size) };
}

/**
 * Whether an `If-Range` condition holds, so that the `Range` is honoured: an entity tag must
 * match strongly, a date must equal the last modification (to the second).
 *
 * @param header The `If-Range` value.
 * @param etag The file's strong entity tag, with quotes.
 * @param lastModifiedMs The file's modification time.
 * @returns True when there is no condition or it holds.
 */
export function ifRangeHolds(
  header: string | undefined,
  etag: string,
  lastModifiedMs: number,
): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    return value === etag && !etag.startsWith("W/");
  }
  const date = Date.parse(value);
  return !Number.isNaN(date) && Math.floor(lastModifiedMs / 1000) === Math.floor(date / 1000);
}
