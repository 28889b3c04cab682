/**
 * Git sources with the `git` binary: a bare clone per repository in the cache, fetched into as
 * needed, and one checkout per commit, published atomically.
 *
 * ```
 * <cache>/build-v1/git/db/<hash of url>/                 bare repository
 * <cache>/build-v1/git/checkouts/<hash of url>/<commit>/ work tree (with its .git)
 * ```
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import { redactUrl } from "../pep/redact.ts";
import { runProcess } from "./run_process.ts";
import {
  CACHE_SUBDIR,
  definedEnv,
  exists,
  lastLines,
  makeTempDir,
  publishDir,
  sha256Hex,
} from "./_util.ts";
import { BuildError, type GitCheckout, type RunProcess } from "./types.ts";

/** A git URL split into what git is given and what pip's syntax adds to it. */
export interface GitUrl {
  /** The repository URL for git: no `git+`, no `@rev`, no fragment. */
  url: string;
  /** The revision after `@` (tag, branch or commit), when given. */
  rev?: string;
  /** `#subdirectory=` of the fragment, when given. */
  subdirectory?: string;
}

/**
 * Splits a pip-style VCS URL: `git+https://host/repo.git@v1.0#subdirectory=pkg`.
 *
 * @param text The URL, with or without `git+`.
 * @returns The repository URL, the revision and the subdirectory.
 * @example
 * ```ts
 * import { parseGitUrl } from "./clone_git.ts";
 * const u = parseGitUrl("git+https://user@example.com/a/b.git@v1.0#subdirectory=pkg&egg=b");
 * if (u.url !== "https://user@example.com/a/b.git" || u.rev !== "v1.0") throw new Error();
 * if (u.subdirectory !== "pkg") throw new Error();
 * ```
 */
export function parseGitUrl(text: string): GitUrl {
  let url = text.trim().replace(/^git\+/, "");
  let subdirectory: string | undefined;
  const hash = url.indexOf("#");
  if (hash !== -1) {
    for (const part of url.slice(hash + 1).split("&")) {
      const [k, v] = part.split("=", 2);
      if (k === "subdirectory" && v) subdirectory = decodeURIComponent(v);
    }
    url = url.slice(0, hash);
  }
  // The revision is after the last "@" of the path; an "@" in the authority is a user name.
  const scheme = url.indexOf("://");
  const pathStart = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
  let rev: string | undefined;
  if (pathStart !== -1) {
    const at = url.lastIndexOf("@");
    if (at > pathStart) {
      rev = decodeURIComponent(url.slice(at + 1));
      url = url.slice(0, at);
    }
  }
  return {
    url,
    ...(rev ? { rev } : {}),
    ...(subdirectory ? { subdirectory } : {}),
  };
}

/** Options of {@linkcode cloneGit}. */
export interface CloneGitOptions {
  /** The cache folder (the build cache's root). */
  cacheDir: string;
  /** The project's folder inside the repository. */
  subdirectory?: string;
  /** Starts processes; default {@linkcode runProcess}. */
  run?: RunProcess;
  /** The `git` binary; default `git`. */
  git?: string;
  /** Environment of git (its `PATH`, proxies, credentials helpers); default this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Temp names; default `Math.random`. */
  random?: () => number;
  /** Cancels the work. */
  signal?: AbortSignal;
}

const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

// One operation at a time per bare repository within this process; git's own ref locks keep
// other processes from corrupting it (and a lost race is retried once).
const dbQueues = new Map<string, Promise<unknown>>();

function serial<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = dbQueues.get(key) ?? Promise.resolve();
  const next = before.catch(() => {}).then(work);
  dbQueues.set(key, next);
  next.finally(() => {
    if (dbQueues.get(key) === next) dbQueues.delete(key);
  }).catch(() => {});
  return next;
}

/**
 * Clones (or updates) a git repository into the cache and checks out `rev`.
 *
 * @param url `git+https://…`, `git+file://…` or a plain git URL; an `@rev` and `#subdirectory=` in
 * it are used when `rev` and `options.subdirectory` are not given.
 * @param rev A tag, branch or commit (full or abbreviated); default the remote's HEAD.
 * @param options The cache folder, the subdirectory, and the injected process runner.
 * @returns The commit id, the checkout and the project folder in it.
 * @throws {BuildError} `git-missing` (one line: `Cannot run git: not found`), `git-failed` for an
 * unreachable repository or unknown revision, `invalid-project` for a subdirectory that is
 * missing or leaves the checkout.
 * @example
 * ```ts
 * import { cloneGit } from "./clone_git.ts";
 * import { BuildError } from "./types.ts";
 * try {
 *   await cloneGit("git+file:///nowhere@v1", undefined, { cacheDir: "/tmp/wh", git: "no-git-here" });
 *   throw new Error("unreachable");
 * } catch (e) {
 *   if (!(e instanceof BuildError) || e.message !== "Cannot run git: not found") throw e;
 * }
 * ```
 */
export async function cloneGit(
  url: string,
  rev: string | undefined,
  options: CloneGitOptions,
): Promise<GitCheckout> {
  const parsed = parseGitUrl(url);
  const wanted = rev ?? parsed.rev;
  const subdirectory = options.subdirectory ?? parsed.subdirectory;
  const repo = parsed.url;
  const shown = redactUrl(repo);
  const run = options.run ?? runProcess;
  const gitBin = options.git ?? "git";
  const random = options.random ?? Math.random;
  const env = {
    ...definedEnv(options.env ?? process.env),
    // Never wait for a password on a terminal nobody watches.
    GIT_TERMINAL_PROMPT: "0",
  };
  const cacheRoot = join(resolve(options.cacheDir), CACHE_SUBDIR, "git");
  const urlKey = sha256Hex(repo).slice(0, 16);
  const db = join(cacheRoot, "db", urlKey);

  async function git(args: string[], what: string, cwd = cacheRoot): Promise<string> {
    const out = await run(gitBin, args, {
      cwd,
      env,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (out.kind === "not-found") throw new BuildError("git-missing", `Cannot run git: not found`);
    if (out.kind === "failed-to-start") {
      throw new BuildError("git-missing", `Cannot run git: ${out.message}`);
    }
    if (options.signal?.aborted) {
      throw new BuildError("aborted", `Cannot ${what}: cancelled`, {
        cause: options.signal.reason,
      });
    }
    if (out.code !== 0) {
      const why = out.code === null ? `killed by ${out.signal}` : `exit code ${out.code}`;
      const detail = lastLines(redactUrl(out.stderr), 3).join(" / ").trim();
      throw new BuildError(
        "git-failed",
        `Cannot ${what}: git ${args[0] === "--git-dir" ? args[2] : args[0]} failed with ${why}${
          detail ? `: ${detail}` : ""
        }`,
      );
    }
    return out.stdout;
  }

  async function resolveLocal(): Promise<string | undefined> {
    const candidates = wanted === undefined
      ? ["refs/wheelhouse/HEAD"]
      : [`refs/heads/${wanted}`, `refs/tags/${wanted}`, wanted];
    for (const c of candidates) {
      try {
        const out = await git(
          ["--git-dir", db, "rev-parse", "--verify", "--quiet", `${c}^{commit}`],
          "resolve",
        );
        const id = out.trim();
        if (FULL_COMMIT.test(id)) return id.toLowerCase();
      } catch (e) {
        if (e instanceof BuildError && e.code === "git-failed") continue;
        throw e;
      }
    }
    return undefined;
  }

  async function fetch(refspecs: string[]): Promise<void> {
    const args = ["--git-dir", db, "fetch", "--quiet", "--force", "--tags", repo, ...refspecs];
    try {
      await git(args, `fetch ${shown}`);
    } catch (e) {
      // Another process fetching into the same repository holds its ref locks: once more.
      if (!(e instanceof BuildError) || e.code !== "git-failed" || !/\block\b/i.test(e.message)) {
        throw e;
      }
      await new Promise((r) => setTimeout(r, 200 + random() * 300));
      await git(args, `fetch ${shown}`);
    }
  }

  const commit = await serial(db, async () => {
    await fsp.mkdir(cacheRoot, { recursive: true });
    if (!(await exists(join(db, "HEAD")))) {
      const temp = await makeTempDir(options.cacheDir, "git-db", random);
      await git(["init", "--bare", "--quiet", temp], `clone ${shown}`);
      await publishDir(temp, db);
    }
    // A commit id names the same tree forever: no fetch when it is already here. Branches move,
    // and tags may, so they are fetched each time.
    if (wanted !== undefined && FULL_COMMIT.test(wanted)) {
      const here = await resolveLocal();
      if (here !== undefined) return here;
    }
    await fetch(["+refs/heads/*:refs/heads/*", "+HEAD:refs/wheelhouse/HEAD"]);
    let found = await resolveLocal();
    if (found === undefined && wanted !== undefined && FULL_COMMIT.test(wanted)) {
      // A commit no branch or tag reaches: servers that allow it hand it out by id.
      await fetch([wanted]).catch(() => {});
      found = await resolveLocal();
    }
    if (found === undefined) {
      const what = wanted === undefined ? "HEAD" : `branch, tag or commit "${wanted}"`;
      throw new BuildError("git-failed", `Cannot check out ${shown}: it has no ${what}`);
    }
    return found;
  });

  const root = join(cacheRoot, "checkouts", urlKey, commit);
  if (!(await exists(join(root, ".git")))) {
    const temp = await makeTempDir(options.cacheDir, `git-${commit.slice(0, 12)}`, random);
    await serial(db, () => git(["clone", "--quiet", "--no-checkout", db, temp], `clone ${shown}`));
    await git(["-C", temp, "checkout", "--quiet", "--force", commit], `check out ${shown}`);
    if (await exists(join(temp, ".gitmodules"))) {
      await git(
        ["-C", temp, "submodule", "update", "--init", "--recursive", "--quiet"],
        `check out the submodules of ${shown}`,
      );
    }
    // The work tree's origin is the real repository (tools such as setuptools-scm read it).
    await git(["-C", temp, "remote", "set-url", "origin", repo], `clone ${shown}`);
    await publishDir(temp, root);
  }

  let directory = root;
  if (subdirectory !== undefined && subdirectory !== "" && subdirectory !== ".") {
    const segs = subdirectory.replaceAll("\\", "/").split("/").filter((s) => s !== "" && s !== ".");
    if (subdirectory.startsWith("/") || segs.includes("..")) {
      throw new BuildError(
        "invalid-project",
        `Cannot build ${shown}: subdirectory "${subdirectory}" is outside the repository`,
      );
    }
    directory = join(root, ...segs);
    if (!(await exists(directory))) {
      throw new BuildError(
        "invalid-project",
        `Cannot build ${shown}@${commit.slice(0, 12)}: it has no subdirectory "${subdirectory}"`,
      );
    }
  }
  return { url: repo, commit, root, directory };
}
