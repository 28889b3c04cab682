// Delivery: wanted files into the cache (concurrently, resumed, verified, some already started
// while the resolver worked), then into the destination folder with its side files and report.
// Shared by requirement and lock-file downloads.
import { dirname, join, resolve } from "node:path";
import { match } from "ts-pattern";
import { WheelhouseStore } from "../cache/wheelhouse_store.ts";
import { UvCacheReader } from "../cache/unstable_uv_cache_store.ts";
import type { SimpleIndexClient } from "../index/simple_index_client.ts";
import { FetchError } from "../fetcher/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import type { Target } from "../pep/tags.ts";
import type { ResolveEvent } from "../resolver/types.ts";
import { InputError, ReportedFailure } from "./_errors.ts";
import type { WantedFile } from "./_lock_plan.ts";
import {
  type DoneFile,
  isGenerated,
  isSideFileName,
  pylockText,
  reportJson,
  requirementsText,
  samePins,
  type TargetPins,
  targetSlug,
} from "./_outputs.ts";
import { formatBytes, formatDuration, plural } from "./_format.ts";
import { TerminalProgress } from "./_progress.ts";
import type { Session } from "./download.ts";
import { writeTextAtomic } from "./_fs.ts";

/** Starts the download of a file the resolver has just decided on, once per URL. */
export function startEarly(s: Session, e: ResolveEvent, client: SimpleIndexClient): void {
  if (e.kind !== "decided" || e.file === undefined || s.early.has(e.file.url)) return;
  const file = e.file;
  const sha = file.hashes["sha256"]?.toLowerCase();
  // Already in the destination (checked by deliver() like every other file): nothing to fetch.
  if (sha !== undefined && s.present.get(file.filename)?.sha256 === sha) return;
  const controller = new AbortController();
  // Ctrl-C cancels early downloads too.
  const signal = s.io.signal === undefined
    ? controller.signal
    : AbortSignal.any([controller.signal, s.io.signal]);
  const sha256 = file.hashes["sha256"]?.toLowerCase();
  const promise = s.store.obtain(s.fetcher, {
    url: file.url,
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(file.size !== undefined ? { size: file.size } : {}),
    filename: file.filename,
    project: e.name,
    headers: client.authHeaders(file.url),
  }, { signal })
    // deliver() fetches again and reports the error if it still matters.
    .catch(() => undefined);
  s.early.set(file.url, { promise, controller });
}

/** Cancels the early downloads of files the run no longer wants (versions it backtracked from). */
export function abandonEarly(s: Session, wanted: ReadonlySet<string>): void {
  for (const [url, { controller }] of s.early) {
    if (!wanted.has(url)) controller.abort(new Error("no longer needed"));
  }
}

/** Cancels early downloads the run no longer wants and waits for all of them to end. */
export async function settleEarly(s: Session, wanted: ReadonlySet<string>): Promise<void> {
  abandonEarly(s, wanted);
  await Promise.all([...s.early.values()].map((e) => e.promise));
}

/**
 * Brings wanted files into the cache (concurrently, resuming, verifying), then links them into
 * the wheelhouse and writes the side files. Shared by requirement and lock-file downloads.
 */
export async function deliver(
  s: Session,
  targets: readonly Target[],
  pins: TargetPins,
  wanted: WantedFile[],
  headersFor: (url: string) => Record<string, string>,
  findMirror: (f: WantedFile) => Promise<string | undefined>,
): Promise<number> {
  const { options, io, ui, store, fetcher } = s;
  const dest = s.dest;
  const wheelhouse = new WheelhouseStore(dest);
  // What is already here: the cache by hash, the destination by manifest.
  const cachedPaths = new Map<string, string>();
  for (const f of wanted) {
    if (f.sha256 !== undefined) {
      match(await store.get(f.sha256, { verify: "changed" }))
        .with({ kind: "hit" }, (hit) => void cachedPaths.set(f.url, hit.path))
        // A corrupt entry is fetched again; obtain() replaces it.
        .with({ kind: "miss" }, () => undefined)
        .exhaustive();
    }
  }
  const present = await wheelhouse.scan();
  const inDest = (f: WantedFile): boolean =>
    f.sha256 !== undefined && present.get(f.filename)?.sha256 === f.sha256;
  let remote = wanted.filter((f) => !inDest(f) && (s.early.has(f.url) || !cachedPaths.has(f.url)));
  if (options.uvCacheDir !== undefined && remote.length > 0) {
    remote = await fromUvCache(s, remote, cachedPaths);
  }
  if (options.dryRun) {
    const lines = wanted.map((f) => {
      const where = inDest(f) ? "present" : cachedPaths.has(f.url) ? "cached" : "fetch";
      const size = f.size === undefined ? "" : ` (${formatBytes(f.size)})`;
      return `  ${where.padEnd(7)} ${f.filename}${size}  [${f.targets.join(", ")}]`;
    });
    // The plan is for people; with --report - stdout carries the JSON alone.
    const plan = `Would download ${remote.length} of ${
      plural(wanted.length, "file")
    } into ${dest}:\n${lines.join("\n")}\n`;
    if (options.quiet === 0) (options.report === "-" ? io.stderr : io.stdout).write(plan);
    await writeReport(
      s,
      targets,
      wanted.map((f) => ({
        project: f.project,
        version: f.version,
        filename: f.filename,
        url: redactUrl(f.url),
        targets: f.targets,
        ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
        ...(f.size !== undefined ? { size: f.size } : {}),
      })),
    );
    return 0;
  }
  if (options.offline && remote.length > 0) {
    const lines = remote.map((f) => `${f.project} ${f.version}: ${f.filename}`);
    throw new ReportedFailure(
      `Offline, and the cache lacks ${remote.length} file${remote.length === 1 ? "" : "s"}:\n  ${
        lines.join("\n  ")
      }\nhint: run once without --offline to fill the cache.`,
    );
  }
  const t0 = io.now();
  const totalBytes = remote.reduce((n, f) => n + (f.size ?? 0), 0);
  const terminal = s.ui.progress
    ? new TerminalProgress(io.stderr, { files: remote.length, bytes: totalBytes }, io.now)
    : undefined;
  // -v lines are set up when the run starts (downloads begin during resolution); a terminal's
  // bars need the totals, known only now.
  const lines = s.reporterSlot.current;
  if (terminal !== undefined) s.reporterSlot.current = terminal;
  let fetchedBytes = 0;
  let fetchedFiles = 0;
  const failures: string[] = [];
  try {
    await Promise.all(remote.map(async (f) => {
      const obtain = (url: string) =>
        store.obtain(fetcher, {
          url,
          ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
          ...(f.size !== undefined ? { size: f.size } : {}),
          filename: f.filename,
          project: f.project,
          headers: headersFor(url),
        }, io.signal !== undefined ? { signal: io.signal } : {});
      try {
        let got = await s.early.get(f.url)?.promise;
        io.signal?.throwIfAborted();
        try {
          got ??= await obtain(f.url);
        } catch (e) {
          const alt = e instanceof FetchError && e.code !== "hash-mismatch"
            ? await findMirror(f)
            : undefined;
          if (alt === undefined || alt === f.url) throw e;
          ui.verbose(`${f.filename}: ${(e as Error).message}; using the mirror`);
          got = await obtain(alt);
        }
        f.sha256 = got.sha256;
        cachedPaths.set(f.url, got.path);
        if (got.fetched) {
          fetchedBytes += got.size;
          fetchedFiles++;
        }
      } catch (e) {
        if (io.signal?.aborted) throw e;
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }));
  } finally {
    terminal?.finish();
    s.reporterSlot.current = lines;
  }
  if (failures.length > 0) {
    throw new ReportedFailure(
      `${failures.length} of ${remote.length} downloads failed:\n  ${failures.join("\n  ")}`,
    );
  }
  const fetchMs = io.now() - t0;
  const report = await wheelhouse.sync(
    wanted.map((f) => ({
      filename: f.filename,
      sha256: f.sha256!,
      url: f.url,
      project: f.project,
      targets: f.targets,
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython } : {}),
    })),
    { cache: store, simple: options.simpleIndex },
  );
  const sizes = new Map(report.manifest.files.map((m) => [m.filename, m.size]));
  const done: DoneFile[] = wanted.map((f) => ({
    project: f.project,
    version: f.version,
    filename: f.filename,
    url: redactUrl(f.url),
    sha256: f.sha256!,
    size: sizes.get(f.filename) ?? f.size ?? 0,
    targets: f.targets,
  }));
  await writeSideFiles(wheelhouse, sideFiles(targets, pins, done));
  await writeReport(s, targets, done);
  const fromCache = wanted.length - fetchedFiles;
  s.summary.push(
    `Downloaded ${plural(fetchedFiles, "file")} (${formatBytes(fetchedBytes)}) in ${
      formatDuration(fetchMs)
    }`,
    `${fromCache} from cache`,
  );
  ui.info(s.summary.join(" · "));
  ui.verbose(`${wanted.length} files in ${dest}`);
  return 0;
}

/**
 * Experimental: takes wheels that a uv cache holds instead of downloading them. uv keeps wheels
 * unpacked, so the file is rebuilt and is not byte-identical to the index's: never used where
 * hashes are required (--require-hashes, --hash, lock files), and always said.
 */
async function fromUvCache(
  s: Session,
  remote: WantedFile[],
  cachedPaths: Map<string, string>,
): Promise<WantedFile[]> {
  const reader = new UvCacheReader(resolve(s.io.cwd, s.options.uvCacheDir!));
  const left: WantedFile[] = [];
  for (const f of remote) {
    const found = f.filename.endsWith(".whl")
      ? await reader.find(f.filename, { requireHashes: s.hashesRequired })
      : { kind: "absent" as const };
    if (found.kind !== "found") {
      if (found.kind === "unusable") {
        s.ui.verbose(`${f.filename} is in the uv cache, but hashes are required: downloading it`);
      }
      left.push(f);
      continue;
    }
    const temp = join(s.store.partialDir, `uv-${crypto.randomUUID()}.whl`);
    await Deno.mkdir(s.store.partialDir, { recursive: true });
    const rebuilt = await reader.rebuildWheel(found.entry, temp);
    const info = await s.store.put({ path: temp, move: true }, {
      filename: f.filename,
      project: f.project,
    });
    f.sha256 = info.sha256;
    cachedPaths.set(f.url, s.store.pathOf(info.sha256));
    s.ui.info(`note: ${rebuilt.note}`);
  }
  return left;
}

/** The side files a run writes: name -> text. */
function sideFiles(
  targets: readonly Target[],
  pins: TargetPins,
  done: readonly DoneFile[],
): Map<string, string> {
  const out = new Map<string, string>();
  // --all-platforms: every file of the lock; no single install set to pin.
  if (targets.length === 0) return out;
  if (samePins(pins)) {
    out.set(
      "requirements.txt",
      requirementsText(
        pins.values().next().value!,
        done,
        targets.map((t) => t.name).join(", "),
        "requirements.txt",
      ),
    );
  } else {
    for (const [target, map] of pins) {
      const name = `requirements-${targetSlug(target)}.txt`;
      out.set(name, requirementsText(map, done, target, name));
    }
  }
  out.set("pylock.toml", pylockText(targets, pins, done));
  return out;
}

/**
 * Writes the side files, and removes those an earlier run generated that this run does not
 * (e.g. a single-target requirements.txt after a multi-target run), so none go stale. Files the
 * user wrote are never touched: {@linkcode checkDestination} refused them up front.
 */
async function writeSideFiles(
  wheelhouse: WheelhouseStore,
  files: Map<string, string>,
): Promise<void> {
  const dest = wheelhouse.dir;
  for (const [name, text] of files) await wheelhouse.writeFile(name, text);
  for await (const entry of Deno.readDir(dest)) {
    if (!entry.isFile || !isSideFileName(entry.name) || files.has(entry.name)) continue;
    const path = join(dest, entry.name);
    const text = await Deno.readTextFile(path).catch(() => "");
    if (isGenerated(text)) await Deno.remove(path).catch(() => {});
  }
}

/**
 * Checks the destination before any work: it must be a folder (or not exist yet), writable, and
 * hold no side file that wheelhouse did not write — a user's requirements.txt or the very lock
 * being read must never be overwritten. The --report path's folder must exist.
 *
 * @throws {InputError} naming the problem.
 */
export async function checkDestination(s: Session, inputs: readonly string[]): Promise<void> {
  const dest = s.dest;
  const st = await Deno.stat(dest).catch(() => undefined);
  if (st !== undefined && !st.isDirectory) {
    throw new InputError(`The destination "${s.options.dest}" exists and is not a folder`);
  }
  const inputSet = new Set(inputs.map((p) => resolve(s.io.cwd, p)));
  if (st !== undefined) {
    for await (const entry of Deno.readDir(dest)) {
      if (!entry.isFile || !isSideFileName(entry.name)) continue;
      const path = join(dest, entry.name);
      const text = await Deno.readTextFile(path).catch(() => "");
      if (inputSet.has(path) || !isGenerated(text)) {
        throw new InputError(
          `Refusing to overwrite ${path}: ${
            inputSet.has(path) ? "it is one of this run's inputs" : "wheelhouse did not write it"
          }; choose another --dest`,
        );
      }
    }
  }
  if (s.options.report !== undefined && s.options.report !== "-") {
    const folder = dirname(resolve(s.io.cwd, s.options.report));
    const f = await Deno.stat(folder).catch(() => undefined);
    if (!f?.isDirectory) {
      throw new InputError(`--report ${s.options.report}: the folder ${folder} does not exist`);
    }
  }
  if (s.options.dryRun) return;
  // Fail now, not after minutes of downloading, when the folder cannot be written.
  try {
    await Deno.mkdir(dest, { recursive: true });
    const probe = join(dest, `.wheelhouse-probe-${crypto.randomUUID().slice(0, 8)}`);
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (e) {
    throw new InputError(
      `Cannot write to the destination "${s.options.dest}": ${
        e instanceof Deno.errors.PermissionDenied ? "permission denied" : String(e)
      }`,
    );
  }
}

export async function writeReport(
  s: Session,
  targets: readonly Target[],
  files: Parameters<typeof reportJson>[1],
): Promise<void> {
  if (s.options.report === undefined) return;
  const text = reportJson(targets, files);
  if (s.options.report === "-") s.io.stdout.write(text);
  else await writeTextAtomic(resolve(s.io.cwd, s.options.report), text);
}
