/**
 * The PEP 517 build front end: wheels, sdists and wheel metadata from sdists, source folders and
 * git repositories, in isolated environments made of the wheels a provider hands it, with every
 * result cached.
 *
 * Cache layout under `cacheDir` (every entry is published by renaming a finished temp folder):
 * ```
 * build-v1/wheels/<key>/     a built wheel, build.log, entry.json
 * build-v1/sdists/<key>/     a built sdist, build.log, entry.json
 * build-v1/metadata/<key>/   a prepared .dist-info, entry.json
 * build-v1/envs/<key>/       isolated build environments
 * build-v1/git/              bare clones and checkouts
 * build-v1/logs/             the full logs of failed builds
 * build-v1/runner/           the hook runner script
 * build-v1/tmp/              work in progress (leftovers of killed runs are swept after a day)
 * ```
 * `<key>` hashes the source's identity (an sdist's sha256, a git commit and subdirectory, a source
 * folder's tree hash), its `[build-system]`, the interpreter's tags and version, the isolation mode
 * and the config settings.
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import { parseSdistFilename, parseWheelFilename } from "../pep/filename.ts";
import { archiveRoot, memberText, readArchive, segmentsOf, writeMembers } from "./_archive.ts";
import {
  type BuildEnv,
  ensureEnvironment,
  isolatedProcessEnv,
  normalizeRequirements,
  unsatisfied,
} from "./_environment.ts";
import { callHook, type HookContext, hookFailure } from "./_hooks.ts";
import { HOOK_RUNNER_SCRIPT } from "./_scripts.ts";
import {
  CACHE_SUBDIR,
  definedEnv,
  errnoOf,
  exists,
  hashJson,
  interpreterFingerprint,
  isInside,
  makeTempDir,
  publishDir,
  sha256Hex,
  sweepTemp,
  writeFileOnce,
} from "./_util.ts";
import { parseBuildSystem, readBuildSystem } from "./build_system.ts";
import { cloneGit } from "./clone_git.ts";
import { inspectInterpreter } from "./inspect_interpreter.ts";
import { runProcess } from "./run_process.ts";
import {
  type BuildEnvironmentProvider,
  BuildError,
  type BuildReporter,
  type BuildSource,
  type BuildSystem,
  type BuiltSdist,
  type BuiltWheel,
  type ConfigSettings,
  type HookName,
  type InterpreterInfo,
  type PreparedMetadata,
  type RunProcess,
  type SourceInfo,
} from "./types.ts";

/** Options of {@linkcode BuildFrontend}; every side effect is injectable. */
export interface BuildFrontendOptions {
  /** The cache folder: environments, built wheels and sdists, metadata, git clones, logs. */
  cacheDir: string;
  /** The interpreter to build with: a command on `PATH` or a path; default `python3`. */
  python?: string;
  /**
   * Hands over the wheels of each isolated build environment (the caller's resolver and
   * cache). Required unless `noBuildIsolation`.
   */
  environments?: BuildEnvironmentProvider;
  /** Build with the interpreter's own installed packages instead of isolated environments. */
  noBuildIsolation?: boolean;
  /** PEP 517 `config_settings` for every hook. */
  configSettings?: ConfigSettings;
  /** Starts processes (Python, git); default {@linkcode runProcess}. */
  run?: RunProcess;
  /** Environment of the backends and of git; default this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `git` binary; default `git`. */
  git?: string;
  /** Receives progress events. */
  reporter?: BuildReporter;
  /** Clock, for durations, log names and sweeping leftovers; default `Date.now`. */
  now?: () => number;
  /** Temp names; default `Math.random`. */
  random?: () => number;
}

/** Per-call options of the {@linkcode BuildFrontend} methods. */
export interface BuildCallOptions {
  /** Cancels the build (the hook process is terminated). */
  signal?: AbortSignal;
  /** `config_settings` for this call, over the front end's. */
  configSettings?: ConfigSettings;
}

/** A source opened for building: what it is, and a way to get its folder on disk. */
interface OpenedSource {
  info: SourceInfo;
  buildSystem: BuildSystem;
  /** The project folder; an archive is unpacked into `workDir` on the first call. */
  directory(workDir: string): Promise<string>;
}

/** One operation's state: its folder, hook context and environment. */
interface Session {
  dir: string;
  work: string;
  ctx: HookContext;
  env: BuildEnv | undefined;
  config: ConfigSettings;
}

/** What building a wheel of a source needs installed. */
export interface BuildRequirements {
  /** `build-system.requires` (or pip's default `setuptools>=40.8.0`). */
  requires: string[];
  /** What `get_requires_for_build_wheel` adds. */
  dynamic: string[];
}

interface EntryFile {
  filename: string;
  source: SourceInfo;
  via?: "hook" | "wheel";
}

const KEY_FORMAT = 1;
const DAY_MS = 24 * 60 * 60 * 1000;
const RUNNER_NAME = "wheelhouse_pep517_runner.py";

// Folders a tree hash leaves out: version-control data, caches, and what builds write into the
// tree (setuptools' build/ and *.egg-info), so building a folder does not change its key.
const SKIP_ANYWHERE = new Set([
  ".git",
  ".hg",
  ".svn",
  "__pycache__",
  ".tox",
  ".nox",
  ".venv",
  ".mypy_cache",
  ".pytest_cache",
  ".ruff_cache",
]);
const SKIP_AT_TOP = new Set(["build", "dist", ".eggs"]);

async function treeHash(root: string): Promise<string> {
  const lines: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (SKIP_ANYWHERE.has(e.name) || e.name.endsWith(".egg-info")) continue;
      if (rel === "" && SKIP_AT_TOP.has(e.name)) continue;
      const path = join(dir, e.name);
      const relPath = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isSymbolicLink()) lines.push(`l ${relPath} ${await fsp.readlink(path)}`);
      else if (e.isDirectory()) await walk(path, relPath);
      else if (e.isFile()) {
        const st = await fsp.stat(path);
        const x = (st.mode & 0o111) !== 0 ? "x" : "-";
        lines.push(`f ${relPath} ${x} ${sha256Hex(await fsp.readFile(path))}`);
      }
    }
  }
  await walk(root, "");
  return sha256Hex(lines.join("\n"));
}

function pkgInfoName(text: string | undefined): string | undefined {
  return text?.match(/^Name:[ \t]*(\S.*?)[ \t]*$/m)?.[1];
}

function mergeConfig(a: ConfigSettings | undefined, b: ConfigSettings | undefined): ConfigSettings {
  return { ...(a ?? {}), ...(b ?? {}) };
}

/**
 * Builds wheels, sdists and wheel metadata with PEP 517 backends. It knows no resolver and no
 * HTTP: isolated environments are made of the wheels its {@linkcode BuildEnvironmentProvider}
 * returns.
 *
 * @example
 * ```ts
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { BuildFrontend } from "./build_frontend.ts";
 * import { BuildError } from "./types.ts";
 * const cacheDir = await mkdtemp(join(tmpdir(), "wh-build-"));
 * const frontend = new BuildFrontend({
 *   cacheDir,
 *   python: "python9",
 *   // The caller's resolver goes here: it returns wheel files for the requirements.
 *   environments: { installRequirements: () => Promise.resolve([]) },
 * });
 * try {
 *   await frontend.buildWheel({ kind: "directory", path: "." });
 *   throw new Error("unreachable");
 * } catch (e) {
 *   if (!(e instanceof BuildError) || e.code !== "interpreter-missing") throw e;
 *   if (e.message !== 'Cannot run Python "python9": not found') throw e;
 * } finally {
 *   await rm(cacheDir, { recursive: true, force: true });
 * }
 * ```
 */
export class BuildFrontend {
  readonly #cacheDir: string;
  readonly #python: string;
  readonly #provider: BuildEnvironmentProvider | undefined;
  readonly #isolated: boolean;
  readonly #config: ConfigSettings;
  readonly #run: RunProcess;
  readonly #env: Readonly<Record<string, string | undefined>> | undefined;
  readonly #git: string | undefined;
  readonly #reporter: BuildReporter | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  #interpreter: Promise<InterpreterInfo> | undefined;
  #runner: Promise<string> | undefined;
  #swept = false;
  readonly #inflight = new Map<string, Promise<unknown>>();

  /**
   * Makes a front end. Nothing runs until the first build.
   *
   * @param options The cache folder, the interpreter, the environment provider, injected effects.
   * @throws {TypeError} Without `environments` unless `noBuildIsolation`.
   */
  constructor(options: BuildFrontendOptions) {
    if (!options.noBuildIsolation && options.environments === undefined) {
      throw new TypeError("BuildFrontend needs `environments` unless `noBuildIsolation` is set");
    }
    this.#cacheDir = resolve(options.cacheDir);
    this.#python = options.python ?? "python3";
    this.#provider = options.environments;
    this.#isolated = !options.noBuildIsolation;
    this.#config = options.configSettings ?? {};
    this.#run = options.run ?? runProcess;
    this.#env = options.env;
    this.#git = options.git;
    this.#reporter = options.reporter;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** The cache folder (absolute). */
  get cacheDir(): string {
    return this.#cacheDir;
  }

  /**
   * What the interpreter is (asked once per front end).
   *
   * @param options A signal.
   * @returns Its version, tags and markers.
   * @throws {BuildError} `interpreter-missing`, `interpreter-failed`.
   */
  interpreter(options: { signal?: AbortSignal } = {}): Promise<InterpreterInfo> {
    if (this.#interpreter === undefined) {
      const asked = inspectInterpreter(this.#python, {
        run: this.#run,
        ...(this.#env ? { env: this.#env } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.#interpreter = asked;
      asked.catch(() => {
        if (this.#interpreter === asked) this.#interpreter = undefined;
      });
    }
    return this.#interpreter;
  }

  /**
   * Builds a wheel (PEP 517 `build_wheel`), or returns the cached one.
   *
   * @param source An sdist, a folder or a git repository.
   * @param options A signal; config settings.
   * @returns The wheel in the cache.
   * @throws {BuildError} With the codes of {@linkcode BuildErrorCode}; a failing backend's error
   * names the hook and the project, shows the last lines of its output and the exit code, and
   * points at the full log.
   */
  async buildWheel(source: BuildSource, options: BuildCallOptions = {}): Promise<BuiltWheel> {
    const { opened, key } = await this.#prepare(source, options);
    const entry = this.#entryDir("wheels", key);
    return await this.#once(entry, async () => {
      const hit = await this.#cachedWheel(entry, opened.info);
      if (hit) {
        this.#reporter?.event({
          kind: "cache-hit",
          what: "wheel",
          project: opened.info.project,
          path: hit.path,
        });
        return hit;
      }
      return await this.#withSession(opened, "wheel", options, async (s) => {
        const built = await this.#runBuildWheel(s);
        return await this.#publishWheel(entry, built, s, opened.info);
      });
    });
  }

  /**
   * Builds an sdist (PEP 517 `build_sdist`), or returns the cached one.
   *
   * @param source A folder or a git repository (or an sdist, rebuilt).
   * @param options A signal; config settings.
   * @returns The sdist in the cache.
   * @throws {BuildError} As {@linkcode BuildFrontend.buildWheel}; `hook-missing` when the backend
   * has no `build_sdist`, `hook-unsupported` when it refuses.
   */
  async buildSdist(source: BuildSource, options: BuildCallOptions = {}): Promise<BuiltSdist> {
    const { opened, key } = await this.#prepare(source, options);
    const entry = this.#entryDir("sdists", key);
    return await this.#once(entry, async () => {
      const hit = await this.#readEntry(entry);
      if (hit && await exists(join(entry, hit.filename))) {
        const path = join(entry, hit.filename);
        this.#reporter?.event({
          kind: "cache-hit",
          what: "sdist",
          project: opened.info.project,
          path,
        });
        return { path, filename: hit.filename, cached: true, source: opened.info };
      }
      return await this.#withSession(opened, "sdist", options, async (s) => {
        const out = join(s.work, "out");
        await fsp.mkdir(out, { recursive: true });
        const result = await callHook(s.ctx, "build_sdist", {
          sdist_directory: out,
          config_settings: s.config,
        });
        if (result.kind === "missing") throw this.#missing(s, "build_sdist");
        const filename = await this.#checkResult(s, "build_sdist", result.value, out, (name) => {
          parseSdistFilename(name);
        });
        const temp = join(s.work, "entry");
        await fsp.mkdir(temp);
        await fsp.rename(join(out, filename), join(temp, filename));
        await fsp.rename(s.ctx.logPath, join(temp, "build.log")).catch(() => {});
        await this.#writeEntry(temp, { filename, source: opened.info });
        await publishDir(temp, entry);
        const published = (await this.#readEntry(entry))?.filename ?? filename;
        return {
          path: join(entry, published),
          filename: published,
          cached: false,
          source: opened.info,
        };
      });
    });
  }

  /**
   * Prepares the wheel's metadata (PEP 517 `prepare_metadata_for_build_wheel`), or returns the
   * cached one. When the backend lacks the hook, the wheel is built and its `.dist-info` read, as
   * pip does; that wheel is then in the cache for {@linkcode BuildFrontend.buildWheel}.
   *
   * @param source An sdist, a folder or a git repository.
   * @param options A signal; config settings.
   * @returns The `.dist-info` folder in the cache and its `METADATA` text.
   * @throws {BuildError} As {@linkcode BuildFrontend.buildWheel}.
   */
  async prepareMetadata(
    source: BuildSource,
    options: BuildCallOptions = {},
  ): Promise<PreparedMetadata> {
    const { opened, key } = await this.#prepare(source, options);
    const entry = this.#entryDir("metadata", key);
    const wheelEntry = this.#entryDir("wheels", key);
    return await this.#once(entry, async () => {
      const hit = await this.#readEntry(entry);
      if (hit) {
        const distInfoDir = join(entry, hit.filename);
        const metadata = await fsp.readFile(join(distInfoDir, "METADATA"), "utf8").catch(() =>
          undefined
        );
        if (metadata !== undefined) {
          this.#reporter?.event({
            kind: "cache-hit",
            what: "metadata",
            project: opened.info.project,
            path: distInfoDir,
          });
          return {
            distInfoDir,
            metadata,
            cached: true,
            via: hit.via ?? "hook",
            source: opened.info,
          };
        }
      }
      const wheel = await this.#cachedWheel(wheelEntry, opened.info);
      if (wheel) {
        const work = await makeTempDir(this.#cacheDir, "metadata", this.#random);
        try {
          const m = await this.#publishMetadataFromWheel(entry, wheel.path, work, opened.info);
          return { ...m, cached: true };
        } finally {
          await fsp.rm(work, { recursive: true, force: true });
        }
      }
      return await this.#withSession(opened, "wheel", options, async (s) => {
        const out = join(s.work, "metadata");
        await fsp.mkdir(out, { recursive: true });
        const result = await callHook(s.ctx, "prepare_metadata_for_build_wheel", {
          metadata_directory: out,
          config_settings: s.config,
        });
        if (result.kind === "ok") {
          const name = await this.#checkResult(
            s,
            "prepare_metadata_for_build_wheel",
            result.value,
            out,
            (n) => {
              if (!n.endsWith(".dist-info")) throw new Error("not a .dist-info folder");
            },
          );
          const metadata = await fsp.readFile(join(out, name, "METADATA"), "utf8").catch(() => {
            throw new BuildError(
              "invalid-result",
              `${
                hookFailure("prepare_metadata_for_build_wheel", opened.info.project)
              }: ${name} has no METADATA`,
              { hook: "prepare_metadata_for_build_wheel", project: opened.info.project },
            );
          });
          const temp = join(s.work, "entry");
          await fsp.mkdir(temp);
          await fsp.rename(join(out, name), join(temp, name));
          await this.#writeEntry(temp, { filename: name, source: opened.info, via: "hook" });
          await publishDir(temp, entry);
          const published = (await this.#readEntry(entry))?.filename ?? name;
          return {
            distInfoDir: join(entry, published),
            metadata,
            cached: false,
            via: "hook",
            source: opened.info,
          };
        }
        // No hook: build the wheel (pip's fallback) and keep it.
        const built = await this.#runBuildWheel(s);
        const wheel = await this.#publishWheel(wheelEntry, built, s, opened.info);
        return await this.#publishMetadataFromWheel(entry, wheel.path, s.work, opened.info);
      });
    });
  }

  /**
   * What building a wheel of a source needs installed: the static `build-system.requires` (or
   * pip's default) and what the backend's `get_requires_for_build_wheel` adds (PEP 517), so the
   * caller can bring them into a folder that must build offline. Cached like the other results.
   *
   * @param source An sdist, a folder or a git repository.
   * @param options A signal; config settings.
   * @returns The static and the dynamic requirements, as PEP 508 strings.
   * @throws {BuildError} As {@linkcode BuildFrontend.buildWheel}.
   */
  async buildRequirements(
    source: BuildSource,
    options: BuildCallOptions = {},
  ): Promise<BuildRequirements> {
    const { opened, key } = await this.#prepare(source, options);
    const entry = this.#entryDir("requires", key);
    return await this.#once(entry, async () => {
      try {
        const hit = JSON.parse(
          await fsp.readFile(join(entry, "requires.json"), "utf8"),
        ) as BuildRequirements;
        if (Array.isArray(hit.requires) && Array.isArray(hit.dynamic)) return hit;
      } catch { /* not built yet */ }
      return await this.#withSession(opened, "wheel", options, async (s) => {
        const asked = await callHook(s.ctx, "get_requires_for_build_wheel", {
          config_settings: s.config,
        });
        const dynamic = asked.kind === "ok" && Array.isArray(asked.value)
          ? (asked.value as unknown[]).filter((x): x is string => typeof x === "string")
          : [];
        const found: BuildRequirements = { requires: [...opened.buildSystem.requires], dynamic };
        const temp = join(s.work, "entry");
        await fsp.mkdir(temp);
        await fsp.writeFile(join(temp, "requires.json"), JSON.stringify(found));
        await publishDir(temp, entry);
        return found;
      });
    });
  }

  // --- sources and keys ---

  async #prepare(
    source: BuildSource,
    options: BuildCallOptions,
  ): Promise<{ opened: OpenedSource; key: string }> {
    const interpreter = await this.interpreter(options);
    if (!this.#swept) {
      this.#swept = true;
      await sweepTemp(this.#cacheDir, this.#now(), DAY_MS);
    }
    const opened = await this.#open(source, options.signal);
    const config = mergeConfig(this.#config, options.configSettings);
    const key = hashJson({
      format: KEY_FORMAT,
      source: opened.info.identity,
      buildSystem: {
        requires: normalizeRequirements(opened.buildSystem.requires, opened.info.project),
        backend: opened.buildSystem.backend,
        backendPath: opened.buildSystem.backendPath,
      },
      interpreter: interpreterFingerprint(interpreter),
      // Without isolation the build uses whatever this interpreter has installed.
      isolation: this.#isolated ? "isolated" : `interpreter:${interpreter.executable}`,
      config,
    }).slice(0, 32);
    return { opened, key };
  }

  async #open(source: BuildSource, signal: AbortSignal | undefined): Promise<OpenedSource> {
    if (source.kind === "archive") {
      const path = resolve(source.path);
      let bytes: Uint8Array;
      try {
        bytes = await fsp.readFile(path);
      } catch (e) {
        throw new BuildError(
          "invalid-archive",
          `Cannot build "${source.name ?? basename(path)}": cannot read ${path} (${
            errnoOf(e) ?? e
          })`,
          { cause: e },
        );
      }
      const members = await readArchive(bytes, basename(path));
      const root = archiveRoot(members);
      const at = (name: string) => (root === "" ? name : `${root}/${name}`);
      const pyproject = memberText(members, at("pyproject.toml"));
      let fromName: string | undefined;
      try {
        fromName = parseSdistFilename(basename(path)).name;
      } catch {
        fromName = undefined;
      }
      const early = parseBuildSystem(pyproject, {
        hasSetupPy: members.some((m) => m.path === at("setup.py")),
        project: source.name ?? fromName ?? basename(path),
      });
      const project = source.name ?? early.projectName ??
        pkgInfoName(memberText(members, at("PKG-INFO"))) ?? fromName ?? basename(path);
      let unpacked: Promise<string> | undefined;
      return {
        info: { kind: "archive", project, identity: `sha256:${sha256Hex(bytes)}` },
        buildSystem: early,
        directory: (workDir) => {
          unpacked ??= (async () => {
            const dest = join(workDir, "src");
            await fsp.mkdir(dest, { recursive: true });
            await writeMembers(members, dest);
            const dir = root === "" ? dest : join(dest, root);
            // The links are on disk now: check backend-path through them.
            await readBuildSystem(dir, { project });
            return dir;
          })();
          return unpacked;
        },
      };
    }
    if (source.kind === "directory") {
      const dir = resolve(source.path);
      const st = await fsp.stat(dir).catch(() => undefined);
      if (!st?.isDirectory()) {
        throw new BuildError(
          "invalid-project",
          `Cannot build "${source.name ?? basename(dir)}": ${dir} is not a folder`,
        );
      }
      const bs = await readBuildSystem(dir, { project: source.name ?? basename(dir) });
      const project = source.name ?? bs.projectName ?? basename(dir);
      return {
        info: { kind: "directory", project, identity: `tree:${await treeHash(dir)}` },
        buildSystem: bs,
        directory: () => Promise.resolve(dir),
      };
    }
    const checkout = await cloneGit(source.url, source.rev, {
      cacheDir: this.#cacheDir,
      run: this.#run,
      random: this.#random,
      ...(source.subdirectory !== undefined ? { subdirectory: source.subdirectory } : {}),
      ...(this.#git ? { git: this.#git } : {}),
      ...(this.#env ? { env: this.#env } : {}),
      ...(signal ? { signal } : {}),
    });
    const repoName = basename(checkout.url.replace(/\/+$/, "")).replace(/\.git$/, "");
    const bs = await readBuildSystem(checkout.directory, { project: source.name ?? repoName });
    const project = source.name ?? bs.projectName ?? repoName;
    const sub = checkout.directory === checkout.root
      ? ""
      : checkout.directory.slice(checkout.root.length + 1).replaceAll("\\", "/");
    return {
      info: {
        kind: "git",
        project,
        identity: `git:${checkout.commit}${sub ? `#${sub}` : ""}`,
        commit: checkout.commit,
      },
      buildSystem: bs,
      directory: () => Promise.resolve(checkout.directory),
    };
  }

  #entryDir(kind: "wheels" | "sdists" | "metadata" | "requires", key: string): string {
    return join(this.#cacheDir, CACHE_SUBDIR, kind, key);
  }

  /** Runs `work` once per entry at a time in this process; the others wait for its result. */
  async #once<T>(entry: string, work: () => Promise<T>): Promise<T> {
    const pending = this.#inflight.get(entry) as Promise<T> | undefined;
    if (pending) {
      const result = await pending;
      return { ...result, cached: true };
    }
    const p = work();
    this.#inflight.set(entry, p);
    try {
      return await p;
    } finally {
      this.#inflight.delete(entry);
    }
  }

  async #readEntry(entry: string): Promise<EntryFile | undefined> {
    try {
      return JSON.parse(await fsp.readFile(join(entry, "entry.json"), "utf8")) as EntryFile;
    } catch {
      return undefined;
    }
  }

  async #writeEntry(temp: string, doc: EntryFile): Promise<void> {
    await fsp.writeFile(
      join(temp, "entry.json"),
      JSON.stringify({ ...doc, builtAt: new Date(this.#now()).toISOString() }, null, 2),
    );
  }

  async #cachedWheel(entry: string, source: SourceInfo): Promise<BuiltWheel | undefined> {
    const hit = await this.#readEntry(entry);
    if (!hit || !(await exists(join(entry, hit.filename)))) return undefined;
    const log = join(entry, "build.log");
    return {
      path: join(entry, hit.filename),
      filename: hit.filename,
      cached: true,
      source,
      logPath: (await exists(log)) ? log : undefined,
    };
  }

  // --- sessions and hooks ---

  async #runnerPath(): Promise<string> {
    this.#runner ??= (async () => {
      const dir = join(
        this.#cacheDir,
        CACHE_SUBDIR,
        "runner",
        sha256Hex(HOOK_RUNNER_SCRIPT).slice(0, 16),
      );
      const path = join(dir, RUNNER_NAME);
      await writeFileOnce(path, HOOK_RUNNER_SCRIPT, this.#random);
      return path;
    })();
    try {
      return await this.#runner;
    } catch (e) {
      this.#runner = undefined;
      throw e;
    }
  }

  async #withSession<T>(
    opened: OpenedSource,
    target: "wheel" | "sdist",
    options: BuildCallOptions,
    body: (s: Session) => Promise<T>,
  ): Promise<T> {
    const interpreter = await this.interpreter(options);
    const work = await makeTempDir(
      this.#cacheDir,
      `${target}-${opened.info.project}`,
      this.#random,
    );
    try {
      const dir = await opened.directory(work);
      const project = opened.info.project;
      const requires = normalizeRequirements(opened.buildSystem.requires, project);
      const base = definedEnv(this.#env ?? process.env);
      let env: BuildEnv | undefined;
      const envContext = {
        cacheDir: this.#cacheDir,
        provider: this.#provider ?? { installRequirements: () => Promise.resolve([]) },
        interpreter,
        random: this.#random,
        now: this.#now,
        signal: options.signal,
        reporter: this.#reporter,
        project,
      };
      if (this.#isolated) env = await ensureEnvironment(requires, envContext);
      const logPath = join(work, "build.log");
      await fsp.writeFile(logPath, "");
      const ctx: HookContext = {
        python: interpreter.executable,
        runnerPath: await this.#runnerPath(),
        sourceDir: dir,
        processEnv: env ? isolatedProcessEnv(env, base) : base,
        backend: opened.buildSystem.backend,
        backendPath: opened.buildSystem.backendPath.map((p) => resolve(dir, p)),
        project,
        workDir: work,
        logPath,
        failedLogDir: join(this.#cacheDir, CACHE_SUBDIR, "logs"),
        run: this.#run,
        now: this.#now,
        random: this.#random,
        signal: options.signal,
        reporter: this.#reporter,
      };
      const config = mergeConfig(this.#config, options.configSettings);
      const session: Session = { dir, work, ctx, env, config };
      // PEP 517's dynamic build requirements, added to the environment when it lacks them.
      const hook: HookName = target === "wheel"
        ? "get_requires_for_build_wheel"
        : "get_requires_for_build_sdist";
      const asked = await callHook(ctx, hook, { config_settings: config });
      if (asked.kind === "ok") {
        const extra = asked.value;
        if (!Array.isArray(extra) || !extra.every((x) => typeof x === "string")) {
          throw new BuildError(
            "invalid-result",
            `${hookFailure(hook, project)}: ${hook} returned ${
              JSON.stringify(extra)
            }, not a list of strings`,
            { hook, project },
          );
        }
        if (env && unsatisfied(env, extra, interpreter).length > 0) {
          env = await ensureEnvironment(
            normalizeRequirements([...requires, ...extra], project),
            envContext,
          );
          session.env = env;
          ctx.processEnv = isolatedProcessEnv(env, base);
        }
      }
      return await body(session);
    } finally {
      await fsp.rm(work, { recursive: true, force: true }).catch(() => {});
    }
  }

  #missing(s: Session, hook: HookName): BuildError {
    return new BuildError(
      "hook-missing",
      `${hookFailure(hook, s.ctx.project)}: build backend "${s.ctx.backend}" has no ${hook} hook`,
      { hook, project: s.ctx.project },
    );
  }

  /** The basename a build hook returned, checked to be a plain name of a file it made in `dir`. */
  async #checkResult(
    s: Session,
    hook: HookName,
    value: unknown,
    dir: string,
    check: (name: string) => void,
  ): Promise<string> {
    const fail = (why: string, cause?: unknown) =>
      new BuildError(
        "invalid-result",
        `${hookFailure(hook, s.ctx.project)}: ${hook} returned ${JSON.stringify(value)}, ${why}`,
        cause === undefined
          ? { hook, project: s.ctx.project }
          : { hook, project: s.ctx.project, cause },
      );
    if (typeof value !== "string" || value === "") throw fail("not a file name");
    const segs = segmentsOf(value);
    if (segs?.length !== 1 || segs[0] !== value) throw fail("not a plain file name");
    const path = join(dir, value);
    if (!isInside(dir, path) || !(await exists(path))) throw fail(`which is not in ${dir}`);
    try {
      check(value);
    } catch (e) {
      throw fail(e instanceof Error ? e.message : String(e), e);
    }
    return value;
  }

  async #runBuildWheel(s: Session): Promise<{ dir: string; filename: string }> {
    const out = join(s.work, "out");
    await fsp.mkdir(out, { recursive: true });
    const result = await callHook(s.ctx, "build_wheel", {
      wheel_directory: out,
      config_settings: s.config,
      metadata_directory: null,
    });
    if (result.kind === "missing") throw this.#missing(s, "build_wheel");
    const filename = await this.#checkResult(s, "build_wheel", result.value, out, (name) => {
      parseWheelFilename(name);
    });
    return { dir: out, filename };
  }

  async #publishWheel(
    entry: string,
    built: { dir: string; filename: string },
    s: Session,
    source: SourceInfo,
  ): Promise<BuiltWheel> {
    const temp = join(s.work, `entry-wheel`);
    await fsp.mkdir(temp);
    await fsp.rename(join(built.dir, built.filename), join(temp, built.filename));
    await fsp.copyFile(s.ctx.logPath, join(temp, "build.log")).catch(() => {});
    await this.#writeEntry(temp, { filename: built.filename, source });
    const ours = await publishDir(temp, entry);
    const hit = await this.#cachedWheel(entry, source);
    if (!hit) {
      throw new BuildError(
        "invalid-result",
        `Cannot keep the wheel of "${source.project}" in ${entry}`,
      );
    }
    return { ...hit, cached: !ours };
  }

  async #publishMetadataFromWheel(
    entry: string,
    wheelPath: string,
    work: string,
    source: SourceInfo,
  ): Promise<PreparedMetadata> {
    const { unzipSync } = await import("fflate");
    const files = unzipSync(await fsp.readFile(wheelPath), {
      filter: (f) => /^[^/]+\.dist-info\//.test(f.name),
    });
    const parsed = parseWheelFilename(basename(wheelPath));
    const names = new Set(Object.keys(files).map((n) => n.slice(0, n.indexOf("/"))));
    // One .dist-info per wheel; if a backend put more, the one named after the wheel is it.
    const distInfo =
      [...names].find((n) => n.toLowerCase().startsWith(`${parsed.name.toLowerCase()}-`)) ??
        [...names][0];
    if (distInfo === undefined || files[`${distInfo}/METADATA`] === undefined) {
      throw new BuildError(
        "invalid-result",
        `Cannot read the metadata of "${source.project}": ${
          basename(wheelPath)
        } has no .dist-info/METADATA`,
        { project: source.project },
      );
    }
    const temp = join(work, "entry-metadata");
    for (const [name, data] of Object.entries(files)) {
      if (!name.startsWith(`${distInfo}/`) || name.endsWith("/")) continue;
      const segs = segmentsOf(name);
      if (segs === undefined) continue;
      const dest = join(temp, ...segs);
      await fsp.mkdir(resolve(dest, ".."), { recursive: true });
      await fsp.writeFile(dest, data);
    }
    await this.#writeEntry(temp, { filename: distInfo, source, via: "wheel" });
    await publishDir(temp, entry);
    const published = (await this.#readEntry(entry))?.filename ?? distInfo;
    const distInfoDir = join(entry, published);
    return {
      distInfoDir,
      metadata: await fsp.readFile(join(distInfoDir, "METADATA"), "utf8"),
      cached: false,
      via: "wheel",
      source,
    };
  }
}
