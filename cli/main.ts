/**
 * The `wheelhouse` command line: `download` (from requirements or a lock file) and `cache`.
 *
 * `main(args, io)` runs one command in-process and returns its exit code: 0 success, 1 a
 * resolution or download failure, 2 bad usage or bad input, 130 interrupted (Ctrl-C or SIGTERM).
 * Only this file maps errors to exit codes; nothing prints a stack trace. The file ends with an
 * entry that runs under Deno, under Node, in a bundle and in a Node single executable.
 *
 * @module
 */
import process from "node:process";
import { type CliIo, flushStreams, processIo } from "./io.ts";
import { UsageError } from "./_options.ts";
import { download } from "./download.ts";
import { cacheCommand } from "./cache.ts";
import { verify } from "./verify.ts";
import { serveCommand } from "./serve.ts";
import { describeError, exitCodeOf } from "./_errors.ts";
import { isMainModule } from "./_is_main.ts";
import { VERSION } from "../download/version.ts";

// `main` takes a CliIo, so callers that run it in-process need the type.
export type { CliIo, TextSink } from "./io.ts";
export type { HostFacts } from "./_host.ts";

const HELP = `wheelhouse ${VERSION}: resolve Python requirements and download wheels and sdists

Usage:
  wheelhouse download [OPTIONS] [REQUIREMENT...]   resolve and download into a folder
  wheelhouse download --lock pylock.toml|uv.lock   download exactly what a lock file lists
  wheelhouse cache dir|info|clean [PROJECT...]|prune
  wheelhouse verify [DIR] [--json]                 re-hash a downloaded folder (default ./wheelhouse)
  wheelhouse serve [DIR] [--port N] [--auth FILE]  serve a downloaded folder as a package index

Run "wheelhouse download --help" for the download options.
`;

/**
 * Runs the command line.
 *
 * @param args The arguments after the program name.
 * @param io The outside world (streams, env, cwd, fetch); the real one by default.
 * @returns The exit code.
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * import { memorySink } from "./io.ts";
 * const stdout = memorySink();
 * const code = await main(["--version"], {
 *   stdout, stderr: memorySink(), env: () => undefined, cwd: ".",
 *   fetch: globalThis.fetch, now: Date.now,
 * });
 * if (code !== 0 || !stdout.text().startsWith("wheelhouse ")) throw new Error("no version");
 * ```
 */
export async function main(args: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "-h":
      case "--help":
        io.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case "--version":
      case "-V":
        io.stdout.write(`wheelhouse ${VERSION}\n`);
        return 0;
      case "download":
        return await download(rest, io);
      case "cache":
        return await cacheCommand(rest, io);
      case "verify":
        return await verify(rest, io);
      case "serve":
        return await serveCommand(rest, io);
      default:
        throw new UsageError(
          `unknown command "${command}"; expected download, cache, verify or serve`,
        );
    }
  } catch (e) {
    if (io.signal?.aborted) {
      // Ctrl-C: what was interrupted is not an error to explain; 130 is the shell's convention.
      io.stderr.write(
        "Interrupted; partial downloads are kept in the cache and resume next time.\n",
      );
      return 130;
    }
    io.stderr.write(`error: ${describeError(e)}\n`);
    if (e instanceof UsageError) {
      // Point at the help of the command that was run, where its options are.
      const known = command === "download" || command === "cache" || command === "verify" ||
        command === "serve";
      io.stderr.write(`Run "wheelhouse ${known ? `${command} ` : ""}--help" for usage.\n`);
    }
    return exitCodeOf(e);
  }
}

/**
 * Runs the process: `main` over the real io, SIGINT and SIGTERM cancel the run, and the exit
 * code is set once the output has been flushed.
 *
 * @returns When the process is about to exit.
 */
export async function runProcess(): Promise<void> {
  const controller = new AbortController();
  const cancel = (): void => controller.abort();
  process.on("SIGINT", cancel);
  process.on("SIGTERM", cancel);
  // A promise nobody awaited that fails: after Ctrl-C it is cancelled work winding down (main
  // reports the interruption); otherwise a failure that must not end in exit 0 or a stack trace.
  process.on("unhandledRejection", (reason) => {
    if (controller.signal.aborted) return;
    process.stderr.write(`error: ${describeError(reason)}\n`);
    process.exitCode = 1;
    void flushStreams().then(() => process.exit(1));
  });
  const code = await main(process.argv.slice(2), { ...processIo(), signal: controller.signal });
  await flushStreams();
  process.exit(code);
}

// No top-level await: a CommonJS bundle (what a Node single executable runs) cannot hold one.
if (isMainModule(import.meta)) void runProcess();
