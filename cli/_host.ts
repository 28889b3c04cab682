// The host as a target, for runs that name none (pip's default). pip evaluates everything against
// the interpreter that runs it; we have no interpreter of our own, so we ask the machine: the OS
// and CPU from the runtime, the C library and its version from `getconf`/`ldd`, the Python version
// from `python3` when there is one. Everything that runs a command is injected so tests can fake it.
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import process from "node:process";
import { PRESETS, type Target, targetFromPreset } from "../pep/tags.ts";
import { writeTextAtomic } from "./_fs.ts";

/** The OS and CPU of this process, in the names the presets use (Deno's `Deno.build` names). */
export function thisMachine(): { os: string; arch: string } {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const arch = process.arch === "x64"
    ? "x86_64"
    : process.arch === "arm64"
    ? "aarch64"
    : process.arch;
  return { os, arch };
}

/** Runs a command and returns its stdout, or undefined when it cannot run or fails. */
export type RunCommand = (cmd: string, args: string[]) => Promise<string | undefined>;

/** What we know about the host machine. */
export interface HostFacts {
  /** `linux`, `darwin`, `windows`, … (Deno's `Deno.build.os` names); "" when unknown. */
  os: string;
  /** `x86_64`, `aarch64`, …; "" when unknown. */
  arch: string;
  /** The glibc version (major, minor), on Linux with glibc. */
  glibc: [number, number] | undefined;
  /** Whether the C library is musl. */
  musl: boolean;
  /** The macOS version, on macOS. */
  macosVersion: string | undefined;
  /** The version of the `python3` on PATH, when there is one and it was asked. */
  pythonFullVersion: string | undefined;
}

/** The Python version a host run uses when no `python3` can be asked (uv's default minor). */
export const FALLBACK_PYTHON = "3.12";

/** Runs a command; undefined when it is missing or exits non-zero. */
export const processRun: RunCommand = async (cmd, args) => {
  // Loaded only when Python must be asked (a run with cached host facts never spawns).
  const { execFile } = await import("node:child_process");
  return await new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 20_000 }, (error, stdout, stderr) => {
      resolve(error === null ? stdout + stderr : undefined);
    });
  });
};

/** Gathers the facts about this machine that decide its target. */
export async function detectHost(
  run: RunCommand = processRun,
  build: { os: string; arch: string } = thisMachine(),
  options: { python?: boolean } = {},
): Promise<HostFacts> {
  const facts: HostFacts = {
    os: build.os,
    arch: build.arch,
    glibc: undefined,
    musl: false,
    macosVersion: undefined,
    pythonFullVersion: undefined,
  };
  // Starting Python costs about a second; skip it when the run names its Python versions.
  if (options.python !== false) {
    const probe = ["-c", "import platform;print(platform.python_version())"];
    const python = await run("python3", probe) ?? await run("python", probe);
    const pv = python?.trim().match(/^(\d+\.\d+\.\d+)/);
    if (pv) facts.pythonFullVersion = pv[1];
  }
  if (build.os === "linux") {
    const conf = await run("getconf", ["GNU_LIBC_VERSION"]);
    const m = conf?.match(/glibc (\d+)\.(\d+)/);
    if (m) facts.glibc = [Number(m[1]), Number(m[2])];
    else {
      const ldd = await run("ldd", ["--version"]);
      if (ldd !== undefined && /musl/i.test(ldd)) facts.musl = true;
    }
  } else if (build.os === "darwin") {
    facts.macosVersion = (await run("sw_vers", ["-productVersion"]))?.trim();
  }
  return facts;
}

/** The uv-style preset name that describes a host, or undefined when none fits. */
export function hostPreset(facts: HostFacts): string | undefined {
  const arch = facts.arch === "aarch64"
    ? "aarch64"
    : facts.arch === "x86_64"
    ? "x86_64"
    : undefined;
  if (arch === undefined) return undefined;
  switch (facts.os) {
    case "darwin":
      return `${arch}-apple-darwin`;
    case "windows":
      return `${arch}-pc-windows-msvc`;
    case "linux": {
      if (facts.musl) return `${arch}-unknown-linux-musl`;
      if (facts.glibc === undefined) return `${arch}-unknown-linux-gnu`;
      // The newest manylinux preset the host's glibc can run.
      const [, minor] = facts.glibc;
      for (let m = minor; m >= 17; m--) {
        const name = `${arch}-manylinux_2_${m}`;
        if (PRESETS.includes(name)) return name;
      }
      return undefined;
    }
  }
  return undefined;
}

/**
 * The host as a target for the given (or detected) Python version.
 *
 * @throws {Error} when the host's OS or CPU is one no preset describes.
 */
export function hostTarget(facts: HostFacts, pythonVersion?: string): Target {
  const preset = hostPreset(facts);
  if (preset === undefined) {
    throw new Error(
      `Cannot describe this machine (${facts.os} ${facts.arch}) as a target; pass --python-platform or --platform`,
    );
  }
  const version = pythonVersion ?? facts.pythonFullVersion ?? FALLBACK_PYTHON;
  return targetFromPreset(preset, {
    pythonVersion: version,
    ...(facts.macosVersion !== undefined && /^\d+\.\d+/.test(facts.macosVersion)
      ? { macosVersion: facts.macosVersion.split(".").slice(0, 2).join(".") }
      : {}),
  });
}

/** What decides which Python `python3` is here; a change means the host must be examined again. */
export async function hostFingerprint(
  env: (name: string) => string | undefined,
  cwd: string,
): Promise<string> {
  const parts: string[] = [];
  for (const name of ["PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_VERSION", "PYENV_ROOT"]) {
    parts.push(`${name}=${env(name) ?? ""}`);
  }
  // The python3 that PATH finds, and when it changed (an upgrade in place).
  const windows = thisMachine().os === "windows";
  const sep = windows ? ";" : ":";
  // detectHost asks python3, else python (python3.exe/python.exe on Windows).
  const names = windows ? ["python3.exe", "python.exe"] : ["python3", "python"];
  found: for (const name of names) {
    for (const dir of (env("PATH") ?? "").split(sep)) {
      if (dir === "") continue;
      const st = await fsp.stat(`${dir}/${name}`).catch(() => undefined);
      if (st?.isFile()) {
        parts.push(`${name}=${dir}/${name}@${st.mtime.getTime()}`);
        break found;
      }
    }
  }
  // Version managers pick the Python from files up the tree: pyenv (.python-version, then its
  // global file), asdf (.tool-versions) and mise (.mise.toml, mise.toml).
  const versionFiles: string[] = [];
  for (let dir = cwd;;) {
    for (const name of [".python-version", ".tool-versions", ".mise.toml", "mise.toml"]) {
      versionFiles.push(`${dir}/${name}`);
    }
    const parent = dir.replace(/[\\/][^\\/]*$/, "");
    if (parent === dir || parent === "") break;
    dir = parent;
  }
  const home = env("HOME");
  versionFiles.push(`${env("PYENV_ROOT") ?? `${home ?? ""}/.pyenv`}/version`);
  for (const file of versionFiles) {
    const text = await fsp.readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) parts.push(`${file}=${text.trim()}`);
  }
  return parts.join("\n");
}

/** Options of {@linkcode detectHostCached}. */
export interface HostCacheOptions {
  /** The JSON file that keeps the last answer. */
  file: string;
  env: (name: string) => string | undefined;
  cwd: string;
  now: () => number;
  /** How long an answer stays good; default one day. */
  maxAgeMs?: number;
  detect: () => Promise<HostFacts>;
}

/**
 * The host's facts, from a small cache when nothing that decides them has changed: starting
 * Python to ask its version costs about 0.4 s (more behind pyenv's shims), a large share of a
 * run that has nothing to download.
 */
export async function detectHostCached(options: HostCacheOptions): Promise<HostFacts> {
  // A digest: the cache must not keep the user's whole PATH and environment in clear.
  const fingerprint = createHash("sha256")
    .update(await hostFingerprint(options.env, options.cwd))
    .digest("hex");
  const maxAge = options.maxAgeMs ?? 24 * 60 * 60 * 1000;
  try {
    const cached = JSON.parse(await fsp.readFile(options.file, "utf8")) as {
      fingerprint?: string;
      at?: number;
      facts?: HostFacts;
    };
    if (
      cached.fingerprint === fingerprint && typeof cached.at === "number" &&
      options.now() - cached.at < maxAge && cached.facts !== undefined
    ) {
      return cached.facts;
    }
  } catch { /* absent or unreadable: examine the host */ }
  const facts = await options.detect();
  try {
    await writeTextAtomic(options.file, JSON.stringify({ fingerprint, at: options.now(), facts }));
  } catch { /* a cache that cannot be written only costs time */ }
  return facts;
}
