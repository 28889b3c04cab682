// What an offline run says when something is missing: per project, the range wanted and who
// wants it, where it was looked for, and what the cache does hold (other versions, pages of
// another index), with a hint that can work on a machine with no network (uv#2078: misleading
// errors on a firewalled machine).
import { redactUrl } from "../fetcher/redact.ts";
import { DEFAULT_INDEX_URL } from "../index/simple_index_client.ts";
import type { Requirement } from "../pep/requirement.ts";
import type { Session, Sources } from "./_session.ts";

/** The last line of every offline miss: nothing in it needs a network. */
export const OFFLINE_HINT: string =
  "hint: offline, only the cache and local files are used: pass -f with a folder that holds these " +
  "files (a wheelhouse, a USB stick), or --cache-dir with a cache that does; a run with network " +
  "access fills the cache.";

/** Where an offline run looked: the named indexes' kept pages, find-links, then the cache. */
export function placesAsked(sources: Sources): string[] {
  const indexes = sources.noIndex
    ? []
    : [sources.indexUrl ?? DEFAULT_INDEX_URL, ...sources.extraIndexUrls];
  return [
    ...indexes.map((u) => `${redactUrl(u)} (its kept pages)`),
    ...sources.findLinks.map((l) => redactUrl(l)),
    "the cache's own files",
  ];
}

/**
 * Lines that explain each missing project: the range wanted (from the requirements or the
 * metadata that asked for it), and what the cache holds of it.
 *
 * @param misses Projects (or `name version` for metadata) the offline run could not find.
 * @param unfit Projects the resolver's explanation names that were found, with no version that
 *   fits (offline, usually: the cache holds other versions than the ones wanted).
 * @param wanted For each project, what asked for it (`dep>=1 (by app 0.1)`).
 */
export async function explainOfflineMisses(
  s: Session,
  sources: Sources,
  misses: ReadonlySet<string>,
  unfit: readonly string[],
  roots: readonly Requirement[],
  wanted: ReadonlyMap<string, readonly string[]>,
): Promise<string> {
  const asked = placesAsked(sources);
  const named = new Set(
    (sources.noIndex ? [] : [sources.indexUrl ?? DEFAULT_INDEX_URL, ...sources.extraIndexUrls])
      .map((u) => redactUrl(u).replace(/\/?$/, "/")),
  );
  const lines: string[] = [];
  for (const miss of [...new Set([...misses, ...unfit])].sort()) {
    const [project = miss, version] = miss.split(" ");
    const root = roots.find((r) => r.normalizedName === project);
    const why = root !== undefined
      ? `${root.name}${root.specifier.isAny ? "" : root.specifier.toString()} (requested)`
      : (wanted.get(project) ?? []).slice(0, 3).join(", ") || project;
    const held = await s.store.catalogue(project);
    if (version !== undefined) {
      lines.push(
        `${project} ${version}: an index page lists it, but its metadata and file are not in the cache`,
      );
      continue;
    }
    lines.push(
      misses.has(project)
        ? `${why}: not found in ${asked.join(", ")}`
        : `${why}: no version found offline fits`,
    );
    if (held.files.length > 0) {
      const files = held.files.slice(0, 4).map((f) => f.filename).join(", ");
      lines.push(
        `    the cache holds ${held.files.length} file${
          held.files.length === 1 ? "" : "s"
        } of ${project} (${files}${held.files.length > 4 ? ", …" : ""}), none of them fits`,
      );
    }
    for (const page of held.pages.filter((p) => !named.has(p))) {
      lines.push(`    the cache has ${project}'s page from ${page}: add --index-url ${page}`);
    }
  }
  return lines.map((l) => `  ${l}`).join("\n");
}
