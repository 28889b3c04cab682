/**
 * Credential redaction: the one style used in every message, report, manifest, log and cache
 * key. Pure text work, so both the index client and the fetcher use it.
 *
 * @module
 */

/**
 * Hides the credentials of every URL in a text: `https://user:secret@host/` becomes
 * `https://user:***@host/`, and a lone user (commonly a token, `https://TOKEN@host/`) becomes
 * `***`. Done on the text rather than through `new URL()`, so the rest stays byte for byte (URL
 * would re-encode it) and malformed input is still masked.
 *
 * @param text A URL, or any text holding URLs.
 * @returns The text with passwords and tokens replaced by `***`.
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * if (redactUrl("https://me:pw@example.org/simple/") !== "https://me:***@example.org/simple/") {
 *   throw new Error();
 * }
 * if (redactUrl("GET https://tok@example.org/x failed") !== "GET https://***@example.org/x failed") {
 *   throw new Error();
 * }
 * if (redactUrl("file:///tmp/a.whl") !== "file:///tmp/a.whl") throw new Error();
 * ```
 */
export function redactUrl(text: string): string {
  return text.replace(
    /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@\s]*)@/g,
    (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      if (colon === -1) return `${scheme}***@`;
      return `${scheme}${userinfo.slice(0, colon)}:***@`;
    },
  );
}
