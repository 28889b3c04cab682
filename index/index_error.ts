/**
 * The one error class of the index module.
 *
 * @module
 */

/** What went wrong, for callers that branch on failures. */
export type IndexErrorCode =
  | "http-status"
  | "network"
  | "malformed-page"
  | "unsupported-api-version"
  | "too-large"
  | "hash-mismatch"
  | "invalid-archive"
  | "invalid-metadata"
  | "invalid-url"
  | "too-many-redirects"
  | "io";

/**
 * A real failure of the index client: an HTTP error, a malformed page, a hash mismatch. Messages
 * name the URL with credentials redacted.
 *
 * @example
 * ```ts
 * import { IndexError } from "./index_error.ts";
 * const e = new IndexError("malformed-page", "Cannot parse https://x/simple/a/: bad JSON");
 * if (e.code !== "malformed-page" || e.name !== "IndexError") throw new Error();
 * ```
 */
export class IndexError extends Error {
  /** The failure kind. */
  readonly code: IndexErrorCode;
  /** HTTP status, for `http-status`. */
  readonly status: number | undefined;

  /**
   * Builds the error.
   *
   * @param code The failure kind.
   * @param message What failed and why, with redacted URLs.
   * @param options `cause` and, for HTTP failures, `status`.
   */
  constructor(
    code: IndexErrorCode,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IndexError";
    this.code = code;
    this.status = options.status;
  }
}
