// Option parsing for the commands. Kept apart from the commands so the mapping from argv to a typed
// options object is testable on its own, and so every usage error becomes one UsageError (exit 2).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { lockKindOfName } from "../lock/plan.ts";

/** Bad command-line usage: the CLI prints the message and exits with 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Everything the `download` command accepts, after parsing and validation. */
export interface DownloadArgs {
  requirements: string[];
  requirementFiles: string[];
  constraintFiles: string[];
  project: string | undefined;
  lock: string | undefined;
  extras: string[];
  allExtras: boolean;
  groups: string[];
  noDev: boolean;
  allPlatforms: boolean;
  universal: boolean;
  environments: string[];
  dest: string;
  indexUrl: string | undefined;
  extraIndexUrls: string[];
  noIndex: boolean;
  findLinks: string[];
  indexStrategy: "first-index" | "unsafe-best-match";
  noDeps: boolean;
  noBuild: boolean;
  noBuildIsolation: boolean;
  buildWheels: boolean;
  buildDeps: boolean;
  python: string | undefined;
  pre: boolean;
  onlyBinary: string[];
  noBinary: string[];
  preferBinary: boolean;
  requireHashes: boolean;
  excludeNewer: Date | undefined;
  platforms: string[];
  pythonVersions: string[];
  implementation: string | undefined;
  abis: string[];
  pythonPlatforms: string[];
  offline: boolean;
  cacheDir: string | undefined;
  uvCacheDir: string | undefined;
  noCache: boolean;
  refresh: boolean;
  concurrency: number;
  retries: number;
  timeoutSeconds: number;
  dryRun: boolean;
  report: string | undefined;
  simpleIndex: boolean;
  prune: boolean;
  quiet: number;
  verbose: number;
  progress: "auto" | "on" | "off";
  help: boolean;
}

const DOWNLOAD_CONFIG = {
  options: {
    requirement: { type: "string", short: "r", multiple: true },
    constraint: { type: "string", short: "c", multiple: true },
    project: { type: "string" },
    lock: { type: "string" },
    extra: { type: "string", multiple: true },
    "all-extras": { type: "boolean" },
    group: { type: "string", multiple: true },
    "no-dev": { type: "boolean" },
    "all-platforms": { type: "boolean" },
    universal: { type: "boolean" },
    environment: { type: "string", multiple: true },
    dest: { type: "string", short: "d" },
    "index-url": { type: "string", short: "i" },
    "extra-index-url": { type: "string", multiple: true },
    "no-index": { type: "boolean" },
    "find-links": { type: "string", short: "f", multiple: true },
    "index-strategy": { type: "string" },
    "no-deps": { type: "boolean" },
    "no-build": { type: "boolean" },
    "no-build-isolation": { type: "boolean" },
    "build-wheels": { type: "boolean" },
    "build-deps": { type: "boolean" },
    python: { type: "string" },
    pre: { type: "boolean" },
    "only-binary": { type: "string", multiple: true },
    "no-binary": { type: "string", multiple: true },
    "prefer-binary": { type: "boolean" },
    "require-hashes": { type: "boolean" },
    "exclude-newer": { type: "string" },
    platform: { type: "string", multiple: true },
    "python-version": { type: "string", multiple: true },
    implementation: { type: "string" },
    abi: { type: "string", multiple: true },
    "python-platform": { type: "string", multiple: true },
    offline: { type: "boolean" },
    "cache-dir": { type: "string" },
    "uv-cache-dir": { type: "string" },
    "no-cache": { type: "boolean" },
    refresh: { type: "boolean" },
    concurrency: { type: "string" },
    retries: { type: "string" },
    timeout: { type: "string" },
    "dry-run": { type: "boolean" },
    report: { type: "string" },
    "simple-index": { type: "boolean" },
    prune: { type: "boolean" },
    quiet: { type: "boolean", short: "q", multiple: true },
    verbose: { type: "boolean", short: "v", multiple: true },
    progress: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
  strict: true,
} as const satisfies ParseArgsConfig;

/** Runs a parseArgs call and turns its errors into one-line usage errors. */
function guard<R>(f: () => R): R {
  try {
    return f();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // node's messages are multi-line with hints aimed at JS developers; keep the first line.
    throw new UsageError(message.split("\n")[0]!.replace(/^TypeError.*?: /, ""));
  }
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--${name} expects a positive whole number, got "${value}"`);
  }
  return Number(value);
}

function nonNegativeInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`--${name} expects a whole number, got "${value}"`);
  }
  return Number(value);
}

/**
 * Parses `--exclude-newer`: an RFC 3339 timestamp or a plain date (taken as the end of that day
 * in UTC, as uv does with a date).
 */
export function parseExcludeNewer(value: string): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = new Date(dateOnly ? `${value}T23:59:59.999Z` : value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(
      `--exclude-newer expects a date (2024-03-01) or a timestamp (2024-03-01T12:00:00Z), got "${value}"`,
    );
  }
  return d;
}

/**
 * An option given an empty value (`-d ""`, `--abi ""`, often an unset shell variable) is a
 * mistake for every string option: a path would silently become the working directory, a list
 * would silently be empty. Lists (`--abi cp312,abi3`) must name at least one item.
 */
function rejectEmptyValues(values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== "string") continue;
      const list = LIST_OPTIONS.has(key);
      if (list ? splitList([item]).length === 0 : item.trim() === "") {
        throw new UsageError(
          `--${key} expects a value, got ${item === "" ? "an empty string" : `"${item}" (empty)`}`,
        );
      }
    }
  }
}

/** Options whose values are comma-separated lists. */
const LIST_OPTIONS: ReadonlySet<string> = new Set(["abi", "platform", "only-binary", "no-binary"]);

// pip accepts comma-separated lists for --only-binary/--no-binary, repeated or not.
function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

function checkIndexUrl(flag: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `${flag} expects an http(s):// or file:// URL, got "${url.replace(/\/\/[^/@]*@/, "//***@")}"`,
    );
  }
  if (!["http:", "https:", "file:"].includes(parsed.protocol)) {
    throw new UsageError(
      `${flag} expects an http(s):// or file:// URL, got a ${parsed.protocol} URL`,
    );
  }
}

/**
 * Parses the arguments of `download` (after the command word).
 *
 * @throws {UsageError} for unknown options, missing values and invalid combinations.
 */
export function parseDownloadArgs(args: string[]): DownloadArgs {
  const { values: v, positionals } = guard(() => parseArgs({ ...DOWNLOAD_CONFIG, args }));
  rejectEmptyValues(v);
  const progress = v.progress ?? "auto";
  if (progress !== "auto" && progress !== "on" && progress !== "off") {
    throw new UsageError(`--progress expects auto, on or off, got "${progress}"`);
  }
  const strategy = v["index-strategy"] ?? "first-index";
  if (strategy !== "first-index" && strategy !== "unsafe-best-match") {
    throw new UsageError(
      `--index-strategy expects first-index or unsafe-best-match, got "${strategy}"`,
    );
  }
  for (const pv of v["python-version"] ?? []) {
    // "3.13t" is a free-threaded build (PEP 703), which has tags of its own.
    if (!/^\d+\.\d+(\.\d+)?t?$/.test(pv)) {
      throw new UsageError(
        `--python-version expects a version like 3.12, 3.12.4 or 3.13t, got "${pv}"`,
      );
    }
  }
  if (v.implementation !== undefined && !/^[a-z]{2}$/.test(v.implementation)) {
    throw new UsageError(
      `--implementation expects a two-letter code (cp, pp, py), got "${v.implementation}"`,
    );
  }
  const abis = splitList(v.abi);
  const platforms = splitList(v.platform);
  const pythonPlatforms = v["python-platform"] ?? [];
  if (pythonPlatforms.length > 0 && (platforms.length > 0 || abis.length > 0)) {
    throw new UsageError(
      "--python-platform cannot be combined with --platform or --abi; use one style of target",
    );
  }
  for (
    const [flag, urls] of [
      ["--index-url", v["index-url"] === undefined ? [] : [v["index-url"]]],
      ["--extra-index-url", v["extra-index-url"] ?? []],
    ] as const
  ) {
    for (const url of urls) checkIndexUrl(flag, url);
  }
  for (const link of v["find-links"] ?? []) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) && !/^[a-z]:[\\/]/i.test(link)) {
      checkIndexUrl("--find-links", link);
    }
  }
  if (v["no-index"] && v["index-url"] !== undefined) {
    throw new UsageError("--no-index cannot be combined with --index-url");
  }
  if (v.lock !== undefined && (positionals.length > 0 || v.project !== undefined)) {
    throw new UsageError("--lock downloads what the lock file lists; give no other requirements");
  }
  // pip-style `-r pylock.toml` (alone) means the lock, as --lock does.
  const requirementFiles = v.requirement ?? [];
  const lock = v.lock ??
    (requirementFiles.length === 1 && positionals.length === 0 && v.project === undefined &&
        (v.constraint ?? []).length === 0 && lockKindOfName(requirementFiles[0]!) !== undefined
      ? requirementFiles[0]
      : undefined);
  if (v["all-platforms"] && lock === undefined) {
    throw new UsageError("--all-platforms only applies with --lock");
  }
  if (v["all-platforms"] && (pythonPlatforms.length > 0 || platforms.length > 0)) {
    throw new UsageError("--all-platforms cannot be combined with a target");
  }
  if (v.universal && lock !== undefined) {
    throw new UsageError(
      "--universal resolves requirements; a lock is resolved already (use --lock FILE --all-platforms)",
    );
  }
  if (v.universal && (platforms.length > 0 || abis.length > 0 || v.implementation !== undefined)) {
    throw new UsageError(
      "--universal takes --python-platform presets to narrow the platforms, not --platform, --abi or --implementation",
    );
  }
  if ((v.environment ?? []).length > 0 && !v.universal) {
    throw new UsageError("--environment only applies with --universal");
  }
  return {
    help: v.help ?? false,
    requirements: positionals,
    requirementFiles: lock !== undefined && v.lock === undefined ? [] : requirementFiles,
    constraintFiles: v.constraint ?? [],
    project: v.project,
    lock,
    extras: v.extra ?? [],
    allExtras: v["all-extras"] ?? false,
    groups: v.group ?? [],
    noDev: v["no-dev"] ?? false,
    allPlatforms: v["all-platforms"] ?? false,
    universal: v.universal ?? false,
    environments: v.environment ?? [],
    dest: v.dest ?? "wheelhouse",
    indexUrl: v["index-url"],
    extraIndexUrls: v["extra-index-url"] ?? [],
    noIndex: v["no-index"] ?? false,
    findLinks: v["find-links"] ?? [],
    indexStrategy: strategy,
    noDeps: v["no-deps"] ?? false,
    noBuild: v["no-build"] ?? false,
    noBuildIsolation: v["no-build-isolation"] ?? false,
    buildWheels: v["build-wheels"] ?? false,
    buildDeps: v["build-deps"] ?? false,
    python: v.python,
    pre: v.pre ?? false,
    onlyBinary: splitList(v["only-binary"]),
    noBinary: splitList(v["no-binary"]),
    preferBinary: v["prefer-binary"] ?? false,
    requireHashes: v["require-hashes"] ?? false,
    excludeNewer: v["exclude-newer"] === undefined
      ? undefined
      : parseExcludeNewer(v["exclude-newer"]),
    platforms,
    pythonVersions: v["python-version"] ?? [],
    implementation: v.implementation,
    abis,
    pythonPlatforms,
    offline: v.offline ?? false,
    cacheDir: v["cache-dir"],
    uvCacheDir: v["uv-cache-dir"],
    noCache: v["no-cache"] ?? false,
    refresh: v.refresh ?? false,
    concurrency: positiveInt(v.concurrency, "concurrency", 16),
    retries: nonNegativeInt(v.retries, "retries", 5),
    timeoutSeconds: positiveInt(v.timeout, "timeout", 30),
    dryRun: v["dry-run"] ?? false,
    report: v.report,
    simpleIndex: v["simple-index"] ?? false,
    prune: v.prune ?? false,
    quiet: v.quiet?.length ?? 0,
    verbose: v.verbose?.length ?? 0,
    progress,
  };
}

const CACHE_CONFIG = {
  options: {
    "cache-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
  strict: true,
} as const satisfies ParseArgsConfig;

/** Options of `cache dir|info|list|clean|prune`. */
export interface CacheCommandOptions {
  action: "dir" | "info" | "list" | "clean" | "prune";
  projects: string[];
  cacheDir: string | undefined;
  help: boolean;
}

/**
 * Parses the arguments of `cache` (after the command word).
 *
 * @throws {UsageError} for unknown actions or options.
 */
export function parseCacheArgs(args: string[]): CacheCommandOptions {
  const { values, positionals } = guard(() => parseArgs({ ...CACHE_CONFIG, args }));
  rejectEmptyValues(values);
  const [action, ...rest] = positionals;
  if (values.help && action === undefined) {
    return { action: "dir", projects: [], cacheDir: values["cache-dir"], help: true };
  }
  if (
    action !== "dir" && action !== "info" && action !== "list" && action !== "clean" &&
    action !== "prune"
  ) {
    throw new UsageError(
      action === undefined
        ? "cache needs an action: dir, info, list [PROJECT...], clean [PROJECT...] or prune"
        : `unknown cache action "${action}"; expected dir, info, list, clean or prune`,
    );
  }
  if (action !== "clean" && action !== "list" && rest.length > 0) {
    throw new UsageError(`cache ${action} takes no arguments, got "${rest.join(" ")}"`);
  }
  return { action, projects: rest, cacheDir: values["cache-dir"], help: values.help ?? false };
}
