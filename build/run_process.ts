/**
 * The default {@linkcode RunProcess}: `node:child_process`, with output captured or appended to a
 * log file.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import type { ProcessOutcome, RunProcess, RunProcessOptions } from "./types.ts";

// Captured output is for short commands (git, the interpreter probe); a runaway one must not fill
// the memory, and only the end of it is ever shown.
const CAPTURE_LIMIT = 1 << 20;

function errnoOf(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

function keepTail(text: string): string {
  return text.length > CAPTURE_LIMIT ? text.slice(text.length - CAPTURE_LIMIT) : text;
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}

/**
 * Runs `command args` and waits for it to end.
 *
 * @param command The executable (looked up on the environment's `PATH`).
 * @param args Its arguments.
 * @param options Working directory, environment, an optional log file, a signal that kills it.
 * @returns How it ended: `exited` (code or signal, captured output), `not-found`, or
 * `failed-to-start`.
 * @example
 * ```ts
 * import { runProcess } from "./run_process.ts";
 * const out = await runProcess("no-such-program-here", [], { cwd: ".", env: {} });
 * if (out.kind !== "not-found") throw new Error(out.kind);
 * ```
 */
export const runProcess: RunProcess = async (
  command: string,
  args: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessOutcome> => {
  // Loaded on the first command run, not when the CLI starts (most runs build nothing).
  const { spawn } = await import("node:child_process");
  return await new Promise((resolve) => {
    if (options.signal?.aborted) {
      resolve({ kind: "exited", code: null, signal: "SIGTERM", stdout: "", stderr: "" });
      return;
    }
    const log = options.logFile === undefined
      ? undefined
      : createWriteStream(options.logFile, { flags: "a" });
    let child: ChildProcess;
    const onAbort = () => child.kill("SIGTERM");
    try {
      child = spawn(command, [...args], {
        cwd: options.cwd,
        env: { ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch (e) {
      const settle = () =>
        resolve(
          errnoOf(e) === "ENOENT"
            ? { kind: "not-found" }
            : { kind: "failed-to-start", message: String(e) },
        );
      if (log) closeStream(log).then(settle);
      else settle();
      return;
    }
    let stdout = "";
    let stderr = "";
    let settled = false;
    const finish = async (outcome: ProcessOutcome) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      if (log) await closeStream(log);
      resolve(outcome);
    };
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      if (log) log.write(chunk);
      else stdout = keepTail(stdout + chunk);
    });
    child.stderr?.on("data", (chunk: string) => {
      if (log) log.write(chunk);
      else stderr = keepTail(stderr + chunk);
    });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      // An error after the start (a failed kill) is not the outcome; the "close" event is.
      if (child.pid !== undefined) return;
      finish(
        errnoOf(e) === "ENOENT"
          ? { kind: "not-found" }
          : { kind: "failed-to-start", message: e instanceof Error ? e.message : String(e) },
      );
    });
    child.on("close", (code, signal) => {
      finish({ kind: "exited", code, signal, stdout, stderr });
    });
  });
};
