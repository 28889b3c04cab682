/**
 * PEP 629/691 API-version check shared by the HTML and JSON parsers.
 *
 * @module
 */

import { IndexError } from "./index_error.ts";
import { redactUrl } from "./auth.ts";

/** The highest major version of the simple API understood here. */
const SUPPORTED_MAJOR = 1;

/**
 * Checks an `api-version`: an unknown minor version goes on (PEP 629 says clients should warn),
 * an unknown major version is a clear error.
 *
 * @param version The version text, e.g. "1.1".
 * @param url The page URL, for the message.
 * @throws {IndexError} `unsupported-api-version` for a major version other than 1,
 * `malformed-page` for a version that is not `MAJOR.MINOR`.
 */
export function checkApiVersion(version: string, url: string): void {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(version);
  if (!m) {
    throw new IndexError(
      "malformed-page",
      `Cannot read ${redactUrl(url)}: api-version "${version}" is not MAJOR.MINOR`,
    );
  }
  if (Number(m[1]) !== SUPPORTED_MAJOR) {
    throw new IndexError(
      "unsupported-api-version",
      `Cannot read ${
        redactUrl(url)
      }: simple API version ${version} is not supported (only ${SUPPORTED_MAJOR}.x)`,
    );
  }
}
