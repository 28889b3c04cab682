/**
 * The planning step on its own: what a download would fetch, link and write, without doing it.
 *
 * @module
 */
import type { DownloadOptions, DownloadPlan } from "./types.ts";
import { checkDestination, locate } from "./_deliver.ts";
import { planFromLock } from "./_lock.ts";
import { planFromRequirements } from "./_resolve.ts";
import { planUniversal } from "./_universal.ts";
import { checkOptions } from "./_check.ts";
import { closeSession, openSession } from "./_session.ts";

/**
 * Plans a download: resolves the requirements (or reads the lock) for every target and says, for
 * each file the folder would hold, whether it is already there, in the cache, or to be fetched.
 * Nothing is written to the destination; index pages and metadata are cached as usual.
 *
 * @param options What to download, for which targets, from where (see {@linkcode DownloadOptions}).
 * @returns The plan: files with their source, pins per target, timings.
 * @throws {DownloadError} for bad input ("invalid-input", "unusable-destination", "hash-check")
 * and for offline misses or lock gaps.
 * @throws {ResolutionError} when the requirements cannot be resolved (the message explains why).
 * @throws {SyntaxError} subclasses for malformed requirements, requirement files and locks.
 * @example
 * ```ts
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { pathToFileURL } from "node:url";
 * import { plan } from "./plan.ts";
 * import { targetFromPreset } from "../pep/tags.ts";
 * const dir = await mkdtemp(join(tmpdir(), "plan-"));
 * const lock = join(dir, "pylock.toml");
 * const wheel = pathToFileURL(join(dir, "a-1.0-py3-none-any.whl")).href;
 * await writeFile(lock, `lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\n` +
 *   `name = "a"\nversion = "1.0"\nwheels = [{ url = "${wheel}", hashes = { sha256 = "${"0".repeat(64)}" } }]\n`);
 * const p = await plan({
 *   dest: join(dir, "wh"), lock, cacheDir: join(dir, "cache"),
 *   targets: [targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" })],
 * });
 * if (p.files.length !== 1 || p.files[0]!.source !== "fetch") throw new Error("one file to fetch");
 * await rm(dir, { recursive: true });
 * ```
 */
export async function plan(options: DownloadOptions): Promise<DownloadPlan> {
  checkOptions(options);
  const s = await openSession(options);
  try {
    await checkDestination(s, false);
    const planned = options.lock !== undefined
      ? await planFromLock(s)
      : options.universal !== undefined
      ? await planUniversal(s)
      : await planFromRequirements(s, false);
    const located = await locate(s, planned);
    return {
      dest: s.dest,
      targets: planned.targets,
      files: located.entries,
      pins: planned.pins,
      packages: planned.packages,
      resolveMs: planned.resolveMs,
      ...(options.lock !== undefined ? { lock: options.lock } : {}),
    };
  } finally {
    await closeSession(s);
  }
}
