/**
 * Thin HTTP edge of the index client: redirects followed by hand so that credentials never
 * follow a redirect to another origin, and bodies read with a size cap.
 *
 * @module
 */

import { IndexError } from "./index_error.ts";
import { credentialEnvNames, redactText, redactUrl, splitCredentials } from "./auth.ts";

/** What a request needs from its caller. */
export interface HttpContext {
  fetch: typeof globalThis.fetch;
  /** Authorization headers for a URL (empty for hosts without credentials). */
  authFor(url: string): Record<string, string>;
  userAgent: string;
  maxRedirects: number;
}

/** A response and the URL it finally came from (after redirects). */
export interface HttpResult {
  response: Response;
  url: string;
}

/**
 * GETs `url`, following up to `maxRedirects` redirects. Authorization is computed per hop from
 * that hop's URL, so credentials of the first origin are not sent to another one.
 *
 * @param ctx Fetch, credentials, limits.
 * @param url The URL (without credentials).
 * @param init Extra headers and the abort signal.
 * @throws {IndexError} `network` when the request fails, `too-many-redirects`.
 */
export async function httpGet(
  ctx: HttpContext,
  url: string,
  init: { headers?: Record<string, string>; signal?: AbortSignal | undefined; method?: string },
): Promise<HttpResult> {
  let current = url;
  for (let hop = 0; hop <= ctx.maxRedirects; hop++) {
    const headers = new Headers({ "user-agent": ctx.userAgent, ...init.headers });
    for (const [k, v] of Object.entries(ctx.authFor(current))) headers.set(k, v);
    let response: Response;
    try {
      const req: RequestInit = { method: init.method ?? "GET", headers, redirect: "manual" };
      if (init.signal) req.signal = init.signal;
      // Credentials in the URL went into the headers above; a URL that still carried them would
      // be refused by Node's fetch and sent twice by Deno's (and then rejected by the server).
      response = await ctx.fetch(withoutUserinfo(current), req);
    } catch (cause) {
      if (init.signal?.aborted) throw cause;
      throw new IndexError(
        "network",
        `Cannot fetch ${redactUrl(current)}: ${redactText(String(cause))}`,
        { cause },
      );
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && response.status !== 304 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    return { response, url: current };
  }
  throw new IndexError(
    "too-many-redirects",
    `Cannot fetch ${redactUrl(url)}: more than ${ctx.maxRedirects} redirects`,
  );
}

/** The URL without its user-info (unchanged when it has none or does not parse). */
function withoutUserinfo(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url)) return url;
  try {
    return splitCredentials(url).url;
  } catch {
    return url;
  }
}

/**
 * Reads a body, failing as soon as it passes `max` bytes (decoded), so a hostile or broken
 * server cannot exhaust memory.
 *
 * @param response The response.
 * @param max The byte cap.
 * @param url For the message.
 * @param what What is being read ("page", "metadata", …).
 * @throws {IndexError} `too-large`.
 */
export async function readCapped(
  response: Response,
  max: number,
  url: string,
  what: string,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  if (!encoded && Number.isFinite(declared) && declared > max) {
    await response.body?.cancel();
    throw tooLarge(url, what, max);
  }
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      throw tooLarge(url, what, max);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function tooLarge(url: string, what: string, max: number): IndexError {
  return new IndexError(
    "too-large",
    `Cannot read ${what} ${redactUrl(url)}: larger than the ${max}-byte limit`,
  );
}

/**
 * An error for an unexpected HTTP status. A 401 or 403 says where credentials can be given,
 * naming the environment variables of the URL's host as the CLI computes them; the URL is
 * redacted and the credentials themselves are never part of the message.
 *
 * @param url The URL.
 * @param status The status.
 * @param what What was being fetched.
 */
export function statusError(url: string, status: number, what: string): IndexError {
  return new IndexError(
    "http-status",
    `Cannot fetch ${what} ${redactUrl(url)}: server answered ${status}${
      credentialsHint(url, status)
    }`,
    { status },
  );
}

function credentialsHint(url: string, status: number): string {
  if (status !== 401 && status !== 403) return "";
  const env = credentialEnvNames(url);
  const envPart = env ? `, or set ${env.username} and ${env.password}` : "";
  return ` (credentials missing or rejected: add them to the URL, to ~/.netrc${envPart})`;
}
