/**
 * The `--report` document of a plan or a download, in the format of pip's installation report
 * (`pip install --dry-run --report`, format version 1), one report per target.
 *
 * @module
 */
import { redactUrl } from "../fetcher/redact.ts";
import type { CoreMetadata } from "../pep/metadata.ts";
import type { Target } from "../pep/tags.ts";
import type { DownloadPlan, DownloadResult } from "./types.ts";
import { VERSION } from "./version.ts";

/** One file of a plan or a download, as the report sees it. */
interface ReportFile {
  project: string;
  version: string;
  filename: string;
  url: string;
  sha256: string | undefined;
  size: number | undefined;
  targets: readonly string[];
  cached: boolean;
  metadata: CoreMetadata | undefined;
  direct: boolean;
  yanked: boolean;
  requested: Readonly<Record<string, readonly string[]>> | undefined;
  requiresPython: string | undefined;
  vcs: { url: string; requestedRevision?: string; commitId: string } | undefined;
}

// pip's `_internal/metadata/_json.py` (PEP 566's JSON form): the fields, in its order, and whether
// each may repeat (a list) or not (a string), plus Metadata 2.4's license fields.
const METADATA_FIELDS: readonly (readonly [string, boolean])[] = [
  ["Metadata-Version", false],
  ["Name", false],
  ["Version", false],
  ["Dynamic", true],
  ["Platform", true],
  ["Supported-Platform", true],
  ["Summary", false],
  ["Description", false],
  ["Description-Content-Type", false],
  ["Keywords", false],
  ["Home-page", false],
  ["Download-URL", false],
  ["Author", false],
  ["Author-email", false],
  ["Maintainer", false],
  ["Maintainer-email", false],
  ["License", false],
  ["License-Expression", false],
  ["License-File", true],
  ["Classifier", true],
  ["Requires-Dist", true],
  ["Requires-Python", false],
  ["Requires-External", true],
  ["Project-URL", true],
  ["Provides-Extra", true],
  ["Provides-Dist", true],
  ["Obsoletes-Dist", true],
];

// The order of packaging's `default_environment()`, as pip writes `environment`.
const ENVIRONMENT_KEYS = [
  "implementation_name",
  "implementation_version",
  "os_name",
  "platform_machine",
  "platform_release",
  "platform_system",
  "platform_version",
  "python_full_version",
  "platform_python_implementation",
  "python_version",
  "sys_platform",
] as const;

/** PEP 566's JSON form of a core metadata document, as pip writes it (`msg_to_json`). */
function metadataJson(m: CoreMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, multi] of METADATA_FIELDS) {
    const key = field.toLowerCase().replaceAll("-", "_");
    if (key === "description") {
      // The message body (Metadata 2.1) or the header, continuation prefixes removed.
      if (m.description !== undefined && m.description !== "") out[key] = m.description;
      continue;
    }
    const values = m.fields.get(field.toLowerCase());
    const first = values?.[0];
    if (values === undefined || first === undefined) continue;
    if (multi) out[key] = [...values];
    else if (key === "keywords") {
      // As pip: comma-separated, else space-separated.
      out[key] = first.includes(",")
        ? first.split(",").map((k) => k.trim())
        : first.split(/\s+/).filter((k) => k !== "");
    } else out[key] = first;
  }
  // Required fields, so a reader can rely on them even if the headers were spelt oddly.
  out["metadata_version"] ??= m.metadataVersion;
  out["name"] ??= m.name;
  out["version"] ??= m.version;
  return out;
}

/**
 * The metadata of a file whose document nobody read (a lock's file, a version the resolver took
 * without reading it): what the plan knows, in the same JSON form. 2.1 is the oldest
 * Metadata-Version for which these fields alone (no `Summary`) make a valid document.
 */
function knownMetadata(f: ReportFile): Record<string, unknown> {
  return {
    metadata_version: "2.1",
    name: f.project,
    version: f.version,
    ...(f.requiresPython !== undefined ? { requires_python: f.requiresPython } : {}),
  };
}

/** One `install` item: pip's fields, then ours (`filename`, `size`, `targets`, `cached`). */
function installItem(f: ReportFile, target: Target | undefined, lock: boolean): unknown {
  // A lock lists exactly what to install, like a fully pinned requirements file, whose every
  // line pip reports as requested; --all-platforms has no target to ask.
  // A universal plan (no target) says per file whether a root requirement names it anywhere.
  const extras = target === undefined
    ? (f.requested === undefined || Object.keys(f.requested).length === 0
      ? undefined
      : [...new Set(Object.values(f.requested).flat())].sort())
    : f.requested?.[target.name];
  const requested = lock || (target === undefined && f.requested === undefined)
    ? true
    : extras !== undefined;
  return {
    // A git reference is reported as pip does (PEP 610 `vcs_info`, the commit it resolved to);
    // the sdist built from it is the item's file.
    download_info: f.vcs !== undefined
      ? {
        url: redactUrl(f.vcs.url),
        vcs_info: {
          vcs: "git",
          commit_id: f.vcs.commitId,
          ...(f.vcs.requestedRevision !== undefined
            ? { requested_revision: f.vcs.requestedRevision }
            : {}),
        },
      }
      : {
        url: redactUrl(f.url),
        archive_info: f.sha256 === undefined
          ? {}
          : { hash: `sha256=${f.sha256}`, hashes: { sha256: f.sha256 } },
      },
    is_direct: f.direct,
    is_yanked: f.yanked,
    requested,
    metadata: f.metadata !== undefined ? metadataJson(f.metadata) : knownMetadata(f),
    ...(requested && extras !== undefined && extras.length > 0
      ? { requested_extras: [...extras] }
      : {}),
    filename: f.filename,
    size: f.size ?? null,
    targets: [...f.targets].sort(),
    cached: f.cached,
  };
}

/** The report of one target (or, with no target, of every file). */
function reportOf(
  target: Target | undefined,
  files: readonly ReportFile[],
  lock: boolean,
): Record<string, unknown> {
  const env: Record<string, string> = {};
  if (target !== undefined) {
    for (const k of ENVIRONMENT_KEYS) env[k] = target.markerEnvironment[k];
  }
  return {
    version: "1",
    wheelhouse_version: VERSION,
    target: target?.name ?? null,
    install: files
      .filter((f) => target === undefined || f.targets.includes(target.name))
      .map((f) => installItem(f, target, lock)),
    environment: env,
  };
}

/**
 * The JSON report of a plan or a download, in pip's installation report format (version 1), so
 * that tools that read `pip install --dry-run --report` read it too. One report per target: an
 * object for one target, a list of objects (in the targets' order) for several, each with the
 * target's PEP 508 `environment` and the files that target installs. A lock downloaded for all
 * platforms (no targets) gives one object whose `environment` is empty and whose `install` lists
 * every file. Each `install` item has pip's `download_info` (URL with credentials redacted,
 * `archive_info.hashes.sha256`), `is_direct`, `is_yanked`, `requested`, `requested_extras`,
 * `metadata` (the core metadata the resolver read; for a lock, only what the lock states), and
 * wheelhouse's `filename`, `size`, `targets` and `cached`. The schema is in docs/REPORT.md.
 *
 * @param of A {@linkcode plan} or {@linkcode download} answer.
 * @returns The JSON text, with a final newline.
 * @example
 * ```ts
 * import { reportJson } from "./report.ts";
 * import { targetFromPreset } from "../pep/tags.ts";
 * const target = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" });
 * const text = reportJson({
 *   dest: "/wh", targets: [target], pins: new Map(), packages: 1, resolveMs: 0,
 *   files: [{
 *     project: "a", version: "1.0", filename: "a-1.0-py3-none-any.whl",
 *     url: "https://user:secret@example.org/a-1.0-py3-none-any.whl", sha256: "ab".repeat(32),
 *     size: 10, targets: [target.name], source: "cached", requested: { [target.name]: [] },
 *   }],
 * });
 * const report = JSON.parse(text);
 * if (text.includes("secret") || report.version !== "1") throw new Error("pip's version 1");
 * const [item] = report.install;
 * if (item.metadata.name !== "a" || !item.requested || !item.cached) throw new Error("the item");
 * if (item.download_info.archive_info.hash !== `sha256=${"ab".repeat(32)}`) throw new Error();
 * if (report.environment.python_version !== "3.12") throw new Error("the target's markers");
 * ```
 */
export function reportJson(of: DownloadPlan | DownloadResult): string {
  const files: ReportFile[] = of.files.map((f) => ({
    project: f.project,
    version: f.version,
    filename: f.filename,
    url: f.url,
    sha256: f.sha256,
    size: f.size,
    targets: f.targets,
    cached: "source" in f ? f.source !== "fetch" : !f.fetched,
    metadata: f.metadata,
    direct: f.direct ?? false,
    yanked: f.yanked ?? false,
    requested: f.requested,
    requiresPython: f.requiresPython,
    vcs: f.vcs,
  }));
  files.sort((a, b) =>
    a.project < b.project
      ? -1
      : a.project > b.project
      ? 1
      : a.filename < b.filename
      ? -1
      : a.filename > b.filename
      ? 1
      : 0
  );
  const lock = of.lock !== undefined;
  const reports = of.targets.length === 0
    ? [reportOf(undefined, files, lock)]
    : of.targets.map((t) => reportOf(t, files, lock));
  return JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n";
}
