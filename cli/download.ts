// `wheelhouse download`: requirements (or a lock file) to a folder that pip and uv install from
// offline. Composes the modules: targets (pep), index client (index), resolver, fetcher and cache
// stores; delivery into the folder is in _deliver.ts, the provider layers in _providers.ts.
import { join, resolve } from "node:path";
import { LocalDirStore, type ObtainResult } from "../cache/local_dir_store.ts";
import { type PresentFile, WheelhouseStore } from "../cache/wheelhouse_store.ts";
import type { CachedResponseMeta, HttpCacheStorage as IndexCacheStorage } from "../index/types.ts";
import { DEFAULT_INDEX_URL, SimpleIndexClient } from "../index/simple_index_client.ts";
import type { IndexSpec } from "../index/types.ts";
import { credentialEnvNames } from "../index/auth.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import type { Reporter as FetchReporter } from "../fetcher/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { retryingFetch } from "../fetcher/retrying_fetch.ts";
import { normalizeName } from "../pep/name.ts";
import { SpecifierSet } from "../pep/specifier.ts";
import { Version } from "../pep/version.ts";
import type { Target } from "../pep/tags.ts";
import { IndexProvider } from "../resolver/index_provider.ts";
import { resolveTargets } from "../resolver/resolve.ts";
import { ResolutionError } from "../resolver/types.ts";
import type { CliIo } from "./io.ts";
import { type DownloadOptions, parseDownloadArgs } from "./_options.ts";
import { detectHost, detectHostCached, type HostFacts } from "./_host.ts";
import { buildTargets } from "./_targets.ts";
import { gatherInputs, type Inputs } from "./_inputs.ts";
import { InputError, ReportedFailure } from "./_errors.ts";
import type { WantedFile } from "./_lock_plan.ts";
import type { TargetPins } from "./_outputs.ts";
import { formatDuration, plural } from "./_format.ts";
import { LineProgress } from "./_progress.ts";
import { cacheDirOf } from "./cache.ts";
import { DOWNLOAD_HELP } from "./_download_help.ts";
import { withDirectReferences } from "./_direct.ts";
import { fromLock } from "./_lock_download.ts";
import { checkHashes, hashFiltered, offlineAware, requirePins } from "./_providers.ts";
import { abandonEarly, checkDestination, deliver, settleEarly, startEarly } from "./_deliver.ts";

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
  /** What the destination already holds, by file name (read once, before resolving). */
  present: ReadonlyMap<string, PresentFile>;
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
    present: new Map(),
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
  // pip counts a direct reference's `#sha256=` as a given hash (it does not turn hash checking on).
  for (const r of inputs.requirements) {
    const fragment = r.url === undefined
      ? undefined
      : /[#&]sha256=([0-9a-fA-F]{64})/.exec(r.url)?.[1];
    if (fragment === undefined) continue;
    const set = inputs.hashes.get(r.normalizedName) ?? new Set<string>();
    set.add(`sha256:${fragment.toLowerCase()}`);
    inputs.hashes.set(r.normalizedName, set);
  }
  const indexed = new IndexProvider(client);
  const provider = offlineAware(withDirectReferences(
    s.hashesRequired ? hashFiltered(indexed, inputs.hashes) : indexed,
    inputs.requirements,
    inputs.hashes,
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
  if (speculate) s.present = await new WheelhouseStore(s.dest).scan();
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
  checkHashes(inputs, wanted, s.hashesRequired);
  const headersFor = (url: string): Record<string, string> => client.authHeaders(url);
  const wantedUrls = new Set(wanted.map((f) => f.url));
  // Free the connections of abandoned versions before the wanted files queue behind them.
  abandonEarly(s, wantedUrls);
  try {
    return await deliver(s, targets, pins, wanted, headersFor, () => Promise.resolve(undefined));
  } finally {
    await settleEarly(s, wantedUrls);
  }
}
