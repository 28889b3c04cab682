/**
 * Core metadata (`METADATA` in wheels, `PKG-INFO` in sdists), Metadata-Version 1.0 to 2.4.
 *
 * The format is RFC 822 style headers: `Name: value`, continuation lines start with
 * whitespace, field names are case-insensitive, many fields may repeat, and since
 * Metadata-Version 2.1 the description may be the message body after the first blank line.
 * (Core metadata specification; packaging's `metadata.py` reads it with `email.parser`.)
 *
 * @module
 */

import { isValidName, normalizeName } from "./name.ts";
import { Requirement } from "./requirement.ts";
import { SpecifierSet } from "./specifier.ts";
import { Version } from "./version.ts";

/** Why a core metadata document was rejected. */
export type InvalidMetadataCode =
  | "missing-field"
  | "invalid-field"
  | "unsupported-version"
  | "invalid-header"
  | "invalid-requirement";

/** A core metadata document that cannot be read; `line` is 1-based (0 when not tied to a line). */
export class InvalidMetadataError extends SyntaxError {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override readonly name = "InvalidMetadataError";
  /** Machine-readable reason. */
  readonly code: InvalidMetadataCode;
  /** 1-based line of the offending header, 0 when the problem is the document as a whole. */
  readonly line: number;
  /** Lower-cased field name the problem is about, when there is one. */
  readonly field: string | undefined;

  /**
   * Create the error.
   *
   * @param message What failed and why.
   * @param options `code`, `line`, optional `field` and `cause`.
   */
  constructor(
    message: string,
    options: { code: InvalidMetadataCode; line: number; field?: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.line = options.line;
    this.field = options.field;
  }
}

/** A field that lenient parsing skipped, with the reason. */
export interface MetadataProblem {
  /** Lower-cased field name. */
  readonly field: string;
  /** 1-based line where the field starts. */
  readonly line: number;
  /** The raw value that was skipped. */
  readonly value: string;
  /** Why it was skipped. */
  readonly message: string;
}

/** Parsed core metadata. */
export interface CoreMetadata {
  /** `Metadata-Version` as written, e.g. `"2.1"`. */
  readonly metadataVersion: string;
  /** `Name` as written (not normalised). */
  readonly name: string;
  /** `Version` as written. */
  readonly version: string;
  /** Parsed `Requires-Dist` lines; invalid ones are in `problems` unless `strict`. */
  readonly requiresDist: readonly Requirement[];
  /** Parsed `Requires-Python`, undefined when absent (or invalid and not `strict`). */
  readonly requiresPython: SpecifierSet | undefined;
  /** `Provides-Extra` values, normalised (PEP 685). */
  readonly providesExtra: readonly string[];
  /** `Dynamic` field names, lower-cased (PEP 643). */
  readonly dynamic: readonly string[];
  /** `Summary`, when present. */
  readonly summary?: string;
  /** The description: the message body, else the `Description` header (continuation prefixes removed). */
  readonly description?: string;
  /** `Description-Content-Type`, when present. */
  readonly descriptionContentType?: string;
  /** Every header, keyed by lower-cased name, values in order, continuation lines folded with `\n`. */
  readonly fields: ReadonlyMap<string, readonly string[]>;
  /** Values that lenient parsing skipped (always empty with `strict`). */
  readonly problems: readonly MetadataProblem[];
}

/** Options for {@linkcode parseCoreMetadata}. */
export interface ParseCoreMetadataOptions {
  /**
   * Throw on any invalid `Requires-Dist`, `Requires-Python`, `Provides-Extra`, `Dynamic`, name
   * or version (as pip does for Metadata-Version >= 2.3 through packaging's validation). The
   * default is lenient: real wheels on PyPI carry junk `Requires-Dist` lines (uv tolerates
   * them), so they are skipped and listed in `problems`; missing `Metadata-Version`, `Name` or
   * `Version`, and a Metadata-Version of 3 or newer, are errors either way.
   */
  readonly strict?: boolean;
}

interface RawHeader {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

// The newest Metadata-Version major this reader understands; unknown 2.x minors are accepted.
const KNOWN_MAJOR = 2;

/**
 * Parse a core metadata document (`METADATA` / `PKG-INFO`).
 *
 * @param text The document; CRLF line endings and a leading BOM are tolerated.
 * @param options `strict` to reject invalid values instead of skipping them.
 * @returns The parsed metadata.
 * @throws {InvalidMetadataError} When a required field is missing, the Metadata-Version is 3 or
 * newer or malformed, or (with `strict`) a value is invalid.
 * @example
 * ```ts
 * import { parseCoreMetadata } from "./metadata.ts";
 * const m = parseCoreMetadata(
 *   "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: attrs>=20 ; extra == 'x'\n" +
 *     "Provides-Extra: X\n\nLong description.\n",
 * );
 * if (m.requiresDist[0]?.name !== "attrs") throw new Error("requires-dist");
 * if (m.providesExtra[0] !== "x") throw new Error("extras are normalised");
 * if (m.description !== "Long description.\n") throw new Error("body is the description");
 * ```
 */
export function parseCoreMetadata(
  text: string,
  options: ParseCoreMetadataOptions = {},
): CoreMetadata {
  const strict = options.strict ?? false;
  const { headers, body } = splitMessage(text, strict);
  const fields = new Map<string, string[]>();
  const firstLine = new Map<string, number>();
  for (const h of headers) {
    const key = h.name.toLowerCase();
    const list = fields.get(key);
    if (list === undefined) {
      fields.set(key, [h.value]);
      firstLine.set(key, h.line);
    } else {
      list.push(h.value);
    }
  }
  const first = (key: string): string | undefined => fields.get(key)?.[0]?.trim();
  const lineOf = (key: string): number => firstLine.get(key) ?? 0;

  const metadataVersion = first("metadata-version");
  if (metadataVersion === undefined || metadataVersion === "") {
    throw new InvalidMetadataError("Invalid core metadata: missing Metadata-Version", {
      code: "missing-field",
      line: 0,
      field: "metadata-version",
    });
  }
  const mv = /^(\d+)\.(\d+)$/.exec(metadataVersion);
  if (mv === null) {
    throw new InvalidMetadataError(
      `Invalid core metadata: Metadata-Version "${metadataVersion}" is not MAJOR.MINOR`,
      { code: "unsupported-version", line: lineOf("metadata-version"), field: "metadata-version" },
    );
  }
  // The spec: tools must fail on an unknown major version and should accept a newer minor one.
  const major = Number(mv[1]);
  if (major > KNOWN_MAJOR || major < 1) {
    throw new InvalidMetadataError(
      `Unsupported core metadata: Metadata-Version ${metadataVersion} (this reader knows 1.0 to 2.4)`,
      { code: "unsupported-version", line: lineOf("metadata-version"), field: "metadata-version" },
    );
  }

  const name = first("name");
  if (name === undefined || name === "") {
    throw new InvalidMetadataError("Invalid core metadata: missing Name", {
      code: "missing-field",
      line: 0,
      field: "name",
    });
  }
  const version = first("version");
  if (version === undefined || version === "") {
    throw new InvalidMetadataError(`Invalid core metadata for "${name}": missing Version`, {
      code: "missing-field",
      line: 0,
      field: "version",
    });
  }
  const problems: MetadataProblem[] = [];
  const invalid = (
    field: string,
    line: number,
    value: string,
    message: string,
    cause?: unknown,
  ) => {
    if (strict) {
      throw new InvalidMetadataError(
        `Invalid core metadata for "${name}" (line ${line}): ${message}`,
        {
          code: field === "requires-dist" ? "invalid-requirement" : "invalid-field",
          line,
          field,
          cause,
        },
      );
    }
    problems.push({ field, line, value, message });
  };
  if (!isValidName(name)) {
    invalid("name", lineOf("name"), name, `Name "${name}" is not a valid project name`);
  }
  if (strict && Version.tryParse(version) === undefined) {
    invalid("version", lineOf("version"), version, `Version "${version}" is not PEP 440`);
  }

  const requiresDist: Requirement[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() !== "requires-dist") continue;
    const value = h.value.trim();
    try {
      requiresDist.push(Requirement.parse(value));
    } catch (error) {
      invalid(
        "requires-dist",
        h.line,
        value,
        `Requires-Dist "${value}" is invalid: ${(error as Error).message}`,
        error,
      );
    }
  }

  let requiresPython: SpecifierSet | undefined;
  const rp = first("requires-python");
  if (rp !== undefined) {
    try {
      requiresPython = SpecifierSet.parse(rp);
    } catch (error) {
      invalid(
        "requires-python",
        lineOf("requires-python"),
        rp,
        `Requires-Python "${rp}" is invalid: ${(error as Error).message}`,
        error,
      );
    }
  }

  const providesExtra: string[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() !== "provides-extra") continue;
    const value = h.value.trim();
    if (!isValidName(value)) {
      invalid("provides-extra", h.line, value, `Provides-Extra "${value}" is not a valid name`);
      continue;
    }
    const extra = normalizeName(value);
    if (!providesExtra.includes(extra)) providesExtra.push(extra);
  }

  const dynamic: string[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() !== "dynamic") continue;
    const value = h.value.trim().toLowerCase();
    // PEP 643: these three can never be dynamic.
    if (value === "name" || value === "version" || value === "metadata-version") {
      invalid("dynamic", h.line, value, `Dynamic "${value}" is not allowed (PEP 643)`);
      continue;
    }
    if (!dynamic.includes(value)) dynamic.push(value);
  }

  let description: string | undefined;
  if (body !== undefined && body !== "") {
    description = body;
  } else {
    const d = fields.get("description")?.[0];
    if (d !== undefined) description = unfoldDescription(d);
  }

  const summary = first("summary");
  const descriptionContentType = first("description-content-type");
  return {
    metadataVersion,
    name,
    version,
    requiresDist,
    requiresPython,
    providesExtra,
    dynamic,
    ...(summary === undefined ? {} : { summary }),
    ...(description === undefined ? {} : { description }),
    ...(descriptionContentType === undefined ? {} : { descriptionContentType }),
    fields,
    problems,
  };
}

function splitMessage(
  text: string,
  strict: boolean,
): { headers: RawHeader[]; body: string | undefined } {
  const normalised = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const lines = normalised.split("\n");
  const headers: { name: string; value: string; line: number }[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") {
      i++;
      break;
    }
    if (/^[ \t]/.test(line)) {
      const last = headers[headers.length - 1];
      if (last === undefined) {
        if (strict) {
          throw new InvalidMetadataError(
            `Invalid core metadata (line ${i + 1}): continuation line before any header`,
            { code: "invalid-header", line: i + 1 },
          );
        }
        continue;
      }
      last.value += "\n" + line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || !/^[\x21-\x39\x3b-\x7e]+$/.test(line.slice(0, colon))) {
      // email.parser treats a line that is not a header as the start of the body.
      if (strict) {
        throw new InvalidMetadataError(
          `Invalid core metadata (line ${i + 1}): "${line.slice(0, 40)}" is not a header`,
          { code: "invalid-header", line: i + 1 },
        );
      }
      break;
    }
    headers.push({
      name: line.slice(0, colon),
      value: line.slice(colon + 1).replace(/^[ \t]+/, ""),
      line: i + 1,
    });
  }
  const body = i < lines.length ? lines.slice(i).join("\n") : undefined;
  return { headers, body };
}

// setuptools writes a multi-line Description header with each continuation line prefixed by
// 8 spaces or by 7 spaces and "|"; undo that as packaging's readers do.
function unfoldDescription(value: string): string {
  const [head, ...rest] = value.split("\n");
  const lines = rest.map((l) => l.replace(/^( {7}\||\t| {8})/, ""));
  return [head ?? "", ...lines].join("\n");
}
