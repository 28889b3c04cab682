// `wheelhouse serve` as a subprocess for end-to-end tests: started, its URL read from the first
// line of stdout, stopped with a signal.
import { join } from "node:path";
import { ROOT } from "./_e2e_helpers.ts";

const decoder = new TextDecoder();
/** Every run of a child process is bounded. */
const CHILD_MS = 120_000;

/** A running `wheelhouse serve`. */
export interface Served {
  /** The index URL the server printed first. */
  indexUrl: string;
  port: number;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `wheelhouse serve ARGS` in `cwd` and waits for the URL it prints. */
export async function serve(args: string[], cwd: string): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), "serve", ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_MS * 2),
  }).spawn();
  let out = "";
  let err = "";
  const drain = async (stream: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const outDone = drain(child.stdout, (t) => out += t);
  const errDone = drain(child.stderr, (t) => err += t);
  const deadline = Date.now() + 30_000;
  while (!out.includes("\n")) {
    if (Date.now() > deadline) throw new Error(`serve printed no URL: ${err}`);
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 20)),
    ]);
    if (exited && !out.includes("\n")) throw new Error(`serve exited early: ${err}`);
  }
  const indexUrl = out.split("\n")[0]!;
  return {
    indexUrl,
    port: Number(new URL(indexUrl).port),
    stderr: () => err,
    async stop(signal: Deno.Signal = "SIGINT") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const status = await child.status;
      await Promise.all([outDone, errDone]);
      return { code: status.code, stdout: out, stderr: err };
    },
  };
}
