/**
 * `wheelhouse serve` under load (issue 16): 200 concurrent clients fetching project pages (PEP
 * 691 JSON) and files, bounded in count and time, from `serve DIR`, from `serve --upstream` (a
 * warmed pull-through proxy of the generated index) and from nginx serving the `--simple-index`
 * tree of the same folder with examples/nginx/wheelhouse.conf (when nginx is installed). Reports
 * requests per second, p50/p99 latency, errors (goal: 0) and the server's peak RSS.
 * Run: `deno run -A bench/serve_bench.ts [clients] [requests]`.
 *
 * @module
 */

import { join } from "node:path";
import { startIndexServer } from "../tests/index_server.ts";
import { freePort, NGINX, startNginx, waitUntilServing } from "../tests/_nginx.ts";
import { corpusName, generatedCorpus } from "./_corpus.ts";
import { median } from "./_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const JSON_V1 = "application/vnd.pypi.simple.v1+json";

/** One server's results. */
export interface ServeBenchRow {
  readonly server: string;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssMiB: number | undefined;
}

/** Peak RSS (VmHWM) of a process and its children, in MiB. */
async function peakRss(pid: number): Promise<number | undefined> {
  const pids = [pid];
  try {
    const children = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
    pids.push(...children.trim().split(/\s+/).filter(Boolean).map(Number));
  } catch { /* no /proc */ }
  let total = 0;
  for (const p of pids) {
    try {
      const status = await Deno.readTextFile(`/proc/${p}/status`);
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
      if (Number.isFinite(kb)) total += kb;
    } catch {
      return undefined;
    }
  }
  return total / 1024;
}

interface Running {
  pid: number;
  indexUrl: string;
  stop(): Promise<void>;
}

async function startWheelhouseServe(args: string[]): Promise<Running> {
  const port = await freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      join(ROOT, "cli", "main.ts"),
      "serve",
      ...args,
      "--quiet",
      "--port",
      String(port),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const indexUrl = `http://127.0.0.1:${port}/simple/`;
  await waitUntilServing(indexUrl, child);
  return {
    pid: child.pid,
    indexUrl,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function nginxServing(root: string, work: string): Promise<Running | undefined> {
  if (NGINX === undefined) return undefined;
  return await startNginx(root, work, { accessLog: false, workerConnections: 1024 });
}

/** The URLs a client asks for: each project's JSON page and each of its files. */
async function workload(indexUrl: string, projects: readonly string[]): Promise<string[]> {
  const urls: string[] = [];
  for (const p of projects) {
    const page = `${indexUrl}${p}/`;
    const doc = await (await fetch(page, { headers: { accept: JSON_V1 } })).json();
    urls.push(page);
    for (const f of doc.files as { url: string }[]) urls.push(new URL(f.url, page).href);
  }
  return urls;
}

async function load(
  urls: readonly string[],
  clients: number,
  requests: number,
  maxMs: number,
): Promise<{ latencies: number[]; errors: number; seconds: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < requests && performance.now() - started < maxMs) {
      const url = urls[next++ % urls.length]!;
      const t0 = performance.now();
      try {
        const r = await fetch(url, url.endsWith("/") ? { headers: { accept: JSON_V1 } } : {});
        await r.arrayBuffer();
        if (r.status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return { latencies, errors, seconds: (performance.now() - started) / 1000 };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Runs the benchmark.
 *
 * @param options `clients` at once (default 200), `requests` per server (default 6000).
 * @returns One row per server.
 * @throws {Error} when a server does not start or the folder cannot be made.
 */
export async function runServeBench(
  options: { clients?: number; requests?: number } = {},
): Promise<ServeBenchRow[]> {
  const clients = options.clients ?? 200;
  const requests = options.requests ?? 6000;
  const work = await Deno.makeTempDir({ prefix: "wheelhouse-serve-bench-" });
  const count = 100;
  const index = await startIndexServer({ projects: await generatedCorpus(count) });
  const rows: ServeBenchRow[] = [];
  try {
    const dir = join(work, "wheelhouse");
    const projects = Array.from({ length: count }, (_, i) => corpusName(i));
    const made = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        join(ROOT, "cli", "main.ts"),
        "download",
        "--index-url",
        index.indexUrl,
        "--cache-dir",
        join(work, "cache"),
        "--progress",
        "off",
        "-q",
        "--simple-index",
        "--python-version",
        "3.12",
        "--python-platform",
        "x86_64-manylinux_2_28",
        "-d",
        dir,
        corpusName(0),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (made.code !== 0) throw new Error(new TextDecoder().decode(made.stderr));
    const servers: [string, () => Promise<Running | undefined>][] = [
      ["wheelhouse serve DIR", () => startWheelhouseServe([dir])],
      [
        "wheelhouse serve --upstream (warm)",
        () =>
          startWheelhouseServe(["--upstream", index.indexUrl, "--cache-dir", join(work, "proxy")]),
      ],
      ["nginx (static tree)", () => nginxServing(dir, work)],
    ];
    for (const [name, start] of servers) {
      const server = await start();
      if (server === undefined) {
        console.warn(`SKIPPING ${name}: not installed`);
        continue;
      }
      try {
        const urls = await workload(server.indexUrl, projects);
        // Warm: every URL once (the proxy fetches every file into its cache here).
        await load(urls, 16, urls.length, 120_000);
        const run = await load(urls, clients, requests, 30_000);
        rows.push({
          server: name,
          requests: run.latencies.length,
          errors: run.errors,
          seconds: run.seconds,
          rps: run.latencies.length / run.seconds,
          p50Ms: median(run.latencies),
          p99Ms: percentile(run.latencies, 99),
          peakRssMiB: await peakRss(server.pid),
        });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await index.close();
    await Deno.remove(work, { recursive: true });
  }
  return rows;
}

/**
 * Formats the rows as a table.
 *
 * @param rows From {@linkcode runServeBench}.
 * @returns Lines of text.
 */
export function formatServeBench(rows: readonly ServeBenchRow[]): string {
  return [
    "server                               requests  errors     req/s   p50 ms   p99 ms  peak RSS MiB",
    ...rows.map((r) =>
      `${r.server.padEnd(35)}${String(r.requests).padStart(10)}${String(r.errors).padStart(8)}${
        r.rps.toFixed(0).padStart(10)
      }${r.p50Ms.toFixed(1).padStart(9)}${r.p99Ms.toFixed(1).padStart(9)}${
        (r.peakRssMiB === undefined ? "-" : r.peakRssMiB.toFixed(0)).padStart(14)
      }`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const [clients, requests] = Deno.args.filter((a) => a !== "--json").map(Number);
  const rows = await runServeBench({
    ...(clients ? { clients } : {}),
    ...(requests ? { requests } : {}),
  });
  console.log(Deno.args.includes("--json") ? JSON.stringify(rows) : formatServeBench(rows));
}
