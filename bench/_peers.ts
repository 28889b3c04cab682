// The tools the benchmarks run: wheelhouse (bundled or from source), pip (the machine's default
// and the newest pip the mirror holds, in a venv the benchmark builds), and the floors (parallel
// curl, cp). Each returns a command line; nothing here times anything.

import { join } from "node:path";
import { BenchError, capture, cleanEnv, type Cmd } from "./_process.ts";

/** How wheelhouse runs: the `deno bundle` output or `cli/main.ts` from source. */
export interface Ours {
  readonly form: "bundle" | "source";
  /** The script passed to `deno run -A`. */
  readonly script: string;
}

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * Bundles `cli/main.ts` into `dir/wheelhouse.js` (what `deno task bundle` does) and falls back
 * to running from source when bundling fails.
 */
export async function prepareOurs(form: "bundle" | "source", dir: string): Promise<Ours> {
  if (form === "source") return { form, script: join(ROOT, "cli/main.ts") };
  const script = join(dir, "wheelhouse.js");
  try {
    await capture(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--output",
      script,
      join(ROOT, "cli/main.ts"),
    ]);
    return { form, script };
  } catch (error) {
    console.warn(`WARNING: deno bundle failed, running from source instead: ${error}`);
    return { form: "source", script: join(ROOT, "cli/main.ts") };
  }
}

/** `wheelhouse download` into `dest` with its own cache folder. */
export function oursDownload(
  ours: Ours,
  o: { index: string; dest: string; cache: string; reqs: readonly string[]; extra?: string[] },
): Cmd {
  return {
    cmd: Deno.execPath(),
    args: [
      "run",
      "-A",
      ours.script,
      "download",
      "-q",
      "-i",
      o.index,
      "-d",
      o.dest,
      "--cache-dir",
      o.cache,
      ...(o.extra ?? []),
      ...o.reqs,
    ],
    env: cleanEnv({ NO_COLOR: "1" }),
  };
}

/** A pip to compare against. */
export interface Pip {
  /** "pip 23.2.1 (machine default)" */
  readonly label: string;
  readonly version: string;
  readonly python: string;
}

/** pip's environment: no configuration file, no `PIP_*` variables, no version check. */
export function pipEnv(): Record<string, string> {
  return cleanEnv({
    PIP_CONFIG_FILE: "/dev/null",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PIP_NO_INPUT: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  });
}

/** `pip download` into `dest`; `cache` undefined means `--no-cache-dir` (a cold run). */
export function pipDownload(
  pip: Pip,
  o: { index: string; dest: string; cache?: string; reqs: readonly string[]; extra?: string[] },
): Cmd {
  return {
    cmd: pip.python,
    args: [
      "-m",
      "pip",
      "download",
      "-q",
      "--progress-bar",
      "off",
      "--disable-pip-version-check",
      ...(o.cache ? ["--cache-dir", o.cache] : ["--no-cache-dir"]),
      "-i",
      o.index,
      "-d",
      o.dest,
      ...(o.extra ?? []),
      ...o.reqs,
    ],
    env: pipEnv(),
  };
}

async function pipVersion(python: string): Promise<string | undefined> {
  try {
    const out = await capture(python, ["-m", "pip", "--version"], pipEnv());
    return /^pip (\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The pips to compare against: `python3 -m pip` as installed, and the newest pip wheel in
 * `wheelDir` installed offline into a venv under `venvRoot` (kept between runs).
 */
export async function preparePips(wheelDir: string | undefined, venvRoot: string): Promise<Pip[]> {
  const pips: Pip[] = [];
  const defaultVersion = await pipVersion("python3");
  if (defaultVersion) {
    pips.push({
      label: `pip ${defaultVersion} (default)`,
      version: defaultVersion,
      python: "python3",
    });
  } else {
    console.warn("WARNING: python3 -m pip is not available; pip comparisons are skipped");
    return pips;
  }
  if (!wheelDir) return pips;
  let newest: { version: number[]; text: string } | undefined;
  try {
    for await (const e of Deno.readDir(wheelDir)) {
      const m = /^pip-(\d+(?:\.\d+)*)-py3-none-any\.whl$/.exec(e.name);
      if (!m) continue;
      const version = m[1]!.split(".").map(Number);
      if (!newest || compareParts(version, newest.version) > 0) newest = { version, text: m[1]! };
    }
  } catch {
    return pips;
  }
  if (!newest || newest.text === defaultVersion) return pips;
  const venv = join(venvRoot, `pip-${newest.text}`);
  const python = join(venv, "bin/python");
  if (await pipVersion(python) !== newest.text) {
    try {
      await Deno.remove(venv, { recursive: true }).catch(() => {});
      await capture("python3", ["-m", "venv", venv], pipEnv());
      await capture(python, [
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--find-links",
        wheelDir,
        `pip==${newest.text}`,
      ], pipEnv());
    } catch (error) {
      throw new BenchError(`Cannot install pip ${newest.text} into ${venv}`, "setup-failed", {
        cause: error,
      });
    }
  }
  pips.push({ label: `pip ${newest.text} (newest)`, version: newest.text, python });
  return pips;
}

function compareParts(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The floor of a cold download: the same URLs with 16 parallel `curl` transfers. */
export function curlFloor(urls: readonly string[], dest: string): Cmd {
  const args = ["-s", "-f", "--parallel", "--parallel-max", "16", "--output-dir", dest];
  for (const u of urls) args.push("-o", decodeURIComponent(u.slice(u.lastIndexOf("/") + 1)), u);
  return { cmd: "curl", args, env: cleanEnv() };
}

/** The floor of a warm-cache run: `cp` of the same files into a new folder. */
export function cpFloor(paths: readonly string[], dest: string): Cmd {
  return { cmd: "cp", args: [...paths, dest], env: cleanEnv() };
}
