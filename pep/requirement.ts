/**
 * PEP 508 dependency specifiers (`name[extras] specifiers ; marker`, `name @ url ; marker`),
 * parsed as `packaging.requirements.Requirement` does.
 *
 * @module
 */

import { Tokenizer } from "./_marker_parser.ts";
import { InvalidMarkerError, Marker } from "./marker.ts";
import { normalizeName } from "./name.ts";
import { SpecifierSet } from "./specifier.ts";

/** Raised by {@link Requirement.parse} for text that is not a PEP 508 requirement. */
export class InvalidRequirementError extends SyntaxError {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "InvalidRequirementError";
  /** Always `"invalid-requirement"`. */
  readonly code: "invalid-requirement" = "invalid-requirement";
  /** The text that failed to parse. */
  readonly input: string;
  /** 0-based column of the problem in {@link InvalidRequirementError.input}. */
  readonly column: number;

  /**
   * Creates the error; the message names the column and the input.
   *
   * @param detail What was expected, e.g. `Expected a version specifier or ';' after the name`.
   * @param options The input, the 0-based column and an optional cause.
   */
  constructor(detail: string, options: { input: string; column: number; cause?: unknown }) {
    super(
      `${detail} at column ${options.column} in requirement ${JSON.stringify(options.input)}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.input = options.input;
    this.column = options.column;
  }
}

interface RequirementParts {
  readonly name: string;
  readonly extras: readonly string[];
  readonly specifier: SpecifierSet;
  readonly url: string | undefined;
  readonly marker: Marker | undefined;
}

// Parsed requirements by their text (bounded: cleared when full).
const PARSED = new Map<string, Requirement>();
const PARSED_LIMIT = 50_000;

/**
 * A parsed PEP 508 requirement such as `requests[socks] >=2.8.1, <3 ; python_version >= "3.8"`.
 *
 * @example
 * ```ts
 * import { Requirement } from "./requirement.ts";
 * const r = Requirement.parse("Requests[Socks] (>=2.8.1,<3); python_version >= '3.8'");
 * if (r.normalizedName !== "requests" || r.extras.join() !== "socks") throw new Error();
 * if (r.toString() !== 'Requests[socks]<3,>=2.8.1; python_version >= "3.8"') throw new Error(r.toString());
 * ```
 */
export class Requirement {
  /** The project name as written. */
  readonly name: string;
  /** The PEP 503 normalised project name. */
  readonly normalizedName: string;
  /** The requested extras: normalised, sorted, without duplicates. */
  readonly extras: readonly string[];
  /** The version specifiers; `SpecifierSet.parse("")` (matches all) when there are none. */
  readonly specifier: SpecifierSet;
  /** The URL of a `name @ url` requirement. */
  readonly url: string | undefined;
  /** The environment marker after `;`, if any. */
  readonly marker: Marker | undefined;

  private constructor(parts: RequirementParts) {
    this.name = parts.name;
    this.normalizedName = normalizeName(parts.name);
    this.extras = parts.extras;
    this.specifier = parts.specifier;
    this.url = parts.url;
    this.marker = parts.marker;
  }

  /**
   * Parses a requirement as packaging does: whitespace is free around the parts, specifiers may
   * sit in parentheses (the legacy `name (>=1.0)` form), and after a URL a space is needed
   * before `;` (otherwise the `;` is part of the URL).
   *
   * @param text The requirement, e.g. `numpy>=1.21; python_version >= "3.8"`.
   * @returns The parsed requirement.
   * @throws {InvalidRequirementError} When the text is not a requirement; `column` points at the
   * problem and the message says what was expected there.
   * @example
   * ```ts
   * import { InvalidRequirementError, Requirement } from "./requirement.ts";
   * const r = Requirement.parse("pip @ https://example.com/pip.whl ; os_name == 'nt'");
   * if (r.url !== "https://example.com/pip.whl" || r.marker === undefined) throw new Error();
   * try {
   *   Requirement.parse("foo bar");
   *   throw new Error("should not parse");
   * } catch (e) {
   *   if (!(e instanceof InvalidRequirementError) || e.column !== 4) throw e;
   * }
   * ```
   */
  static parse(text: string): Requirement {
    // Requirements are immutable and the same Requires-Dist strings recur across a project's
    // versions, so a resolution parses each distinct string once.
    const known = PARSED.get(text);
    if (known !== undefined) return known;
    const parsed = new Requirement(parseRequirement(text));
    if (PARSED.size >= PARSED_LIMIT) PARSED.clear();
    PARSED.set(text, parsed);
    return parsed;
  }

  /**
   * The normalised text, as packaging's `str(Requirement)` except that extras are printed
   * normalised: `name[extras]specifiers` or `name[extras] @ url `, then `; marker`.
   *
   * @returns The requirement text.
   * @example
   * ```ts
   * import { Requirement } from "./requirement.ts";
   * const r = Requirement.parse("foo [b, A] >= 1.0 , < 2 ;os_name=='nt'");
   * if (r.toString() !== 'foo[a,b]<2,>=1.0; os_name == "nt"') throw new Error(r.toString());
   * ```
   */
  toString(): string {
    let text = this.name;
    if (this.extras.length > 0) text += `[${this.extras.join(",")}]`;
    text += this.specifier.toString();
    if (this.url !== undefined) {
      text += ` @ ${this.url}`;
      if (this.marker !== undefined) text += " ";
    }
    if (this.marker !== undefined) text += `; ${this.marker.toString()}`;
    return text;
  }
}

/** `requirement = WS? IDENTIFIER WS? extras WS? requirement_details END` (packaging's grammar). */
function parseRequirement(source: string): RequirementParts {
  const tokenizer = new Tokenizer(source);
  const fail = (detail: string, column: number = tokenizer.position): never => {
    throw new InvalidRequirementError(detail, { input: source, column });
  };

  tokenizer.take("WS");
  const name = tokenizer.take("IDENTIFIER");
  if (name === undefined) {
    return fail(`Expected a package name at the start, found ${tokenizer.describeHere()}`);
  }
  tokenizer.take("WS");
  const extras = parseExtras(tokenizer, fail);
  tokenizer.take("WS");

  let url: string | undefined;
  let specifier = SpecifierSet.parse("");
  let markerStart: number | undefined;

  if (tokenizer.take("AT") !== undefined) {
    tokenizer.take("WS");
    url = tokenizer.take("URL");
    if (url === undefined) return fail(`Expected a URL after '@'`);
    // The URL runs to the next space, so a `;` right after it belongs to the URL.
    if (tokenizer.peek("END") === undefined) {
      tokenizer.take("WS");
      if (tokenizer.peek("END") === undefined) {
        if (tokenizer.take("SEMICOLON") === undefined) {
          return fail(
            `Expected ';' and a marker after the URL, found ${tokenizer.describeHere()}`,
          );
        }
        markerStart = tokenizer.position;
      }
    }
  } else {
    const specifierStart = tokenizer.position;
    const clauses = parseSpecifier(tokenizer, fail);
    if (clauses.length > 0) {
      try {
        specifier = SpecifierSet.parse(clauses.join(","));
      } catch (error) {
        return fail(
          `Expected a valid version specifier (${
            error instanceof Error ? error.message : String(error)
          })`,
          specifierStart,
        );
      }
    }
    tokenizer.take("WS");
    if (tokenizer.peek("END") === undefined) {
      if (tokenizer.take("SEMICOLON") === undefined) {
        return fail(
          clauses.length > 0
            ? `Expected ',' and another version specifier, or ';' and a marker, found ${tokenizer.describeHere()}`
            : `Expected a version specifier or ';' after the name, found ${tokenizer.describeHere()}`,
        );
      }
      markerStart = tokenizer.position;
    }
  }

  let marker: Marker | undefined;
  if (markerStart !== undefined) {
    try {
      // The marker runs to the end, and its grammar ends with END exactly as the requirement's.
      marker = Marker.parse(source.slice(markerStart));
    } catch (error) {
      if (!(error instanceof InvalidMarkerError)) throw error;
      const suffix = ` at column ${error.column} in marker ${JSON.stringify(error.input)}`;
      const detail = error.message.endsWith(suffix)
        ? error.message.slice(0, -suffix.length)
        : error.message;
      return fail(detail, markerStart + error.column);
    }
  }

  return {
    name,
    extras: [...new Set(extras.map(normalizeName))].sort(),
    specifier,
    url,
    marker,
  };
}

type Fail = (detail: string, column?: number) => never;

/** `extras = ('[' WS? (IDENTIFIER (WS? ',' WS? IDENTIFIER)*)? WS? ']')?` */
function parseExtras(tokenizer: Tokenizer, fail: Fail): string[] {
  const open = tokenizer.position;
  if (tokenizer.take("LEFT_BRACKET") === undefined) return [];
  tokenizer.take("WS");
  const extras: string[] = [];
  const first = tokenizer.take("IDENTIFIER");
  if (first !== undefined) {
    extras.push(first);
    for (;;) {
      tokenizer.take("WS");
      if (tokenizer.peek("IDENTIFIER") !== undefined) fail(`Expected ',' between extra names`);
      if (tokenizer.take("COMMA") === undefined) break;
      tokenizer.take("WS");
      const extra = tokenizer.take("IDENTIFIER");
      if (extra === undefined) {
        fail(`Expected an extra name after ',', found ${tokenizer.describeHere()}`);
      }
      extras.push(extra);
    }
  }
  tokenizer.take("WS");
  if (tokenizer.take("RIGHT_BRACKET") === undefined) {
    fail(
      `Expected ']' to close the extras opened at column ${open}, found ${tokenizer.describeHere()}`,
    );
  }
  return extras;
}

/**
 * `specifier = '(' WS? version_many WS? ')' | WS? version_many WS?` with
 * `version_many = (SPECIFIER (WS? ',' WS? SPECIFIER)*)?`; returns the clauses without spaces.
 */
function parseSpecifier(tokenizer: Tokenizer, fail: Fail): string[] {
  const open = tokenizer.position;
  const parenthesised = tokenizer.take("LEFT_PARENTHESIS") !== undefined;
  tokenizer.take("WS");
  const clauses: string[] = [];
  for (;;) {
    const clause = tokenizer.take("SPECIFIER");
    if (clause === undefined) break;
    // `===` takes no spaces in its version, so removing all whitespace only drops the
    // optional spaces between operator and version.
    clauses.push(clause.replace(/\s+/g, ""));
    if (tokenizer.peek("VERSION_PREFIX_TRAIL") !== undefined) {
      fail(`Expected no '.*' suffix: only == and != take one`, tokenizer.position);
    }
    if (tokenizer.peek("VERSION_LOCAL_LABEL_TRAIL") !== undefined) {
      fail(`Expected no local version label: only == and != take one`, tokenizer.position);
    }
    tokenizer.take("WS");
    if (tokenizer.take("COMMA") === undefined) break;
    tokenizer.take("WS");
  }
  tokenizer.take("WS");
  if (parenthesised && tokenizer.take("RIGHT_PARENTHESIS") === undefined) {
    fail(
      `Expected ')' to close the version specifier opened at column ${open}, found ${tokenizer.describeHere()}`,
    );
  }
  return clauses;
}
