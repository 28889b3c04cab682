/**
 * The pipeline as one call: inputs -> plan (resolver or lock) -> delivery -> result.
 *
 * @module
 */
import type { DownloadOptions, DownloadResult } from "./types.ts";
import { checkDestination, deliver, locate } from "./_deliver.ts";
import { abandonEarly, settleEarly } from "./_early.ts";
import { planFromLock } from "./_lock.ts";
import { planFromRequirements } from "./_resolve.ts";
import { planUniversal } from "./_universal.ts";
import { addBuilds } from "./_build.ts";
import { checkOptions } from "./_check.ts";
import { closeSession, openSession, type Planned } from "./_session.ts";

/**
 * Downloads a wheelhouse: resolves the requirements (or reads the lock) for every target, brings
 * each file into the cache (concurrently, resumed, checked against its sha256; files of decided
 * versions start while the resolver still works), links them into `dest`, and writes
 * `index.html`, `manifest.json`, `requirements*.txt` and `pylock.toml` beside them, so that
 * `pip install --no-index --find-links DEST -r DEST/requirements.txt` installs offline. Never
 * prints: progress and messages go to `options.reporter`.
 *
 * @param options What to download, for which targets, from where (see {@linkcode DownloadOptions}).
 * @returns What the folder now holds and what the call transferred.
 * @throws {DownloadError} for bad input ("invalid-input", "unusable-destination", "hash-check")
 * and failures ("offline-miss", "download-failed", "lock-unservable", "size-mismatch").
 * @throws {ResolutionError} when the requirements cannot be resolved (the message explains why).
 * @throws {SyntaxError} subclasses for malformed requirements, requirement files and locks.
 * @example
 * ```ts
 * import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { pathToFileURL } from "node:url";
 * import { strToU8, zipSync } from "fflate";
 * import { download } from "./download.ts";
 * import { targetFromPreset } from "../pep/tags.ts";
 * const dir = await mkdtemp(join(tmpdir(), "download-"));
 * // A find-links folder with one pure-Python wheel.
 * const metadata = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";
 * await writeFile(
 *   join(dir, "demo-1.0-py3-none-any.whl"),
 *   zipSync({ "demo-1.0.dist-info/METADATA": strToU8(metadata) }),
 * );
 * const result = await download({
 *   dest: join(dir, "wheelhouse"),
 *   cacheDir: join(dir, "cache"),
 *   requirements: ["demo==1.0"],
 *   noIndex: true,
 *   noDeps: true,
 *   findLinks: [pathToFileURL(dir).href],
 *   targets: [targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" })],
 * });
 * if (result.files.map((f) => f.filename).join() !== "demo-1.0-py3-none-any.whl") {
 *   throw new Error("the wheel is in the folder");
 * }
 * const pins = await readFile(join(dir, "wheelhouse", "requirements.txt"), "utf8");
 * if (!pins.includes("demo==1.0")) throw new Error("requirements.txt pins it");
 * await rm(dir, { recursive: true });
 * ```
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  checkOptions(options);
  const s = await openSession(options);
  try {
    await checkDestination(s, true);
    let planned: Planned;
    try {
      planned = options.lock !== undefined
        ? await planFromLock(s)
        : options.universal !== undefined
        ? await planUniversal(s)
        : await planFromRequirements(s, true);
      if (planned.sources !== undefined) await addBuilds(s, planned.sources, planned);
    } catch (e) {
      await settleEarly(s, new Set());
      throw e;
    }
    const wanted = new Set(planned.files.map((f) => f.url));
    // Free the connections of abandoned versions before the wanted files queue behind them.
    abandonEarly(s, wanted);
    try {
      return await deliver(s, planned, await locate(s, planned));
    } finally {
      await settleEarly(s, wanted);
    }
  } finally {
    await closeSession(s);
  }
}
