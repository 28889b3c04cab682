// `WHEELHOUSE_TRACE=FILE`: the run's own events with their times (ms since the process
// started), one JSON object per line, written when the command ends. bench/ reads it to show
// where a cold run's time goes (start-up, host facts, first page, resolution, download tail,
// delivery); nothing is recorded without the variable.
import * as fsp from "node:fs/promises";

/** One recorded moment. */
export interface TraceEntry {
  /** Milliseconds since the process started (`performance.now()`). */
  t: number;
  /** What happened (`cli-start`, `host-start`, a download event's kind, `transfer-start`…). */
  kind: string;
  /** A few facts of the moment (a project, a byte count). */
  [key: string]: unknown;
}

/** Collects entries in memory; {@linkcode Trace.write} saves them. */
export class Trace {
  readonly #entries: TraceEntry[] = [];

  /** Records a moment now. */
  mark(kind: string, facts: Record<string, unknown> = {}): void {
    this.#entries.push({ ...facts, t: Math.round(performance.now() * 10) / 10, kind });
  }

  /** Writes the entries as JSON lines; a trace that cannot be written is not the run's failure. */
  async write(path: string): Promise<void> {
    const text = this.#entries.map((e) => JSON.stringify(e)).join("\n") + "\n";
    await fsp.writeFile(path, text).catch(() => {});
  }
}

/**
 * A `fetch` that records when each request starts and when its response headers arrive, so a
 * trace shows how long requests wait (queued behind others, or on a busy machine). Only the
 * URL's last path segment is recorded: never a host, a query or credentials.
 */
export function tracedFetch(
  fetch: typeof globalThis.fetch,
  trace: Trace,
): typeof globalThis.fetch {
  let next = 0;
  return async (input, init) => {
    const id = ++next;
    const url = input instanceof Request ? input.url : String(input);
    const what = new URL(url).pathname.split("/").filter((p) => p !== "").pop() ?? "/";
    trace.mark("http-start", { id, what });
    try {
      const response = await fetch(input, init);
      trace.mark("http-headers", { id, status: response.status });
      return response;
    } catch (e) {
      trace.mark("http-failed", { id });
      throw e;
    }
  };
}
