/**
 * The outside world as the CLI sees it: streams, environment, working directory, network. `main`
 * takes one of these so tests run commands in-process with fakes; {@linkcode denoIo} is the real one.
 *
 * @module
 */

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
}

function sink(stream: { writeSync(p: Uint8Array): number; isTerminal(): boolean }): TextSink {
  const encoder = new TextEncoder();
  return {
    write(text: string): void {
      const bytes = encoder.encode(text);
      let off = 0;
      while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
    },
    isTerminal: stream.isTerminal(),
  };
}

/**
 * The real process: Deno's stdout/stderr, environment and working directory, global fetch.
 *
 * @returns A {@linkcode CliIo} for this process.
 */
export function denoIo(): CliIo {
  return {
    stdout: sink(Deno.stdout),
    stderr: sink(Deno.stderr),
    env: (name) => Deno.env.get(name),
    cwd: Deno.cwd(),
    fetch: globalThis.fetch.bind(globalThis),
    now: Date.now,
  };
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
