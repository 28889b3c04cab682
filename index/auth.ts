/**
 * Credentials for indexes: URL user-info, `.netrc`, and per-index credentials passed in by the
 * caller; and redaction so that no message, log line or file ever shows a password.
 *
 * @module
 */
import { redactUrl as redactAll } from "../pep/redact.ts";

/** One `machine` (or `default`, with `machine` undefined) entry of a `.netrc` file. */
export interface NetrcEntry {
  /** Host name; undefined for the `default` entry. */
  machine: string | undefined;
  /** The user name of the entry (`login`). */
  login: string;
  /** The password of the entry (`password`). */
  password: string;
}

/**
 * Parses `.netrc` text the way curl and Python's `netrc` module read it: whitespace-separated
 * tokens, `machine`/`default` start an entry, `login`/`password`/`account` take a value, `macdef`
 * bodies (up to an empty line) are skipped, `#` starts a comment at a token boundary.
 *
 * @param text The file's contents.
 * @returns The entries in file order.
 * @example
 * ```ts
 * import { parseNetrc } from "./auth.ts";
 * const [e] = parseNetrc("machine example.com login me password s3cret");
 * if (e?.machine !== "example.com" || e.login !== "me" || e.password !== "s3cret") throw new Error();
 * ```
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const lines = text.split(/\r?\n/);
  const tokens: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const words = tokenizeNetrcLine(line);
    if (words[0] === "macdef") {
      // A macro body runs until the next empty line; it holds no credentials.
      while (i + 1 < lines.length && (lines[i + 1] ?? "").trim() !== "") i++;
      continue;
    }
    tokens.push(...words);
  }
  let current: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "machine" || t === "default") {
      current = {
        machine: t === "machine" ? tokens[++i] ?? "" : undefined,
        login: "",
        password: "",
      };
      entries.push(current);
    } else if ((t === "login" || t === "password" || t === "account") && current) {
      const value = tokens[++i] ?? "";
      if (t === "login") current.login = value;
      else if (t === "password") current.password = value;
    }
  }
  return entries;
}

function tokenizeNetrcLine(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) {
    if (m[2]?.startsWith("#")) break;
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2] ?? "");
  }
  return out;
}

/**
 * Redacts the credentials of a URL for messages (the one style of `pep/redact.ts`).
 *
 * @param url A URL (or text holding one).
 * @returns The URL safe to print.
 * @example
 * ```ts
 * import { redactUrl } from "./auth.ts";
 * if (redactUrl("https://me:pw@h.example/simple/") !== "https://me:***@h.example/simple/") {
 *   throw new Error();
 * }
 * ```
 */
export function redactUrl(url: string): string {
  return redactAll(url);
}

/**
 * Redacts the user-info of every URL that appears in `text` (messages, logs).
 *
 * @param text Any text.
 * @returns The text with passwords and tokens replaced by `***`.
 * @example
 * ```ts
 * import { redactText } from "./auth.ts";
 * const s = redactText("GET https://u:p@x.example/a failed");
 * if (s !== "GET https://u:***@x.example/a failed") throw new Error();
 * ```
 */
export function redactText(text: string): string {
  return redactAll(text);
}

/** A URL split from its credentials. */
export interface SplitUrl {
  /** The URL without user-info. */
  url: string;
  /** The user name from the URL's user-info, percent-decoded. */
  username: string | undefined;
  /** The password from the URL's user-info, percent-decoded. */
  password: string | undefined;
}

/**
 * Removes user-info from a URL, returning it decoded.
 *
 * @param url An absolute URL.
 * @returns The bare URL and the (percent-decoded) credentials.
 * @throws {TypeError} When `url` is not a valid absolute URL.
 * @example
 * ```ts
 * import { splitCredentials } from "./auth.ts";
 * const s = splitCredentials("https://a%40b:p%3Aw@h.example/x");
 * if (s.url !== "https://h.example/x" || s.username !== "a@b" || s.password !== "p:w") throw new Error();
 * ```
 */
export function splitCredentials(url: string): SplitUrl {
  const u = new URL(url);
  const username = u.username === "" ? undefined : decodeURIComponent(u.username);
  const password = u.password === "" ? undefined : decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { url: u.href, username, password };
}

/** Credentials bound to an origin (scheme, host, port) and a path prefix. */
interface Binding {
  origin: string;
  pathPrefix: string;
  username: string;
  password: string;
}

/** Options of {@linkcode CredentialStore}. */
export interface CredentialStoreOptions {
  /** Contents of a `.netrc` file (the caller reads it; nothing here touches the disk). */
  netrc?: string;
}

/**
 * Decides which `Authorization` header goes with a URL. Credentials given for an index apply to
 * URLs of the same origin only (so never to a file host or after a redirect to another host);
 * `.netrc` entries apply to their machine's host name.
 *
 * @example
 * ```ts
 * import { CredentialStore } from "./auth.ts";
 * const store = new CredentialStore();
 * store.add("https://h.example/simple/", "u", "p");
 * if (store.headersFor("https://h.example/files/a.whl").authorization !== "Basic " + btoa("u:p")) {
 *   throw new Error();
 * }
 * if ("authorization" in store.headersFor("https://other.example/a.whl")) throw new Error();
 * ```
 */
export class CredentialStore {
  #bindings: Binding[] = [];
  #netrc: NetrcEntry[];

  /**
   * Creates a store. URL user-info wins, then credentials given with `add`, then `.netrc`.
   *
   * @param options `.netrc` text.
   */
  constructor(options: CredentialStoreOptions = {}) {
    this.#netrc = options.netrc === undefined ? [] : parseNetrc(options.netrc);
  }

  /**
   * Binds credentials to the origin of `url` (longest path prefix wins on lookup).
   *
   * @param url The index URL (its own user-info is ignored here).
   * @param username User name or token.
   * @param password Password (may be empty for token-only schemes).
   * @throws {TypeError} When `url` is not a valid URL.
   */
  add(url: string, username: string, password: string): void {
    const u = new URL(url);
    this.#bindings.push({ origin: u.origin, pathPrefix: u.pathname, username, password });
    this.#bindings.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  }

  /**
   * The headers to send with a request to `url`.
   *
   * @param url The request URL (user-info in it wins).
   * @returns `{ authorization }` or an empty object.
   */
  headersFor(url: string): Record<string, string> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return {};
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return {};
    if (u.username !== "") {
      return basic(decodeURIComponent(u.username), decodeURIComponent(u.password));
    }
    const origin = u.origin;
    const sameOrigin = this.#bindings.filter((b) => b.origin === origin);
    const bound = sameOrigin.find((b) => u.pathname.startsWith(b.pathPrefix)) ?? sameOrigin[0];
    if (bound) return basic(bound.username, bound.password);
    const host = u.hostname;
    const entry = this.#netrc.find((e) => e.machine === host) ??
      this.#netrc.find((e) => e.machine === undefined);
    if (entry && (entry.login !== "" || entry.password !== "")) {
      return basic(entry.login, entry.password);
    }
    return {};
  }
}

function basic(username: string, password: string): Record<string, string> {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return { authorization: `Basic ${btoa(bin)}` };
}

/** The names of the environment variables that hold one index host's credentials. */
export interface CredentialEnvNames {
  /** The variable holding the user name. */
  username: string;
  /** The variable holding the password. */
  password: string;
}

/**
 * The environment variables the CLI reads credentials of `url`'s host from:
 * `WHEELHOUSE_INDEX_<HOST>_USERNAME` and `_PASSWORD`, where `<HOST>` is the host name (no port,
 * no user-info) upper-cased with every character other than `A-Z` and `0-9` replaced by `_`.
 * Nothing here reads the environment; messages use it to say where credentials can go.
 *
 * @param url An index or file URL.
 * @returns The two names, or undefined for a URL without a host.
 * @example
 * ```ts
 * import { credentialEnvNames } from "./auth.ts";
 * const n = credentialEnvNames("https://me:pw@pkgs.example-1.com:8443/simple/");
 * if (n?.username !== "WHEELHOUSE_INDEX_PKGS_EXAMPLE_1_COM_USERNAME") throw new Error();
 * if (n.password !== "WHEELHOUSE_INDEX_PKGS_EXAMPLE_1_COM_PASSWORD") throw new Error();
 * ```
 */
export function credentialEnvNames(url: string): CredentialEnvNames | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  if (host === "") return undefined;
  const key = host.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return {
    username: `WHEELHOUSE_INDEX_${key}_USERNAME`,
    password: `WHEELHOUSE_INDEX_${key}_PASSWORD`,
  };
}
