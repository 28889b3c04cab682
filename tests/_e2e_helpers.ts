// Helpers shared by the download tests (download_e2e_test.ts, lock_download_test.ts,
// lock/plan_test.ts).
import type { LockPlanOptions } from "../lock/types.ts";

/** What one run of the CLI printed and returned (the same shape as a Python run). */
export type { PythonRun as Run } from "./_python.ts";

/**
 * The arguments of `python -m pip install` that installs offline, only from the `findLinks`
 * folder, into `target`; `rest` says what (and how) to install.
 */
export function pipInstallOfflineArgs(findLinks: string, target: string, rest: string[]): string[] {
  return [
    "-m",
    "pip",
    "install",
    "--no-index",
    "--find-links",
    findLinks,
    "--target",
    target,
    ...rest,
  ];
}

/** Lock planning options with the defaults of a plain `download --lock FILE`, then `over`. */
export function lockPlanOptions(
  lockPath: string,
  over: Partial<LockPlanOptions> = {},
): LockPlanOptions {
  return {
    lockPath,
    targets: [],
    allPlatforms: false,
    extras: [],
    groups: undefined,
    noDev: false,
    ...over,
  };
}
