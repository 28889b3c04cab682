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

/** How far the resolver got, shown while it works. */
interface ResolveStatus {
  targets: number;
  decided: number;
  project: string | undefined;
}

/** Bytes per second over a sliding window of recent samples. */
class Rate {
  #samples: { at: number; bytes: number }[] = [];
  #windowMs: number;

  constructor(windowMs = 3000) {
    this.#windowMs = windowMs;
  }

  add(at: number, bytes: number): void {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > this.#windowMs) {
      this.#samples.shift();
    }
  }

  /** Bytes per second, or undefined before there is a span to measure. */
  perSecond(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < 200) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.ceil(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/**
 * The whole run on a terminal: while resolving, how many packages are decided and which project
 * is being looked at; one line per transfer in flight with bytes, total and rate; an overall bar
 * with bytes, total, rate and ETA that covers transfers started during resolution. Redrawn in
 * place at most ten times a second; `finish()` clears it.
 */
export class TerminalProgress implements Reporter {
  #out: TextSink;
  #now: () => number;
  #transfers = new Map<string, Transfer & { rate: Rate }>();
  #planned: { files: number; bytes: number } | undefined;
  #resolving: ResolveStatus | undefined;
  #filesDone = 0;
  #bytesDone = 0;
  #totalsDone = 0;
  #received = 0;
  #rate = new Rate();
  #drawnLines = 0;
  #lastDraw = -Infinity;

  /**
   * @param out The terminal.
   * @param totals How many files and bytes the run will fetch, when already known.
   * @param now Clock for throttling redraws and measuring rates.
   */
  constructor(
    out: TextSink,
    totals: { files: number; bytes: number } | undefined,
    now: () => number,
  ) {
    this.#out = out;
    this.#planned = totals;
    this.#now = now;
  }

  /** Resolution began for this many targets. */
  resolving(targets: number): void {
    this.#resolving = { targets, decided: 0, project: undefined };
    this.#draw(true);
  }

  /** The resolver moved on. */
  resolveProgress(decided: number, project: string): void {
    if (this.#resolving === undefined) return;
    this.#resolving.decided = decided;
    this.#resolving.project = project;
    this.#draw(false);
  }

  /** Planning ended: the run fetches `totals` in all (transfers started early included). */
  planned(totals: { files: number; bytes: number }): void {
    this.#resolving = undefined;
    this.#planned = totals;
    this.#draw(true);
  }

  /** A transfer started. */
  start(id: string, info: { url: string; total?: number }): void {
    this.#transfers.set(id, {
      name: nameOf(info.url),
      done: 0,
      total: info.total,
      rate: new Rate(),
    });
    this.#draw(false);
  }

  /** Bytes arrived. */
  progress(id: string, info: { done: number; total?: number }): void {
    const t = this.#transfers.get(id);
    if (!t) return;
    const now = this.#now();
    this.#received += Math.max(0, info.done - t.done);
    this.#rate.add(now, this.#received);
    t.done = info.done;
    t.rate.add(now, info.done);
    if (info.total !== undefined) t.total = info.total;
    this.#draw(false);
  }

  /** A transfer ended. */
  done(id: string, info: { result?: FetchResult; error?: FetchError }): void {
    const t = this.#transfers.get(id);
    this.#transfers.delete(id);
    // A failed or cancelled transfer is not "done": the count stays honest on Ctrl-C.
    if (info.result) {
      this.#filesDone++;
      this.#bytesDone += info.result.size;
      this.#totalsDone += t?.total ?? info.result.size;
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

  #overall(): string | undefined {
    const inFlight = [...this.#transfers.values()];
    if (this.#filesDone === 0 && inFlight.length === 0 && this.#planned === undefined) {
      return undefined;
    }
    const running = inFlight.reduce((n, t) => n + t.done, 0);
    const done = this.#bytesDone + running;
    // Before planning, what is known: finished files and those in flight. The plan's totals
    // cover every file still to fetch, including those started early.
    const known = this.#totalsDone + inFlight.reduce((n, t) => n + (t.total ?? t.done), 0);
    const total = Math.max(done, known, this.#planned?.bytes ?? 0);
    const files = Math.max(this.#filesDone + inFlight.length, this.#planned?.files ?? 0);
    const rate = this.#rate.perSecond();
    const eta = rate !== undefined && rate > 0 && total > done
      ? formatEta((total - done) / rate)
      : "";
    return `Downloading ${bar(done, total)} ${formatBytes(done)}/${formatBytes(total)}${
      rate === undefined ? "" : ` · ${formatBytes(Math.round(rate))}/s`
    }${eta === "" ? "" : ` · ${eta} left`} · ${this.#filesDone}/${files} files`;
  }

  #draw(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const inFlight = [...this.#transfers.values()];
    const lines: string[] = [];
    const r = this.#resolving;
    if (r !== undefined) {
      lines.push(
        `Resolving for ${r.targets} target${r.targets === 1 ? "" : "s"}: ${r.decided} package${
          r.decided === 1 ? "" : "s"
        } decided${r.project === undefined ? "" : ` · ${r.project}`}`,
      );
    }
    const overall = this.#overall();
    if (overall !== undefined) lines.push(overall);
    for (const t of inFlight.slice(0, MAX_LINES)) {
      const rate = t.rate.perSecond();
      lines.push(
        `  ${bar(t.done, t.total)} ${t.name} ${formatBytes(t.done)}${
          t.total === undefined ? "" : `/${formatBytes(t.total)}`
        }${rate === undefined ? "" : ` · ${formatBytes(Math.round(rate))}/s`}`,
      );
    }
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
