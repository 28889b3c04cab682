/**
 * The outside world as the CLI sees it: streams, environment, working directory, network, host
 * detection. `main` takes one of these so tests run commands in-process with fakes;
 * {@linkcode processIo} is the real one, over `node:process`, so the CLI runs under Deno and Node.
 *
 * @module
 */
import process from "node:process";
import type { HostFacts } from "./_host.ts";

/** A place text goes (stdout or stderr). */
export interface TextSink {
  /** Writes text as is (callers add newlines). */
  write(text: string): void;
  /** Whether this is an interactive terminal (progress bars and colour only then). */
  readonly isTerminal: boolean;
}

/** Everything a command may touch besides the file system. */
export interface CliIo {
  /** Where command output goes (lists, reports, `--version`). */
  stdout: TextSink;
  /** Where progress, warnings and error messages go. */
  stderr: TextSink;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The working directory that relative paths are resolved against. */
  cwd: string;
  /** HTTP client; tests pass one that counts requests. */
  fetch: typeof globalThis.fetch;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Cancels the run (Ctrl-C). */
  signal?: AbortSignal;
  /** Examines this machine (tests pass a fixed one); the real detection by default. */
  detectHost?: (options: { python: boolean }) => Promise<HostFacts>;
}

function sink(stream: NodeJS.WriteStream): TextSink {
  return {
    write: (text: string): void => void stream.write(text),
    isTerminal: stream.isTTY === true,
  };
}

/**
 * The real process: its stdout/stderr, environment and working directory, global fetch.
 *
 * @returns A {@linkcode CliIo} for this process.
 */
export function processIo(): CliIo {
  return {
    stdout: sink(process.stdout),
    stderr: sink(process.stderr),
    env: (name) => process.env[name],
    cwd: process.cwd(),
    fetch: globalThis.fetch.bind(globalThis),
    now: Date.now,
  };
}

/**
 * Waits until what was written to stdout and stderr has left the process: Node writes to pipes
 * asynchronously, and `process.exit` would cut it short.
 *
 * @returns When both streams are flushed.
 */
export async function flushStreams(): Promise<void> {
  await Promise.all(
    [process.stdout, process.stderr].map((s) =>
      new Promise<void>((resolve) => s.write("", () => resolve()))
    ),
  );
}

/** Collects text in memory, for tests. */
export interface MemorySink extends TextSink {
  /** Everything written so far. */
  text(): string;
}

/**
 * A sink that keeps what is written.
 *
 * @param isTerminal Whether to pretend to be a terminal.
 * @returns The sink.
 * @example
 * ```ts
 * import { memorySink } from "./io.ts";
 * const s = memorySink();
 * s.write("hi\n");
 * if (s.text() !== "hi\n") throw new Error("lost text");
 * ```
 */
export function memorySink(isTerminal = false): MemorySink {
  const parts: string[] = [];
  return {
    write: (text) => void parts.push(text),
    text: () => parts.join(""),
    isTerminal,
  };
}
