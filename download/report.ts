/**
 * The `--report` document of a plan or a download.
 *
 * @module
 */
import { redactUrl } from "../fetcher/redact.ts";
import type { DownloadPlan, DownloadResult } from "./types.ts";
import { reportJson as reportText } from "./_outputs.ts";

/**
 * The JSON report (version 1) of a plan or a download: the targets, and per package its files
 * with URL (credentials redacted), sha256, size and targets.
 *
 * @param of A {@linkcode plan} or {@linkcode download} answer.
 * @returns The JSON text, with a final newline.
 * @example
 * ```ts
 * import { reportJson } from "./report.ts";
 * const text = reportJson({
 *   dest: "/wh", targets: [], pins: new Map(), packages: 0, resolveMs: 0,
 *   files: [{
 *     project: "a", version: "1.0", filename: "a-1.0-py3-none-any.whl",
 *     url: "https://user:secret@example.org/a-1.0-py3-none-any.whl", sha256: undefined,
 *     size: undefined, targets: [], source: "fetch",
 *   }],
 * });
 * if (text.includes("secret") || JSON.parse(text).version !== 1) throw new Error();
 * ```
 */
export function reportJson(of: DownloadPlan | DownloadResult): string {
  return reportText(
    of.targets,
    of.files.map((f) => ({
      project: f.project,
      version: f.version,
      filename: f.filename,
      url: redactUrl(f.url),
      targets: f.targets,
      ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
      ...(f.size !== undefined ? { size: f.size } : {}),
    })),
  );
}
