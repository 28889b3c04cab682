/**
 * Credential redaction for URLs that end up in messages, manifests and logs.
 *
 * @module
 */

/**
 * Hides the credentials of a URL: `https://user:secret@host/` becomes `https://user:***@host/`,
 * and a lone user (commonly a token, `https://TOKEN@host/`) becomes `***`. Text that is not a URL
 * still has any `scheme://userinfo@` part masked, so the function is safe on anything.
 *
 * @param url The URL (or any text holding one).
 * @returns The URL with its password (or token) replaced by `***`.
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * if (redactUrl("https://me:pw@example.org/simple/") !== "https://me:***@example.org/simple/") {
 *   throw new Error();
 * }
 * if (redactUrl("https://tok@example.org/x") !== "https://***@example.org/x") throw new Error();
 * if (redactUrl("file:///tmp/a.whl") !== "file:///tmp/a.whl") throw new Error();
 * ```
 */
export function redactUrl(url: string): string {
  // Done on the text rather than via `new URL()` so the rest of the URL is kept byte for byte
  // (URL would re-encode it) and so malformed input is still masked.
  return url.replace(
    /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@\s]*)@/g,
    (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      if (colon === -1) return `${scheme}***@`;
      return `${scheme}${userinfo.slice(0, colon)}:***@`;
    },
  );
}
