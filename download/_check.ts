// Options that cannot work together and places that cannot be used, refused before anything runs
// (and before anything is written): one line each, naming the option and why.
import * as fsp from "node:fs/promises";
import { constants } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import process from "node:process";
import { lockKindOfName } from "../lock/plan.ts";
import { normalizeName } from "../pep/name.ts";
import { DownloadError, type DownloadOptions } from "./types.ts";

/** pip's --only-binary/--no-binary lists: names, `:all:` and `:none:` (which clears). */
export function binarySelector(values: readonly string[]): string[] {
  let out: string[] = [];
  for (const v of values) {
    if (v === ":none:") out = [];
    else if (v === ":all:") out.push(":all:");
    else out.push(normalizeName(v));
  }
  return [...new Set(out)];
}

/**
 * `--only-binary` and `--no-binary` that ask for opposite things: `:all:` in both (no file could
 * be used), or one project in both. `:all:` in one and names in the other is pip's way of saying
 * "all but these", and stays allowed.
 *
 * @param where Where the values came from, for the message ("" for the options themselves).
 * @throws {DownloadError} ("invalid-input") for a contradiction.
 */
export function checkBinaryPolicy(
  onlyBinary: readonly string[],
  noBinary: readonly string[],
  where = "",
): void {
  const only = binarySelector(onlyBinary);
  const no = new Set(binarySelector(noBinary));
  const both = only.filter((n) => no.has(n));
  if (both.length === 0) return;
  throw new DownloadError(
    "invalid-input",
    both.includes(":all:")
      ? `--only-binary :all: and --no-binary :all: contradict each other${where}: no file could be used`
      : `${both.join(", ")} cannot be both --only-binary and --no-binary${where}`,
  );
}

/** Whether `inner` is `outer` or inside it (both absolute). */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function overlapError(o: DownloadOptions): DownloadError {
  return new DownloadError(
    "invalid-input",
    `The destination "${o.dest}" cannot be the cache "${o.cacheDir}" or inside it: cleaning or pruning the cache would delete the wheelhouse`,
  );
}

/** @throws {DownloadError} ("invalid-input") for a call that asks for nothing or for a contradiction. */
export function checkOptions(o: DownloadOptions): void {
  // Resolved against the working directory, "" is that folder: a wheelhouse (or a cache) poured
  // into wherever the command ran, most often from an unset shell variable (`-d "$OUT"`).
  if (o.dest === "") {
    throw new DownloadError("invalid-input", "The destination (--dest) is empty: name a folder");
  }
  if (o.cacheDir === "") {
    throw new DownloadError("invalid-input", "The cache (--cache-dir) is empty: name a folder");
  }
  const fromRequirements = (o.requirements ?? []).length > 0 ||
    (o.requirementFiles ?? []).length > 0 || o.project !== undefined;
  if (o.lock === undefined && !fromRequirements) {
    throw new DownloadError(
      "invalid-input",
      "Nothing to download: give requirements, -r FILE, --project DIR or --lock FILE",
    );
  }
  if (o.lock !== undefined && fromRequirements) {
    throw new DownloadError(
      "invalid-input",
      "--lock downloads what the lock file lists; give no other requirements",
    );
  }
  if (o.universal !== undefined && o.lock !== undefined) {
    throw new DownloadError(
      "invalid-input",
      "--universal resolves requirements; a lock is resolved already (--lock FILE --all-platforms takes all of it)",
    );
  }
  if (o.universal !== undefined && Array.isArray(o.targets) && o.targets.length > 0) {
    throw new DownloadError(
      "invalid-input",
      "universal resolution covers a region, not targets: give its platforms as universal.platforms",
    );
  }
  if (o.allPlatforms && o.lock === undefined) {
    throw new DownloadError("invalid-input", "--all-platforms only applies with --lock");
  }
  // --all-platforms archives the whole lock, whatever the extras, groups and markers: a selection
  // asked for with it would be ignored (and an unknown extra never noticed).
  if (
    o.allPlatforms &&
    ((o.extras ?? []).length > 0 || o.allExtras || (o.groups ?? []).length > 0 || o.noDev)
  ) {
    throw new DownloadError(
      "invalid-input",
      "--all-platforms takes every file of the lock; --extra, --all-extras, --group and --no-dev select per target and do not apply",
    );
  }
  // `dev` is uv's default group; a pylock.toml has no such group (its `default-groups` are the
  // lock's own choice) and requirements have none at all. A lock of another name is told apart by
  // its content later, so only a name that says pylock is refused here.
  if (o.noDev && (o.lock === undefined || lockKindOfName(o.lock) === "pylock")) {
    throw new DownloadError(
      "invalid-input",
      `--no-dev only applies to a uv.lock (it leaves out uv's dev group)${
        o.lock === undefined ? "" : `; ${o.lock} is a pylock.toml`
      }`,
    );
  }
  // With a pylock.toml, --all-extras is meaningful and stays allowed: PEP 751 lists the extras a
  // lock can install at its top level (`extras`), and the packages' markers test `extras`.
  checkBinaryPolicy(o.onlyBinary ?? [], o.noBinary ?? []);
  if (o.cacheDir !== undefined) {
    const cwd = o.cwd ?? process.cwd();
    const dest = resolve(cwd, o.dest);
    const cache = resolve(cwd, o.cacheDir);
    // A cache inside the destination (`-d . --cache-dir ./cache`) is a layout people use; the
    // other way round, `cache clean` would take the wheelhouse with it.
    if (within(dest, cache)) throw overlapError(o);
  }
}

/** The nearest existing folder of `path` (itself or an ancestor), with what stands there. */
async function nearestExisting(path: string): Promise<{ path: string; isDirectory: boolean }> {
  for (let p = path;; p = dirname(p)) {
    const st = await fsp.stat(p).catch(() => undefined);
    if (st !== undefined) return { path: p, isDirectory: st.isDirectory() };
    if (dirname(p) === p) return { path: p, isDirectory: true };
  }
}

/**
 * Checks the cache folder before anything is written: it (or, when it does not exist yet, the
 * nearest folder above it) must be a folder this process may write, and it must not be the
 * destination after symbolic links are followed. Permission bits do not stop root, so as root a
 * read-only cache passes here (and its writes work).
 *
 * @throws {DownloadError} ("invalid-input") naming the problem.
 */
export async function checkPlaces(o: DownloadOptions, cwd: string): Promise<void> {
  if (o.cacheDir === undefined) return;
  const cache = resolve(cwd, o.cacheDir);
  const near = await nearestExisting(cache);
  if (!near.isDirectory) {
    throw new DownloadError(
      "invalid-input",
      near.path === cache
        ? `The cache "${o.cacheDir}" exists and is not a folder`
        : `The cache "${o.cacheDir}" cannot be made: ${near.path} is not a folder`,
    );
  }
  try {
    await fsp.access(near.path, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
    throw new DownloadError(
      "invalid-input",
      `Cannot write to the cache "${o.cacheDir}"${
        near.path === cache ? "" : ` (in ${near.path})`
      }: ${code === "EROFS" ? "read-only file system" : "permission denied"}`,
    );
  }
  // The same folder under two names (a symbolic link): compare where they really are.
  const real = (p: string) => fsp.realpath(p).catch(() => undefined);
  const [dest, store] = await Promise.all([real(resolve(cwd, o.dest)), real(cache)]);
  if (dest !== undefined && store !== undefined && within(dest, store)) {
    throw overlapError(o);
  }
}
