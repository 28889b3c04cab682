// `wheelhouse download`: requirements (or a lock file) to a folder that pip and uv install from
// offline. Composes the modules: targets (pep), index client (index), resolver, fetcher, cache
// and wheelhouse stores (cache), then writes requirements.txt, pylock.toml and the report.
import { dirname, join, resolve } from "node:path";
import { match } from "ts-pattern";
import { LocalDirStore, type ObtainResult } from "../cache/local_dir_store.ts";
import { WheelhouseStore } from "../cache/wheelhouse_store.ts";
import { UvCacheReader } from "../cache/unstable_uv_cache_store.ts";
import type { CachedResponseMeta, HttpCacheStorage as IndexCacheStorage } from "../index/types.ts";
import { DEFAULT_INDEX_URL, SimpleIndexClient } from "../index/simple_index_client.ts";
import type { IndexSpec } from "../index/types.ts";
import { credentialEnvNames } from "../index/auth.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import { FetchError, type Reporter as FetchReporter } from "../fetcher/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { retryingFetch } from "../fetcher/retrying_fetch.ts";
import { normalizeName } from "../pep/name.ts";
import { SpecifierSet } from "../pep/specifier.ts";
import { Version } from "../pep/version.ts";
import type { Target } from "../pep/tags.ts";
import { IndexProvider } from "../resolver/index_provider.ts";
import { resolveTargets } from "../resolver/resolve.ts";
import { type Provider, ResolutionError, type ResolveEvent } from "../resolver/types.ts";
import type { CliIo } from "./io.ts";
import { type DownloadOptions, parseDownloadArgs } from "./_options.ts";
import { detectHost, detectHostCached, type HostFacts } from "./_host.ts";
import { buildTargets } from "./_targets.ts";
import { gatherInputs, type Inputs } from "./_inputs.ts";
import { InputError, ReportedFailure } from "./_errors.ts";
import type { WantedFile } from "./_lock_plan.ts";
import {
  type DoneFile,
  isGenerated,
  isSideFileName,
  pylockText,
  reportJson,
  requirementsText,
  samePins,
  type TargetPins,
  targetSlug,
} from "./_outputs.ts";
import { formatBytes, formatDuration, plural } from "./_format.ts";
import { LineProgress, TerminalProgress } from "./_progress.ts";
import { cacheDirOf } from "./cache.ts";
import { DOWNLOAD_HELP } from "./_download_help.ts";
import { withDirectReferences } from "./_direct.ts";
import { fromLock } from "./_lock_download.ts";

/** Runtime pieces a test may replace; the real ones by default. */
export interface DownloadDeps {
  detectHost: typeof detectHost;
  readText: (path: string) => Promise<string>;
}

const REAL_DEPS: DownloadDeps = {
  detectHost,
  readText: (path) => Deno.readTextFile(path),
};

/** How a run talks to the user. */
export interface Ui {
  info(text: string): void;
  verbose(text: string): void;
  progress: boolean;
}

function makeUi(options: DownloadOptions, io: CliIo): Ui {
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

/** pip's --only-binary/--no-binary lists: names, `:all:` and `:none:` (which clears). */
function selector(values: readonly string[]): string[] {
  let out: string[] = [];
  for (const v of values) {
    if (v === ":none:") out = [];
    else if (v === ":all:") out.push(":all:");
    else out.push(normalizeName(v));
  }
  return [...new Set(out)];
}

/** The cache's page storage, typed for the index client. */
function indexCacheOf(store: LocalDirStore): IndexCacheStorage {
  return store.httpStorage<CachedResponseMeta>();
}

/** Credentials for an index from the environment: WHEELHOUSE_INDEX_<HOST>_USERNAME/_PASSWORD. */
function indexSpec(url: string, env: (name: string) => string | undefined): string | IndexSpec {
  const names = credentialEnvNames(url);
  if (names === undefined) return url;
  const username = env(names.username);
  const password = env(names.password);
  if (username === undefined && password === undefined) return url;
  return {
    url,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** The text of ~/.netrc ($NETRC), if there is one. */
export async function readNetrc(
  io: CliIo,
  read: (p: string) => Promise<string>,
): Promise<string | undefined> {
  const path = io.env("NETRC") ??
    (io.env("HOME") !== undefined ? join(io.env("HOME")!, ".netrc") : undefined);
  if (path === undefined) return undefined;
  try {
    return await read(path);
  } catch {
    return undefined;
  }
}

/** The state of one download run, shared by requirement and lock-file downloads. */
export interface Session {
  options: DownloadOptions;
  io: CliIo;
  ui: Ui;
  deps: DownloadDeps;
  dest: string;
  store: LocalDirStore;
  fetcher: HttpFetchStrategy;
  reporterSlot: { current: FetchReporter | undefined };
  cleanup: (() => Promise<void>)[];
  /** Downloads started while resolving (by URL), joined by `deliver()`. */
  early: Map<string, { promise: Promise<ObtainResult | undefined>; controller: AbortController }>;
  /** Whether files must match known hashes (hash-checking mode, lock files). */
  hashesRequired: boolean;
  /** Parts of the one-line summary printed at the end ("Resolved 42 packages in 0.9s", …). */
  summary: string[];
}

/**
 * Runs `download`.
 *
 * @param args Arguments after the command word.
 * @param io The outside world.
 * @param deps Replaceable runtime pieces (tests).
 * @returns The exit code.
 * @throws {UsageError} / {InputError} / parse errors for bad input (exit 2), other errors for
 * failures (exit 1); `main` maps them.
 */
export async function download(
  args: string[],
  io: CliIo,
  deps: DownloadDeps = REAL_DEPS,
): Promise<number> {
  const options = parseDownloadArgs(args);
  if (options.help) {
    io.stdout.write(DOWNLOAD_HELP);
    return 0;
  }
  if (
    options.lock === undefined && options.requirements.length === 0 &&
    options.requirementFiles.length === 0 && options.project === undefined
  ) {
    throw new InputError(
      "Nothing to download: give requirements, -r FILE, --project DIR or --lock FILE",
    );
  }
  const ui = makeUi(options, io);
  const cleanup: (() => Promise<void>)[] = [];
  let cacheRoot: string;
  if (options.noCache) {
    cacheRoot = await Deno.makeTempDir({ prefix: "wheelhouse-nocache-" });
    cleanup.push(() => Deno.remove(cacheRoot, { recursive: true }).catch(() => {}));
  } else cacheRoot = cacheDirOf(options.cacheDir, io);
  const store = new LocalDirStore(cacheRoot);
  const reporterSlot: { current: FetchReporter | undefined } = {
    current: options.verbose > 0 && options.quiet === 0 && !ui.progress
      ? new LineProgress(io.stderr)
      : undefined,
  };
  // The fetcher is built once; progress is routed through a slot set when transfers begin.
  const fetcher = new HttpFetchStrategy({
    fetch: io.fetch,
    now: io.now,
    concurrency: options.concurrency,
    maxAttempts: options.retries + 1,
    connectTimeoutMs: options.timeoutSeconds * 1000,
    readTimeoutMs: options.timeoutSeconds * 1000,
    partialDir: store.partialDir,
    reporter: {
      start: (id, info) => reporterSlot.current?.start?.(id, info),
      progress: (id, info) => reporterSlot.current?.progress?.(id, info),
      done: (id, info) => reporterSlot.current?.done?.(id, info),
      retry: (id, info) => reporterSlot.current?.retry?.(id, info),
    },
  });
  const session: Session = {
    options,
    io,
    ui,
    deps,
    dest: resolve(io.cwd, options.dest),
    store,
    fetcher,
    reporterSlot,
    cleanup,
    hashesRequired: false,
    early: new Map(),
    summary: [],
  };
  try {
    await checkDestination(session, [
      ...options.requirementFiles,
      ...options.constraintFiles,
      ...(options.lock !== undefined ? [options.lock] : []),
    ]);
    return options.lock !== undefined
      ? await fromLock(session, { targetsOf, indexClientOf, readNetrc, deliver })
      : await fromRequirements(session);
  } finally {
    for (const c of cleanup) await c();
  }
}

/** The targets of the run (none with --all-platforms). */
export async function targetsOf(s: Session): Promise<Target[]> {
  const o = s.options;
  if (o.allPlatforms) return [];
  const pythonGiven = o.pythonVersions.length > 0;
  const platformGiven = o.pythonPlatforms.length > 0 || o.platforms.length > 0;
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
    ? await s.deps.detectHost(undefined, undefined, { python: false })
    : await detectHostCached({
      file: join(s.store.root, "host-v1.json"),
      env: s.io.env,
      cwd: s.io.cwd,
      now: s.io.now,
      detect: () => s.deps.detectHost(),
    });
  const macos = s.io.env("MACOSX_DEPLOYMENT_TARGET");
  return buildTargets({ ...o, macosVersion: macos === "" ? undefined : macos }, host);
}

/** An index client for the run's indexes, cache and credentials. */
export function indexClientOf(
  s: Session,
  inputs: Inputs,
  netrc: string | undefined,
): SimpleIndexClient {
  const indexes = inputs.noIndex
    ? []
    : [inputs.indexUrl ?? DEFAULT_INDEX_URL, ...inputs.extraIndexUrls].map((u) =>
      indexSpec(u, s.io.env)
    );
  return new SimpleIndexClient({
    indexes,
    findLinks: inputs.findLinks,
    noIndex: inputs.noIndex,
    strategy: s.options.indexStrategy,
    // Pages and metadata get the same retry policy and timeout as file transfers.
    fetch: retryingFetch(s.io.fetch, {
      maxAttempts: s.options.retries + 1,
      timeoutMs: s.options.timeoutSeconds * 1000,
      now: s.io.now,
      onRetry: (r) => s.ui.verbose(`Retrying ${redactUrl(r.url)} in ${r.delayMs} ms: ${r.reason}`),
    }),
    now: s.io.now,
    cache: indexCacheOf(s.store),
    // A file read whole for its metadata (no PEP 658, no Range) goes into the cache, so it is
    // not downloaded a second time.
    onWholeFile: async (file, bytes) => {
      const sha256 = file.hashes["sha256"];
      if (sha256 === undefined) return;
      await s.store.put({ bytes }, {
        sha256,
        filename: file.filename,
        project: file.parsed.normalizedName,
        url: file.url,
      });
    },
    refresh: s.options.refresh,
    offline: s.options.offline,
    ...(netrc !== undefined ? { netrc } : {}),
    ...(s.io.signal !== undefined ? { signal: s.io.signal } : {}),
  });
}

async function fromRequirements(s: Session): Promise<number> {
  const { options, io, ui } = s;
  const inputs = await gatherInputs(options, io.cwd, s.deps.readText, io.env);
  if (inputs.requirements.length === 0) {
    throw new InputError("Nothing to download: the requirement files list no requirements");
  }
  const netrc = await readNetrc(io, s.deps.readText);
  const client = indexClientOf(s, inputs, netrc);
  s.hashesRequired = inputs.requireHashes || inputs.hashes.size > 0;
  if (s.hashesRequired) requirePins(inputs);
  const indexed = new IndexProvider(client);
  const provider = offlineAware(withDirectReferences(
    s.hashesRequired ? hashFiltered(indexed, inputs.hashes) : indexed,
    inputs.requirements,
  ));
  const t0 = io.now();
  // The root projects' pages do not depend on the targets: ask for them while the host is
  // examined (starting Python to learn its version can take a second).
  const early = inputs.requirements.map((r) => provider.versions(r.normalizedName).catch(() => {}));
  const targets = await targetsOf(s);
  await Promise.all(early);
  if (inputs.projectRequiresPython !== undefined) {
    const rp = SpecifierSet.parse(inputs.projectRequiresPython);
    const outside = targets.filter((t) =>
      !rp.contains(Version.parse(t.pythonFullVersion), { prereleases: true })
    );
    if (outside.length > 0) {
      throw new InputError(
        `The project requires Python ${rp}, but ${
          outside.map((t) => `${t.name} has ${t.pythonFullVersion}`).join(", ")
        }`,
      );
    }
  }
  // Files of decided versions start downloading while the resolver works; a later backtrack
  // only wastes a transfer (the file stays in the cache). Not in hash-checking mode, where a
  // file must pass the check before it is fetched, nor for a dry run or offline.
  // With --uv-cache-dir, the uv cache is asked first, after resolution.
  const speculate = !options.dryRun && !options.offline && !s.hashesRequired &&
    options.uvCacheDir === undefined;
  let resolution;
  // On a terminal, say what is happening while the resolver works (cleared when it is done).
  const status = ui.progress ? (text: string) => io.stderr.write(`\r\x1b[2K${text}`) : undefined;
  status?.(`Resolving for ${plural(targets.length, "target")}…`);
  try {
    resolution = await resolveTargets(inputs.requirements, targets, {
      provider,
      reporter: {
        onEvent: (e) => {
          if (e.kind === "warning") ui.info(`warning: ${e.message}`);
          else if (speculate) startEarly(s, e, client);
        },
      },
      constraints: inputs.constraints,
      prereleases: inputs.pre,
      ...(options.excludeNewer !== undefined
        ? { excludeNewer: options.excludeNewer.getTime() }
        : {}),
      onlyBinary: selector(inputs.onlyBinary),
      noBinary: selector(inputs.noBinary),
      preferBinary: inputs.preferBinary,
      noDeps: options.noDeps,
      concurrency: options.concurrency,
      ...(io.signal !== undefined ? { signal: io.signal } : {}),
    });
  } catch (e) {
    status?.("");
    await settleEarly(s, new Set());
    if (e instanceof ResolutionError && options.offline && provider.misses.size > 0) {
      throw new ReportedFailure(
        `Offline, and the cache lacks the index pages or metadata of: ${
          [...provider.misses].sort().join(", ")
        }\n${e.message}\nhint: run once without --offline to fill the cache.`,
        { cause: e },
      );
    }
    throw e;
  }
  status?.("");
  const resolveMs = io.now() - t0;
  const pins: TargetPins = new Map();
  for (const r of resolution.resolutions) {
    pins.set(
      r.target.name,
      new Map([...r.packages.values()].map((p) => [p.name, p.version.toString()])),
    );
  }
  const packageCount = new Set(
    resolution.resolutions.flatMap((r) =>
      [...r.packages.values()].map((p) => `${p.name}==${p.version}`)
    ),
  ).size;
  s.summary.push(`Resolved ${plural(packageCount, "package")} in ${formatDuration(resolveMs)}`);
  ui.verbose(
    `Resolved ${packageCount} packages for ${targets.map((t) => t.name).join(", ")} in ${
      formatDuration(resolveMs)
    }`,
  );
  const wanted: WantedFile[] = resolution.files.map((f) => ({
    project: f.name,
    version: f.version.toString(),
    filename: f.file.filename,
    url: f.file.url,
    sha256: f.file.hashes["sha256"]?.toLowerCase(),
    size: f.file.size,
    targets: [...f.targets],
    ...(f.file.requiresPython !== undefined
      ? { requiresPython: f.file.requiresPython.toString() }
      : {}),
  }));
  checkHashes(inputs, wanted);
  const headersFor = (url: string): Record<string, string> => client.authHeaders(url);
  try {
    return await deliver(s, targets, pins, wanted, headersFor, () => Promise.resolve(undefined));
  } finally {
    await settleEarly(s, new Set(wanted.map((f) => f.url)));
  }
}

/** Starts the download of a file the resolver has just decided on, once per URL. */
function startEarly(s: Session, e: ResolveEvent, client: SimpleIndexClient): void {
  if (e.kind !== "decided" || e.file === undefined || s.early.has(e.file.url)) return;
  const file = e.file;
  const controller = new AbortController();
  const sha256 = file.hashes["sha256"]?.toLowerCase();
  const promise = s.store.obtain(s.fetcher, {
    url: file.url,
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(file.size !== undefined ? { size: file.size } : {}),
    filename: file.filename,
    project: e.name,
    headers: client.authHeaders(file.url),
  }, { signal: controller.signal })
    // deliver() fetches again and reports the error if it still matters.
    .catch(() => undefined);
  s.early.set(file.url, { promise, controller });
}

/** Cancels early downloads the run no longer wants and waits for all of them to end. */
async function settleEarly(s: Session, wanted: ReadonlySet<string>): Promise<void> {
  for (const [url, { controller }] of s.early) {
    if (!wanted.has(url)) controller.abort(new Error("no longer needed"));
  }
  await Promise.all([...s.early.values()].map((e) => e.promise));
}

/**
 * A provider that answers each project's versions once per run (so pages asked for early are
 * not read again) and remembers which projects an offline run could not find in the cache.
 */
function offlineAware(inner: Provider): Provider & { misses: Set<string> } {
  const misses = new Set<string>();
  const versions = new Map<string, ReturnType<Provider["versions"]>>();
  return {
    misses,
    ...(inner.prefetch !== undefined ? { prefetch: inner.prefetch } : {}),
    versions(name, options) {
      let answer = versions.get(name);
      if (answer === undefined) {
        answer = inner.versions(name, options).then((outcome) => {
          if (outcome.kind === "not-found" && /offline cache/.test(outcome.reason ?? "")) {
            misses.add(name);
          }
          return outcome;
        });
        // A failure (network) is not remembered: the resolver's own call tries again.
        answer.catch(() => versions.delete(name));
        versions.set(name, answer);
      }
      return answer;
    },
    async metadata(name, candidate, options) {
      const outcome = await inner.metadata(name, candidate, options);
      if (outcome.kind === "unavailable" && /offline/.test(outcome.reason)) {
        misses.add(`${name} ${candidate.version}`);
      }
      return outcome;
    },
  };
}

/** pip's hash-checking mode needs every requirement pinned to one version (`==` or `===`). */
function requirePins(inputs: Inputs): void {
  const loose = inputs.requirements.filter((r) =>
    r.url === undefined &&
    !(r.specifier.specifiers.length === 1 &&
      ["==", "==="].includes(r.specifier.specifiers[0]!.operator) &&
      !r.specifier.specifiers[0]!.version.endsWith(".*"))
  );
  if (loose.length > 0) {
    throw new InputError(
      `In hash-checking mode every requirement must be pinned with ==; these are not: ${
        loose.map((r) => r.toString()).join(", ")
      }`,
    );
  }
}

/**
 * Hash-checking mode as pip does it: a project's candidates are only the files whose sha256 was
 * given, so `--hash` of an sdist selects the sdist even where a wheel exists.
 */
function hashFiltered(inner: Provider, hashes: ReadonlyMap<string, ReadonlySet<string>>): Provider {
  return {
    ...(inner.prefetch !== undefined ? { prefetch: inner.prefetch } : {}),
    async versions(name, options) {
      const outcome = await inner.versions(name, options);
      const allowed = hashes.get(name);
      if (outcome.kind !== "found" || allowed === undefined) return outcome;
      const candidates = outcome.candidates.map((c) => ({
        ...c,
        files: c.files.filter((f) => {
          const sha = f.hashes["sha256"];
          return sha !== undefined && allowed.has(`sha256:${sha.toLowerCase()}`);
        }),
      })).filter((c) => c.files.length > 0);
      return { kind: "found", candidates };
    },
    metadata: (name, candidate, options) => inner.metadata(name, candidate, options),
  };
}

/** pip's hash-checking mode: with --require-hashes (or any --hash), every file must match one. */
function checkHashes(inputs: Inputs, wanted: readonly WantedFile[]): void {
  const checking = inputs.requireHashes || inputs.hashes.size > 0;
  if (!checking) return;
  const problems: string[] = [];
  for (const f of wanted) {
    const allowed = inputs.hashes.get(f.project);
    if (allowed === undefined) {
      problems.push(
        `${f.project}: no --hash given (hash-checking mode needs one for every package)`,
      );
      continue;
    }
    const sha = f.sha256 === undefined ? undefined : `sha256:${f.sha256}`;
    if (sha === undefined || !allowed.has(sha)) {
      problems.push(
        `${f.filename}: ${
          sha === undefined ? "the index gives no sha256" : `index hash ${sha}`
        } matches none of ${[...allowed].join(", ")}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new InputError(`Hash check failed:\n  ${problems.join("\n  ")}`);
  }
}

/**
 * Brings wanted files into the cache (concurrently, resuming, verifying), then links them into
 * the wheelhouse and writes the side files. Shared by requirement and lock-file downloads.
 */
export async function deliver(
  s: Session,
  targets: readonly Target[],
  pins: TargetPins,
  wanted: WantedFile[],
  headersFor: (url: string) => Record<string, string>,
  findMirror: (f: WantedFile) => Promise<string | undefined>,
): Promise<number> {
  const { options, io, ui, store, fetcher } = s;
  const dest = s.dest;
  const wheelhouse = new WheelhouseStore(dest);
  // What is already here: the cache by hash, the destination by manifest.
  const cachedPaths = new Map<string, string>();
  for (const f of wanted) {
    if (f.sha256 !== undefined) {
      match(await store.get(f.sha256, { verify: "changed" }))
        .with({ kind: "hit" }, (hit) => void cachedPaths.set(f.url, hit.path))
        // A corrupt entry is fetched again; obtain() replaces it.
        .with({ kind: "miss" }, () => undefined)
        .exhaustive();
    }
  }
  const present = await wheelhouse.scan();
  const inDest = (f: WantedFile): boolean =>
    f.sha256 !== undefined && present.get(f.filename)?.sha256 === f.sha256;
  let remote = wanted.filter((f) => s.early.has(f.url) || (!cachedPaths.has(f.url) && !inDest(f)));
  if (options.uvCacheDir !== undefined && remote.length > 0) {
    remote = await fromUvCache(s, remote, cachedPaths);
  }
  if (options.dryRun) {
    const lines = wanted.map((f) => {
      const where = inDest(f) ? "present" : cachedPaths.has(f.url) ? "cached" : "fetch";
      const size = f.size === undefined ? "" : ` (${formatBytes(f.size)})`;
      return `  ${where.padEnd(7)} ${f.filename}${size}  [${f.targets.join(", ")}]`;
    });
    // The plan is for people; with --report - stdout carries the JSON alone.
    const plan = `Would download ${remote.length} of ${
      plural(wanted.length, "file")
    } into ${dest}:\n${lines.join("\n")}\n`;
    if (options.quiet === 0) (options.report === "-" ? io.stderr : io.stdout).write(plan);
    await writeReport(
      s,
      targets,
      wanted.map((f) => ({
        project: f.project,
        version: f.version,
        filename: f.filename,
        url: redactUrl(f.url),
        targets: f.targets,
        ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
        ...(f.size !== undefined ? { size: f.size } : {}),
      })),
    );
    return 0;
  }
  if (options.offline && remote.length > 0) {
    const lines = remote.map((f) => `${f.project} ${f.version}: ${f.filename}`);
    throw new ReportedFailure(
      `Offline, and the cache lacks ${remote.length} file${remote.length === 1 ? "" : "s"}:\n  ${
        lines.join("\n  ")
      }\nhint: run once without --offline to fill the cache.`,
    );
  }
  const t0 = io.now();
  const totalBytes = remote.reduce((n, f) => n + (f.size ?? 0), 0);
  const terminal = s.ui.progress
    ? new TerminalProgress(io.stderr, { files: remote.length, bytes: totalBytes }, io.now)
    : undefined;
  // -v lines are set up when the run starts (downloads begin during resolution); a terminal's
  // bars need the totals, known only now.
  const lines = s.reporterSlot.current;
  if (terminal !== undefined) s.reporterSlot.current = terminal;
  let fetchedBytes = 0;
  let fetchedFiles = 0;
  const failures: string[] = [];
  try {
    await Promise.all(remote.map(async (f) => {
      const obtain = (url: string) =>
        store.obtain(fetcher, {
          url,
          ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
          ...(f.size !== undefined ? { size: f.size } : {}),
          filename: f.filename,
          project: f.project,
          headers: headersFor(url),
        }, io.signal !== undefined ? { signal: io.signal } : {});
      try {
        let got = await s.early.get(f.url)?.promise;
        try {
          got ??= await obtain(f.url);
        } catch (e) {
          const alt = e instanceof FetchError && e.code !== "hash-mismatch"
            ? await findMirror(f)
            : undefined;
          if (alt === undefined || alt === f.url) throw e;
          ui.verbose(`${f.filename}: ${(e as Error).message}; using the mirror`);
          got = await obtain(alt);
        }
        f.sha256 = got.sha256;
        cachedPaths.set(f.url, got.path);
        if (got.fetched) {
          fetchedBytes += got.size;
          fetchedFiles++;
        }
      } catch (e) {
        if (io.signal?.aborted) throw e;
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }));
  } finally {
    terminal?.finish();
    s.reporterSlot.current = lines;
  }
  if (failures.length > 0) {
    throw new ReportedFailure(
      `${failures.length} of ${remote.length} downloads failed:\n  ${failures.join("\n  ")}`,
    );
  }
  const fetchMs = io.now() - t0;
  const report = await wheelhouse.sync(
    wanted.map((f) => ({
      filename: f.filename,
      sha256: f.sha256!,
      url: f.url,
      project: f.project,
      targets: f.targets,
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython } : {}),
    })),
    { cache: store, simple: options.simpleIndex },
  );
  const sizes = new Map(report.manifest.files.map((m) => [m.filename, m.size]));
  const done: DoneFile[] = wanted.map((f) => ({
    project: f.project,
    version: f.version,
    filename: f.filename,
    url: redactUrl(f.url),
    sha256: f.sha256!,
    size: sizes.get(f.filename) ?? f.size ?? 0,
    targets: f.targets,
  }));
  await writeSideFiles(dest, sideFiles(targets, pins, done));
  await writeReport(s, targets, done);
  const fromCache = wanted.length - fetchedFiles;
  s.summary.push(
    `Downloaded ${plural(fetchedFiles, "file")} (${formatBytes(fetchedBytes)}) in ${
      formatDuration(fetchMs)
    }`,
    `${fromCache} from cache`,
  );
  ui.info(s.summary.join(" · "));
  ui.verbose(`${wanted.length} files in ${dest}`);
  return 0;
}

/**
 * Experimental: takes wheels that a uv cache holds instead of downloading them. uv keeps wheels
 * unpacked, so the file is rebuilt and is not byte-identical to the index's: never used where
 * hashes are required (--require-hashes, --hash, lock files), and always said.
 */
async function fromUvCache(
  s: Session,
  remote: WantedFile[],
  cachedPaths: Map<string, string>,
): Promise<WantedFile[]> {
  const reader = new UvCacheReader(resolve(s.io.cwd, s.options.uvCacheDir!));
  const left: WantedFile[] = [];
  for (const f of remote) {
    const found = f.filename.endsWith(".whl")
      ? await reader.find(f.filename, { requireHashes: s.hashesRequired })
      : { kind: "absent" as const };
    if (found.kind !== "found") {
      if (found.kind === "unusable") {
        s.ui.verbose(`${f.filename} is in the uv cache, but hashes are required: downloading it`);
      }
      left.push(f);
      continue;
    }
    const temp = join(s.store.partialDir, `uv-${crypto.randomUUID()}.whl`);
    await Deno.mkdir(s.store.partialDir, { recursive: true });
    const rebuilt = await reader.rebuildWheel(found.entry, temp);
    const info = await s.store.put({ path: temp, move: true }, {
      filename: f.filename,
      project: f.project,
    });
    f.sha256 = info.sha256;
    cachedPaths.set(f.url, s.store.pathOf(info.sha256));
    s.ui.info(`note: ${rebuilt.note}`);
  }
  return left;
}

async function writeAtomicText(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(temp, text);
  await Deno.rename(temp, path);
}

/** The side files a run writes: name -> text. */
function sideFiles(
  targets: readonly Target[],
  pins: TargetPins,
  done: readonly DoneFile[],
): Map<string, string> {
  const out = new Map<string, string>();
  // --all-platforms: every file of the lock; no single install set to pin.
  if (targets.length === 0) return out;
  if (samePins(pins)) {
    out.set(
      "requirements.txt",
      requirementsText(
        pins.values().next().value!,
        done,
        targets.map((t) => t.name).join(", "),
        "requirements.txt",
      ),
    );
  } else {
    for (const [target, map] of pins) {
      const name = `requirements-${targetSlug(target)}.txt`;
      out.set(name, requirementsText(map, done, target, name));
    }
  }
  out.set("pylock.toml", pylockText(targets, pins, done));
  return out;
}

/**
 * Writes the side files, and removes those an earlier run generated that this run does not
 * (e.g. a single-target requirements.txt after a multi-target run), so none go stale. Files the
 * user wrote are never touched: {@linkcode checkDestination} refused them up front.
 */
async function writeSideFiles(dest: string, files: Map<string, string>): Promise<void> {
  for (const [name, text] of files) await writeAtomicText(join(dest, name), text);
  for await (const entry of Deno.readDir(dest)) {
    if (!entry.isFile || !isSideFileName(entry.name) || files.has(entry.name)) continue;
    const path = join(dest, entry.name);
    const text = await Deno.readTextFile(path).catch(() => "");
    if (isGenerated(text)) await Deno.remove(path).catch(() => {});
  }
}

/**
 * Checks the destination before any work: it must be a folder (or not exist yet), writable, and
 * hold no side file that wheelhouse did not write — a user's requirements.txt or the very lock
 * being read must never be overwritten. The --report path's folder must exist.
 *
 * @throws {InputError} naming the problem.
 */
export async function checkDestination(s: Session, inputs: readonly string[]): Promise<void> {
  const dest = s.dest;
  const st = await Deno.stat(dest).catch(() => undefined);
  if (st !== undefined && !st.isDirectory) {
    throw new InputError(`The destination "${s.options.dest}" exists and is not a folder`);
  }
  const inputSet = new Set(inputs.map((p) => resolve(s.io.cwd, p)));
  if (st !== undefined) {
    for await (const entry of Deno.readDir(dest)) {
      if (!entry.isFile || !isSideFileName(entry.name)) continue;
      const path = join(dest, entry.name);
      const text = await Deno.readTextFile(path).catch(() => "");
      if (inputSet.has(path) || !isGenerated(text)) {
        throw new InputError(
          `Refusing to overwrite ${path}: ${
            inputSet.has(path) ? "it is one of this run's inputs" : "wheelhouse did not write it"
          }; choose another --dest`,
        );
      }
    }
  }
  if (s.options.report !== undefined && s.options.report !== "-") {
    const folder = dirname(resolve(s.io.cwd, s.options.report));
    const f = await Deno.stat(folder).catch(() => undefined);
    if (!f?.isDirectory) {
      throw new InputError(`--report ${s.options.report}: the folder ${folder} does not exist`);
    }
  }
  if (s.options.dryRun) return;
  // Fail now, not after minutes of downloading, when the folder cannot be written.
  try {
    await Deno.mkdir(dest, { recursive: true });
    const probe = join(dest, `.wheelhouse-probe-${crypto.randomUUID().slice(0, 8)}`);
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (e) {
    throw new InputError(
      `Cannot write to the destination "${s.options.dest}": ${
        e instanceof Deno.errors.PermissionDenied ? "permission denied" : String(e)
      }`,
    );
  }
}

async function writeReport(
  s: Session,
  targets: readonly Target[],
  files: Parameters<typeof reportJson>[1],
): Promise<void> {
  if (s.options.report === undefined) return;
  const text = reportJson(targets, files);
  if (s.options.report === "-") s.io.stdout.write(text);
  else await writeAtomicText(resolve(s.io.cwd, s.options.report), text);
}
