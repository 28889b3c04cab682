// Planning from a lock file: the files a pylock.toml or uv.lock lists, per target or for all
// platforms, with mirrors (an index URL, find-links) for air-gapped networks. No resolution runs.
import { resolve } from "node:path";
import type { DistFile } from "../index/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { WheelhouseStore } from "../cache/wheelhouse_store.ts";
import { parsePylock } from "../pep/pylock.ts";
import { parseUvLock } from "../pep/uv_lock.ts";
import { lockKindOf, planPylock, planUvLock } from "../lock/plan.ts";
import type { LockPlan, PlannedFile } from "../lock/types.ts";
import { DownloadError } from "./types.ts";
import { absoluteLink, readTextOrFail } from "./_inputs.ts";
import { indexClientOf, type Planned, type Session, targetsOf } from "./_session.ts";
import { builderOf } from "./_build.ts";
import { uvLockMarkers } from "../lock/uv_lock_markers.ts";
import type { UniversalPin } from "./_session.ts";
import { normalizeName } from "../pep/name.ts";
import { parseDistFilename } from "../pep/filename.ts";
import { pathToFileURL } from "node:url";

/**
 * Plans a lock-file download: the files the lock lists for each target (or all of them).
 *
 * @throws {DownloadError} / {LockError} / lock parse errors for bad input; {DownloadError}
 * ("lock-unservable") when the lock has no file for a target or a mirror lacks a locked file.
 */
export async function planFromLock(s: Session): Promise<Planned> {
  const o = s.options;
  const t0 = s.now();
  // A lock's hashes are mandatory (PEP 751): nothing rebuilt or unverified may stand in.
  s.hashesRequired = true;
  const lockPath = resolve(s.cwd, o.lock!);
  const text = await readTextOrFail(s.readText)(lockPath);
  const targets = await targetsOf(s);
  const planOptions = {
    lockPath,
    targets,
    allPlatforms: o.allPlatforms ?? false,
    extras: o.allExtras ? "all" as const : o.extras ?? [],
    groups: o.groups !== undefined && o.groups.length > 0 ? o.groups : undefined,
    noDev: o.noDev ?? false,
  };
  const kind = lockKindOf(lockPath, text);
  let plan: LockPlan;
  let universal: UniversalPin[] | undefined;
  if (kind === "pylock") {
    plan = planPylock(parsePylock(text, { path: lockPath }), planOptions);
  } else if (kind === "uv") {
    const lock = parseUvLock(text, { path: lockPath });
    plan = planUvLock(lock, planOptions);
    // Every platform: which environments install each package, for the folder's requirements
    // and pylock.toml (a uv.lock says it through its edges' markers).
    if (planOptions.allPlatforms) {
      universal = [...uvLockMarkers(lock, planOptions)].flatMap(([p, where]) =>
        p.version === undefined
          ? []
          : [{ name: p.normalizedName, version: p.version, marker: where.toString() }]
      );
    }
  } else {
    throw new DownloadError(
      "invalid-input",
      `Cannot tell the kind of lock file "${o.lock}": expected pylock.toml, pylock.<name>.toml or uv.lock (or a file with lock-version = "1.0")`,
    );
  }
  for (const p of plan.ownProjects) {
    s.emit({ kind: "detail", message: `${p} is the locked project itself: nothing to download` });
  }
  // Git checkouts at their locked commit and local folders are built into sdists (unless the run
  // may not build); what cannot be built fails the run: an incomplete folder must not be green.
  const builder = (o.noBuild ?? false) ? undefined : builderOf(s, {
    indexUrl: o.indexUrl,
    extraIndexUrls: [...(o.extraIndexUrls ?? [])],
    findLinks: (o.findLinks ?? []).map((f) => absoluteLink(f, s.cwd)),
    noIndex: o.noIndex ?? false,
  });
  s.builder = builder;
  const unbuilt = [];
  for (const u of plan.undownloadable) {
    if (builder === undefined || u.buildable === undefined) {
      unbuilt.push(u);
      continue;
    }
    const b = u.buildable;
    const sdist = await builder.frontend.buildSdist(
      b.kind === "git"
        ? {
          kind: "git",
          url: b.url,
          rev: b.commit,
          ...(b.subdirectory !== undefined ? { subdirectory: b.subdirectory } : {}),
          name: u.project,
        }
        : { kind: "directory", path: b.path, name: u.project },
      s.signal !== undefined ? { signal: s.signal } : {},
    );
    const project = normalizeName(u.project);
    const origin = b.kind === "git" ? `git ${redactUrl(b.url)} at ${b.commit}` : `folder ${b.path}`;
    const entry = await s.store.put({ path: sdist.path }, {
      filename: sdist.filename,
      project,
      origin,
    });
    s.emit({ kind: "detail", message: `${sdist.filename}: built from ${origin}` });
    plan.files.push({
      project,
      version: u.version ?? parseDistFilename(sdist.filename, project).version.toString(),
      filename: sdist.filename,
      url: pathToFileURL(sdist.path).href,
      origin,
      sha256: entry.sha256,
      size: entry.size,
      targets: [...u.targets],
      ...(b.kind === "git"
        ? { vcs: { url: b.url, commitId: sdist.source.commit ?? b.commit } }
        : {}),
    });
  }
  if (unbuilt.length > 0) {
    const lines = unbuilt.map((u) => `${u.project}: ${u.reason}`);
    throw new DownloadError(
      "lock-unservable",
      `The lock names ${unbuilt.length} ${unbuilt.length === 1 ? "package" : "packages"} that ${
        unbuilt.length === 1 ? "is" : "are"
      } not a file to download and ${
        builder === undefined ? "--no-build forbids building" : "cannot be built here"
      }:\n  ${lines.join("\n  ")}`,
    );
  }
  if (plan.missing.length > 0) {
    const lines = plan.missing.map((m) =>
      `${m.project} ${m.version} has no file for ${m.target}${
        m.tags.length > 0 ? ` (the lock has: ${m.tags.join(", ")})` : " (the lock lists no wheels)"
      }`
    );
    throw new DownloadError(
      "lock-unservable",
      `The lock cannot serve every target:\n  ${lines.join("\n  ")}`,
    );
  }
  // PEP 751 requires hashes; we verify sha256, so a file without one cannot be trusted.
  const noHash = plan.files.filter((f) => f.sha256 === undefined);
  if (noHash.length > 0) {
    const lines = noHash.map((f) =>
      `${f.filename} (${f.project}${
        (f.hashAlgorithms ?? []).length > 0
          ? `: only ${f.hashAlgorithms!.join(", ")}`
          : ": no hashes"
      })`
    );
    throw new DownloadError(
      "invalid-input",
      `${lockPath}: ${noHash.length} file${
        noHash.length === 1 ? " has" : "s have"
      } no sha256 hash, which this download verifies:\n  ${lines.join("\n  ")}`,
    );
  }
  await checkSizes(s, plan.files);
  const pins = new Map<string, Map<string, string>>();
  for (const t of targets) pins.set(t.name, new Map());
  for (const f of plan.files) {
    // A version-less archive (a PEP 751 `archive` without `version`) cannot be pinned by name.
    if (f.version === "") continue;
    for (const t of f.targets) pins.get(t)?.set(f.project, f.version);
  }
  // Mirrors: with an index URL, find-links or no-index the same file (name and hash) may come
  // from there when the recorded URL cannot be used.
  const mirrorsGiven = o.indexUrl !== undefined || (o.findLinks ?? []).length > 0 ||
    (o.extraIndexUrls ?? []).length > 0 || (o.noIndex ?? false);
  const mirror = mirrorsGiven
    ? indexClientOf(s, {
      indexUrl: o.indexUrl,
      extraIndexUrls: [...(o.extraIndexUrls ?? [])],
      findLinks: (o.findLinks ?? []).map((f) => absoluteLink(f, s.cwd)),
      // Only the sources given are mirrors: with just find-links, PyPI is not asked.
      noIndex: (o.noIndex ?? false) ||
        (o.indexUrl === undefined && (o.extraIndexUrls ?? []).length === 0),
    })
    : undefined;
  const findMirror = async (f: PlannedFile): Promise<string | undefined> => {
    if (mirror === undefined) return undefined;
    let found;
    try {
      found = await mirror.projectFiles(f.project);
    } catch {
      // A mirror that fails is no mirror: the recorded URL's error is the one to report.
      return undefined;
    }
    if (found.kind !== "found") return undefined;
    const same = found.files.find((d: DistFile) =>
      d.filename === f.filename &&
      (d.hashes["sha256"] === undefined || d.hashes["sha256"].toLowerCase() === f.sha256)
    );
    return same?.url;
  };
  if (o.noIndex) {
    // Air-gapped: recorded remote URLs cannot be reached; take everything from the mirrors.
    for (const f of plan.files) {
      if (f.url.startsWith("file:")) continue;
      const url = await findMirror(f);
      if (url === undefined) {
        throw new DownloadError(
          "lock-unservable",
          `${f.filename} (${f.project} ${f.version}) is not on --find-links; with --no-index the lock's URL ${
            redactUrl(f.url)
          } is not used`,
        );
      }
      f.url = url;
    }
  }
  return {
    targets,
    files: plan.files,
    pins,
    packages: 0,
    resolveMs: s.now() - t0,
    headersFor: (url) => mirror?.authHeaders(url) ?? {},
    findMirror,
    ...(universal !== undefined ? { universal } : {}),
  };
}

/**
 * A locked `size` must be the size of the file with the locked hash. Downloads check it as they
 * go (the fetcher); files already in the cache or the destination are checked here, before
 * anything changes, so a wrong `size` never passes because the bytes were at hand.
 */
async function checkSizes(s: Session, files: readonly PlannedFile[]): Promise<void> {
  const present = await new WheelhouseStore(s.dest).scan({ cache: s.store });
  const problems: string[] = [];
  for (const f of files) {
    if (f.size === undefined || f.sha256 === undefined) continue;
    let actual: number | undefined;
    const here = present.get(f.filename);
    if (here?.sha256 === f.sha256) actual = here.size;
    else {
      const hit = await s.store.get(f.sha256);
      if (hit.kind === "hit") actual = hit.info.size;
    }
    if (actual !== undefined && actual !== f.size) {
      problems.push(
        `${f.filename}: the lock says ${f.size} bytes, the file with its sha256 has ${actual}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new DownloadError("size-mismatch", `Size check failed:\n  ${problems.join("\n  ")}`);
  }
}
