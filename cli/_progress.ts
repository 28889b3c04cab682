// Progress on a terminal: one overall bar and a line per transfer in flight, redrawn in place at
// most ten times a second. It is a fetcher Reporter, so the library never prints; off a terminal
// (or with --progress off, or -q) nothing is drawn and no escape codes are written.
import type { FetchError, FetchResult, Reporter } from "../fetcher/types.ts";
import type { TextSink } from "./io.ts";
import { formatBytes } from "./_format.ts";

interface Transfer {
  name: string;
  done: number;
  total: number | undefined;
}

const BAR_WIDTH = 24;
const MAX_LINES = 5;

function bar(done: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return " ".repeat(BAR_WIDTH);
  const filled = Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
  return "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
}

function nameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop() ?? url);
  } catch {
    return url;
  }
}

/** Draws transfers on a terminal; `finish()` clears the drawing. */
export class TerminalProgress implements Reporter {
  #out: TextSink;
  #now: () => number;
  #transfers = new Map<string, Transfer>();
  #filesTotal: number;
  #bytesTotal: number;
  #filesDone = 0;
  #bytesDone = 0;
  #drawnLines = 0;
  #lastDraw = 0;

  /**
   * @param out The terminal.
   * @param totals How many files and bytes the run will fetch.
   * @param now Clock for throttling redraws.
   */
  constructor(out: TextSink, totals: { files: number; bytes: number }, now: () => number) {
    this.#out = out;
    this.#filesTotal = totals.files;
    this.#bytesTotal = totals.bytes;
    this.#now = now;
  }

  /** A transfer started. */
  start(id: string, info: { url: string; total?: number }): void {
    this.#transfers.set(id, { name: nameOf(info.url), done: 0, total: info.total });
    this.#draw(false);
  }

  /** Bytes arrived. */
  progress(id: string, info: { done: number; total?: number }): void {
    const t = this.#transfers.get(id);
    if (!t) return;
    t.done = info.done;
    if (info.total !== undefined) t.total = info.total;
    this.#draw(false);
  }

  /** A transfer ended. */
  done(id: string, info: { result?: FetchResult; error?: FetchError }): void {
    this.#transfers.delete(id);
    // A failed or cancelled transfer is not "done": the count stays honest on Ctrl-C.
    if (info.result) {
      this.#filesDone++;
      this.#bytesDone += info.result.size;
    }
    this.#draw(true);
  }

  /** Clears what was drawn. */
  finish(): void {
    this.#clear();
  }

  #clear(): void {
    if (this.#drawnLines > 0) {
      this.#out.write(`\x1b[${this.#drawnLines}A\x1b[0J`);
      this.#drawnLines = 0;
    }
  }

  #draw(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const inFlight = [...this.#transfers.values()];
    const running = inFlight.reduce((n, t) => n + t.done, 0);
    const lines = [
      `Downloading ${
        bar(this.#bytesDone + running, this.#bytesTotal)
      } ${this.#filesDone}/${this.#filesTotal} files, ${formatBytes(this.#bytesDone + running)}`,
      ...inFlight.slice(0, MAX_LINES).map((t) =>
        `  ${bar(t.done, t.total)} ${t.name} ${formatBytes(t.done)}${
          t.total === undefined ? "" : `/${formatBytes(t.total)}`
        }`
      ),
    ];
    if (inFlight.length > MAX_LINES) lines.push(`  … and ${inFlight.length - MAX_LINES} more`);
    this.#clear();
    this.#out.write(lines.map((l) => `${l}\x1b[K\n`).join(""));
    this.#drawnLines = lines.length;
  }
}

/** Prints one line per finished transfer (for -v off a terminal). */
export class LineProgress implements Reporter {
  #out: TextSink;

  /** @param out Where lines go. */
  constructor(out: TextSink) {
    this.#out = out;
  }

  /** A transfer ended. */
  done(_id: string, info: { result?: FetchResult; error?: FetchError }): void {
    if (info.result) {
      this.#out.write(`Fetched ${nameOf(info.result.url)} (${formatBytes(info.result.size)})\n`);
    }
  }

  /** A transfer is retried. */
  retry(_id: string, info: { attempt: number; delayMs: number; reason: string }): void {
    this.#out.write(
      `Retrying (attempt ${info.attempt + 1}) in ${info.delayMs} ms: ${info.reason}\n`,
    );
  }
}
