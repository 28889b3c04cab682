// The simple API's pages, rendered from a source's files: PEP 503 HTML and PEP 691 JSON, with
// PEP 592 yanks, PEP 658/714 metadata links, PEP 700 versions, sizes and upload times (api
// version 1.1, PEP 629). Pure. File links are relative (`../../files/NAME`): PEP 503 and 691
// resolve them against the page, so the index works behind any host name or proxy.
import { escapeHtml } from "../cache/wheelhouse_store.ts";
import { parseDistFilename } from "../pep/filename.ts";
import type { Version } from "../pep/version.ts";
import type { SourceFile } from "./types.ts";

/** The API version these pages follow (PEP 629, 700). */
export const API_VERSION = "1.1";

/** One file as a page shows it. */
export interface PageEntry {
  file: SourceFile;
  /** The sha256 of its core metadata file, when `<file>.metadata` is served. */
  metadataSha256?: string;
}

function fileHref(filename: string): string {
  return `../../files/${encodeURIComponent(filename)}`;
}

/**
 * PEP 700 upload time: `yyyy-mm-ddThh:mm:ss.ffffffZ`, UTC, microseconds (as PyPI writes them;
 * `toISOString` has milliseconds only).
 */
export function uploadTime(mtimeMs: number): string {
  // Whole microseconds first: the float's millisecond fraction is not exact (0.9 is 0.8999...).
  const micros = Math.round(mtimeMs * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(micros - seconds * 1_000_000).padStart(6, "0")}Z`;
}

/** PEP 700 `versions`: every version the files name, normalised, oldest first. */
export function versionsOf(files: readonly SourceFile[]): string[] {
  const byText = new Map<string, Version>();
  for (const f of files) {
    try {
      const v = parseDistFilename(f.filename, f.project).version;
      byText.set(v.toString(), v);
    } catch {
      // A file whose name states no version (a direct-URL archive) adds none.
    }
  }
  return [...byText.values()].sort((a, b) => a.compare(b)).map((v) => v.toString());
}

function htmlPage(title: string, lines: string[]): string {
  return [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    `    <meta name="pypi:repository-version" content="${API_VERSION}">`,
    `    <title>${escapeHtml(title)}</title>`,
    "  </head>",
    "  <body>",
    `    <h1>${escapeHtml(title)}</h1>`,
    ...lines,
    "  </body>",
    "</html>",
    "",
  ].join("\n");
}

/** The PEP 503 project list. */
export function projectsHtml(projects: readonly string[]): string {
  return htmlPage(
    "Simple index",
    projects.map((p) =>
      `    <a href="${escapeHtml(`${encodeURIComponent(p)}/`)}">${escapeHtml(p)}</a><br>`
    ),
  );
}

/** The PEP 691 project list. */
export function projectsJson(projects: readonly string[]): string {
  return JSON.stringify({
    meta: { "api-version": API_VERSION },
    projects: projects.map((name) => ({ name })),
  });
}

/** A PEP 503 project page. */
export function projectHtml(project: string, entries: readonly PageEntry[]): string {
  return htmlPage(
    `Links for ${project}`,
    entries.map(({ file, metadataSha256 }) => {
      const attrs = [`href="${escapeHtml(`${fileHref(file.filename)}#sha256=${file.sha256}`)}"`];
      if (file.requiresPython !== undefined) {
        attrs.push(`data-requires-python="${escapeHtml(file.requiresPython)}"`);
      }
      if (file.yanked !== false) attrs.push(`data-yanked="${escapeHtml(file.yanked.reason)}"`);
      if (metadataSha256 !== undefined) {
        // PEP 714 renamed the attribute; pip before 23.3 reads only the old name.
        attrs.push(`data-dist-info-metadata="sha256=${metadataSha256}"`);
        attrs.push(`data-core-metadata="sha256=${metadataSha256}"`);
      }
      return `    <a ${attrs.join(" ")}>${escapeHtml(file.filename)}</a><br>`;
    }),
  );
}

/** A PEP 691 project page, with PEP 700's `versions`, `size` and `upload-time`. */
export function projectJson(project: string, entries: readonly PageEntry[]): string {
  return JSON.stringify({
    meta: { "api-version": API_VERSION },
    name: project,
    versions: versionsOf(entries.map((e) => e.file)),
    files: entries.map(({ file, metadataSha256 }) => {
      const metadata = metadataSha256 === undefined ? false : { sha256: metadataSha256 };
      return {
        filename: file.filename,
        url: fileHref(file.filename),
        hashes: { sha256: file.sha256 },
        ...(file.requiresPython !== undefined ? { "requires-python": file.requiresPython } : {}),
        // PEP 691: a reason string, or true when none was given.
        yanked: file.yanked === false
          ? false
          : file.yanked.reason === ""
          ? true
          : file.yanked.reason,
        // PEP 700 sizes; a proxied file whose upstream gave none has no size yet.
        ...(Number.isFinite(file.size) ? { size: file.size } : {}),
        "upload-time": uploadTime(file.mtimeMs),
        "core-metadata": metadata,
        "dist-info-metadata": metadata,
      };
    }),
  });
}
