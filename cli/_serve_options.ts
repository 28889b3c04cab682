// Option parsing for `serve`, apart from the command so argv -> options is testable on its own;
// every usage error becomes one UsageError (exit 2).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./_options.ts";

/** Everything the `serve` command accepts, after parsing. */
export interface ServeArgs {
  /** The folder to serve, as given (default `wheelhouse`). */
  dir: string;
  /** The address to listen on (default `127.0.0.1`). */
  host: string;
  /** The port (default 8000; 0 picks a free one). */
  port: number;
  /** Serve everything the cache holds instead of a folder. */
  cache: boolean;
  /** Upstream indexes of a pull-through proxy, in first-index order. */
  upstreams: string[];
  /** With `upstreams`: never ask them, serve what the cache holds. */
  offline: boolean;
  /** The cache folder for `--cache` (default: the one `download` uses). */
  cacheDir: string | undefined;
  /** The auth file, when access needs a user and password. */
  auth: string | undefined;
  /** `--hash-password USER`: print an auth-file line for USER instead of serving. */
  hashPassword: string | undefined;
  /** No request log. */
  quiet: boolean;
  /** Print the command's help. */
  help: boolean;
}

/** The port `serve` listens on without `--port`. */
export const DEFAULT_SERVE_PORT = 8000;

const SERVE_CONFIG = {
  options: {
    host: { type: "string" },
    port: { type: "string", short: "p" },
    auth: { type: "string" },
    cache: { type: "boolean" },
    upstream: { type: "string", multiple: true },
    offline: { type: "boolean" },
    "cache-dir": { type: "string" },
    "hash-password": { type: "string" },
    quiet: { type: "boolean", short: "q" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
  strict: true,
} as const satisfies ParseArgsConfig;

/**
 * Parses the arguments of `serve` (after the command word).
 *
 * @param args The arguments after `serve`.
 * @returns The folder (default `wheelhouse`), the address and the flags.
 * @throws {UsageError} for unknown options, a port that is not 0 to 65535, an empty host, a
 * user name with a `:`, or more than one folder.
 * @example
 * ```ts
 * import { parseServeArgs } from "./_serve_options.ts";
 * const parsed = parseServeArgs(["--port", "0", "usb/wheelhouse"]);
 * if (parsed.dir !== "usb/wheelhouse" || parsed.port !== 0 || parsed.host !== "127.0.0.1") {
 *   throw new Error();
 * }
 * if (parseServeArgs([]).port !== 8000) throw new Error("the default port");
 * ```
 */
export function parseServeArgs(args: string[]): ServeArgs {
  let parsed;
  try {
    parsed = parseArgs({ ...SERVE_CONFIG, args });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // node's messages are multi-line with hints aimed at JS developers; keep the first line.
    throw new UsageError(message.split("\n")[0]!.replace(/^TypeError.*?: /, ""));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError(
      `serve takes one folder, got ${positionals.length}: "${positionals.join('" "')}"`,
    );
  }
  if (values.cache && positionals.length > 0) {
    throw new UsageError(
      `--cache serves the cache, not a folder: drop "${positionals[0]}" (or --cache)`,
    );
  }
  const upstreams = values.upstream ?? [];
  if (upstreams.length > 0 && (values.cache || positionals.length > 0)) {
    throw new UsageError(
      "--upstream proxies indexes through the cache: give no folder and no --cache",
    );
  }
  for (const u of upstreams) {
    let url: URL | undefined;
    try {
      url = new URL(u);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new UsageError(`--upstream expects an http(s) index URL, got "${u}"`);
    }
  }
  if (values.offline && upstreams.length === 0) {
    throw new UsageError("--offline only applies with --upstream");
  }
  if (values["cache-dir"] !== undefined && !values.cache && upstreams.length === 0) {
    throw new UsageError("--cache-dir only applies with --cache or --upstream");
  }
  if (values["cache-dir"] === "") throw new UsageError("--cache-dir must not be empty");
  let port = DEFAULT_SERVE_PORT;
  if (values.port !== undefined) {
    port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 0 && port <= 65535)) {
      throw new UsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
    }
  }
  const host = values.host ?? "127.0.0.1";
  if (host.trim() === "") throw new UsageError("--host must not be empty");
  const user = values["hash-password"];
  if (user !== undefined && (user === "" || user.includes(":") || /\s/.test(user))) {
    throw new UsageError(`--hash-password takes a user name without ":" or spaces, got "${user}"`);
  }
  return {
    dir: positionals[0] ?? "wheelhouse",
    host,
    port,
    cache: values.cache ?? false,
    upstreams,
    offline: values.offline ?? false,
    cacheDir: values["cache-dir"],
    auth: values.auth,
    hashPassword: user,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
}
