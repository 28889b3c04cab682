// A real nginx serving a wheelhouse's static tree with the documented configuration
// (examples/nginx/wheelhouse.conf), on a free port, from a temp folder; for the nginx test and
// bench/serve_bench.ts. Also the two small pieces both need around a server: a free port, and
// waiting until a URL answers.
import net from "node:net";
import { join } from "node:path";
import { ROOT } from "./_e2e_helpers.ts";

/** The nginx executable, when one is installed. */
export const NGINX: string | undefined = [
  "/usr/sbin/nginx",
  "/usr/bin/nginx",
  "/usr/local/sbin/nginx",
]
  .find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Waits until `url` answers 200; kills `child` and throws (with `why()`) after `timeoutMs`.
 */
export async function waitUntilServing(
  url: string,
  child: Deno.ChildProcess,
  why: () => Promise<string> = () => Promise.resolve(""),
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await fetch(url).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }, () => false);
    if (up) return;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${url} did not come up: ${await why()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running nginx. */
export interface RunningNginx {
  /** The master's pid (its worker is its child). */
  pid: number;
  /** `http://127.0.0.1:PORT/simple/` */
  indexUrl: string;
  /** The access log so far (empty when it is off). */
  accessLog(): Promise<string>;
  /** Stops it and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts nginx on examples/nginx/wheelhouse.conf serving `root`, with its files in `work/nginx`.
 *
 * @param options `accessLog` (default true), `workerConnections` (default 256).
 */
export async function startNginx(
  root: string,
  work: string,
  options: { accessLog?: boolean; workerConnections?: number } = {},
): Promise<RunningNginx> {
  if (NGINX === undefined) throw new Error("nginx is not installed");
  const port = await freePort();
  const site = (await Deno.readTextFile(join(ROOT, "examples", "nginx", "wheelhouse.conf")))
    .replace("listen 127.0.0.1:8080;", `listen 127.0.0.1:${port};`)
    .replace("root /srv/wheelhouse;", `root ${root};`);
  const prefix = join(work, "nginx");
  const tmp = join(prefix, "tmp");
  await Deno.mkdir(tmp, { recursive: true });
  await Deno.writeTextFile(join(prefix, "site.conf"), site);
  const log = join(prefix, "access.log");
  await Deno.writeTextFile(
    join(prefix, "nginx.conf"),
    [
      // Temp folders are their user's (0700): the worker runs as that user.
      Deno.uid() === 0 ? "user root;" : "",
      "worker_processes 1;",
      "daemon off;",
      `pid ${join(prefix, "nginx.pid")};`,
      `error_log ${join(prefix, "error.log")};`,
      `events { worker_connections ${options.workerConnections ?? 256}; }`,
      "http {",
      options.accessLog === false ? "  access_log off;" : `  access_log ${log} combined;`,
      `  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy;`,
      `  fastcgi_temp_path ${tmp}/fastcgi; uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;`,
      "  default_type application/octet-stream;",
      `  include ${join(prefix, "site.conf")};`,
      "}",
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(NGINX, {
    args: ["-p", prefix, "-c", join(prefix, "nginx.conf")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const indexUrl = `http://127.0.0.1:${port}/simple/`;
  await waitUntilServing(
    indexUrl,
    child,
    () => Deno.readTextFile(join(prefix, "error.log")).catch(() => ""),
    15_000,
  );
  return {
    pid: child.pid,
    indexUrl,
    accessLog: () => Deno.readTextFile(log).catch(() => ""),
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
