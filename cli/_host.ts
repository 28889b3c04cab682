// The host as a target, for runs that name none (pip's default). pip evaluates everything against
// the interpreter that runs it; we have no interpreter of our own, so we ask the machine: the OS
// and CPU from Deno, the C library and its version from `getconf`/`ldd`, the Python version from
// `python3` when there is one. Everything that runs a command is injected so tests can fake it.
import { PRESETS, type Target, targetFromPreset } from "../pep/tags.ts";

/** Runs a command and returns its stdout, or undefined when it cannot run or fails. */
export type RunCommand = (cmd: string, args: string[]) => Promise<string | undefined>;

/** What we know about the host machine. */
export interface HostFacts {
  os: string;
  arch: string;
  glibc: [number, number] | undefined;
  musl: boolean;
  macosVersion: string | undefined;
  pythonFullVersion: string | undefined;
}

/** The Python version a host run uses when no `python3` can be asked (uv's default minor). */
export const FALLBACK_PYTHON = "3.12";

/** Runs a command with Deno.Command; undefined when it is missing or exits non-zero. */
export const denoRun: RunCommand = async (cmd, args) => {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return undefined;
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text;
  } catch {
    return undefined;
  }
};

/** Gathers the facts about this machine that decide its target. */
export async function detectHost(
  run: RunCommand = denoRun,
  build: { os: string; arch: string } = Deno.build,
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
