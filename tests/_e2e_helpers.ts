// Helpers shared by the end-to-end download tests (download_e2e_test.ts, lock_download_test.ts).

/** What one run of the CLI printed and returned. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

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
