// Provider layers the pipeline puts around the index provider: one answer per project per run
// (and a record of offline misses), and pip's hash-checking mode.
import type { Provider } from "../resolver/types.ts";
import type { Inputs } from "./_inputs.ts";
import type { PlannedFile } from "../lock/types.ts";
import { DownloadError } from "./types.ts";
import type { Requirement } from "../pep/requirement.ts";
import { redactUrl } from "../fetcher/redact.ts";
import { normalizeName } from "../pep/name.ts";

/**
 * A provider that answers each project's versions once per run (so pages asked for early are
 * not read again) and remembers which projects an offline run could not find in the cache.
 */
export function offlineAware(
  inner: Provider,
): Provider & { misses: Set<string>; wantedBy: Map<string, string[]> } {
  const misses = new Set<string>();
  // Who asked for each dependency, so a miss can say which range was wanted and by whom.
  const wantedBy = new Map<string, string[]>();
  const versions = new Map<string, ReturnType<Provider["versions"]>>();
  return {
    misses,
    wantedBy,
    ...(inner.prefetch !== undefined ? { prefetch: inner.prefetch } : {}),
    versions(name, options) {
      let answer = versions.get(name);
      if (answer === undefined) {
        answer = inner.versions(name, options).then((outcome) => {
          // Recorded online too; only an offline run reports them.
          if (outcome.kind === "not-found") misses.add(name);
          return outcome;
        });
        // A failure is remembered too: its retries are spent, and `--retries N` means N per
        // request in all (a second call would retry again).
        answer.catch(() => {});
        versions.set(name, answer);
      }
      return answer;
    },
    async metadata(name, candidate, options) {
      const outcome = await inner.metadata(name, candidate, options);
      if (outcome.kind === "unavailable" && /offline/.test(outcome.reason)) {
        misses.add(`${name} ${candidate.version}`);
      }
      if (outcome.kind === "found") {
        for (const r of outcome.metadata.requiresDist) {
          const dep = normalizeName(r.name);
          const list = wantedBy.get(dep) ?? [];
          const range = r.specifier.isAny ? "" : r.specifier.toString();
          const text = `${r.name}${range} (by ${name} ${candidate.version})`;
          if (!list.includes(text)) list.push(text);
          wantedBy.set(dep, list);
        }
      }
      return outcome;
    },
  };
}

/** pip's hash-checking mode needs every requirement pinned to one version (`==` or `===`). */
export function requirePins(inputs: Inputs): void {
  const loose = inputs.requirements.filter((r) =>
    r.url === undefined &&
    !(r.specifier.specifiers.length === 1 &&
      ["==", "==="].includes(r.specifier.specifiers[0]!.operator) &&
      !r.specifier.specifiers[0]!.version.endsWith(".*"))
  );
  if (loose.length > 0) {
    throw new DownloadError(
      "hash-check",
      `In hash-checking mode every requirement must be pinned with ==; these are not: ${
        loose.map((r) => r.toString()).join(", ")
      }`,
    );
  }
}

/**
 * Hash-checking mode as pip does it: a project's candidates are only the files whose sha256 was
 * given, so `--hash` of an sdist selects the sdist even where a wheel exists. When the pinned
 * version is there but none of its files has a given hash, that is a mismatch, said with the
 * files' URLs and both hashes (as pip does), not "not found".
 *
 * @param pins The requirements, to tell the pinned version (hash-checking mode pins them all).
 * @throws {DownloadError} ("hash-mismatch") from `versions` for a pinned version whose files
 * all have other hashes.
 */
export function hashFiltered(
  inner: Provider,
  hashes: ReadonlyMap<string, ReadonlySet<string>>,
  pins: readonly Requirement[] = [],
): Provider {
  const pinOf = new Map(pins.map((r) => [r.normalizedName, r]));
  return {
    ...(inner.prefetch !== undefined ? { prefetch: inner.prefetch } : {}),
    async versions(name, options) {
      const outcome = await inner.versions(name, options);
      const allowed = hashes.get(name);
      if (outcome.kind !== "found" || allowed === undefined) return outcome;
      const candidates = outcome.candidates.map((c) => ({
        ...c,
        files: c.files.filter((f) => {
          const sha = f.hashes["sha256"];
          return sha !== undefined && allowed.has(`sha256:${sha.toLowerCase()}`);
        }),
      })).filter((c) => c.files.length > 0);
      const pin = pinOf.get(name);
      if (candidates.length === 0 && pin !== undefined && pin.url === undefined) {
        const pinned = outcome.candidates.filter((c) =>
          pin.specifier.contains(c.version, { prereleases: true })
        );
        const files = pinned.flatMap((c) => c.files);
        if (files.length > 0) {
          const lines = files.slice(0, 10).map((f) =>
            `${redactUrl(f.url)}\n      got      ${
              f.hashes["sha256"] === undefined
                ? "no sha256 (the index gives none)"
                : `sha256:${f.hashes["sha256"].toLowerCase()}`
            }`
          );
          if (files.length > 10) lines.push(`… and ${files.length - 10} more files`);
          throw new DownloadError(
            "hash-mismatch",
            `${pin}: no file matches the hashes given (expected ${[...allowed].join(" or ")}):\n  ${
              lines.join("\n  ")
            }`,
          );
        }
      }
      return { kind: "found", candidates };
    },
    metadata: (name, candidate, options) => inner.metadata(name, candidate, options),
  };
}

/** pip's hash-checking mode: with --require-hashes (or any --hash), every file must match one. */
export function checkHashes(
  inputs: Inputs,
  wanted: readonly PlannedFile[],
  checking: boolean,
): void {
  if (!checking) return;
  const problems: string[] = [];
  for (const f of wanted) {
    const allowed = inputs.hashes.get(f.project);
    if (allowed === undefined) {
      problems.push(
        `${f.project}: no --hash given (hash-checking mode needs one for every package)`,
      );
      continue;
    }
    const sha = f.sha256 === undefined ? undefined : `sha256:${f.sha256}`;
    if (sha === undefined || !allowed.has(sha)) {
      problems.push(
        `${f.filename}: ${
          sha === undefined ? "no sha256 is known for it" : `its hash ${sha}`
        } matches none of ${[...allowed].join(", ")}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new DownloadError("hash-check", `Hash check failed:\n  ${problems.join("\n  ")}`);
  }
}
