// Private to the marker algebra (marker_set.ts): the exact set of environments of one PEP 508
// comparison, as a decision-diagram node, following what marker.ts evaluates (packaging >= 22).
// Never re-exported.
//
// How each comparison becomes a set:
// - version-like variables with a valid specifier (`python_full_version >= "3.8"`): version
//   ranges, exactly as Specifier.contains with pre-releases admitted; `===` compares strings
//   (case-insensitively), so it becomes the finite set of case variants of its text.
// - everything else compares strings: `==` (and, per packaging, `<=`/`>=`) is one exact string,
//   `!=` all others, `<`/`>`/`~=`/`===` nothing, `X in "text"` the substrings of the text (an
//   opaque test when the text is long); `"text" in X` is an opaque test.
// - `python_version` is read as the major.minor of `python_full_version` (as on every real
//   interpreter) and becomes a set of full versions: `python_version > "3.11"` is
//   `python_full_version >= "3.12.dev0"`. With a string on the left it is still exact, since
//   python_version values are two-component final versions.
// - a version variable with a string on its left (`"3.8" < python_full_version`) turns the
//   environment's value into the specifier, which depends on how the value is spelled (local
//   labels, whitespace), so it is an opaque test of the value.

import {
  type MarkerComparison,
  type MarkerGroup,
  type MarkerNode,
  type MarkerOp,
  normalizeExtraName,
  quotePython,
  SPECIFIER_PATTERN,
} from "./_marker_parser.ts";
import {
  and,
  FALSE,
  memberLevel,
  mkBit,
  mkValue,
  type Node,
  not,
  or,
  testLevel,
  TRUE,
  type ValueLevel,
  valueLevel,
  type ValueVariable,
  versionKeyOf,
} from "./_marker_dd.ts";
import {
  type Cut,
  type Interval,
  minorInterval,
  pullBack,
  pythonVersionKey,
  pythonVersionOf,
  reversedPythonVersion,
  specifierIntervals,
} from "./_marker_range.ts";
import type { VersionKey } from "./_version_key.ts";
import { Marker, type MarkerEnvironment } from "./marker.ts";
import { Specifier } from "./specifier.ts";

/** marker.ts's test of whether `op + value` is a specifier (packaging's own regex). */
export const FULL_SPECIFIER: RegExp = new RegExp(`^\\s*(?:${SPECIFIER_PATTERN})\\s*$`, "i");

const VERSION_VARIABLES: ReadonlySet<string> = new Set([
  "python_full_version",
  "implementation_version",
  "platform_release",
]);

/** Names a marker variable can have, which print bare on the right of `extra`. */
const VARIABLE_NAMES: ReadonlySet<string> = new Set([
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
  "extras",
  "dependency_groups",
]);

const MAX_CASE_VARIANTS = 64;
/** Longer literals of `X in "..."` are opaque tests rather than sets of their substrings. */
const MAX_SUBSTRING_LITERAL = 128;

/** The set of a whole marker expression: an `or` of `and` runs. */
export function groupNode(group: MarkerGroup): Node {
  let result: Node = FALSE;
  let run: Node = TRUE;
  group.items.forEach((item, i) => {
    run = and(run, nodeOf(item));
    if (i === group.items.length - 1 || group.ops[i] === "or") {
      result = or(result, run);
      run = TRUE;
    }
  });
  return result;
}

function nodeOf(node: MarkerNode): Node {
  return node.kind === "group" ? groupNode(node) : comparisonNode(node);
}

const atomCache = new Map<string, Node>();

/** The set of one comparison. */
function comparisonNode(comparison: MarkerComparison): Node {
  const { left, op, right } = comparison;
  const key = JSON.stringify([left.kind, left.kind === "variable" ? left.name : left.value, op]) +
    JSON.stringify([right.kind, right.kind === "variable" ? right.name : right.value]);
  let node = atomCache.get(key);
  if (node === undefined) {
    if (left.kind === "variable") {
      // A variable on the right of a variable is read as its own name, as packaging does.
      node = leftVariable(left.name, op, right.kind === "variable" ? right.name : right.value);
    } else if (right.kind === "variable") {
      node = rightVariable(right.name, op, left.value);
    } else {
      node = FALSE; // two strings name no variable: packaging fails, marker.ts says false
    }
    if (atomCache.size >= 16384) atomCache.clear();
    atomCache.set(key, node);
  }
  return node;
}

/** `variable op "literal"`. */
function leftVariable(variable: string, op: MarkerOp, literal: string): Node {
  if (variable === "extras" || variable === "dependency_groups") return FALSE; // a set on the left
  if (variable === "python_version") return pythonVersionLeft(op, literal);
  const level = valueLevel(variable as ValueVariable);
  if (VERSION_VARIABLES.has(variable)) {
    const text = op + literal;
    if (FULL_SPECIFIER.test(text)) {
      if (op === "===") {
        const target = text.trim().slice(3).trim().toLowerCase();
        const variants = caseVariants(target);
        if (variants !== undefined) return exactly(level, variants);
        return opaque(level, `${variable} === ${quotePython(literal)}`, undefined, true);
      }
      const spec = specifierOf(text.trim());
      if (spec !== undefined) {
        return fromIntervals(level, specifierIntervals(spec.operator, spec.version));
      }
    }
  }
  return stringLeft(level, op, literal);
}

/** `"literal" op variable`. */
function rightVariable(variable: string, op: MarkerOp, literal: string): Node {
  if (variable === "extras" || variable === "dependency_groups") {
    // PEP 751 sets: membership of a normalised name.
    const name = normalizeExtraName(literal);
    const bit = mkBit(memberLevel(variable, name, quotePython(name)), FALSE, TRUE);
    return op === "in" ? bit : op === "not in" ? not(bit) : op === "!=" ? TRUE : FALSE;
  }
  if (variable === "python_version") return pythonVersionRight(op, literal);
  const level = valueLevel(variable as ValueVariable);
  if (op === "in" || op === "not in" || !VERSION_VARIABLES.has(variable)) {
    return stringRight(level, op, literal);
  }
  if (versionKeyOf(literal) === undefined) {
    // A literal that is no version never satisfies a specifier made of the value, so only
    // packaging's string fallback (when the value makes no specifier) can hold.
    if (op === "<" || op === ">" || op === "~=") return FALSE;
    if (op === "==" || op === "<=" || op === ">=") {
      return isSpecifier(op + literal) ? FALSE : exactly(level, [literal]);
    }
  }
  return opaque(level, `${quotePython(literal)} ${op} ${variable}`, undefined, true);
}

/** packaging's string comparisons with the variable on the left. */
function stringLeft(level: ValueLevel, op: MarkerOp, literal: string): Node {
  switch (op) {
    case "==":
    case "<=":
    case ">=":
      return exactly(level, [literal]);
    case "!=":
      return not(exactly(level, [literal]));
    case "in":
    case "not in": {
      // The value is one of the literal's substrings: a finite set, when the literal is short.
      if (literal.length <= MAX_SUBSTRING_LITERAL) {
        const set = exactly(level, [...allSubstrings(literal)]);
        return op === "in" ? set : not(set);
      }
      const operand = operandText(level.variable, literal);
      const bit = mkBit(
        testLevel(
          level.variable,
          `${level.variable} in ${operand ?? quotePython(literal)}`,
          `${level.variable} not in ${operand ?? quotePython(literal)}`,
          (value) => literal.includes(value),
          operand !== undefined,
        ),
        FALSE,
        TRUE,
      );
      return op === "in" ? bit : not(bit);
    }
    default:
      return FALSE; // `<` and `>` never hold on strings; `~=`, `===` are UndefinedComparison
  }
}

/** packaging's string comparisons with the variable on the right. */
function stringRight(level: ValueLevel, op: MarkerOp, literal: string): Node {
  switch (op) {
    case "==":
    case "<=":
    case ">=":
      return exactly(level, [literal]);
    case "!=":
      return not(exactly(level, [literal]));
    case "in":
    case "not in": {
      if (literal === "") return op === "in" ? TRUE : FALSE;
      const bit = mkBit(
        testLevel(
          level.variable,
          `${quotePython(literal)} in ${level.variable}`,
          `${quotePython(literal)} not in ${level.variable}`,
          (value) => value.includes(literal),
        ),
        FALSE,
        TRUE,
      );
      return op === "in" ? bit : not(bit);
    }
    default:
      return FALSE;
  }
}

/** `python_version op "literal"`, as a set of full versions. */
function pythonVersionLeft(op: MarkerOp, literal: string): Node {
  const text = op + literal;
  if (FULL_SPECIFIER.test(text)) {
    if (op === "===") return minor(text.trim().slice(3).trim().toLowerCase());
    const spec = specifierOf(text.trim());
    if (spec !== undefined) {
      return fullVersions(pullBack(specifierIntervals(spec.operator, spec.version)));
    }
  }
  switch (op) {
    case "==":
    case "<=":
    case ">=":
      return minor(literal);
    case "!=":
      return not(minor(literal));
    case "in":
    case "not in": {
      // python_version values are "M.m": the substrings of the literal of that form.
      let result: Node = FALSE;
      for (const part of substrings(literal)) result = or(result, minor(part));
      return op === "in" ? result : not(result);
    }
    default:
      return FALSE;
  }
}

/** `"literal" op python_version`, as a set of full versions. */
function pythonVersionRight(op: MarkerOp, literal: string): Node {
  if (op === "in" || op === "not in") {
    if (literal === "") return op === "in" ? TRUE : FALSE;
    const bit = mkBit(
      testLevel(
        "python_full_version",
        `${quotePython(literal)} in python_version`,
        `${quotePython(literal)} not in python_version`,
        (full) => pythonVersionOf(fullVersionKey(full)).includes(literal),
      ),
      FALSE,
      TRUE,
    );
    return op === "in" ? bit : not(bit);
  }
  // Every python_version value makes a valid specifier with any operator.
  if (op === "===") return minor(literal.toLowerCase());
  const key = versionKeyOf(literal);
  if (key === undefined) return FALSE;
  return fullVersions(reversedPythonVersion(op, key)!);
}

function fullVersionKey(full: string): VersionKey {
  const key = versionKeyOf(full);
  if (key === undefined) {
    throw new RangeError(`python_full_version ${JSON.stringify(full)} is no PEP 440 version`);
  }
  return key;
}

/** The full versions whose python_version is `text`, when it is one. */
function minor(text: string): Node {
  const key = pythonVersionKey(text);
  return key === undefined ? FALSE : fullVersions([minorInterval(key)]);
}

function fullVersions(intervals: readonly Interval[]): Node {
  return fromIntervals(valueLevel("python_full_version"), intervals);
}

/** The versions in `intervals` (sorted, disjoint); strings that are no version are out. */
function fromIntervals(level: ValueLevel, intervals: readonly Interval[]): Node {
  const cuts: Cut[] = [];
  const segs: Node[] = [FALSE];
  for (const [lo, hi] of intervals) {
    if (lo === null) segs[0] = TRUE;
    else if (cuts[cuts.length - 1] === lo && segs[segs.length - 1] === FALSE) {
      cuts.pop(); // touching the previous interval
      segs.pop();
    } else {
      cuts.push(lo);
      segs.push(TRUE);
    }
    if (hi !== null) {
      cuts.push(hi);
      segs.push(FALSE);
    }
  }
  return mkValue(level, cuts, segs, FALSE, []);
}

/** The set of the given exact strings. */
function exactly(level: ValueLevel, values: readonly string[]): Node {
  return mkValue(level, [], [FALSE], FALSE, values.map((v) => [v, TRUE] as const));
}

const BLANK: MarkerEnvironment = {
  implementation_name: "",
  implementation_version: "",
  os_name: "",
  platform_machine: "",
  platform_release: "",
  platform_system: "",
  platform_version: "",
  python_full_version: "",
  platform_python_implementation: "",
  python_version: "",
  sys_platform: "",
};

/** An opaque test of one variable, decided by marker.ts itself on the given value. */
function opaque(
  level: ValueLevel,
  text: string,
  negation: string | undefined,
  printable: boolean,
): Node {
  const marker = Marker.parse(text);
  const variable = level.variable;
  const test = (value: string): boolean => marker.evaluate({ ...BLANK, [variable]: value });
  return mkBit(testLevel(variable, text, negation, test, printable), FALSE, TRUE);
}

function specifierOf(text: string): Specifier | undefined {
  try {
    return Specifier.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether marker.ts compares `op + value` as a specifier (else as strings). */
export function isSpecifier(text: string): boolean {
  return FULL_SPECIFIER.test(text) && (text.trim().startsWith("===") || !!specifierOf(text.trim()));
}

/**
 * Every string whose `toLowerCase()` is `target`, when `target` is ASCII and they are few: an
 * ASCII letter's upper case, and for "k" also the Kelvin sign (the only non-ASCII code point
 * whose lower case is ASCII).
 */
export function caseVariants(target: string): string[] | undefined {
  // deno-lint-ignore no-control-regex
  if (!/^[\x00-\x7f]*$/.test(target)) return undefined;
  let out = [""];
  for (const ch of target) {
    const options = ch >= "a" && ch <= "z"
      ? (ch === "k" ? [ch, "K", "\u212a"] : [ch, ch.toUpperCase()])
      : [ch];
    if (out.length * options.length > MAX_CASE_VARIANTS) return undefined;
    out = out.flatMap((prefix) => options.map((o) => prefix + o));
  }
  return out;
}

/** Every substring (by UTF-16 unit, as `String.prototype.includes`), the empty one included. */
export function allSubstrings(text: string): Set<string> {
  const out = new Set<string>([""]);
  for (let i = 0; i < text.length; i++) {
    for (let j = i + 1; j <= text.length; j++) out.add(text.slice(i, j));
  }
  return out;
}

/** Substrings of the form `[E!]M.m` (python_version values). */
function substrings(text: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    if (!(text[i]! >= "0" && text[i]! <= "9")) continue;
    for (let j = i + 3; j <= text.length; j++) {
      const part = text.slice(i, j);
      if (pythonVersionKey(part) !== undefined) out.add(part);
    }
  }
  return out;
}

/**
 * How a literal compared with `variable` prints so that it parses back to itself: the parser
 * normalises strings compared with `extra`, so others must be written as a variable name (which
 * packaging reads as that name), or cannot be written at all (`undefined`).
 */
export function operandText(variable: string, literal: string): string | undefined {
  if (variable !== "extra" || normalizeExtraName(literal) === literal) return quotePython(literal);
  return VARIABLE_NAMES.has(literal) ? literal : undefined;
}
