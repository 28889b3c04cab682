/**
 * Distribution filenames: wheels (PEP 427/491, compressed tag sets per PEP 425) and source
 * distributions (PEP 625 `name-version.tar.gz`, plus the legacy extensions and dashed names that
 * older uploads use).
 *
 * @module
 */
import { normalizeName } from "./name.ts";
import { Version } from "./version.ts";
import { formatTag, parseTag } from "./tags.ts";

/** Which kind of filename was rejected. */
export type InvalidFilenameCode =
  | "invalid-wheel-filename"
  | "invalid-sdist-filename"
  | "unsafe-filename";

/** Error raised for a filename that is not a valid wheel or sdist name. */
export class InvalidFilenameError extends SyntaxError {
  /** Which kind of filename was rejected. */
  readonly code: InvalidFilenameCode;
  /** The rejected filename. */
  readonly filename: string;
  /**
   * Builds the error for a wheel or sdist filename that PEP 427/625 rejects.
   *
   * @param code Which kind of filename was rejected.
   * @param filename The rejected filename.
   * @param reason Why it was rejected.
   * @param options Standard error options (`cause`).
   */
  constructor(
    code: InvalidFilenameCode,
    filename: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    const kind = code === "invalid-wheel-filename"
      ? "wheel "
      : code === "invalid-sdist-filename"
      ? "sdist "
      : "";
    super(`Invalid ${kind}filename ${JSON.stringify(filename)}: ${reason}`, options);
    this.name = "InvalidFilenameError";
    this.code = code;
    this.filename = filename;
  }
}

/** A parsed wheel filename. */
export interface WheelFilename {
  /** Discriminant. */
  readonly kind: "wheel";
  /** The filename as given. */
  readonly filename: string;
  /** The project name as written in the filename (e.g. `in_place`). */
  readonly name: string;
  /** The PEP 503 normalised name (e.g. `in-place`). */
  readonly normalizedName: string;
  /** The version. */
  readonly version: Version;
  /** The build tag as `[number, rest]` (`"1abc"` → `[1, "abc"]`), or `undefined`. */
  readonly buildTag: readonly [number, string] | undefined;
  /** The tags, compressed tag sets expanded, lowercased, in written order. */
  readonly tags: readonly string[];
}

/** The extensions recognised for source distributions. */
export type SdistExtension = ".tar.gz" | ".zip" | ".tar.bz2" | ".tar.xz" | ".tgz" | ".tar";

/** A parsed source-distribution filename. */
export interface SdistFilename {
  /** Discriminant. */
  readonly kind: "sdist";
  /** The filename as given. */
  readonly filename: string;
  /** The project name as written in the filename. */
  readonly name: string;
  /** The PEP 503 normalised name. */
  readonly normalizedName: string;
  /** The version. */
  readonly version: Version;
  /** The archive extension, lowercased. */
  readonly extension: SdistExtension;
}

/** A parsed wheel or sdist filename. */
export type DistFilename = WheelFilename | SdistFilename;

// Python's `\w` with re.UNICODE: letters, numbers and the underscore (packaging's name check).
const WHEEL_NAME = /^[\p{L}\p{N}_.]+$/u;
const BUILD_TAG = /^(\d+)(.*)$/s;
// A filename from an index becomes a path in the folder: a separator, a drive colon or a control
// byte in it could name another file (`evil-1.8-py3-none-any.sub/y.whl`), so none is accepted.
// deno-lint-ignore no-control-regex
const UNSAFE = /[/\\:\u0000-\u001f\u007f]/u;

/** Throws code `unsafe-filename` for a name that is not a single, printable path segment. */
function checkSafe(filename: string): void {
  const m = UNSAFE.exec(filename);
  if (m === null) return;
  const c = m[0];
  const what = c === "/" || c === "\\"
    ? "a path separator"
    : c === ":"
    ? "a colon"
    : `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  throw new InvalidFilenameError("unsafe-filename", filename, `it contains ${what}`);
}

/**
 * Parses a wheel filename `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` as
 * `packaging.utils.parse_wheel_filename` does, expanding compressed tag sets.
 *
 * @param filename The file name (no directory).
 * @returns The parsed filename.
 * @throws {InvalidFilenameError} With code `invalid-wheel-filename` when the extension, the number
 *   of parts, the name, the version, the build tag (must start with a digit) or a tag is invalid;
 *   with code `unsafe-filename` when the name holds a path separator, a colon or a control
 *   character (it would not be one file in one folder).
 * @example
 * ```ts
 * import { parseWheelFilename } from "./filename.ts";
 * const w = parseWheelFilename("In_Place-0.2.0-1-py2.py3-none-any.whl");
 * if (w.normalizedName !== "in-place" || w.version.toString() !== "0.2.0") throw new Error();
 * if (w.buildTag?.[0] !== 1) throw new Error("build tag");
 * if (w.tags.join(" ") !== "py2-none-any py3-none-any") throw new Error(w.tags.join(" "));
 * ```
 */
export function parseWheelFilename(filename: string): WheelFilename {
  const fail = (reason: string, cause?: unknown): never => {
    throw new InvalidFilenameError(
      "invalid-wheel-filename",
      filename,
      reason,
      cause === undefined ? undefined : { cause },
    );
  };
  checkSafe(filename);
  if (!filename.endsWith(".whl")) fail("the extension must be .whl");
  const stem = filename.slice(0, -".whl".length);
  const parts = stem.split("-");
  if (parts.length !== 5 && parts.length !== 6) {
    fail(`expected 5 or 6 dash-separated parts, found ${parts.length}`);
  }
  const [name = "", versionText = ""] = parts;
  // PEP 427: the name is escaped to letters, digits, `_` and `.`; a double underscore never
  // results from escaping.
  if (!WHEEL_NAME.test(name) || name.includes("__")) {
    fail(`invalid project name ${JSON.stringify(name)}`);
  }
  let version: Version;
  try {
    version = Version.parse(versionText);
  } catch (e) {
    return fail(`invalid version ${JSON.stringify(versionText)}`, e);
  }
  let buildTag: readonly [number, string] | undefined;
  if (parts.length === 6) {
    const build = parts[2] ?? "";
    const m = BUILD_TAG.exec(build);
    if (m === null) fail(`invalid build tag ${JSON.stringify(build)}: must start with a digit`);
    else buildTag = Object.freeze([Number(m[1]), m[2] ?? ""] as const);
  }
  const tagText = parts.slice(-3).join("-");
  let tags: string[];
  try {
    tags = parseTag(tagText).map(formatTag);
  } catch (e) {
    return fail(`invalid tags ${JSON.stringify(tagText)}`, e);
  }
  return Object.freeze({
    kind: "wheel",
    filename,
    name,
    normalizedName: normalizeName(name),
    version,
    buildTag,
    tags: Object.freeze(tags),
  });
}

/**
 * Formats a wheel filename, escaping the name as PEP 427 requires (runs of `-_.` become `_`) and
 * writing the version normalised.
 *
 * @param parts `name`, `version` (text or {@linkcode Version}), optional `buildTag`
 *   (`[1, "abc"]` → `1abc`) and `tags`, the tag component as written (`py2.py3-none-any`).
 * @returns The filename.
 * @throws {InvalidFilenameError} When the result would not parse back (e.g. an empty name).
 * @example
 * ```ts
 * import { formatWheelFilename } from "./filename.ts";
 * const f = formatWheelFilename({ name: "in-place", version: "0.2", tags: "py3-none-any" });
 * if (f !== "in_place-0.2-py3-none-any.whl") throw new Error(f);
 * ```
 */
export function formatWheelFilename(parts: {
  name: string;
  version: string | Version;
  buildTag?: readonly [number, string];
  tags: string;
}): string {
  const name = parts.name.replace(/[-_.]+/g, "_");
  const version = (typeof parts.version === "string" ? Version.parse(parts.version) : parts.version)
    .toString().replaceAll("-", "_");
  const build = parts.buildTag === undefined ? "" : `-${parts.buildTag[0]}${parts.buildTag[1]}`;
  const filename = `${name}-${version}${build}-${parts.tags}.whl`;
  parseWheelFilename(filename);
  return filename;
}

// Longest first, so `.tar.gz` wins over `.tar`... and `.gz` alone is not an sdist.
const SDIST_EXTENSIONS: readonly SdistExtension[] = [
  ".tar.gz",
  ".tar.bz2",
  ".tar.xz",
  ".tgz",
  ".tar",
  ".zip",
];

function sdistExtension(filename: string): SdistExtension | undefined {
  const lower = filename.toLowerCase();
  return SDIST_EXTENSIONS.find((ext) => lower.endsWith(ext) && lower.length > ext.length);
}

/**
 * Parses a source-distribution filename `{name}-{version}{extension}`.
 *
 * Without `project` the name/version split is at the last `-`, as PEP 625 and
 * `packaging.utils.parse_sdist_filename` do. Legacy names may contain `-` themselves
 * (`aws-adfs-ebsco-0.3.6-2.tar.gz`): given `project`, the split is right after the prefix whose
 * normalised form equals the normalised project name, as pip does.
 *
 * @param filename The file name (no directory).
 * @param project The project the file is listed under, if known.
 * @returns The parsed filename.
 * @throws {InvalidFilenameError} With code `invalid-sdist-filename` for an unknown extension, a
 *   missing name/version separator, a prefix that is not `project`, or an invalid version.
 * @example
 * ```ts
 * import { parseSdistFilename } from "./filename.ts";
 * const s = parseSdistFilename("aws-adfs-ebsco-0.3.6-2.tar.gz", "aws_adfs_ebsco");
 * if (s.normalizedName !== "aws-adfs-ebsco") throw new Error(s.normalizedName);
 * if (s.version.toString() !== "0.3.6.post2") throw new Error(s.version.toString());
 * if (s.extension !== ".tar.gz") throw new Error(s.extension);
 * ```
 */
export function parseSdistFilename(filename: string, project?: string): SdistFilename {
  const fail = (reason: string, cause?: unknown): never => {
    throw new InvalidFilenameError(
      "invalid-sdist-filename",
      filename,
      reason,
      cause === undefined ? undefined : { cause },
    );
  };
  checkSafe(filename);
  const extension = sdistExtension(filename) ??
    fail(`the extension must be one of ${SDIST_EXTENSIONS.join(", ")}`);
  const stem = filename.slice(0, -extension.length);
  let split = -1;
  if (project === undefined) {
    split = stem.lastIndexOf("-");
    if (split <= 0) fail("expected {name}-{version}");
  } else {
    const wanted = normalizeName(project);
    for (let i = stem.indexOf("-"); i !== -1; i = stem.indexOf("-", i + 1)) {
      if (normalizeName(stem.slice(0, i)) === wanted) {
        split = i;
        break;
      }
    }
    if (split === -1) fail(`the name is not ${JSON.stringify(project)} followed by -{version}`);
  }
  const name = stem.slice(0, split);
  const versionText = stem.slice(split + 1);
  let version: Version;
  try {
    version = Version.parse(versionText);
  } catch (e) {
    return fail(`invalid version ${JSON.stringify(versionText)}`, e);
  }
  return Object.freeze({
    kind: "sdist",
    filename,
    name,
    normalizedName: normalizeName(name),
    version,
    extension,
  });
}

/**
 * Parses a wheel or sdist filename, chosen by extension.
 *
 * @param filename The file name (no directory).
 * @param project The project the file is listed under, if known (used for sdists).
 * @returns The parsed filename, discriminated by `kind`.
 * @throws {InvalidFilenameError} For invalid names and for files that are neither wheels nor
 *   sdists (`.exe`, `.egg`, `.msi`, …; code `invalid-sdist-filename`).
 * @example
 * ```ts
 * import { parseDistFilename } from "./filename.ts";
 * const d = parseDistFilename("argset-0.1.0.tar.gz");
 * if (d.kind !== "sdist" || d.version.toString() !== "0.1.0") throw new Error(d.kind);
 * ```
 */
export function parseDistFilename(filename: string, project?: string): DistFilename {
  if (filename.endsWith(".whl")) return parseWheelFilename(filename);
  return parseSdistFilename(filename, project);
}
