/**
 * PEP 691 JSON project pages (`application/vnd.pypi.simple.v1+json`), with PEP 700 (`versions`,
 * `size`, `upload-time`), PEP 592 (`yanked`) and PEP 714 (`core-metadata`, falling back to
 * `dist-info-metadata`).
 *
 * @module
 */

import type { Hashes, PageFile, ProjectPage, Yanked } from "./types.ts";
import { IndexError } from "./index_error.ts";
import { redactUrl } from "./auth.ts";
import { checkApiVersion } from "./_api_version.ts";

/** The PEP 691 media type of version 1 JSON pages. */
export const JSON_MEDIA_TYPE = "application/vnd.pypi.simple.v1+json";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hashesOf(v: unknown): Hashes | undefined {
  if (!isRecord(v)) return undefined;
  const out: Hashes = {};
  for (const [k, h] of Object.entries(v)) {
    if (typeof h !== "string") return undefined;
    out[k.toLowerCase()] = h.toLowerCase();
  }
  return out;
}

/**
 * Parses a PEP 691 JSON project page.
 *
 * @param text The response body.
 * @param url The page URL, the base of relative file URLs and named in errors.
 * @returns The page's files (absolute URLs), name, api version and PEP 700 versions.
 * @throws {IndexError} `malformed-page` naming the URL when the JSON or its shape is wrong;
 * `unsupported-api-version` for a major version other than 1.
 * @example
 * ```ts
 * import { parseJsonPage } from "./json_page.ts";
 * const page = parseJsonPage(JSON.stringify({
 *   meta: { "api-version": "1.1" }, name: "a", versions: ["1.0"],
 *   files: [{ filename: "a-1.0.tar.gz", url: "../../f/a-1.0.tar.gz", hashes: { sha256: "AB" },
 *     yanked: "broken", "core-metadata": { sha256: "cd" }, size: 10 }],
 * }), "https://i.example/simple/a/");
 * const f = page.files[0];
 * if (f?.url !== "https://i.example/f/a-1.0.tar.gz" || f.hashes.sha256 !== "ab") throw new Error();
 * if (f.yanked === false || f.yanked.reason !== "broken" || f.size !== 10) throw new Error();
 * if (f.coreMetadata === false || f.coreMetadata.hashes.sha256 !== "cd") throw new Error();
 * ```
 */
export function parseJsonPage(text: string, url: string): ProjectPage {
  const where = redactUrl(url);
  const bad = (why: string, cause?: unknown): IndexError =>
    new IndexError("malformed-page", `Cannot parse JSON page ${where}: ${why}`, { cause });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw bad("not valid JSON", cause);
  }
  if (!isRecord(data)) throw bad("the top level is not an object");
  const meta = data.meta;
  if (!isRecord(meta) || typeof meta["api-version"] !== "string") {
    throw bad('"meta.api-version" is missing');
  }
  const apiVersion = meta["api-version"];
  checkApiVersion(apiVersion, url);
  if (!Array.isArray(data.files)) throw bad('"files" is not a list');
  const files: PageFile[] = [];
  data.files.forEach((raw: unknown, i: number) => {
    if (!isRecord(raw)) throw bad(`files[${i}] is not an object`);
    const { filename, url: fileUrl } = raw;
    if (typeof filename !== "string" || filename === "") {
      throw bad(`files[${i}].filename is missing`);
    }
    if (typeof fileUrl !== "string") throw bad(`files[${i}].url is missing`);
    let abs: URL;
    try {
      abs = new URL(fileUrl, url);
    } catch (cause) {
      throw bad(`files[${i}].url "${redactUrl(fileUrl)}" is not a URL`, cause);
    }
    abs.hash = "";
    const hashes = hashesOf(raw.hashes);
    if (hashes === undefined) throw bad(`files[${i}].hashes is not a map of strings`);
    const file: PageFile = {
      filename,
      url: abs.href,
      hashes,
      yanked: yankedOf(raw.yanked),
      coreMetadata: coreMetadataOf(
        "core-metadata" in raw ? raw["core-metadata"] : raw["dist-info-metadata"],
      ),
    };
    const rp = raw["requires-python"];
    if (typeof rp === "string" && rp.trim() !== "") file.requiresPython = rp.trim();
    if (typeof raw.size === "number" && Number.isSafeInteger(raw.size) && raw.size >= 0) {
      file.size = raw.size;
    }
    if (typeof raw["upload-time"] === "string") file.uploadTime = raw["upload-time"];
    files.push(file);
  });
  const page: ProjectPage = { apiVersion, files };
  if (typeof data.name === "string") page.name = data.name;
  if (Array.isArray(data.versions) && data.versions.every((v) => typeof v === "string")) {
    page.versions = data.versions as string[];
  }
  return page;
}

function yankedOf(v: unknown): Yanked {
  if (v === true) return { reason: "" };
  if (typeof v === "string") return { reason: v };
  return false;
}

function coreMetadataOf(v: unknown): false | { hashes: Hashes } {
  if (v === true) return { hashes: {} };
  if (isRecord(v)) return { hashes: hashesOf(v) ?? {} };
  return false;
}
