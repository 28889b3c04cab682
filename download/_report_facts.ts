// What the installation report needs to know of each planned file beyond where to get it: the
// core metadata the resolver read, whether a direct reference names it, whether it is yanked, and
// for which targets it is a top-level requirement (pip's `requested`, `requested_extras`). The
// facts are gathered while planning, so the report re-reads nothing.
import type { IndexClient } from "../index/types.ts";
import type { CoreMetadata } from "../pep/metadata.ts";
import type { Requirement } from "../pep/requirement.ts";
import type { Target } from "../pep/tags.ts";
import type { PlannedFile as ResolvedFile } from "../resolver/types.ts";
import type { PlannedFile } from "../lock/types.ts";

/** The report facts of a planned (or delivered) file. */
export type ReportFacts = Pick<
  PlannedFile,
  "metadata" | "direct" | "yanked" | "requested" | "requiresPython"
>;

/** The key of a (project, version) pair in the metadata the resolver read. */
function keyOf(project: string, version: string): string {
  return `${project}==${version}`;
}

/**
 * Wraps an index client so that every core metadata document it hands the resolver is kept, by
 * (normalised project name, version as the file name gives it): the resolver itself keeps only
 * the dependencies, and pip's report carries the whole document.
 */
export function recordingMetadata(
  client: IndexClient,
): { client: IndexClient; read: ReadonlyMap<string, CoreMetadata> } {
  const read = new Map<string, CoreMetadata>();
  return {
    read,
    client: {
      projectFiles: (name, options) => client.projectFiles(name, options),
      authHeaders: (url) => client.authHeaders(url),
      metadata: async (file, options) => {
        const outcome = await client.metadata(file, options);
        if (outcome.kind === "found") {
          read.set(
            keyOf(file.parsed.normalizedName, file.parsed.version.toString()),
            outcome.metadata,
          );
        }
        return outcome;
      },
    },
  };
}

/**
 * The report facts of one file of a resolution: its version's metadata (when read), whether a
 * root requirement is a direct reference to it, yanked, and per target that installs it whether
 * a root requirement names the project there (marker evaluated without extras, as the resolver
 * does for root requirements), with the extras requested.
 */
export function resolvedFacts(
  f: ResolvedFile,
  requirements: readonly Requirement[],
  targets: readonly Target[],
  read: ReadonlyMap<string, CoreMetadata>,
): ReportFacts {
  const roots = requirements.filter((r) => r.normalizedName === f.name);
  const requested: Record<string, readonly string[]> = {};
  for (const t of targets) {
    if (!f.targets.includes(t.name)) continue;
    const here = roots.filter((r) =>
      r.marker === undefined || r.marker.evaluate(t.markerEnvironment)
    );
    if (here.length > 0) requested[t.name] = [...new Set(here.flatMap((r) => r.extras))].sort();
  }
  const metadata = read.get(keyOf(f.name, f.version.toString()));
  return {
    ...(metadata !== undefined ? { metadata } : {}),
    direct: roots.some((r) => r.url !== undefined),
    yanked: f.file.yanked,
    requested,
  };
}

/** The report facts a planned file carries, to copy onto the file delivered for it. */
export function factsOf(f: ReportFacts): ReportFacts {
  return {
    ...(f.metadata !== undefined ? { metadata: f.metadata } : {}),
    ...(f.direct !== undefined ? { direct: f.direct } : {}),
    ...(f.yanked !== undefined ? { yanked: f.yanked } : {}),
    ...(f.requested !== undefined ? { requested: f.requested } : {}),
    ...(f.requiresPython !== undefined ? { requiresPython: f.requiresPython } : {}),
  };
}
