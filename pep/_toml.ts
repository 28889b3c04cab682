// Private helpers shared by the TOML-based readers (pyproject.toml, pylock.toml, uv.lock):
// parse with smol-toml, then read typed values by a key path that error messages can name.

import { parse, TomlError } from "smol-toml";

/** A TOML table as smol-toml returns it. */
export type Table = Record<string, unknown>;

/** Where and why a TOML document was rejected. */
export interface TomlProblem {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly cause?: unknown;
}

/** Parse TOML; a syntax error becomes a TomlProblem with smol-toml's line and column. */
export function parseToml(
  text: string,
): { ok: true; table: Table } | { ok: false; problem: TomlProblem } {
  try {
    return { ok: true, table: parse(text) as Table };
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0] ?? error.message;
      return {
        ok: false,
        problem: {
          message: `invalid TOML: ${firstLine}`,
          line: error.line,
          column: error.column,
          cause: error,
        },
      };
    }
    return {
      ok: false,
      problem: { message: `invalid TOML: ${(error as Error).message}`, cause: error },
    };
  }
}

/** True when `value` is a plain table (not an array or a date). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Reads typed values out of a table; `fail(path, problem)` builds the error to throw. */
export class Reader {
  readonly #fail: (path: string, problem: string) => Error;

  constructor(fail: (path: string, problem: string) => Error) {
    this.#fail = fail;
  }

  fail(path: string, problem: string): Error {
    return this.#fail(path, problem);
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
