// Options that cannot work together, refused before anything runs.
import { DownloadError, type DownloadOptions } from "./types.ts";

/** @throws {DownloadError} ("invalid-input") for a call that asks for nothing or for a contradiction. */
export function checkOptions(o: DownloadOptions): void {
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
  if (o.allPlatforms && o.lock === undefined) {
    throw new DownloadError("invalid-input", "--all-platforms only applies with --lock");
  }
}
