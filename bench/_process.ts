// Running and timing subprocesses for the benchmarks: wall time around the whole process (what a
// user waits for), peak RSS through GNU time where it exists, and environments with each tool's
// configuration taken away so the machine's settings cannot favour either side.
// A finished run's folder is emptied, not removed (retire).

import { join } from "node:path";

/** A command to run: executable, arguments and environment. */
export interface Cmd {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** The outcome of one timed run. */
export interface Timed {
  readonly ms: number;
  readonly ok: boolean;
  readonly code: number;
  readonly stderr: string;
  /** Peak resident set size in bytes, when measured. */
  readonly peakRss?: number;
}

/** Failure of a benchmark step (a tool that exits non-zero where it must succeed). */
export class BenchError extends Error {
  /** What failed. */
  readonly code: "command-failed" | "setup-failed";
  /**
   * Creates the error.
   *
   * @param message What failed and why.
   * @param code The kind of failure.
   * @param options The cause.
   */
  constructor(message: string, code: "command-failed" | "setup-failed", options?: ErrorOptions) {
    super(message, options);
    this.name = "BenchError";
    this.code = code;
  }
}

/** The environment with every `PIP_*` and `WHEELHOUSE_*` variable removed. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (/^(PIP_|WHEELHOUSE_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

let gnuTime: boolean | undefined;

/** Whether `/usr/bin/time -v` (GNU time) is available for peak RSS. */
export async function hasGnuTime(): Promise<boolean> {
  if (gnuTime !== undefined) return gnuTime;
  try {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    gnuTime = out.success && /^\d+\s*$/.test(new TextDecoder().decode(out.stderr).trim());
  } catch {
    gnuTime = false;
  }
  return gnuTime;
}

/**
 * Runs a command to completion and times it. With `rss`, wraps it in GNU time and reads the
 * peak RSS of the process (in KiB from `%M`, returned in bytes).
 */
export async function timeCommand(c: Cmd, options: { rss?: boolean } = {}): Promise<Timed> {
  let cmd = c.cmd;
  let args = [...c.args];
  let rssFile: string | undefined;
  if (options.rss && await hasGnuTime()) {
    rssFile = await Deno.makeTempFile({ prefix: "wh-bench-rss-" });
    args = ["-f", "%M", "-o", rssFile, cmd, ...args];
    cmd = "/usr/bin/time";
  }
  const started = performance.now();
  const out = await new Deno.Command(cmd, {
    args,
    env: c.env ?? cleanEnv(),
    clearEnv: true,
    ...(c.cwd ? { cwd: c.cwd } : {}),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  let peakRss: number | undefined;
  if (rssFile) {
    const text = (await Deno.readTextFile(rssFile)).trim().split("\n").pop() ?? "";
    const kib = Number(text);
    if (Number.isFinite(kib) && kib > 0) peakRss = kib * 1024;
    await Deno.remove(rssFile);
  }
  return {
    ms,
    ok: out.success,
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr).slice(-2000),
    ...(peakRss !== undefined ? { peakRss } : {}),
  };
}

/** Runs a command and returns its stdout; throws when it fails. */
export async function capture(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    env: env ?? cleanEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new BenchError(
      `${cmd} ${args.join(" ")} exited ${out.code}: ${
        new TextDecoder().decode(out.stderr).slice(-500)
      }`,
      "command-failed",
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** The median of a non-empty list (NaN for an empty one). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Frees a finished run's disk space without removing its files: each file is emptied and the
 * tree stays until the bench ends. Removing thousands of files right after a run made the next
 * run slower on this machine's ext4 (no journal): each file created within seconds of a mass
 * removal scans the freed inodes, so a tool paid for the cleanup of the one before it.
 *
 * @param dir The finished run's folder.
 */
export async function retire(dir: string): Promise<void> {
  // A file is emptied only when all its names are in this folder: a hard link into a cache that
  // later runs use (the warm scenarios' reference cache) must keep its bytes.
  const files = new Map<number, { paths: string[]; nlink: number }>();
  const walk = async (path: string): Promise<void> => {
    for await (const e of Deno.readDir(path)) {
      const child = join(path, e.name);
      if (e.isDirectory) await walk(child);
      else if (e.isFile) {
        const st = await Deno.lstat(child);
        if (st.ino === null || st.nlink === null) continue;
        const f = files.get(st.ino) ?? { paths: [], nlink: st.nlink };
        f.paths.push(child);
        files.set(st.ino, f);
      }
    }
  };
  await walk(dir).catch(() => {});
  for (const f of files.values()) {
    if (f.paths.length >= f.nlink) await Deno.truncate(f.paths[0]!, 0).catch(() => {});
  }
}
