// Private helpers shared by the TOML-based readers (pyproject.toml, pylock.toml, uv.lock):
// parse with smol-toml, then read typed values by a key path that error messages can name.

import { parse, TomlError } from "smol-toml";
import type { TomlFileErrorOptions } from "./toml_file_error.ts";

/** A TOML table as smol-toml returns it. */
export type Table = Record<string, unknown>;

/** A concrete TomlFileError subclass (its constructor), used to build errors for one file. */
export type TomlFileErrorClass<Code extends string> = new (
  message: string,
  options: TomlFileErrorOptions<Code>,
) => Error;

/**
 * Parse a TOML file's text; a syntax error is thrown as `ErrorClass` with code `"toml"` and
 * smol-toml's line and column.
 */
export function parseTomlFile(
  text: string,
  file: string,
  ErrorClass: TomlFileErrorClass<"toml">,
): Table {
  try {
    return parse(text) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0] ?? error.message;
      // smol-toml's message goes on with a code frame; the position says the same in one line.
      throw new ErrorClass(
        `invalid TOML at line ${error.line}, column ${error.column}: ${firstLine}`,
        {
          code: "toml",
          file,
          line: error.line,
          column: error.column,
          cause: error,
        },
      );
    }
    throw new ErrorClass(`invalid TOML: ${(error as Error).message}`, {
      code: "toml",
      file,
      cause: error,
    });
  }
}

/**
 * A {@linkcode Reader} whose errors are `ErrorClass` for `file`, with code `codes.missing` for
 * an absent required key (default: `codes.invalid`) and `codes.invalid` for anything else.
 */
export function fileReader<Code extends string>(
  file: string,
  ErrorClass: TomlFileErrorClass<Code>,
  codes: { readonly invalid: Code; readonly missing?: Code },
): Reader {
  const missing = codes.missing ?? codes.invalid;
  return new Reader((path, problem, cause) =>
    new ErrorClass(`${path} ${problem}`, {
      code: problem === "is missing" ? missing : codes.invalid,
      file,
      cause,
    })
  );
}

/**
 * The file name at the end of a URL or path (query and fragment dropped, percent-decoded when
 * it can be); `""` when the location ends in a separator.
 */
export function lastSegment(location: string): string {
  const bare = location.replace(/[?#].*$/, "");
  const segment = bare.slice(Math.max(bare.lastIndexOf("/"), bare.lastIndexOf("\\")) + 1);
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** True when `value` is a plain table (not an array or a date). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Reads typed values out of a table; `fail(path, problem, cause)` builds the error to throw. */
export class Reader {
  readonly #fail: (path: string, problem: string, cause?: unknown) => Error;

  constructor(fail: (path: string, problem: string, cause?: unknown) => Error) {
    this.#fail = fail;
  }

  fail(path: string, problem: string): Error {
    return this.#fail(path, problem);
  }

  /** `parse(value)`; a failure becomes `<path> is not a valid <what> ("<value>"): <why>`. */
  parse<T>(value: string, path: string, what: string, parse: (value: string) => T): T {
    try {
      return parse(value);
    } catch (error) {
      throw this.#fail(
        path,
        `is not a valid ${what} ("${value}"): ${(error as Error).message}`,
        error,
      );
    }
  }

  string(table: Table, key: string, path: string): string | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw this.#fail(join(path, key), "must be a string");
    return value;
  }

  requiredString(table: Table, key: string, path: string): string {
    const value = this.string(table, key, path);
    if (value === undefined) throw this.#fail(join(path, key), "is missing");
    return value;
  }

  integer(table: Table, key: string, path: string): number | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value === "bigint") return Number(value);
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw this.#fail(join(path, key), "must be a non-negative integer");
    }
    return value;
  }

  boolean(table: Table, key: string, path: string): boolean | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") throw this.#fail(join(path, key), "must be a boolean");
    return value;
  }

  date(table: Table, key: string, path: string): Date | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (value instanceof Date) return value;
    // uv.lock writes upload-time as an RFC 3339 string.
    if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value);
    throw this.#fail(join(path, key), "must be a date-time");
  }

  table(table: Table, key: string, path: string): Table | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (!isTable(value)) throw this.#fail(join(path, key), "must be a table");
    return value;
  }

  array(table: Table, key: string, path: string): unknown[] | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw this.#fail(join(path, key), "must be an array");
    return value;
  }

  strings(table: Table, key: string, path: string): string[] | undefined {
    const value = this.array(table, key, path);
    if (value === undefined) return undefined;
    return value.map((item, i) => {
      if (typeof item !== "string") {
        throw this.#fail(`${join(path, key)}[${i}]`, "must be a string");
      }
      return item;
    });
  }

  tables(table: Table, key: string, path: string): Table[] | undefined {
    const value = this.array(table, key, path);
    if (value === undefined) return undefined;
    return value.map((item, i) => {
      if (!isTable(item)) throw this.#fail(`${join(path, key)}[${i}]`, "must be a table");
      return item;
    });
  }
}

/** `a.b` (or `b` at the top). */
export function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
