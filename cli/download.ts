// `wheelhouse download`: arguments and the environment in, the library's `download()` (or
// `plan()` for --dry-run) called, its events and result turned into terminal output.
import * as fsp from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { dirname, join, resolve } from "node:path";
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
} from "../download/mod.ts";
import type { CliIo } from "./io.ts";
import { type DownloadArgs, parseDownloadArgs } from "./_options.ts";
import { detectHost, detectHostCached, type HostFacts } from "./_host.ts";
import { buildTargets } from "./_targets.ts";
import { InputError } from "./_errors.ts";
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

/** Turns the pipeline's events into status lines, progress bars and messages. */
class CliReporter implements DownloadReporter {
  #io: CliIo;
  #ui: Ui;
  #lines: TransferReporter | undefined;
  #current: TransferReporter | undefined;
  #terminal: TerminalProgress | undefined;
  #status = false;

  constructor(io: CliIo, ui: Ui, verbose: boolean) {
    this.#io = io;
    this.#ui = ui;
    // -v lines are set up when the run starts (downloads begin during resolution); a terminal's
    // bars need the totals, known only when the transfers after planning begin.
    this.#lines = verbose && !ui.progress ? new LineProgress(io.stderr) : undefined;
    this.#current = this.#lines;
  }

  readonly transfer: TransferReporter = {
    start: (id, info) => this.#current?.start?.(id, info),
    progress: (id, info) => this.#current?.progress?.(id, info),
    done: (id, info) => this.#current?.done?.(id, info),
    retry: (id, info) => this.#current?.retry?.(id, info),
  };

  event(e: DownloadEvent): void {
    switch (e.kind) {
      case "warning":
        this.#ui.info(`warning: ${e.message}`);
        return;
      case "note":
        this.#ui.info(`note: ${e.message}`);
        return;
      case "detail":
        this.#ui.verbose(e.message);
        return;
      case "resolving":
        // On a terminal, say what is happening while the resolver works (cleared when done).
        if (this.#ui.progress) {
          this.#io.stderr.write(`\r\x1b[2KResolving for ${plural(e.targets, "target")}…`);
          this.#status = true;
        }
        return;
      case "resolved":
        this.clearStatus();
        this.#ui.verbose(
          `Resolved ${e.packages} packages for ${e.targets.join(", ")} in ${formatDuration(e.ms)}`,
        );
        return;
      case "transfers-started":
        if (this.#ui.progress) {
          this.#terminal = new TerminalProgress(
            this.#io.stderr,
            { files: e.files, bytes: e.bytes },
            this.#io.now,
          );
          this.#current = this.#terminal;
        }
        return;
      case "transfers-finished":
        this.#terminal?.finish();
        this.#terminal = undefined;
        this.#current = this.#lines;
        return;
    }
  }

  /** Clears the status line, if one is shown. */
  clearStatus(): void {
    if (this.#status) this.#io.stderr.write("\r\x1b[2K");
    this.#status = false;
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
    return `  ${f.source.padEnd(7)} ${f.filename}${size}  [${f.targets.join(", ")}]`;
  });
  const fetches = p.files.filter((f) => f.source === "fetch").length;
  // The plan is for people; with --report - stdout carries the JSON alone.
  (o.report === "-" ? io.stderr : io.stdout).write(
    `Would download ${fetches} of ${plural(p.files.length, "file")} into ${p.dest}:\n${
      lines.join("\n")
    }\n`,
  );
}

/** The one-line summary of a download. */
function summaryOf(r: DownloadResult): string {
  return [
    r.lock !== undefined
      ? `Selected ${plural(r.files.length, "file")} from ${r.lock}`
      : `Resolved ${plural(r.packages, "package")} in ${formatDuration(r.resolveMs)}`,
    `Downloaded ${plural(r.fetchedFiles, "file")} (${formatBytes(r.fetchedBytes)}) in ${
      formatDuration(r.fetchMs)
    }`,
    `${r.files.length - r.fetchedFiles} from cache`,
  ].join(" · ");
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
  const reporter = new CliReporter(io, ui, o.verbose > 0 && o.quiet === 0);
  const options = libraryOptions(o, io, {
    targets: () => targetsOf(o, io, cacheDir),
    reporter,
    cacheDir,
    netrc: await readNetrc(io),
  });
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
    ui.verbose(`${r.files.length} files in ${r.dest}`);
    return 0;
  } finally {
    reporter.clearStatus();
  }
}
