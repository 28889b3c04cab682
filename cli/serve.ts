// `wheelhouse serve [DIR]`: a wheelhouse folder as a package index on this machine. Thin: the
// server is serve/; this reads the auth file, prints the URL and the request log, and waits for
// Ctrl-C. `--hash-password USER` prints an auth-file line instead.
import * as fsp from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";
import { match } from "ts-pattern";
import {
  type AuthUser,
  BasicAuth,
  CacheSource,
  hashPassword,
  type IndexSource,
  InvalidAuthFileError,
  parseAuthFile,
  type RequestLogEntry,
  ServeError,
  startServer,
  UpstreamSource,
  WheelhouseSource,
} from "../serve/mod.ts";
import type { CliIo } from "./io.ts";
import { describeError, InputError, printable } from "./_errors.ts";
import { plural } from "./_format.ts";
import { parseServeArgs } from "./_serve_options.ts";
import { cacheDirOf } from "./cache.ts";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { retryingFetch } from "../fetcher/retrying_fetch.ts";
import { SimpleIndexClient } from "../index/simple_index_client.ts";

const HELP = `Usage: wheelhouse serve [DIR] [--host ADDR] [--port N] [--auth FILE] [--quiet]
       wheelhouse serve --cache [--cache-dir DIR] [...]
       wheelhouse serve --upstream URL [--upstream URL2] [--offline] [--cache-dir DIR] [...]
       wheelhouse serve --hash-password USER

Serves a folder that "wheelhouse download" wrote (DIR, default ./wheelhouse) as a package index:
  pip install --index-url http://127.0.0.1:8000/simple/ PACKAGE
PEP 503 HTML and PEP 691 JSON pages, PEP 658 metadata files, range requests. Only the files its
manifest.json lists are served, read-only. The first line on stdout is the index URL; one line
per request goes to stderr. Ctrl-C (or SIGTERM) stops it.

With --cache, everything the cache holds is the index instead: every archive any download put
there, from any index, folder or path, under its project's name (a team's index on a closed
network, fed by the downloads of one machine).

With --upstream, a pull-through proxy: pages come from the upstream indexes (the first that has
a project) through the cache, with file links to this server; a file is fetched into the cache
on its first request (checked against the upstream's sha256) and streamed on as it arrives.
When an upstream cannot be reached, what the cache holds is served (header X-Wheelhouse-Stale).

Options:
  --cache                 serve the cache, not a folder
  --upstream URL          proxy this index (repeatable; first-index order)
  --offline               with --upstream: never ask it, serve the cache
  --cache-dir DIR         with --cache: that cache (default: --cache-dir of download, else
                          $WHEELHOUSE_CACHE_DIR, else the OS cache folder)
  --host ADDR             address to listen on (default 127.0.0.1: this machine only;
                          0.0.0.0 or :: for every network interface)
  -p, --port N            port (default 8000; 0 picks a free one)
  --auth FILE             require HTTP Basic credentials; FILE has one user:hash line per user
  --hash-password USER    print the auth-file line for USER: the password is read from stdin
                          (or $WHEELHOUSE_SERVE_PASSWORD) and hashed with scrypt
  -q, --quiet             no request log
  -h, --help              show this help

Exit status: 0 stopped, 2 bad usage, DIR not a wheelhouse, port in use or a bad auth file.
`;

/** Where `--hash-password` reads the password from when it is set. */
const PASSWORD_ENV = "WHEELHOUSE_SERVE_PASSWORD";

function logLine(e: RequestLogEntry): string {
  return `${e.method} ${printable(e.path)} ${e.status} ${e.bytes}B ${e.ms.toFixed(1)}ms\n`;
}

/** One line from stdin; on a terminal it is read without echo, after a prompt on stderr. */
function readPasswordLine(io: CliIo): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const terminal = stdin.isTTY === true;
    if (terminal) {
      io.stderr.write("Password: ");
      stdin.setRawMode(true);
    }
    const finish = (error?: Error): void => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      if (terminal) {
        stdin.setRawMode(false);
        io.stderr.write("\n");
      }
      stdin.pause();
      if (error) reject(error);
      else resolve(chunks.join(""));
    };
    const onData = (data: Uint8Array | string): void => {
      const text = typeof data === "string" ? data : new TextDecoder().decode(data);
      for (const c of text) {
        if (c === "\n" || c === "\r" || c === "\u0004") return finish();
        if (c === "\u0003") return finish(new InputError("no password given (Ctrl-C)"));
        if (terminal && (c === "\u007f" || c === "\b")) chunks.pop();
        else chunks.push(c);
      }
    };
    const onEnd = (): void => finish();
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.resume();
  });
}

async function readUsers(file: string, io: CliIo): Promise<AuthUser[]> {
  let text: string;
  try {
    text = await fsp.readFile(resolve(io.cwd, file), "utf8");
  } catch (e) {
    throw new InputError(`Cannot read the --auth file ${file}: ${describeError(e)}`);
  }
  try {
    return parseAuthFile(text);
  } catch (e) {
    if (!(e instanceof InvalidAuthFileError)) throw e;
    throw new InputError(`--auth file ${file}${e.line > 0 ? " " : ": "}${e.message}`);
  }
}

function unusable(shown: string, e: ServeError): InputError {
  return new InputError(
    match(e.code)
      .with("no-folder", () => `${shown} does not exist`)
      .with("not-a-folder", () => `${shown} is not a folder`)
      .with("no-manifest", () => `${shown} has no manifest.json: not a folder wheelhouse wrote`)
      .otherwise(() => e.message),
  );
}

/** The pull-through proxy of `--upstream`: the index client and the fetcher over the cache. */
function upstreamSource(
  upstreams: readonly string[],
  offline: boolean,
  cacheDir: string,
  io: CliIo,
  warn: (message: string) => void,
): UpstreamSource {
  const store = new LocalDirStore(cacheDir);
  const fetcher = new HttpFetchStrategy({
    fetch: io.fetch,
    now: io.now,
    partialDir: store.partialDir,
  });
  const client = () =>
    new SimpleIndexClient({
      indexes: [...upstreams],
      strategy: "first-index",
      fetch: retryingFetch(io.fetch, { maxAttempts: 3, timeoutMs: 30_000, now: io.now }),
      now: io.now,
      cache: store.httpStorage(),
      offline,
    });
  return new UpstreamSource({
    client,
    store,
    fetcher,
    partialPathOf: (url) => fetcher.partialPath(url, ""),
    fetch: io.fetch,
    offline,
    onWarning: warn,
    description: upstreams.map((u) => redactUrl(u)).join(", "),
    now: io.now,
  });
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/**
 * Runs `serve`.
 *
 * @param args The arguments after `serve`.
 * @param io The outside world: the folder and auth file are resolved against `io.cwd`;
 * `io.signal` stops the server.
 * @returns The exit code: 0 once stopped.
 * @throws {UsageError} for bad arguments; {InputError} when DIR is not a wheelhouse, the port
 * is taken or the auth file is unusable.
 * @example
 * ```ts
 * import { serveCommand } from "./serve.ts";
 * import { memorySink } from "./io.ts";
 * const cwd = await Deno.makeTempDir();
 * await Deno.mkdir(`${cwd}/wheelhouse`);
 * await Deno.writeTextFile(`${cwd}/wheelhouse/manifest.json`, '{"version":1,"generator":"wheelhouse","files":[]}');
 * const stdout = memorySink();
 * const controller = new AbortController();
 * const running = serveCommand(["--port", "0", "--quiet"], {
 *   stdout, stderr: memorySink(), env: () => undefined, cwd, fetch: globalThis.fetch, now: Date.now,
 *   signal: controller.signal,
 * });
 * while (stdout.text() === "") await new Promise((r) => setTimeout(r, 10));
 * const page = await fetch(stdout.text().trim());
 * if (page.status !== 200) throw new Error(String(page.status));
 * await page.body?.cancel();
 * controller.abort();
 * if (await running !== 0) throw new Error();
 * await Deno.remove(cwd, { recursive: true });
 * ```
 */
export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const options = parseServeArgs(args);
  if (options.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (options.hashPassword !== undefined) {
    const password = io.env(PASSWORD_ENV) ?? await readPasswordLine(io);
    if (password === "") throw new InputError("the password is empty");
    io.stdout.write(`${options.hashPassword}:${await hashPassword(password)}\n`);
    return 0;
  }
  const users = options.auth === undefined ? undefined : await readUsers(options.auth, io);
  const warn = (message: string): void => io.stderr.write(`warning: ${printable(message)}\n`);
  let source: IndexSource & { readonly fileCount: number };
  const proxy = options.upstreams.length > 0;
  const shown = proxy
    ? options.upstreams.map((u) => redactUrl(u)).join(", ")
    : options.cache
    ? cacheDirOf(options.cacheDir, io)
    : options.dir;
  try {
    source = proxy
      ? upstreamSource(
        options.upstreams,
        options.offline,
        cacheDirOf(options.cacheDir, io),
        io,
        warn,
      )
      : options.cache
      ? await CacheSource.open(shown, { onWarning: warn })
      : await WheelhouseSource.open(resolve(io.cwd, options.dir), { onWarning: warn });
  } catch (e) {
    throw e instanceof ServeError ? unusable(shown, e) : e;
  }
  let server;
  try {
    server = await startServer({
      source,
      host: options.host,
      port: options.port,
      ...(users === undefined ? {} : { auth: new BasicAuth(users) }),
      ...(options.quiet ? {} : { onRequest: (e) => io.stderr.write(logLine(e)) }),
      onError: (e, r) =>
        io.stderr.write(`error: ${r.method} ${printable(r.path)}: ${describeError(e)}\n`),
    });
  } catch (e) {
    throw e instanceof ServeError ? new InputError(e.message) : e;
  }
  io.stdout.write(`${server.indexUrl}\n`);
  const projects = (await source.projects()).projects.length;
  io.stderr.write(
    `${
      proxy
        ? `Proxying ${printable(shown)}${options.offline ? " (offline)" : ""}, with ${
          plural(projects, "project")
        } cached`
        : `Serving ${plural(source.fileCount, "file")} of ${plural(projects, "project")} from ${
          options.cache ? "the cache " : ""
        }${printable(shown)}`
    }${users === undefined ? "" : `, for ${plural(users.length, "user")}`}; Ctrl-C stops\n`,
  );
  await aborted(io.signal);
  await server.close();
  io.stderr.write("Stopped.\n");
  return 0;
}
