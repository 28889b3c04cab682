// Delivery: where each planned file is (the folder, the cache, a uv cache, or to fetch), then the
// transfers (concurrent, resumed, verified; some already started while the resolver worked), then
// the folder with its manifest and side files.
import * as fsp from "node:fs/promises";
import { join, resolve } from "node:path";
import { match } from "ts-pattern";
import { type PresentFile, WheelhouseStore } from "../cache/wheelhouse_store.ts";
import { UvCacheReader } from "../cache/unstable_uv_cache_store.ts";
import { FetchError } from "../fetcher/types.ts";
import { readWheelMetadata } from "../index/read_wheel_metadata.ts";
import { redactUrl } from "../fetcher/redact.ts";
import type { PlannedFile } from "../lock/types.ts";
import type { Target } from "../pep/tags.ts";
import { type DeliveredFile, DownloadError, type DownloadResult, type PlanEntry } from "./types.ts";
import {
  installSets,
  isGenerated,
  isSideFileName,
  pinLines,
  pylockText,
  readmeText,
  requirementsText,
  samePins,
  type TargetLines,
  targetSlug,
  universalPylockText,
  universalRequirementsText,
} from "./_outputs.ts";
import type { Planned, Session, UniversalPin } from "./_session.ts";
import { OFFLINE_HINT } from "./_offline.ts";
import { factsOf } from "./_report_facts.ts";

/** A wheel's `.dist-info/METADATA`, read from its central directory (a few small reads). */
async function wheelMetadataOf(
  path: string,
  entry: { filename: string; project: string; size: number },
): Promise<Uint8Array | undefined> {
  const handle = await fsp.open(path, "r");
  try {
    return await readWheelMetadata(
      {
        size: entry.size,
        async read(start: number, end: number): Promise<Uint8Array> {
          const out = new Uint8Array(Math.max(0, Math.min(end, entry.size) - start));
          let filled = 0;
          while (filled < out.length) {
            const { bytesRead } = await handle.read(
              out,
              filled,
              out.length - filled,
              start + filled,
            );
            if (bytesRead === 0) throw new Error(`${entry.filename} is shorter than listed`);
            filled += bytesRead;
          }
          return out;
        },
      },
      entry.project,
      16 * 1024 * 1024,
    );
  } finally {
    await handle.close();
  }
}

/** Where the planned files are before any transfer. */
export interface Located {
  entries: PlanEntry[];
  /** Cache paths by URL, of files the cache holds. */
  cachedPaths: Map<string, string>;
  /** What the destination holds, by file name. */
  present: ReadonlyMap<string, PresentFile>;
  /** The files to transfer. */
  remote: PlannedFile[];
}

/**
 * Looks up every planned file in the destination and the cache (and, with a uv cache, takes
 * what it holds into the cache).
 */
export async function locate(s: Session, planned: Planned): Promise<Located> {
  const cachedPaths = new Map<string, string>();
  // Sizes of cached files by URL: a plan states them even where the index did not.
  const cachedSizes = new Map<string, number>();
  // Scanned first: a damaged file in the folder is usually a hard link to a damaged cache entry,
  // and the cache lookup below removes that entry, so both are repaired (fetched, linked again).
  const wheelhouse = new WheelhouseStore(s.dest);
  const manifest = new Map(
    (await wheelhouse.readManifest())?.files.map((m) => [m.filename, m.sha256]) ?? [],
  );
  const present = await wheelhouse.scan({ cache: s.store });
  // Looked up together (one by one, each lookup waited for its turn behind the transfers' work
  // on the event loop: 40 of them took 200-350 ms of a cold run), then reported in order.
  // A file an early download is bringing needs none: that download looks in the cache itself,
  // and delivery waits for it.
  const lookups = await inTurns(planned.files, 16, async (f) => {
    // Offline, a direct URL given without a hash is found in the cache by the URL it came from.
    if (f.sha256 === undefined && (s.options.offline ?? false) && !f.url.startsWith("file:")) {
      const url = redactUrl(f.url);
      const held = (await s.store.catalogue(f.project)).files.find((c) =>
        c.url === url && c.filename === f.filename
      );
      if (held !== undefined) f.sha256 = held.sha256;
    }
    if (f.sha256 === undefined || s.early.has(f.url)) return undefined;
    // A file the folder holds with the right hash needs no cache entry (it stays as it is; a
    // hard link of an entry is that entry, checked by the scan): a run with nothing to do
    // looked every file up for nothing.
    if (present.get(f.filename)?.sha256 === f.sha256) return undefined;
    return await s.store.get(f.sha256, { verify: "changed" });
  });
  for (const [i, f] of planned.files.entries()) {
    const lookup = lookups[i];
    if (lookup !== undefined) {
      match(lookup)
        .with({ kind: "hit" }, (hit) => {
          cachedPaths.set(f.url, hit.path);
          cachedSizes.set(f.url, hit.info.size);
        })
        .with({ kind: "miss", reason: "corrupt" }, () =>
          s.emit({
            kind: "warning",
            message: `${f.filename}: the cached copy was damaged (its sha256 is not ${f.sha256}); ${
              s.options.offline ? "it is gone from the cache" : "fetching it again"
            }`,
          }))
        .with({ kind: "miss" }, () => undefined)
        .exhaustive();
    }
    // Damage: the bytes differ from what this folder's manifest recorded when they were written.
    const here = present.get(f.filename)?.sha256;
    const recorded = manifest.get(f.filename);
    if (here !== undefined && recorded !== undefined && here !== recorded) {
      s.emit({
        kind: "warning",
        message:
          `${f.filename} in ${s.dest} was damaged (sha256 ${here}, expected ${recorded}); replacing it`,
      });
    }
  }
  const inDest = (f: PlannedFile): boolean =>
    f.sha256 !== undefined && present.get(f.filename)?.sha256 === f.sha256;
  let remote = planned.files.filter((f) =>
    !inDest(f) && (s.early.has(f.url) || !cachedPaths.has(f.url))
  );
  if (s.options.uvCacheDir !== undefined && remote.length > 0) {
    remote = await fromUvCache(s, remote, cachedPaths);
  }
  const entries = planned.files.map((f): PlanEntry => ({
    ...f,
    size: f.size ?? (inDest(f) ? present.get(f.filename)?.size : cachedSizes.get(f.url)),
    source: inDest(f) ? "present" : cachedPaths.has(f.url) ? "cached" : "fetch",
  }));
  return { entries, cachedPaths, present, remote };
}

/**
 * Brings the remote files into the cache (concurrently, resuming, verifying), then links every
 * planned file into the wheelhouse and writes the side files.
 *
 * @throws {DownloadError} ("offline-miss") when an offline call lacks files, ("download-failed")
 * when transfers fail.
 */
export async function deliver(
  s: Session,
  planned: Planned,
  located: Located,
): Promise<DownloadResult> {
  const { store, fetcher } = s;
  const { remote, cachedPaths, present } = located;
  const wanted = planned.files;
  // Local files (find-links folders, paths, file: URLs) need no network: offline reads them.
  const unreachable = (s.options.offline ?? false)
    ? remote.filter((f) => !f.url.startsWith("file:"))
    : [];
  if (unreachable.length > 0) {
    const lines = unreachable.map((f) =>
      `${f.project} ${f.version}: ${f.filename} (${redactUrl(f.url)})`
    );
    throw new DownloadError(
      "offline-miss",
      `Offline, and the cache lacks ${unreachable.length} file${
        unreachable.length === 1 ? "" : "s"
      }:\n  ${lines.join("\n  ")}\n${OFFLINE_HINT}`,
    );
  }
  const t0 = s.now();
  s.emit({
    kind: "transfers-started",
    files: remote.length,
    bytes: remote.reduce((n, f) => n + (f.size ?? 0), 0),
  });
  const fetched = new Set<string>();
  let fetchedBytes = 0;
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
          headers: planned.headersFor(url),
          ...(f.origin !== undefined && !f.origin.startsWith("the cache")
            ? { origin: f.origin }
            : {}),
          ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython } : {}),
        }, s.signal !== undefined ? { signal: s.signal } : {});
      try {
        const early = s.early.get(f.url);
        let got = await early?.promise;
        s.signal?.throwIfAborted();
        // `--retries N` means N per request in all: a failed early download is not tried again.
        if (got === undefined && early?.error !== undefined && !early.controller.signal.aborted) {
          throw early.error;
        }
        try {
          got ??= await obtain(f.url);
        } catch (e) {
          const alt = e instanceof FetchError && e.code !== "hash-mismatch"
            ? await planned.findMirror(f)
            : undefined;
          if (alt === undefined || alt === f.url) throw e;
          s.emit({
            kind: "detail",
            message: `${f.filename}: ${(e as Error).message}; using the mirror`,
          });
          got = await obtain(alt);
        }
        if (got.repaired) {
          s.emit({
            kind: "warning",
            message: `${f.filename}: the cached copy was damaged; fetched it again`,
          });
        }
        f.sha256 = got.sha256;
        cachedPaths.set(f.url, got.path);
        if (got.fetched) {
          fetchedBytes += got.size;
          fetched.add(f.url);
        }
      } catch (e) {
        if (s.signal?.aborted) throw e;
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }));
  } finally {
    s.emit({ kind: "transfers-finished" });
  }
  if (failures.length > 0) {
    throw new DownloadError(
      "download-failed",
      `${failures.length} of ${remote.length} downloads failed:\n  ${failures.join("\n  ")}`,
    );
  }
  const fetchMs = s.now() - t0;
  const wheelhouse = new WheelhouseStore(s.dest);
  const report = await wheelhouse.sync(
    wanted.map((f) => ({
      filename: f.filename,
      sha256: f.sha256!,
      url: f.url,
      project: f.project,
      targets: f.targets,
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython } : {}),
      ...(f.buildDependencyOf !== undefined ? { buildDependencyOf: f.buildDependencyOf } : {}),
    })),
    {
      cache: store,
      simple: s.options.simpleIndex ?? false,
      coreMetadata: wheelMetadataOf,
      present,
      prune: s.options.prune ?? false,
    },
  );
  const sizes = new Map(report.manifest.files.map((m) => [m.filename, m.size]));
  const files: DeliveredFile[] = wanted.map((f) => ({
    project: f.project,
    version: f.version,
    filename: f.filename,
    url: redactUrl(f.url),
    sha256: f.sha256!,
    size: sizes.get(f.filename) ?? f.size ?? 0,
    targets: f.targets,
    fetched: fetched.has(f.url),
    from: fetched.has(f.url)
      ? "transfer"
      : present.get(f.filename)?.sha256 === f.sha256
      ? "folder"
      : "cache",
    ...factsOf(f),
    ...(f.vcs !== undefined ? { vcs: f.vcs } : {}),
  }));
  const lines = pinLines(planned.pins, planned.lines);
  const side = sideFiles(
    planned.targets,
    lines,
    files,
    planned.universal,
    planned.environments,
  );
  await writeSideFiles(wheelhouse, side);
  return {
    dest: s.dest,
    targets: planned.targets,
    files,
    pins: planned.pins,
    packages: planned.packages,
    resolveMs: planned.resolveMs,
    fetchedFiles: fetched.size,
    fetchedBytes,
    fetchMs,
    installSets: planned.targets.length === 0
      ? (planned.universal !== undefined && planned.universal.length > 0
        ? [{ targets: ["every platform"], requirements: "requirements.txt" }]
        : [])
      : installSets(lines),
    unwanted: report.unwanted,
    removed: report.removed,
    transferredBytes: s.transfers.bytes,
    transferMs: s.transfers.firstStart === undefined
      ? 0
      : (s.transfers.lastEnd ?? s.now()) - s.transfers.firstStart,
    sideFiles: [...side.keys()],
    ...(s.options.lock !== undefined ? { lock: s.options.lock } : {}),
  };
}

/**
 * Experimental: takes wheels that a uv cache holds instead of downloading them. uv keeps wheels
 * unpacked, so the file is rebuilt and is not byte-identical to the index's: never used where
 * hashes are required (hash-checking mode, lock files), and always said.
 */
async function fromUvCache(
  s: Session,
  remote: PlannedFile[],
  cachedPaths: Map<string, string>,
): Promise<PlannedFile[]> {
  const reader = new UvCacheReader(resolve(s.cwd, s.options.uvCacheDir!));
  const left: PlannedFile[] = [];
  for (const f of remote) {
    const found = f.filename.endsWith(".whl")
      ? await reader.find(f.filename, { requireHashes: s.hashesRequired })
      : { kind: "absent" as const };
    if (found.kind !== "found") {
      if (found.kind === "unusable") {
        s.emit({
          kind: "detail",
          message: `${f.filename} is in the uv cache, but hashes are required: downloading it`,
        });
      }
      left.push(f);
      continue;
    }
    const temp = join(s.store.partialDir, `uv-${crypto.randomUUID()}.whl`);
    await fsp.mkdir(s.store.partialDir, { recursive: true });
    const rebuilt = await reader.rebuildWheel(found.entry, temp);
    const info = await s.store.put({ path: temp, move: true }, {
      filename: f.filename,
      project: f.project,
    });
    f.sha256 = info.sha256;
    cachedPaths.set(f.url, s.store.pathOf(info.sha256));
    s.emit({ kind: "note", message: rebuilt.note });
  }
  return left;
}

/** The side files a call writes: name -> text. */
function sideFiles(
  targets: readonly Target[],
  pins: TargetLines,
  done: readonly DeliveredFile[],
  universal?: readonly UniversalPin[],
  environments: readonly string[] = [],
): Map<string, string> {
  const out = new Map<string, string>();
  // All platforms of a lock: with the environments of each package known (uv.lock), one
  // requirements.txt and pylock.toml whose markers choose per machine; else none to pin.
  if (targets.length === 0) {
    if (universal !== undefined && universal.length > 0) {
      out.set("requirements.txt", universalRequirementsText(universal, done, environments));
      out.set("pylock.toml", universalPylockText(universal, done, environments));
    }
    out.set(
      "README.txt",
      readmeText(targets, pins, done, universal !== undefined, environments),
    );
    return out;
  }
  if (samePins(pins)) {
    out.set(
      "requirements.txt",
      requirementsText(
        pins.values().next().value ?? [],
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
  out.set("README.txt", readmeText(targets, pins, done));
  return out;
}

/**
 * Writes the side files, and removes those an earlier call generated that this one does not
 * (e.g. a single-target requirements.txt after a multi-target run), so none go stale. Files the
 * user wrote are never touched: {@linkcode checkDestination} refused them up front.
 */
async function writeSideFiles(
  wheelhouse: WheelhouseStore,
  files: Map<string, string>,
): Promise<void> {
  const dest = wheelhouse.dir;
  for (const [name, text] of files) await wheelhouse.writeFile(name, text);
  for (const entry of await fsp.readdir(dest, { withFileTypes: true })) {
    if (!entry.isFile() || !isSideFileName(entry.name) || files.has(entry.name)) continue;
    const path = join(dest, entry.name);
    const text = await fsp.readFile(path, "utf8").catch(() => "");
    if (isGenerated(text)) await fsp.rm(path, { force: true }).catch(() => {});
  }
}

function errorCode(e: unknown): unknown {
  return typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
}

/**
 * Checks the destination before any work: it must be a folder (or not exist yet), writable, and
 * hold no side file that wheelhouse did not write — a user's requirements.txt or the very lock
 * being read must never be overwritten.
 *
 * @param write Whether the call will write (a plan only reads).
 * @throws {DownloadError} ("unusable-destination") naming the problem.
 */
export async function checkDestination(s: Session, write: boolean): Promise<void> {
  const o = s.options;
  const inputs = [
    ...(o.requirementFiles ?? []),
    ...(o.constraintFiles ?? []),
    ...(o.lock !== undefined ? [o.lock] : []),
  ];
  const dest = s.dest;
  const st = await fsp.stat(dest).catch(() => undefined);
  if (st !== undefined && !st.isDirectory()) {
    throw new DownloadError(
      "unusable-destination",
      `The destination "${o.dest}" exists and is not a folder`,
    );
  }
  const inputSet = new Set(inputs.map((p) => resolve(s.cwd, p)));
  if (st !== undefined) {
    for (const entry of await fsp.readdir(dest, { withFileTypes: true })) {
      if (!entry.isFile() || !isSideFileName(entry.name)) continue;
      const path = join(dest, entry.name);
      const text = await fsp.readFile(path, "utf8").catch(() => "");
      if (inputSet.has(path) || !isGenerated(text)) {
        throw new DownloadError(
          "unusable-destination",
          `Refusing to overwrite ${path}: ${
            inputSet.has(path) ? "it is one of this run's inputs" : "wheelhouse did not write it"
          }; choose another --dest`,
        );
      }
    }
  }
  const foreign = await new WheelhouseStore(dest).foreignFiles({
    simple: o.simpleIndex ?? false,
  });
  if (foreign.length > 0) {
    throw new DownloadError(
      "unusable-destination",
      `Refusing to overwrite ${
        foreign.map((f) => join(dest, f)).join(", ")
      }: wheelhouse did not write ${foreign.length === 1 ? "it" : "them"}; choose another --dest`,
    );
  }
  if (!write) return;
  // Fail now, not after minutes of downloading, when the folder cannot be written.
  const probe = join(dest, `.wheelhouse-probe-${crypto.randomUUID().slice(0, 8)}`);
  try {
    await fsp.mkdir(dest, { recursive: true });
    // One byte, so a full disk shows now rather than after the downloads.
    await fsp.writeFile(probe, "x");
  } catch (e) {
    await fsp.rm(probe, { force: true }).catch(() => {});
    const code = errorCode(e);
    throw new DownloadError(
      "unusable-destination",
      `Cannot write to the destination "${o.dest}": ${
        code === "EACCES" || code === "EPERM" || code === "EROFS"
          ? "permission denied"
          : code === "ENOSPC"
          ? "the disk is full"
          : String(e)
      }`,
    );
  }
  await fsp.rm(probe, { force: true });
}

/** `task` of every item, at most `limit` at once; the results in the items' order. */
async function inTurns<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
