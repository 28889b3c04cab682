// Early downloads: a file the resolver has decided on starts downloading at once, so transfers
// overlap resolution; versions the resolver backtracks from are cancelled. A file the resolver
// will most likely decide on (a `likely` event: its first pick for a dependency it has just met)
// starts as well, as a guess: a decision for another version of that name cancels it.
import type { IndexClient } from "../index/types.ts";
import type { CandidateFile, ResolveEvent } from "../resolver/types.ts";
import type { EarlyDownload, Session } from "./_session.ts";

/** Starts the download of a file the resolver has decided on (or likely will), once per URL. */
export function startEarly(s: Session, e: ResolveEvent, client: IndexClient): void {
  if (e.kind !== "decided" && e.kind !== "likely") return;
  const who = `${e.target}\0${e.name}`;
  if (e.kind === "decided") forgetGuesses(s, who, e.file?.url);
  if (e.file === undefined) return;
  const running = s.early.get(e.file.url);
  if (running !== undefined && !running.controller.signal.aborted) {
    if (e.kind === "decided") delete running.guessedBy;
    else running.guessedBy?.add(who);
    return;
  }
  const file = e.file;
  const sha256 = file.hashes["sha256"]?.toLowerCase();
  // Already in the destination (checked by delivery like every other file): nothing to fetch.
  if (sha256 !== undefined && s.present.get(file.filename)?.sha256 === sha256) return;
  const early = begin(s, e.name, file, sha256, client, running);
  if (e.kind === "likely") early.guessedBy = new Set([who]);
  s.early.set(file.url, early);
}

/** A decision for `who` cancels the guesses made for it that it did not confirm. */
function forgetGuesses(s: Session, who: string, decidedUrl: string | undefined): void {
  for (const [url, early] of s.early) {
    if (url === decidedUrl || early.guessedBy === undefined || !early.guessedBy.delete(who)) {
      continue;
    }
    if (early.guessedBy.size === 0) early.controller.abort(new Error("another version was chosen"));
  }
}

function begin(
  s: Session,
  name: string,
  file: CandidateFile,
  sha256: string | undefined,
  client: IndexClient,
  cancelled: EarlyDownload | undefined,
): EarlyDownload {
  const controller = new AbortController();
  // Cancelling the call cancels early downloads too.
  const signal = s.signal === undefined
    ? controller.signal
    : AbortSignal.any([controller.signal, s.signal]);
  // A cancelled guess confirmed later starts again once the cancelled transfer has let go of
  // the partial file (it resumes from what it wrote).
  const promise = (cancelled?.promise ?? Promise.resolve()).then(() =>
    s.store.obtain(s.fetcher, {
      url: file.url,
      ...(sha256 !== undefined ? { sha256 } : {}),
      ...(file.size !== undefined ? { size: file.size } : {}),
      filename: file.filename,
      project: name,
      headers: client.authHeaders(file.url),
      ...(file.origin !== undefined && !file.origin.startsWith("the cache")
        ? { origin: file.origin }
        : {}),
      ...(file.requiresPython !== undefined
        ? { requiresPython: file.requiresPython.toString() }
        : {}),
    }, { signal })
  )
    // Delivery reports the error if the file is still wanted: its retries are spent already.
    .catch((e: unknown) => {
      early.error = e;
      return undefined;
    });
  const early: EarlyDownload = { promise, controller };
  return early;
}

/** Cancels the early downloads of files the call no longer wants (versions it backtracked from). */
export function abandonEarly(s: Session, wanted: ReadonlySet<string>): void {
  for (const [url, { controller }] of s.early) {
    if (!wanted.has(url)) controller.abort(new Error("no longer needed"));
  }
}

/** Cancels early downloads the call no longer wants and waits for all of them to end. */
export async function settleEarly(s: Session, wanted: ReadonlySet<string>): Promise<void> {
  abandonEarly(s, wanted);
  await Promise.all([...s.early.values()].map((e) => e.promise));
}
