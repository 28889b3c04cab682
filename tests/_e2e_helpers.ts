// Helpers shared by the download tests (download_e2e_test.ts, lock_download_test.ts,
// lock/plan_test.ts, and the other end-to-end suites): the CLI as a subprocess, the example index
// served on 127.0.0.1, and pip's offline install arguments.
import { join } from "node:path";
import type { LockPlanOptions } from "../lock/types.ts";
import {
  type IndexServer,
  type IndexServerOptions,
  servedFilesFromDir,
  startIndexServer,
} from "./index_server.ts";

/** What one run of the CLI printed and returned (the same shape as a Python run). */
export type { PythonRun as Run } from "./_python.ts";

/**
 * The arguments of `python -m pip install` that installs offline, only from the `findLinks`
 * folder, into `target`; `rest` says what (and how) to install.
 */
export function pipInstallOfflineArgs(findLinks: string, target: string, rest: string[]): string[] {
  return [
    "-m",
    "pip",
    "install",
    "--no-index",
    "--find-links",
    findLinks,
    "--target",
    target,
    ...rest,
  ];
}

/** Lock planning options with the defaults of a plain `download --lock FILE`, then `over`. */
export function lockPlanOptions(
  lockPath: string,
  over: Partial<LockPlanOptions> = {},
): LockPlanOptions {
  return {
    lockPath,
    targets: [],
    allPlatforms: false,
    extras: [],
    groups: undefined,
    noDev: false,
    ...over,
  };
}

export const ROOT: string = new URL("..", import.meta.url).pathname;
/** The example index's archives (examples/index). */
export const EXAMPLES: string = join(ROOT, "examples", "index");
const decoder = new TextDecoder();

/**
 * Runs the CLI (`deno run cli/main.ts ARGS`) as a subprocess in `cwd`; with `killAfterMs`, a run
 * that takes longer is killed (its exit code is then that of a killed process).
 */
export async function wheelhouse(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  killAfterMs?: number,
): Promise<import("./_python.ts").PythonRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), ...args],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    ...(killAfterMs !== undefined ? { signal: AbortSignal.timeout(killAfterMs) } : {}),
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Serves the example index (with `options`) and gives a temp folder; both go away after `fn`. */
export async function withServer(
  fn: (server: IndexServer, dir: string) => Promise<void>,
  options: Omit<IndexServerOptions, "projects"> = {},
): Promise<void> {
  const server = await startIndexServer({
    projects: await servedFilesFromDir(EXAMPLES),
    ...options,
  });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-e2e-" });
  try {
    await fn(server, dir);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The archive names in a folder, sorted. */
export async function archives(dest: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dest)) {
    if (e.isFile && /\.(whl|tar\.gz|zip)$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/** The options every test run passes: the server's index, `dir`'s cache, no progress. */
export function common(server: IndexServer, dir: string): string[] {
  return indexArgs(server.indexUrl, join(dir, "cache"));
}

/** `--index-url URL --cache-dir CACHE --progress off`. */
export function indexArgs(indexUrl: string, cacheDir: string): string[] {
  return ["--index-url", indexUrl, "--cache-dir", cacheDir, "--progress", "off"];
}

/** One Linux target, Python 3.12: `--python-version 3.12 --python-platform x86_64-manylinux_2_28`. */
export const LINUX_312: readonly string[] = [
  "--python-version",
  "3.12",
  "--python-platform",
  "x86_64-manylinux_2_28",
];

/** `wheelhouse download` in `dir` against `server`'s index, with `dir`'s cache and no progress. */
export function download(
  server: IndexServer,
  dir: string,
  args: string[],
): Promise<import("./_python.ts").PythonRun> {
  return wheelhouse(["download", ...common(server, dir), ...args], dir);
}
