// Early downloads: a file the resolver has decided on starts downloading at once, so transfers
// overlap resolution; versions the resolver backtracks from are cancelled.
import type { IndexClient } from "../index/types.ts";
import type { ResolveEvent } from "../resolver/types.ts";
import type { EarlyDownload, Session } from "./_session.ts";

/** Starts the download of a file the resolver has just decided on, once per URL. */
export function startEarly(s: Session, e: ResolveEvent, client: IndexClient): void {
  if (e.kind !== "decided" || e.file === undefined || s.early.has(e.file.url)) return;
  const file = e.file;
  const sha256 = file.hashes["sha256"]?.toLowerCase();
  // Already in the destination (checked by delivery like every other file): nothing to fetch.
  if (sha256 !== undefined && s.present.get(file.filename)?.sha256 === sha256) return;
  const controller = new AbortController();
  // Cancelling the call cancels early downloads too.
  const signal = s.signal === undefined
    ? controller.signal
    : AbortSignal.any([controller.signal, s.signal]);
  const promise = s.store.obtain(s.fetcher, {
    url: file.url,
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(file.size !== undefined ? { size: file.size } : {}),
    filename: file.filename,
    project: e.name,
    headers: client.authHeaders(file.url),
    ...(file.origin !== undefined && !file.origin.startsWith("the cache")
      ? { origin: file.origin }
      : {}),
    ...(file.requiresPython !== undefined
      ? { requiresPython: file.requiresPython.toString() }
      : {}),
  }, { signal })
    // Delivery reports the error if the file is still wanted: its retries are spent already.
    .catch((e: unknown) => {
      early.error = e;
      return undefined;
    });
  const early: EarlyDownload = { promise, controller };
  s.early.set(file.url, early);
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
