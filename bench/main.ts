/**
 * Benchmarks of `wheelhouse download` against `pip download`, side by side in one run: both
 * tools run as subprocesses against the same local index server, alternately, several rounds
 * after a warm-up, and each pair is reported as medians and their ratio. Writes
 * `docs/BENCHMARKS.md` (keeping everything below its analysis marker) and prints the table.
 *
 * Run: `deno task bench [--quick] [--rounds N] [--only cold,generated,warm,noop,resolve,memory,requests]
 * [--latency 0,25] [--form bundle|source] [--no-write] [--out FILE]`.
 *
 * Scenarios (issue 8): cold cache on a realistic set from the machine's real-wheel mirror and on a
 * generated 200-project graph, against pip and a 16-way parallel curl floor; warm cache into a new
 * folder against `cp`; nothing to do; resolution only (bench/resolve_bench.ts); peak RSS on
 * wheels of 150 MB and more; HTTP requests per package.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { parseWheelFilename } from "../pep/filename.ts";
import { startIndexServer } from "../tests/index_server.ts";
import { corpusName, generatedCorpus, writeBigWheel } from "./_corpus.ts";
import {
  cpFloor,
  curlFloor,
  type Ours,
  oursDownload,
  type Pip,
  pipDownload,
  prepareOurs,
  preparePips,
} from "./_peers.ts";
import {
  capture,
  type Cmd,
  hasGnuTime,
  median,
  retire,
  timeCommand,
  type Timed,
} from "./_process.ts";
import { type MirrorSource, startMirrorServer } from "./mirror_server.ts";
import { formatResolveBench, type ResolveBenchCase } from "./resolve_bench.ts";

/** The scenario names accepted by `--only`. */
export const SCENARIOS = [
  "cold",
  "generated",
  "warm",
  "noop",
  "resolve",
  "memory",
  "requests",
  "big",
  "shared",
  "critical",
] as const;
/** One scenario name. */
export type Scenario = typeof SCENARIOS[number];

/** Parsed command-line options. */
export interface BenchOptions {
  readonly rounds: number;
  readonly warmups: number;
  readonly latencies: readonly number[];
  readonly only: ReadonlySet<Scenario>;
  readonly form: "bundle" | "source";
  readonly write: boolean;
  readonly out: string;
  readonly quick: boolean;
}

/** One row of the results table. */
export interface Row {
  readonly scenario: string;
  readonly ours: string;
  readonly peer: string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: "yes" | "no" | "-";
}

const REALISTIC = ["fastapi", "pandas", "scikit-learn", "matplotlib", "requests", "flask"];
/**
 * A big real requirement file (issue 18): 58 applications and libraries the mirror holds, which
 * resolve to about 200 wheels for this machine (people's files have 100-300 lines).
 */
const BIG_REAL = [
  "fastapi",
  "uvicorn",
  "flask",
  "django",
  "requests",
  "httpx",
  "aiohttp",
  "sqlalchemy",
  "alembic",
  "pydantic-settings",
  "boto3",
  "pandas",
  "scipy",
  "scikit-learn",
  "matplotlib",
  "seaborn",
  "plotly",
  "dash",
  "bokeh",
  "ipython",
  "black",
  "ruff",
  "mypy",
  "pylint",
  "pytest",
  "pytest-cov",
  "pytest-xdist",
  "hypothesis",
  "nox",
  "pre-commit",
  "sphinx",
  "rich",
  "typer",
  "loguru",
  "structlog",
  "tenacity",
  "arrow",
  "pendulum",
  "pyyaml",
  "jinja2",
  "markdown",
  "beautifulsoup4",
  "lxml",
  "openpyxl",
  "psycopg2-binary",
  "pymongo",
  "paramiko",
  "pyjwt",
  "gunicorn",
  "statsmodels",
  "networkx",
  "sympy",
  "polars",
  "pyarrow",
  "duckdb",
  "openai",
  "anthropic",
  "nltk",
];
const MIRROR: MirrorSource[] = [
  { kind: "simple", dir: "/opt/pypi/simple" },
  { kind: "simple", dir: "/opt/pypi-more/simple" },
  { kind: "flat", dir: "/opt/wheels" },
];
const PIP_WHEELS = "/opt/pypi/files";
const ANALYSIS_MARKER = "<!-- analysis: everything below is kept by bench/main.ts -->";

/**
 * Parses the benchmark's arguments.
 *
 * @param args Command-line arguments.
 * @returns The options.
 * @throws {Error} On an unknown flag or scenario.
 * @example
 * ```ts
 * import { parseBenchArgs } from "./main.ts";
 * const o = parseBenchArgs(["--quick", "--only", "cold,memory"]);
 * if (o.rounds !== 1 || !o.only.has("memory") || o.only.has("warm")) throw new Error();
 * ```
 */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  let quick = false;
  let rounds: number | undefined;
  let warmups = 1;
  let latencies = [0, 25];
  let only = new Set<Scenario>(SCENARIOS);
  let form: "bundle" | "source" = "bundle";
  let write = true;
  let out = new URL("../docs/BENCHMARKS.md", import.meta.url).pathname;
  const rest = [...args];
  while (rest.length) {
    const a = rest.shift()!;
    const value = (): string => {
      const v = rest.shift();
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") quick = true;
    else if (a === "--rounds") rounds = Number(value());
    else if (a === "--warmups") warmups = Number(value());
    else if (a === "--latency") latencies = value().split(",").map(Number);
    else if (a === "--form") {
      const f = value();
      if (f !== "bundle" && f !== "source") throw new Error(`--form is bundle or source, not ${f}`);
      form = f;
    } else if (a === "--only") {
      only = new Set();
      for (const s of value().split(",")) {
        if (!(SCENARIOS as readonly string[]).includes(s)) {
          throw new Error(`Unknown scenario ${s}; known: ${SCENARIOS.join(", ")}`);
        }
        only.add(s as Scenario);
      }
    } else if (a === "--no-write") write = false;
    else if (a === "--out") out = value();
    else throw new Error(`Unknown option ${a}`);
  }
  rounds ??= quick ? 1 : 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be at least 1");
  if (latencies.some((l) => !Number.isFinite(l) || l < 0)) throw new Error("bad --latency");
  return { rounds, warmups, latencies, only, form, write, out, quick };
}

/** A tool run in a scenario: how to build its command for a round, and what it measured. */
interface Contender {
  readonly name: string;
  /** Fresh command for one run; `dir` is an empty folder for this run. */
  readonly command: (dir: string) => Cmd | Promise<Cmd>;
  readonly samples: number[];
  failures: string[];
  /** Called after every run (also warm-ups) with the run folder, before it is removed. */
  readonly after?: (dir: string, t: Timed, warmup: boolean) => void | Promise<void>;
  /** Keep the run folders (for later scenarios). */
  readonly keep?: boolean;
}

function contender(
  name: string,
  command: Contender["command"],
  extra: Partial<Pick<Contender, "after" | "keep">> = {},
): Contender {
  return { name, command, samples: [], failures: [], ...extra };
}

let workDir = "";
let runCounter = 0;

async function freshDir(): Promise<string> {
  const dir = join(workDir, `run-${++runCounter}`);
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** Runs every contender once per round, in an order rotated each round, after warm-ups. */
async function alternate(contenders: Contender[], rounds: number, warmups: number): Promise<void> {
  for (let round = 0; round < warmups + rounds; round++) {
    const warmup = round < warmups;
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
    for (const c of order) {
      const dir = await freshDir();
      const t = await timeCommand(await c.command(dir));
      if (!t.ok) {
        c.failures.push(`exit ${t.code}: ${t.stderr.trim().split("\n").slice(-3).join(" | ")}`);
        console.warn(`WARNING: ${c.name} failed: ${c.failures.at(-1)}`);
      } else if (!warmup) c.samples.push(t.ms);
      await c.after?.(dir, t, warmup);
      if (!c.keep) await retire(dir);
      console.log(
        `  ${warmup ? "warm-up" : `round ${round - warmups + 1}`} ${c.name}: ${
          (t.ms / 1000).toFixed(2)
        } s${t.ok ? "" : " FAILED"}`,
      );
    }
  }
}

function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "failed";
}

function med(c: Contender): number {
  return c.samples.length ? median(c.samples) : NaN;
}

/** A "peer is N times slower" row with a minimum speed-up goal. */
function speedupRow(scenario: string, ours: Contender, peer: Contender, goal?: number): Row {
  const o = med(ours);
  const p = med(peer);
  const ratio = p / o;
  return {
    scenario,
    ours: seconds(o),
    peer: `${peer.name}: ${seconds(p)}`,
    ratio: Number.isFinite(ratio) ? `${ratio.toFixed(1)}x faster` : "-",
    goal: goal === undefined ? "-" : `>= ${goal}x faster`,
    met: goal === undefined || !Number.isFinite(ratio) ? "-" : ratio >= goal ? "yes" : "no",
  };
}

/** An "ours is N times the floor" row with a maximum ratio goal. */
function floorRow(scenario: string, ours: Contender, floor: Contender, goal: number): Row {
  const o = med(ours);
  const f = med(floor);
  const ratio = o / f;
  return {
    scenario,
    ours: seconds(o),
    peer: `${floor.name}: ${seconds(f)}`,
    ratio: Number.isFinite(ratio) ? `${ratio.toFixed(1)}x the floor` : "-",
    goal: `<= ${goal}x the floor`,
    met: Number.isFinite(ratio) ? (ratio <= goal ? "yes" : "no") : "-",
  };
}

async function listWheels(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && (e.name.endsWith(".whl") || e.name.endsWith(".tar.gz"))) out.push(e.name);
  }
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Request counts by kind, from a server log. */
interface RequestCount {
  total: number;
  pages: number;
  metadata: number;
  files: number;
  ranges: number;
}

function countRequests(log: readonly { path: string; range?: string }[]): RequestCount {
  const c: RequestCount = { total: 0, pages: 0, metadata: 0, files: 0, ranges: 0 };
  for (const r of log) {
    c.total++;
    if (r.path.startsWith("/simple/")) c.pages++;
    else if (r.path.endsWith(".metadata")) c.metadata++;
    else if (r.range !== undefined) c.ranges++;
    else c.files++;
  }
  return c;
}

/** One package set served at one latency, with what the cold scenario learnt about it. */
interface SetRun {
  label: string;
  latency: number;
  rows: Row[];
  details: string[];
  requests?: { packages: number; byTool: Map<string, RequestCount> };
}

interface Served {
  indexUrl: string;
  requests: { path: string; range?: string }[];
  fileUrl(name: string): string;
  close(): Promise<void>;
}

/**
 * Cold, warm and nothing-to-do runs of one package set at one latency. Warm-ups of each tool
 * double as the request-count runs (a cold cache, a fresh folder).
 */
/** A package set to run the cold/warm/no-op scenarios on. */
interface PackageSet {
  label: string;
  reqs: readonly string[];
  serve: (latency: number) => Promise<Served>;
  /** Also time the usual run (host facts known) beside the first run on a machine. */
  usualRun?: boolean;
  /** The speed-up goal against pip (default 10x at 25 ms, 5x at 0 ms). */
  goal?: number;
  /** The floor goal (default 3x). */
  floorGoal?: number;
}

async function runSet(
  o: BenchOptions,
  set: PackageSet,
  latency: number,
  ours: Ours,
  pips: Pip[],
  scenarios: { cold: boolean; warm: boolean; noop: boolean },
): Promise<SetRun> {
  const result: SetRun = { label: set.label, latency, rows: [], details: [] };
  const server = await set.serve(latency);
  try {
    const tag = `${set.label}, ${latency} ms`;
    console.log(`\n== ${tag}`);
    // A first run of ours fills the reference cache and destination for the later scenarios and
    // tells which files the floors fetch.
    const refCache = await freshDir();
    const refDest = await freshDir();
    server.requests.length = 0;
    const first = await timeCommand(
      oursDownload(ours, {
        index: server.indexUrl,
        dest: refDest,
        cache: refCache,
        reqs: set.reqs,
      }),
    );
    if (!first.ok) throw new Error(`wheelhouse failed on ${tag}: ${first.stderr}`);
    const files = await listWheels(refDest);
    const byTool = new Map<string, RequestCount>([["wheelhouse", countRequests(server.requests)]]);
    result.requests = { packages: files.length, byTool };
    console.log(`  reference run: ${files.length} files in ${seconds(first.ms)}`);

    if (scenarios.cold) {
      const oursC = contender(`wheelhouse (${ours.form})`, (dir) =>
        oursDownload(ours, {
          index: server.indexUrl,
          dest: join(dir, "dest"),
          cache: join(dir, "cache"),
          reqs: set.reqs,
        }));
      const pipCs = pips.map((pip) =>
        contender(pip.label, (dir) => {
          server.requests.length = 0;
          return pipDownload(pip, { index: server.indexUrl, dest: dir, reqs: set.reqs });
        }, {
          after: async (dir, _t, warmup) => {
            if (!warmup) return;
            byTool.set(pip.label, countRequests(server.requests));
            const theirs = await listWheels(dir);
            if (theirs.join() !== files.join()) {
              const only = (a: string[], b: string[]) => a.filter((f) => !b.includes(f));
              const msg = `files differ on ${tag}: only wheelhouse ${
                only(files, theirs).join(", ")
              }; only ${pip.label} ${only(theirs, files).join(", ")}`;
              console.warn(`WARNING: ${msg}`);
              result.details.push(`- ${msg}`);
            }
          },
        })
      );
      const urls = files.map((f) => server.fileUrl(f));
      const curl = contender("16x parallel curl", (dir) => curlFloor(urls, dir));
      // The usual run: packages not cached, but this machine's facts known (the first run on a
      // machine learns them by asking its Python, once).
      const hostFacts = join(refCache, "host-v1.json");
      const usual = set.usualRun && await exists(hostFacts)
        ? contender(`wheelhouse (${ours.form}), host facts known`, async (dir) => {
          await Deno.mkdir(join(dir, "cache"), { recursive: true });
          await Deno.copyFile(hostFacts, join(dir, "cache", "host-v1.json"));
          return oursDownload(ours, {
            index: server.indexUrl,
            dest: join(dir, "dest"),
            cache: join(dir, "cache"),
            reqs: set.reqs,
          });
        })
        : undefined;
      const all = [oursC, ...(usual ? [usual] : []), ...pipCs, curl];
      await alternate(all, o.rounds, o.warmups);
      const goal = set.goal ?? (latency >= 25 ? 10 : 5);
      const first = usual ? " (first run on a machine)" : "";
      for (const p of pipCs) {
        result.rows.push(speedupRow(`1. cold cache, ${tag}${first}`, oursC, p, goal));
        if (usual) {
          result.rows.push(
            speedupRow(`1. cold cache, ${tag} (usual run: host facts known)`, usual, p, goal),
          );
        }
      }
      result.rows.push(floorRow(`1. cold cache, ${tag}${first}`, oursC, curl, set.floorGoal ?? 3));
      if (usual) {
        result.rows.push(
          floorRow(`1. cold cache, ${tag} (usual run)`, usual, curl, set.floorGoal ?? 3),
        );
      }
      for (const c of all) {
        result.details.push(
          `- ${tag}, ${c.name}: ${c.samples.map((s) => (s / 1000).toFixed(2)).join(", ")} s${
            c.failures.length ? ` (failures: ${c.failures.join("; ")})` : ""
          }`,
        );
      }
    }

    if (scenarios.warm) {
      const paths = files.map((f) => join(refDest, f));
      const oursW = contender(
        `wheelhouse (${ours.form})`,
        (dir) =>
          oursDownload(ours, {
            index: server.indexUrl,
            dest: dir,
            cache: refCache,
            reqs: set.reqs,
          }),
      );
      const cp = contender("cp", (dir) => cpFloor(paths, dir));
      await alternate([oursW, cp], o.rounds, o.warmups);
      const row = floorRow(`2. warm cache, new folder, ${tag}`, oursW, cp, 1.5);
      result.rows.push(row);
      result.details.push(
        `- warm ${tag}: wheelhouse ${oursW.samples.map((s) => (s / 1000).toFixed(2))} s; cp ${
          cp.samples.map((s) => (s / 1000).toFixed(2))
        } s`,
      );
    }

    if (scenarios.noop) {
      const oursN = contender(`wheelhouse (${ours.form})`, () =>
        oursDownload(ours, {
          index: server.indexUrl,
          dest: refDest,
          cache: refCache,
          reqs: set.reqs,
        }));
      const peers = pips.slice(0, 1).map((pip) =>
        contender(
          pip.label,
          () => pipDownload(pip, { index: server.indexUrl, dest: refDest, reqs: set.reqs }),
        )
      );
      await alternate([oursN, ...peers], o.rounds, o.warmups);
      const ms = med(oursN);
      const peer = peers[0];
      result.rows.push({
        scenario: `3. nothing to do, ${tag}`,
        ours: seconds(ms),
        peer: peer ? `${peer.name}: ${seconds(med(peer))}` : "-",
        ratio: peer ? `${(med(peer) / ms).toFixed(1)}x faster` : "-",
        goal: "< 0.5 s",
        met: Number.isFinite(ms) ? (ms < 500 ? "yes" : "no") : "-",
      });
    }
  } finally {
    await server.close();
  }
  return result;
}

async function serveMirror(latency: number): Promise<Served> {
  const s = await startMirrorServer({ sources: MIRROR, latencyMs: latency });
  return {
    indexUrl: s.indexUrl,
    requests: s.requests,
    fileUrl: (f) => s.fileUrl(f) ?? `${s.url}files/${encodeURIComponent(f)}`,
    close: () => s.close(),
  };
}

let corpus: Awaited<ReturnType<typeof generatedCorpus>> | undefined;

async function serveGenerated(latency: number): Promise<Served> {
  corpus ??= await generatedCorpus(200);
  const s = await startIndexServer({ projects: corpus, latencyMs: latency });
  return {
    indexUrl: s.indexUrl,
    requests: s.requests,
    fileUrl: (f) => `${s.url}files/${encodeURIComponent(f)}`,
    close: () => s.close(),
  };
}

/** Which projects of the realistic set the mirror lacks (empty: all present). */
async function mirrorMissing(): Promise<string[]> {
  const missing: string[] = [];
  for (const p of REALISTIC) {
    const found = await Promise.all(
      MIRROR.filter((m) => m.kind === "simple").map((m) => exists(join(m.dir, p, "index.html"))),
    );
    if (!found.some(Boolean)) missing.push(p);
  }
  return missing;
}

/** Peak RSS of both tools downloading one big wheel (`--no-deps`), generated and real. */
async function memoryScenario(o: BenchOptions, ours: Ours, pips: Pip[], haveMirror: boolean) {
  const rows: Row[] = [];
  const details: string[] = [];
  if (!await hasGnuTime()) {
    console.warn("WARNING: /usr/bin/time (GNU time) is missing; the memory scenario is SKIPPED");
    return { rows, details: ["- skipped: no GNU time for peak RSS"] };
  }
  const bigDir = await freshDir();
  const sizes = o.quick ? [40, 160] : [40, 160, 320];
  const wanted: { req: string; size: number; label: string }[] = [];
  for (const mb of sizes) {
    const name = `bench-big-${mb}`;
    await writeBigWheel(bigDir, name, mb * 1_000_000);
    wanted.push({ req: `${name}==1.0`, size: mb * 1_000_000, label: `generated ${mb} MB` });
  }
  const sources: MirrorSource[] = [{ kind: "flat", dir: bigDir }];
  if (haveMirror) {
    sources.push(...MIRROR);
  } else {
    console.warn("WARNING: no real-wheel mirror: memory is measured on generated wheels only");
  }
  const server = await startMirrorServer({ sources });
  try {
    if (haveMirror) {
      const big: { file: string; size: number }[] = [];
      for (const [, names] of server.projects) {
        for (const f of names) {
          if (!f.endsWith(".whl") || f.startsWith("bench_big")) continue;
          const path = server.filePath(f);
          const size = path ? (await Deno.stat(path).catch(() => undefined))?.size ?? 0 : 0;
          if (size >= 150_000_000) big.push({ file: f, size });
        }
      }
      big.sort((a, b) => a.size - b.size);
      for (const b of [big[0], big.at(-1)]) {
        if (!b || wanted.some((w) => w.label.includes(b.file))) continue;
        const w = parseWheelFilename(b.file);
        wanted.push({
          req: `${w.normalizedName}==${w.version}`,
          size: b.size,
          label: `real ${b.file.split("-").slice(0, 2).join("-")} (${Math.round(b.size / 1e6)} MB)`,
        });
      }
    }
    const oursRss: { size: number; rss: number }[] = [];
    for (const w of wanted) {
      const run = async (cmdFor: (dir: string) => Cmd) => {
        const values: number[] = [];
        for (let i = 0; i < Math.max(1, o.rounds - 1); i++) {
          const dir = await freshDir();
          const t = await timeCommand(cmdFor(dir), { rss: true });
          await retire(dir);
          if (!t.ok) console.warn(`WARNING: failed on ${w.label}: ${t.stderr.slice(-300)}`);
          if (t.ok && t.peakRss) values.push(t.peakRss);
        }
        return median(values);
      };
      const oursPeak = await run((dir) =>
        oursDownload(ours, {
          index: server.indexUrl,
          dest: join(dir, "d"),
          cache: join(dir, "c"),
          reqs: [w.req],
          extra: ["--no-deps"],
        })
      );
      const pip = pips[0];
      const pipPeak = pip
        ? await run((dir) =>
          pipDownload(pip, {
            index: server.indexUrl,
            dest: dir,
            reqs: [w.req],
            extra: ["--no-deps"],
          })
        )
        : NaN;
      oursRss.push({ size: w.size, rss: oursPeak });
      const mb = (b: number) => Number.isFinite(b) ? `${(b / 1048576).toFixed(0)} MiB` : "-";
      console.log(
        `  ${w.label}: wheelhouse ${mb(oursPeak)}, ${pip?.label ?? "pip"} ${mb(pipPeak)}`,
      );
      rows.push({
        scenario: `5. peak RSS, one wheel, ${w.label}`,
        ours: mb(oursPeak),
        peer: pip ? `${pip.label}: ${mb(pipPeak)}` : "-",
        ratio: Number.isFinite(pipPeak / oursPeak)
          ? `peer/ours ${(pipPeak / oursPeak).toFixed(1)}`
          : "-",
        goal: "< 150 MB",
        met: Number.isFinite(oursPeak) ? (oursPeak < 150_000_000 ? "yes" : "no") : "-",
      });
    }
    const generated = oursRss.slice(0, sizes.length).filter((r) => Number.isFinite(r.rss));
    if (generated.length >= 2) {
      const first = generated[0]!;
      const last = generated.at(-1)!;
      const growth = (last.rss - first.rss) / 1048576;
      const perMb = growth / ((last.size - first.size) / 1e6);
      rows.push({
        scenario: `5. RSS growth, ${sizes[0]} MB -> ${sizes.at(-1)} MB wheel`,
        ours: `${growth.toFixed(1)} MiB`,
        peer: "-",
        ratio: `${perMb.toFixed(3)} MiB per MB of wheel`,
        goal: "flat (< 10 MiB)",
        met: growth < 10 ? "yes" : "no",
      });
    }
  } finally {
    await server.close();
  }
  return { rows, details };
}

/**
 * Four processes on one cold cache (CI runners sharing one): the wall time of all four against
 * one process alone, and how many times each file was transferred (goal: once).
 */
async function sharedCacheScenario(
  o: BenchOptions,
  ours: Ours,
  latency: number,
): Promise<{ rows: Row[]; details: string[] }> {
  const server = await serveMirror(latency);
  const single: number[] = [];
  const four: number[] = [];
  const gets: number[] = [];
  let unique = 0;
  try {
    const run = (cache: string, dest: string) =>
      timeCommand(oursDownload(ours, { index: server.indexUrl, dest, cache, reqs: REALISTIC }));
    for (let round = 0; round < o.warmups + o.rounds; round++) {
      const warmup = round < o.warmups;
      const dir = await freshDir();
      const one = await run(join(dir, "c1"), join(dir, "d1"));
      if (!one.ok) throw new Error(`wheelhouse failed: ${one.stderr}`);
      unique = (await listWheels(join(dir, "d1"))).length;
      server.requests.length = 0;
      const t0 = performance.now();
      const results = await Promise.all(
        [1, 2, 3, 4].map((i) => run(join(dir, "shared"), join(dir, `d4-${i}`))),
      );
      const wall = performance.now() - t0;
      if (results.some((r) => !r.ok)) {
        throw new Error(`a shared-cache run failed: ${results.map((r) => r.stderr).join("\n")}`);
      }
      const fileGets = server.requests.filter((r) =>
        !r.path.startsWith("/simple/") && !r.path.endsWith(".metadata") && r.range === undefined
      ).length;
      console.log(
        `  ${warmup ? "warm-up" : `round ${round - o.warmups + 1}`}: one ${
          (one.ms / 1000).toFixed(2)
        } s, four ${(wall / 1000).toFixed(2)} s, ${fileGets} file GETs for ${unique} files`,
      );
      if (!warmup) {
        single.push(one.ms);
        four.push(wall);
        gets.push(fileGets);
      }
      await retire(dir);
    }
  } finally {
    await server.close();
  }
  const ratio = median(four) / median(single);
  const worstGets = Math.max(...gets);
  const tag = `realistic set, ${latency} ms`;
  return {
    rows: [
      {
        scenario: `7. four processes on one cold cache, ${tag}`,
        ours: seconds(median(four)),
        peer: `one process: ${seconds(median(single))}`,
        ratio: `${ratio.toFixed(2)}x one process`,
        goal: "<= 1.3x one process",
        met: ratio <= 1.3 ? "yes" : "no",
      },
      {
        scenario: `7. files transferred by four processes, ${tag}`,
        ours: `${worstGets} file GETs (worst round)`,
        peer: `${unique} files`,
        ratio: `${(worstGets / unique).toFixed(2)} per file`,
        goal: "each file once",
        met: worstGets === unique ? "yes" : "no",
      },
    ],
    details: [
      `- four processes, ${tag}: one ${single.map((s) => (s / 1000).toFixed(2))} s; four ${
        four.map((s) => (s / 1000).toFixed(2))
      } s; file GETs ${gets.join(", ")} for ${unique} files`,
    ],
  };
}

/**
 * Where one cold run's time goes, from its own events (`WHEELHOUSE_TRACE`): start-up before the
 * command runs, the host's facts, the first page, resolution, the transfers that outlast it, and
 * delivery (linking, side files, exit).
 */
async function criticalPath(ours: Ours, latency: number): Promise<string[]> {
  const server = await serveMirror(latency);
  const dir = await freshDir();
  try {
    const lines: string[] = [];
    for (const [label, seed] of [["first run on a machine", false], ["usual run", true]] as const) {
      const cache = join(dir, `cache-${seed}`);
      if (seed) {
        await Deno.mkdir(cache, { recursive: true });
        await Deno.copyFile(join(dir, "cache-false", "host-v1.json"), join(cache, "host-v1.json"));
      }
      const trace = join(dir, `trace-${seed}.jsonl`);
      const cmd = oursDownload(ours, {
        index: server.indexUrl,
        dest: join(dir, `dest-${seed}`),
        cache,
        reqs: REALISTIC,
      });
      const t = await timeCommand({ ...cmd, env: { ...cmd.env, WHEELHOUSE_TRACE: trace } });
      if (!t.ok) throw new Error(`wheelhouse failed: ${t.stderr}`);
      const events = (await Deno.readTextFile(trace)).trim().split("\n").map((l) =>
        JSON.parse(l) as { t: number; kind: string; decided?: number }
      );
      const at = (kind: string) => events.find((e) => e.kind === kind)?.t ?? NaN;
      const last = (kind: string) => events.findLast((e) => e.kind === kind)?.t ?? NaN;
      const firstPage = events.find((e) => e.kind === "resolving-progress")?.t ?? NaN;
      const transfers = events.filter((e) => e.kind === "transfer-start");
      const resolved = at("resolved");
      const tail = Math.max(0, last("transfer-done") - resolved);
      const phases: [string, number][] = [
        ["start-up (process start to the command)", at("cli-start")],
        [
          "host facts (asking Python; cached after the first run)",
          at("host-done") - at("host-start"),
        ],
        ["to the first page or metadata answer", firstPage - at("cli-start")],
        ["resolution (first answer to resolved)", resolved - firstPage],
        [
          `transfers after resolution ended (${
            transfers.filter((e) => e.t > resolved).length
          } of ${transfers.length} started after it)`,
          tail,
        ],
        ["delivery (links, side files) and exit", t.ms - Math.max(resolved, last("transfer-done"))],
      ];
      // Resolution progress over time: how many decisions per 100 ms, to show its round trips.
      const steps: string[] = [];
      for (let ms = Math.floor(firstPage / 100) * 100; ms < resolved + 100; ms += 100) {
        const d = events.filter((e) => e.kind === "resolving-progress" && e.t < ms + 100)
          .at(-1)?.decided ?? 0;
        steps.push(`${ms}:${d}`);
      }
      lines.push(
        `Critical path of one cold run, realistic set, ${latency} ms, ${label}: ${
          seconds(t.ms)
        } in all.`,
        "",
        "| phase | ms |",
        "| --- | --- |",
        ...phases.map(([name, ms]) => `| ${name} | ${Number.isFinite(ms) ? ms.toFixed(0) : "-"} |`),
        "",
        `Packages decided by time (ms:decided): ${steps.join(" ")}`,
        "",
      );
    }
    return lines;
  } finally {
    await server.close();
    await retire(dir);
  }
}

async function machine(ours: Ours, pips: Pip[]): Promise<string[]> {
  const read = async (p: string) => await Deno.readTextFile(p).catch(() => "");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await read("/proc/cpuinfo"))?.[1] ?? "unknown";
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(await read("/proc/meminfo"))?.[1] ?? NaN);
  const os = /^PRETTY_NAME="?([^"\n]+)/m.exec(await read("/etc/os-release"))?.[1] ?? Deno.build.os;
  const kernel = await capture("uname", ["-r"]).then((s) => s.trim()).catch(() => "");
  const python = await capture("python3", ["--version"]).then((s) => s.trim()).catch(() => "-");
  const curl = await capture("curl", ["--version"]).then((s) => s.split("\n")[0] ?? "").catch(
    () => "-",
  );
  return [
    `- Date: ${new Date().toISOString()}`,
    `- CPU: ${cpu}, ${navigator.hardwareConcurrency} logical CPUs (nproc)`,
    `- Memory: ${(memKb / 1048576).toFixed(1)} GiB`,
    `- OS: ${os}, kernel ${kernel}, ${Deno.build.target}`,
    `- Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); wheelhouse ran as ${
      ours.form === "bundle" ? "a `deno bundle` of cli/main.ts" : "cli/main.ts from source"
    } via \`deno run -A\``,
    `- ${python}; peers: ${pips.map((p) => p.label).join(", ") || "none"}`,
    `- ${
      curl.split(" ").slice(0, 2).join(" ")
    }; network: loopback only (127.0.0.1), fixed latency added per request by the server`,
  ];
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * An SVG bar chart of the speed-ups against each pip and of the times over the floors, with
 * each goal marked, from the rows of one run.
 *
 * @param rows The results table.
 * @returns SVG text (empty chart when no row has a ratio).
 * @example
 * ```ts
 * import { ratioChart } from "./main.ts";
 * const svg = ratioChart([{
 *   scenario: "1. cold cache, x", ours: "1 s", peer: "pip 26.2.1: 5 s", ratio: "5.0x faster",
 *   goal: ">= 8x faster", met: "no",
 * }]);
 * if (!svg.startsWith("<svg") || !svg.includes("5.0x")) throw new Error();
 * ```
 */
export function ratioChart(rows: readonly Row[]): string {
  const bars = rows.flatMap((r) => {
    const faster = /^([\d.]+)x faster/.exec(r.ratio);
    const floor = /^([\d.]+)x the floor/.exec(r.ratio);
    const goal = /([\d.]+)x/.exec(r.goal);
    if (!faster && !floor) return [];
    const peer = r.peer.split(":")[0]!;
    return [{
      label: `${r.scenario.replace(/^\d+\.\s*/, "")} — ${faster ? `vs ${peer}` : peer}`,
      value: Number((faster ?? floor)![1]),
      goal: goal ? Number(goal[1]) : undefined,
      kind: faster ? "faster" as const : "floor" as const,
      met: r.met,
    }];
  });
  const width = 980;
  const labelWidth = 560;
  const barArea = width - labelWidth - 90;
  const rowHeight = 22;
  const height = 50 + bars.length * rowHeight;
  const max = Math.max(1, ...bars.map((b) => Math.max(b.value, b.goal ?? 0)));
  const x = (v: number) => labelWidth + (v / max) * barArea;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">wheelhouse: times faster than pip (blue) and times the floor (grey; lower is better); | = goal</text>`,
  ];
  bars.forEach((b, i) => {
    const y = 36 + i * rowHeight;
    const colour = b.kind === "faster" ? (b.met === "no" ? "#8fb3e0" : "#2f6fbf") : "#9a9a9a";
    parts.push(
      `<text x="10" y="${y + 14}">${escapeXml(b.label.slice(0, 88))}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${
        (x(b.value) - labelWidth).toFixed(1)
      }" height="14" fill="${colour}"/>`,
      `<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 14}">${b.value.toFixed(1)}x</text>`,
    );
    if (b.goal !== undefined) {
      parts.push(
        `<line x1="${x(b.goal).toFixed(1)}" x2="${x(b.goal).toFixed(1)}" y1="${y + 1}" y2="${
          y + 19
        }" stroke="#c0392b" stroke-width="2"/>`,
      );
    }
  });
  parts.push("</svg>", "");
  return parts.join("\n");
}

function table(rows: readonly Row[]): string[] {
  const header = ["scenario", "wheelhouse (median)", "peer (median)", "ratio", "goal", "met"];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const r of rows) {
    lines.push(`| ${[r.scenario, r.ours, r.peer, r.ratio, r.goal, r.met].join(" | ")} |`);
  }
  return lines;
}

/**
 * Runs the selected scenarios, prints the table and (unless `--no-write`) writes the report.
 *
 * @param args Command-line arguments (see the module docs).
 * @returns The table rows.
 * @throws {Error} On bad arguments or when wheelhouse itself fails a reference run.
 */
export async function runBench(args: readonly string[]): Promise<Row[]> {
  const o = parseBenchArgs(args);
  const started = performance.now();
  workDir = await Deno.makeTempDir({ prefix: "wheelhouse-bench-" });
  const venvRoot = join(
    await Deno.realPath(Deno.env.get("TMPDIR") ?? "/tmp"),
    "wheelhouse-bench-pips",
  );
  await Deno.mkdir(venvRoot, { recursive: true });
  const rows: Row[] = [];
  const details: string[] = [];
  const skipped: string[] = [];
  const requestRows: Row[] = [];
  try {
    const ours = await prepareOurs(o.form, workDir);
    const missing = await mirrorMissing();
    const haveMirror = missing.length === 0;
    if (!haveMirror) {
      const msg = `the real-wheel mirror (/opt/pypi) lacks ${missing.join(", ")}: ` +
        "the realistic-set scenarios are SKIPPED; warm and nothing-to-do use the generated set";
      console.warn(`\nWARNING: ${msg}\n`);
      skipped.push(msg);
    }
    const pips = await preparePips(
      haveMirror || await exists(PIP_WHEELS) ? PIP_WHEELS : undefined,
      venvRoot,
    );
    const sets: PackageSet[] = [
      ...(haveMirror
        ? [{
          label: "realistic set (40 real wheels)",
          reqs: REALISTIC,
          serve: serveMirror,
          usualRun: true,
        }]
        : []),
      { label: "generated 200-project graph", reqs: [corpusName(0)], serve: serveGenerated },
    ];
    for (const latency of o.latencies) {
      for (const [i, set] of sets.entries()) {
        const realistic = i === 0;
        const want = {
          cold: set.serve === serveMirror ? o.only.has("cold") : o.only.has("generated"),
          warm: realistic && o.only.has("warm"),
          noop: realistic && o.only.has("noop"),
        };
        const wantRequests = o.only.has("requests") && latency === o.latencies[0];
        if (!want.cold && !want.warm && !want.noop && !wantRequests) continue;
        const r = await runSet(o, set, latency, ours, want.cold || wantRequests ? pips : [], want);
        rows.push(...r.rows);
        details.push(...r.details);
        if (wantRequests && r.requests) {
          const mine = r.requests.byTool.get("wheelhouse")!;
          const n = r.requests.packages;
          for (const [tool, count] of r.requests.byTool) {
            if (tool === "wheelhouse") continue;
            requestRows.push({
              scenario: `6. HTTP requests per package, ${set.label}`,
              ours: `${(mine.total / n).toFixed(2)} (${mine.total} for ${n})`,
              peer: `${tool}: ${(count.total / n).toFixed(2)} (${count.total})`,
              ratio: `peer/ours ${(count.total / mine.total).toFixed(2)}`,
              goal: "-",
              met: "-",
            });
          }
          for (const [tool, c] of r.requests.byTool) {
            details.push(
              `- requests, ${set.label}, ${tool}: ${c.total} total = ${c.pages} pages + ${c.metadata} PEP 658 metadata + ${c.files} files + ${c.ranges} range requests, for ${n} packages`,
            );
          }
        }
      }
    }
    const at25 = o.latencies.includes(25) ? 25 : Math.max(...o.latencies);
    if (o.only.has("big") && haveMirror) {
      // Against pip 26 only: the goal is set against the newest pip.
      const newest = pips.filter((p) => p.version.startsWith("26."));
      const r = await runSet(
        o,
        {
          label: `big real set (${BIG_REAL.length} requirements)`,
          reqs: BIG_REAL,
          serve: serveMirror,
          goal: 10,
          floorGoal: 2,
        },
        at25,
        ours,
        newest.length > 0 ? newest : pips.slice(-1),
        {
          cold: true,
          warm: false,
          noop: false,
        },
      );
      rows.push(...r.rows);
      details.push(...r.details);
      if (r.requests) details.push(`- big real set: ${r.requests.packages} files`);
    }
    if (o.only.has("shared") && haveMirror) {
      console.log(`\n== four processes on one cold cache, ${at25} ms`);
      const r = await sharedCacheScenario(o, ours, at25);
      rows.push(...r.rows);
      details.push(...r.details);
    }
    if (o.only.has("critical") && haveMirror) {
      console.log(`\n== critical path of one cold run, ${at25} ms`);
      details.push("", ...await criticalPath(ours, at25));
    }
    if (o.only.has("resolve")) {
      console.log("\n== resolution only (bench/resolve_bench.ts)");
      // A process of its own: in this one, the earlier scenarios leave a large heap and warm or
      // cold JIT state behind that would decide an 8 ms measurement.
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./resolve_bench.ts", import.meta.url).pathname,
          String(o.quick ? 3 : 7),
          "--json",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      const results: ResolveBenchCase[] = JSON.parse(new TextDecoder().decode(out.stdout));
      const real = results.filter((r) => r.realPyPI && r.ours !== undefined && r.resolvelib);
      const ours = real.reduce((a, r) => a + r.ours!, 0);
      const theirs = real.reduce((a, r) => a + r.resolvelib!, 0);
      rows.push({
        scenario: `4. resolution only, ${real.length} real-PyPI resolvelib cases (total)`,
        ours: `${ours.toFixed(1)} ms`,
        peer: `resolvelib (pip's): ${theirs.toFixed(1)} ms`,
        ratio: `${(theirs / ours).toFixed(1)}x faster`,
        goal: ">= 10x faster (issue 4)",
        met: theirs / ours >= 10 ? "yes" : "no",
      });
      const text = formatResolveBench(results);
      console.log(text);
      details.push("", "Resolution, per case (ms, median; * real PyPI):", "", "```", text, "```");
    }
    if (o.only.has("memory")) {
      console.log("\n== memory");
      const m = await memoryScenario(o, ours, pips, haveMirror);
      rows.push(...m.rows);
      details.push(...m.details);
    }
    rows.push(...requestRows);
    const total = (performance.now() - started) / 1000;
    const lines = table(rows);
    console.log(`\n${lines.join("\n")}\n\n(${total.toFixed(0)} s in all)`);
    if (o.write) {
      let analysis = "";
      const previous = await Deno.readTextFile(o.out).catch(() => "");
      const at = previous.indexOf(ANALYSIS_MARKER);
      if (at >= 0) analysis = previous.slice(at + ANALYSIS_MARKER.length);
      const doc = [
        "# Benchmarks",
        "",
        "`wheelhouse download` against `pip download` on the same machine, in the same run, from the",
        "same local index server. Generated by `deno task bench` (bench/main.ts); do not edit above the",
        "analysis marker by hand.",
        "",
        "## Machine",
        "",
        ...await machine(ours, pips),
        "",
        "## Method",
        "",
        `- ${o.rounds} timed round(s) after ${o.warmups} warm-up(s); in each round the tools run one after`,
        "  the other, in an order rotated every round; the table shows medians of wall time of the",
        "  whole process (start-up included), ratios are of the medians.",
        "- Cold: a new cache folder and destination per run for wheelhouse, `--no-cache-dir` and a new",
        "  destination for pip (`PIP_CONFIG_FILE=/dev/null`, every `PIP_*` variable removed,",
        "  `--disable-pip-version-check`). Both resolve for this machine (host target).",
        "- Servers: bench/mirror_server.ts streams the machine's real-wheel mirror (/opt/pypi,",
        "  /opt/pypi-more, /opt/wheels) with PEP 658 metadata, as PyPI serves it; the generated set",
        "  runs on tests/index_server.ts. Latency is added before every response.",
        "- Floors: the final files (known from a first run) with `curl --parallel --parallel-max 16`",
        "  from the same server; `cp` of the same files for the warm-cache case.",
        "- A finished run's files are emptied, not removed, until the bench ends: on this machine's",
        "  ext4 (no journal) a file created within seconds of a mass removal scans the freed inodes,",
        "  so removing one tool's folder made the next tool's run slower.",
        `- Total time of this run: ${total.toFixed(0)} s${o.quick ? " (--quick)" : ""}.`,
        ...(skipped.length ? ["", ...skipped.map((s) => `**SKIPPED:** ${s}`)] : []),
        "",
        "## Results",
        "",
        ...lines,
        "",
        "## Raw samples",
        "",
        ...details,
        "",
        ANALYSIS_MARKER + (analysis || "\n\n## Analysis\n\n(none yet)\n"),
      ].join("\n");
      await Deno.writeTextFile(o.out, doc.endsWith("\n") ? doc : doc + "\n");
      const chart = join(dirname(o.out), "bench-ratios.svg");
      await Deno.writeTextFile(chart, ratioChart(rows));
      await capture(Deno.execPath(), ["fmt", "--quiet", chart]).catch(() => "");
      console.log(`wrote ${chart}`);
      // Keep the report stable under `deno fmt --check` (it aligns the table columns).
      await capture(Deno.execPath(), ["fmt", "--quiet", o.out]).catch(() => "");
      console.log(`wrote ${o.out}`);
    }
  } finally {
    await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
  return rows;
}

if (import.meta.main) {
  try {
    await runBench(Deno.args);
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
    Deno.exit(1);
  }
}
