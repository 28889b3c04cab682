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
