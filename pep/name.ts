/**
 * Project names: PEP 503 normalisation and the core-metadata `Name` grammar.
 *
 * @module
 */

// PEP 503: "the name should be lowercased with all runs of the characters ., -, or _ replaced
// with a single - character".
const SEPARATOR_RUNS = /[-_.]+/g;
// Core metadata spec, `Name` field: ASCII letters and digits, with `.`, `_`, `-` allowed inside.
const VALID_NAME = /^(?:[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/**
 * Normalises a project or extra name as PEP 503 does: lower-cased, and every run of `-`, `_`
 * and `.` replaced by a single `-`.
 *
 * The name is not validated first; use {@link isValidName} for that.
 *
 * @param name The name as written, e.g. `"Foo.Bar__baz"`.
 * @returns The normalised name, e.g. `"foo-bar-baz"`.
 * @throws Never.
 * @example
 * ```ts
 * import { normalizeName } from "./name.ts";
 * if (normalizeName("Foo.Bar__baz") !== "foo-bar-baz") throw new Error("not normalised");
 * if (normalizeName("oslo.concurrency") !== "oslo-concurrency") throw new Error("not normalised");
 * ```
 */
export function normalizeName(name: string): string {
  return name.replace(SEPARATOR_RUNS, "-").toLowerCase();
}

/**
 * Tells whether a string is a valid project name per the core metadata specification: ASCII
 * letters and digits, with `.`, `_` and `-` allowed between them (not at either end).
 *
 * @param name The name to check.
 * @returns `true` when the name is valid.
 * @throws Never.
 * @example
 * ```ts
 * import { isValidName } from "./name.ts";
 * if (!isValidName("zope.interface")) throw new Error("should be valid");
 * if (isValidName("-leading-dash")) throw new Error("should be invalid");
 * ```
 */
export function isValidName(name: string): boolean {
  return VALID_NAME.test(name);
}
