// `wheelhouse download`: arguments and the environment in, the library's `download()` (or
// `plan()` for --dry-run) called, its events and result turned into terminal output.
import * as fsp from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { credentialEnvNames } from "../index/auth.ts";
import type { Target } from "../pep/tags.ts";
import type { Reporter as TransferReporter } from "../fetcher/types.ts";
import {
  download as runDownload,
  type DownloadEvent,
  type DownloadOptions,
  type DownloadPlan,
  type DownloadReporter,
  type DownloadResult,
  type IndexCredentials,
  plan as runPlan,
  reportJson,
  type UniversalOptions,
} from "../download/mod.ts";
import type { CliIo } from "./io.ts";
import { Trace, tracedFetch } from "./_trace.ts";
import { type DownloadArgs, parseDownloadArgs } from "./_options.ts";
import { detectHost, detectHostCached, type HostFacts } from "./_host.ts";
import { buildTargets } from "./_targets.ts";
import { InputError, printable } from "./_errors.ts";
import { formatBytes, formatDuration, plural } from "./_format.ts";
import { LineProgress, TerminalProgress } from "./_progress.ts";
import { cacheDirOf } from "./cache.ts";
import { DOWNLOAD_HELP } from "./_download_help.ts";
import { writeTextAtomic } from "./_fs.ts";

/** How a run talks to the user. */
interface Ui {
  info(text: string): void;
  verbose(text: string): void;
  progress: boolean;
}

function makeUi(options: DownloadArgs, io: CliIo): Ui {
  const quiet = options.quiet > 0;
  return {
    info: (text) => {
      if (!quiet) io.stderr.write(`${text}\n`);
    },
    verbose: (text) => {
      if (!quiet && options.verbose > 0) io.stderr.write(`${text}\n`);
    },
    progress: !quiet &&
      (options.progress === "on" || (options.progress === "auto" && io.stderr.isTerminal)),
  };
}

/** Credentials for an index from the environment: WHEELHOUSE_INDEX_<HOST>_USERNAME/_PASSWORD. */
function credentialsFromEnv(
  env: (name: string) => string | undefined,
): (url: string) => IndexCredentials | undefined {
  return (url) => {
    const names = credentialEnvNames(url);
    if (names === undefined) return undefined;
    const username = env(names.username);
    const password = env(names.password);
    if (username === undefined && password === undefined) return undefined;
    return {
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  };
}

/** The text of ~/.netrc ($NETRC), if there is one. */
async function readNetrc(io: CliIo): Promise<string | undefined> {
  const home = io.env("HOME");
  const path = io.env("NETRC") ?? (home !== undefined ? join(home, ".netrc") : undefined);
  if (path === undefined) return undefined;
  return await fsp.readFile(path, "utf8").catch(() => undefined);
}

/** Works out the targets of the run (none with --all-platforms), examining the host if needed. */
async function targetsOf(
  o: DownloadArgs,
  io: CliIo,
  cacheDir: string | undefined,
): Promise<Target[]> {
  if (o.allPlatforms) return [];
  const pythonGiven = o.pythonVersions.length > 0;
  const platformGiven = o.pythonPlatforms.length > 0 || o.platforms.length > 0;
  const detect = io.detectHost ??
    ((options: { python: boolean }) => detectHost(undefined, undefined, options));
  const host: HostFacts = pythonGiven && platformGiven
    // Every target is named: nothing about this machine matters.
    ? {
      os: "",
      arch: "",
      glibc: undefined,
      musl: false,
      macosVersion: undefined,
      pythonFullVersion: undefined,
    }
    : pythonGiven
    ? await detect({ python: false })
    : cacheDir === undefined
    ? await detect({ python: true })
    : await detectHostCached({
      file: join(cacheDir, "host-v1.json"),
      env: io.env,
      cwd: io.cwd,
      now: io.now,
      detect: () => detect({ python: true }),
    });
  const macos = io.env("MACOSX_DEPLOYMENT_TARGET");
  return buildTargets({ ...o, macosVersion: macos === "" ? undefined : macos }, host);
}

/**
 * The region of `--universal`: the Pythons given (each X.Y is every X.Y.z), else the project's
 * requires-python, else (as uv does) this machine's Python and every newer one.
 */
async function universalOf(
  o: DownloadArgs,
  io: CliIo,
  cacheDir: string | undefined,
): Promise<UniversalOptions> {
  let requiresPython: string | undefined;
  if (o.pythonVersions.length === 0) {
    const detect = io.detectHost ??
      ((options: { python: boolean }) => detectHost(undefined, undefined, options));
    const host = cacheDir === undefined ? await detect({ python: true }) : await detectHostCached({
      file: join(cacheDir, "host-v1.json"),
      env: io.env,
      cwd: io.cwd,
      now: io.now,
      detect: () => detect({ python: true }),
    });
    const minor = /^(\d+\.\d+)/.exec(host.pythonFullVersion ?? "")?.[1];
    if (minor !== undefined) requiresPython = `>=${minor}`;
  }
  return {
    pythonVersions: o.pythonVersions,
    ...(requiresPython !== undefined ? { requiresPython } : {}),
    environments: o.environments,
    platforms: o.pythonPlatforms,
  };
}

/** Turns the pipeline's events into status lines, progress bars and messages. */
class CliReporter implements DownloadReporter {
  #ui: Ui;
  #current: TransferReporter | undefined;
  #terminal: TerminalProgress | undefined;

  readonly #trace: Trace | undefined;

  constructor(io: CliIo, ui: Ui, verbose: boolean, trace?: Trace) {
    this.#ui = ui;
    this.#trace = trace;
    // One drawing for the whole run: transfers begin during resolution (early downloads), and
    // the bar must count them. Off a terminal, -v prints a plain line per finished file.
    if (ui.progress) {
      this.#terminal = new TerminalProgress(io.stderr, undefined, io.now);
      this.#current = this.#terminal;
    } else if (verbose) {
      this.#current = new LineProgress(io.stderr);
    }
  }

  /** The file of each transfer in flight, for the trace of one that fails. */
  readonly #traced = new Map<string, string>();

  readonly transfer: TransferReporter = {
    start: (id, info) => {
      if (this.#trace) {
        const file = info.url.split("/").pop() ?? "";
        this.#traced.set(id, file);
        this.#trace.mark("transfer-start", { file });
      }
      this.#current?.start?.(id, info);
    },
    progress: (id, info) => this.#current?.progress?.(id, info),
    done: (id, info) => {
      const file = info.result?.url.split("/").pop() ?? this.#traced.get(id);
      this.#traced.delete(id);
      this.#trace?.mark("transfer-done", {
        ...(file !== undefined ? { file } : {}),
        bytes: info.result?.size ?? 0,
        ...(info.error !== undefined ? { error: info.error.code } : {}),
      });
      this.#current?.done?.(id, info);
    },
    retry: (id, info) => this.#current?.retry?.(id, info),
  };

  /** A message line, above the drawing (which is redrawn below it). */
  #say(write: (text: string) => void, text: string): void {
    this.#terminal?.finish();
    write(printable(text));
  }

  event(e: DownloadEvent): void {
    if (this.#trace !== undefined && e.kind !== "detail") {
      this.#trace.mark(
        e.kind,
        e.kind === "resolving-progress"
          ? { decided: e.decided, project: e.project }
          : e.kind === "resolved"
          ? { packages: e.packages }
          : {},
      );
    }
    switch (e.kind) {
      case "warning":
        this.#say(this.#ui.info, `warning: ${e.message}`);
        return;
      case "note":
        this.#say(this.#ui.info, `note: ${e.message}`);
        return;
      case "detail":
        this.#say(this.#ui.verbose, e.message);
        return;
      case "resolving":
        this.#terminal?.resolving(e.targets);
        return;
      case "resolving-progress":
        this.#terminal?.resolveProgress(e.decided, e.project);
        return;
      case "resolved":
        this.#say(
          this.#ui.verbose,
          `Resolved ${plural(e.packages, "package")} for ${e.targets.join(", ")} in ${
            formatDuration(e.ms)
          }`,
        );
        return;
      case "transfers-started":
        this.#terminal?.planned({ files: e.files, bytes: e.bytes });
        return;
      case "transfers-finished":
        this.#terminal?.finish();
        return;
    }
  }

  /** Clears the drawing, if one is shown. */
  clearStatus(): void {
    this.#terminal?.finish();
  }
}

/** The library's options for the parsed arguments. */
function libraryOptions(
  o: DownloadArgs,
  io: CliIo,
  extra: Pick<DownloadOptions, "targets" | "reporter"> & {
    cacheDir: string | undefined;
    netrc: string | undefined;
  },
): DownloadOptions {
  return {
    dest: o.dest,
    cwd: io.cwd,
    targets: extra.targets,
    ...(extra.reporter !== undefined ? { reporter: extra.reporter } : {}),
    requirements: o.requirements,
    requirementFiles: o.requirementFiles,
    constraintFiles: o.constraintFiles,
    ...(o.project !== undefined ? { project: o.project } : {}),
    extras: o.extras,
    allExtras: o.allExtras,
    groups: o.groups,
    ...(o.lock !== undefined ? { lock: o.lock } : {}),
    allPlatforms: o.allPlatforms,
    noDev: o.noDev,
    ...(o.indexUrl !== undefined ? { indexUrl: o.indexUrl } : {}),
    extraIndexUrls: o.extraIndexUrls,
    noIndex: o.noIndex,
    findLinks: o.findLinks,
    indexStrategy: o.indexStrategy,
    credentials: credentialsFromEnv(io.env),
    ...(extra.netrc !== undefined ? { netrc: extra.netrc } : {}),
    noDeps: o.noDeps,
    noBuild: o.noBuild,
    noBuildIsolation: o.noBuildIsolation,
    buildWheels: o.buildWheels,
    buildDeps: o.buildDeps,
    ...(o.python !== undefined ? { python: o.python } : {}),
    pre: o.pre,
    onlyBinary: o.onlyBinary,
    noBinary: o.noBinary,
    preferBinary: o.preferBinary,
    requireHashes: o.requireHashes,
    ...(o.excludeNewer !== undefined ? { excludeNewer: o.excludeNewer } : {}),
    offline: o.offline,
    refresh: o.refresh,
    ...(extra.cacheDir !== undefined ? { cacheDir: extra.cacheDir } : {}),
    ...(o.uvCacheDir !== undefined ? { uvCacheDir: o.uvCacheDir } : {}),
    concurrency: o.concurrency,
    retries: o.retries,
    timeoutMs: o.timeoutSeconds * 1000,
    simpleIndex: o.simpleIndex,
    prune: o.prune,
    ...(io.signal !== undefined ? { signal: io.signal } : {}),
    fetch: io.fetch,
    now: io.now,
    env: io.env,
  };
}

/** Prints what a dry run would do. */
function printPlan(p: DownloadPlan, o: DownloadArgs, io: CliIo): void {
  if (o.quiet > 0) return;
  const lines = p.files.map((f) => {
    const size = f.size === undefined ? "" : ` (${formatBytes(f.size)})`;
    // Files of a universal plan (or a whole lock) serve every environment, not named targets.
    const targets = f.targets.length > 0 ? `  [${f.targets.join(", ")}]` : "";
    return `  ${f.source.padEnd(7)} ${f.filename}${size}${targets}`;
  });
  const fetches = p.files.filter((f) => f.source === "fetch").length;
  // The plan is for people; with --report - stdout carries the JSON alone.
  (o.report === "-" ? io.stderr : io.stdout).write(
    `Would download ${fetches} of ${plural(p.files.length, "file")} into ${p.dest}:\n${
      lines.join("\n")
    }\n`,
  );
}

/** The one-line summary of a download: bytes that moved, and the wall time of the transfers. */
function summaryOf(r: DownloadResult): string {
  return [
    r.lock !== undefined
      ? `Selected ${plural(r.files.length, "file")} from ${r.lock}`
      : `Resolved ${plural(r.packages, "package")} in ${formatDuration(r.resolveMs)}`,
    `Downloaded ${plural(r.fetchedFiles, "file")} (${formatBytes(r.transferredBytes)}) in ${
      formatDuration(r.transferMs)
    }`,
    `${r.files.length - r.fetchedFiles} from cache`,
  ].join(" · ");
}

/** A path as the user would type it: relative to where they are when inside it. */
function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  const shown = rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  return /[\s'"$`\\]/.test(shown) ? `'${shown.replaceAll("'", "'\\''")}'` : shown;
}

/** The lines that end every run: how to install the folder, and what it holds that is stale. */
function closingLines(r: DownloadResult, cwd: string): string[] {
  const dest = shownPath(r.dest, cwd);
  const lines: string[] = [];
  if (r.removed.length > 0) {
    lines.push(
      `Removed ${plural(r.removed.length, "file")} no longer wanted: ${r.removed.join(", ")}`,
    );
  }
  if (r.unwanted.length > 0) {
    const some = r.unwanted.slice(0, 5).join(", ") + (r.unwanted.length > 5 ? ", …" : "");
    lines.push(
      `note: ${plural(r.unwanted.length, "file")} in ${dest} ${
        r.unwanted.length === 1 ? "is" : "are"
      } no longer wanted (${some}); --prune removes ${r.unwanted.length === 1 ? "it" : "them"}`,
    );
  }
  if (r.installSets.length === 0) {
    lines.push(
      `Install offline with: python -m pip install --no-index --find-links ${dest} <package>`,
    );
  }
  for (const set of r.installSets) {
    lines.push(
      `Install offline${r.installSets.length > 1 ? ` (${set.targets.join(", ")})` : ""} with: ` +
        `python -m pip install --no-index --find-links ${dest} -r ${
          shownPath(join(r.dest, set.requirements), cwd)
        }`,
    );
  }
  lines.push(`(${shownPath(join(r.dest, "README.txt"), cwd)} says the same for uv and pip 26)`);
  return lines;
}

/**
 * Checks the --report path before the run: the report is written last, after the folder and its
 * side files, so a path that cannot take it must fail first, not leave a half-finished run. It
 * must be a file (or nothing yet) in a folder that exists and can be written.
 *
 * @throws {InputError} naming the problem.
 */
async function checkReportPath(report: string, cwd: string): Promise<void> {
  const path = resolve(cwd, report);
  const st = await fsp.stat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new InputError(`--report ${report}: ${path} is a folder; name a file inside it`);
  }
  // The report replaces the file by a rename: a device or a pipe (/dev/null) would be replaced.
  if (st !== undefined && !st.isFile()) {
    throw new InputError(
      `--report ${report}: ${path} is not a regular file (use --report - for stdout)`,
    );
  }
  const folder = dirname(path);
  const dir = await fsp.stat(folder).catch(() => undefined);
  if (!dir?.isDirectory()) {
    throw new InputError(`--report ${report}: the folder ${folder} does not exist`);
  }
  try {
    await fsp.access(folder, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    throw new InputError(
      `--report ${report}: cannot write to the folder ${folder}: permission denied`,
    );
  }
}

async function writeReport(
  o: DownloadArgs,
  io: CliIo,
  of: DownloadPlan | DownloadResult,
): Promise<void> {
  if (o.report === undefined) return;
  const text = reportJson(of);
  if (o.report === "-") io.stdout.write(text);
  else await writeTextAtomic(resolve(io.cwd, o.report), text);
}

/**
 * Runs `download`.
 *
 * @param args Arguments after the command word.
 * @param io The outside world.
 * @returns The exit code.
 * @throws {UsageError} / {InputError} / the library's errors; `main` maps them to exit codes.
 */
export async function download(args: string[], io: CliIo): Promise<number> {
  const o = parseDownloadArgs(args);
  if (o.help) {
    io.stdout.write(DOWNLOAD_HELP);
    return 0;
  }
  if (o.report !== undefined && o.report !== "-") await checkReportPath(o.report, io.cwd);
  const ui = makeUi(o, io);
  const cacheDir = o.noCache ? undefined : cacheDirOf(o.cacheDir, io);
  const tracePath = io.env("WHEELHOUSE_TRACE");
  const trace = tracePath === undefined || tracePath === "" ? undefined : new Trace();
  trace?.mark("cli-start");
  if (trace !== undefined) io = { ...io, fetch: tracedFetch(io.fetch, trace) };
  const reporter = new CliReporter(io, ui, o.verbose > 0 && o.quiet === 0, trace);
  const options = libraryOptions(o, io, {
    targets: o.universal ? [] : async () => {
      trace?.mark("host-start");
      const targets = await targetsOf(o, io, cacheDir);
      trace?.mark("host-done");
      return targets;
    },
    reporter,
    cacheDir,
    netrc: await readNetrc(io),
  });
  if (o.universal) options.universal = await universalOf(o, io, cacheDir);
  try {
    if (o.dryRun) {
      const p = await runPlan(options);
      printPlan(p, o, io);
      await writeReport(o, io, p);
      return 0;
    }
    const r = await runDownload(options);
    await writeReport(o, io, r);
    ui.info(summaryOf(r));
    ui.verbose(`${plural(r.files.length, "file")} in ${r.dest}:`);
    for (const f of r.files) {
      const from = f.from === "transfer"
        ? `downloaded from ${f.url}`
        : f.from === "folder"
        ? "already in the folder"
        : `from the cache (first from ${f.url})`;
      ui.verbose(printable(`  ${f.filename}  ${formatBytes(f.size)}  ${from}`));
    }
    for (const line of closingLines(r, io.cwd)) ui.info(printable(line));
    return 0;
  } finally {
    reporter.clearStatus();
    trace?.mark("done");
    if (trace !== undefined) await trace.write(resolve(io.cwd, tracePath!));
  }
}
