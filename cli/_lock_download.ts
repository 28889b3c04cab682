// `download --lock FILE`: the files a pylock.toml or uv.lock lists, per target or for all
// platforms, with mirrors (--index-url/--find-links) for air-gapped networks. No resolution runs.
import { resolve } from "node:path";
import type { SimpleIndexClient } from "../index/simple_index_client.ts";
import type { DistFile } from "../index/types.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { WheelhouseStore } from "../cache/wheelhouse_store.ts";
import { parsePylock } from "../pep/pylock.ts";
import { parseUvLock } from "../pep/uv_lock.ts";
import { type Inputs, readTextOrFail } from "./_inputs.ts";
import { InputError, ReportedFailure } from "./_errors.ts";
import {
  lockKindOf,
  type LockPlan,
  planPylock,
  planUvLock,
  type WantedFile,
} from "./_lock_plan.ts";
import type { TargetPins } from "./_outputs.ts";
import type { indexClientOf, readNetrc, Session, targetsOf } from "./download.ts";
import type { deliver } from "./_deliver.ts";
import { plural } from "./_format.ts";

/**
 * The pieces of the download command a lock-file download reuses (passed in rather than imported,
 * so the two modules do not import each other at run time).
 */
export interface LockDownloadParts {
  targetsOf: typeof targetsOf;
  indexClientOf: typeof indexClientOf;
  readNetrc: typeof readNetrc;
  deliver: typeof deliver;
}

/**
 * Runs a lock-file download.
 *
 * @returns The exit code.
 * @throws {InputError} / lock parse errors for bad input, {ReportedFailure} for failures.
 */
export async function fromLock(s: Session, parts: LockDownloadParts): Promise<number> {
  const { targetsOf, indexClientOf, readNetrc, deliver } = parts;
  const { options, io, ui } = s;
  // A lock's hashes are mandatory (PEP 751): nothing rebuilt or unverified may stand in.
  s.hashesRequired = true;
  const lockPath = resolve(io.cwd, options.lock!);
  const text = await readTextOrFail(s.deps.readText)(lockPath);
  const targets = await targetsOf(s);
  const planOptions = {
    lockPath,
    targets,
    allPlatforms: options.allPlatforms,
    extras: options.allExtras ? "all" as const : options.extras,
    groups: options.groups.length > 0 ? options.groups : undefined,
    noDev: options.noDev,
  };
  const kind = lockKindOf(lockPath, text);
  let plan: LockPlan;
  if (kind === "pylock") {
    plan = planPylock(parsePylock(text, { path: lockPath }), planOptions);
  } else if (kind === "uv") {
    plan = planUvLock(parseUvLock(text, { path: lockPath }), planOptions);
  } else {
    throw new InputError(
      `Cannot tell the kind of lock file "${options.lock}": expected pylock.toml, pylock.<name>.toml or uv.lock (or a file with lock-version = "1.0")`,
    );
  }
  for (const u of plan.undownloadable) {
    ui.info(`warning: ${u.project} is not downloadable: ${u.reason}`);
  }
  if (plan.missing.length > 0) {
    const lines = plan.missing.map((m) =>
      `${m.project} ${m.version} has no file for ${m.target}${
        m.tags.length > 0 ? ` (the lock has: ${m.tags.join(", ")})` : " (the lock lists no wheels)"
      }`
    );
    throw new ReportedFailure(`The lock cannot serve every target:\n  ${lines.join("\n  ")}`);
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
    throw new InputError(
      `${lockPath}: ${noHash.length} file${
        noHash.length === 1 ? " has" : "s have"
      } no sha256 hash, which this download verifies:\n  ${lines.join("\n  ")}`,
    );
  }
  await checkSizes(s, plan.files);
  const pins: TargetPins = new Map();
  for (const t of targets) pins.set(t.name, new Map());
  for (const f of plan.files) {
    // A version-less archive (a PEP 751 `archive` without `version`) cannot be pinned by name.
    if (f.version === "") continue;
    for (const t of f.targets) pins.get(t)?.set(f.project, f.version);
  }
  s.summary.push(`Selected ${plural(plan.files.length, "file")} from ${options.lock}`);
  // Mirrors: with --index-url/--find-links/--no-index the same file (name and hash) may come
  // from there when the recorded URL cannot be used.
  const mirrorsGiven = options.indexUrl !== undefined || options.findLinks.length > 0 ||
    options.extraIndexUrls.length > 0 || options.noIndex;
  let mirror: SimpleIndexClient | undefined;
  if (mirrorsGiven) {
    const inputs: Inputs = {
      requirements: [],
      constraints: [],
      hashes: new Map(),
      indexUrl: options.indexUrl,
      extraIndexUrls: options.extraIndexUrls,
      findLinks: options.findLinks.map((f) =>
        /^[a-z][a-z0-9+.-]*:\/\//i.test(f) ? f : resolve(io.cwd, f)
      ),
      // Only the sources given are mirrors: with just --find-links, PyPI is not asked.
      noIndex: options.noIndex ||
        (options.indexUrl === undefined && options.extraIndexUrls.length === 0),
      pre: false,
      onlyBinary: [],
      noBinary: [],
      preferBinary: false,
      requireHashes: true,
      projectRequiresPython: undefined,
    };
    mirror = indexClientOf(s, inputs, await readNetrc(io, s.deps.readText));
  }
  const findOnMirror = async (f: WantedFile): Promise<string | undefined> => {
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
  if (options.noIndex) {
    // Air-gapped: recorded remote URLs cannot be reached; take everything from the mirrors.
    for (const f of plan.files) {
      if (f.url.startsWith("file:")) continue;
      const url = await findOnMirror(f);
      if (url === undefined) {
        throw new ReportedFailure(
          `${f.filename} (${f.project} ${f.version}) is not on --find-links; with --no-index the lock's URL ${
            redactUrl(f.url)
          } is not used`,
        );
      }
      f.url = url;
    }
  }
  const headersFor = (url: string): Record<string, string> => mirror?.authHeaders(url) ?? {};
  return await deliver(s, targets, pins, plan.files, headersFor, findOnMirror);
}

/**
 * A locked `size` must be the size of the file with the locked hash. Downloads check it as they
 * go (the fetcher); files already in the cache or the destination are checked here, before
 * anything changes, so a wrong `size` never passes because the bytes were at hand.
 */
async function checkSizes(s: Session, files: readonly WantedFile[]): Promise<void> {
  const present = await new WheelhouseStore(s.dest).scan();
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
    throw new ReportedFailure(`Size check failed:\n  ${problems.join("\n  ")}`);
  }
}
