/**
 * PEP 508 environment markers: parsing, evaluation against an environment, and a three-valued
 * "can this hold?" check for partially known targets. Semantics follow `packaging.markers`.
 *
 * @module
 */

import {
  type MarkerComparison,
  type MarkerGroup,
  type MarkerNode,
  type MarkerOp,
  type MarkerOperand,
  MarkerParseFailure,
  normalizeExtraName,
  parseMarkerSource,
  quotePython,
  SPECIFIER_PATTERN,
} from "./_marker_parser.ts";
import { Specifier } from "./specifier.ts";
import { Version } from "./version.ts";

/** The eleven PEP 508 environment marker variables, as strings. */
export interface MarkerEnvironment {
  /** `sys.implementation.name`, e.g. `"cpython"`. */
  implementation_name: string;
  /** The implementation's version, e.g. `"3.11.7"` or `"3.13.0rc1"`. */
  implementation_version: string;
  /** `os.name`, e.g. `"posix"` or `"nt"`. */
  os_name: string;
  /** `platform.machine()`, e.g. `"x86_64"`, `"AMD64"`, `"arm64"`. */
  platform_machine: string;
  /** `platform.release()`, e.g. `"6.1.0"`. */
  platform_release: string;
  /** `platform.system()`, e.g. `"Linux"`, `"Windows"`, `"Darwin"`. */
  platform_system: string;
  /** `platform.version()`. */
  platform_version: string;
  /** `platform.python_version()`, e.g. `"3.11.7"`. */
  python_full_version: string;
  /** `platform.python_implementation()`, e.g. `"CPython"`, `"PyPy"`. */
  platform_python_implementation: string;
  /** `major.minor`, e.g. `"3.11"`. */
  python_version: string;
  /** `sys.platform`, e.g. `"linux"`, `"win32"`, `"darwin"`. */
  sys_platform: string;
}

/** Every name a marker can mention (after aliases such as `os.name` are resolved). */
export type MarkerVariable = keyof MarkerEnvironment | "extra" | "dependency_groups" | "extras";

/** Raised by {@link Marker.parse} for text that is not a PEP 508 marker. */
export class InvalidMarkerError extends SyntaxError {
  /** The error class name, for logs and for telling it apart without `instanceof`. */
  override name = "InvalidMarkerError";
  /** Always `"invalid-marker"`. */
  readonly code: "invalid-marker" = "invalid-marker";
  /** The text that failed to parse. */
  readonly input: string;
  /** 0-based column of the problem in {@link InvalidMarkerError.input}. */
  readonly column: number;

  /**
   * Creates the error; the message names the column and the input.
   *
   * @param detail What was expected, e.g. `Expected a marker operator`.
   * @param options The input, the 0-based column and an optional cause.
   */
  constructor(detail: string, options: { input: string; column: number; cause?: unknown }) {
    super(
      `${detail} at column ${options.column} in marker ${JSON.stringify(options.input)}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.input = options.input;
    this.column = options.column;
  }
}

/** Options of {@link Marker.evaluate}. */
export interface MarkerEvaluateOptions {
  /**
   * Requested extras. The marker holds when it holds for `extra` equal to any of them (as pip
   * does); with none, `extra` is `""`. They are also the value of the PEP 751 `extras` set.
   */
  extras?: readonly string[];
  /** The PEP 751 `dependency_groups` set; empty by default. */
  dependencyGroups?: readonly string[];
}

/** Options of {@link Marker.canHold}. */
export interface MarkerCanHoldOptions {
  /**
   * Requested extras as in {@link MarkerEvaluateOptions.extras}, or `"any"` to treat `extra`
   * and `extras` as unknown. Defaults to no extras, like `evaluate`.
   */
  extras?: readonly string[] | "any";
  /** The `dependency_groups` set, or `"any"` for unknown. Defaults to none, like `evaluate`. */
  dependencyGroups?: readonly string[] | "any";
}

const SET_VARIABLES: ReadonlySet<string> = new Set(["extras", "dependency_groups"]);
// packaging's MARKERS_REQUIRING_VERSION: only these try a version comparison.
const VERSION_VARIABLES: ReadonlySet<string> = new Set([
  "implementation_version",
  "platform_release",
  "python_full_version",
  "python_version",
]);
const FULL_SPECIFIER = new RegExp(`^\\s*(?:${SPECIFIER_PATTERN})\\s*$`, "i");

/** A variable's value while evaluating: a string, a set, or unknown (`undefined`). */
type Value = string | ReadonlySet<string> | undefined;
type Lookup = (name: string) => Value;
/** Three-valued truth: `undefined` is "unknown". */
type Tri = boolean | undefined;

/**
 * A parsed PEP 508 environment marker such as `python_version < "3.11" and sys_platform != "win32"`.
 *
 * @example
 * ```ts
 * import { Marker } from "./marker.ts";
 * const m = Marker.parse("python_version >= '3.8' and sys_platform == 'linux'");
 * if (m.toString() !== 'python_version >= "3.8" and sys_platform == "linux"') throw new Error();
 * if (!m.variables.has("sys_platform")) throw new Error();
 * ```
 */
export class Marker {
  readonly #root: MarkerGroup;
  #variables: ReadonlySet<string> | undefined;

  private constructor(root: MarkerGroup) {
    this.#root = root;
  }

  /**
   * Parses marker text as packaging does: `and` binds tighter than `or`, parentheses group,
   * strings take single or double quotes, and `os.name`-style and `python_implementation`
   * aliases are accepted.
   *
   * @param text The marker, e.g. `sys_platform == "win32" or extra == "gui"`.
   * @returns The parsed marker.
   * @throws {InvalidMarkerError} When the text is not a marker; `column` points at the problem.
   * @example
   * ```ts
   * import { InvalidMarkerError, Marker } from "./marker.ts";
   * try {
   *   Marker.parse("python_version >> '3'");
   *   throw new Error("should not parse");
   * } catch (e) {
   *   if (!(e instanceof InvalidMarkerError) || e.column !== 16) throw e;
   * }
   * ```
   */
  static parse(text: string): Marker {
    try {
      return new Marker(parseMarkerSource(text));
    } catch (error) {
      if (error instanceof MarkerParseFailure) {
        throw new InvalidMarkerError(error.message, { input: text, column: error.column });
      }
      throw error;
    }
  }

  /**
   * A marker that holds when both hold; printed like packaging's `a & b`, with parentheses
   * around a side that has more than one comparison.
   *
   * @param other The other marker.
   * @returns The conjunction.
   * @example
   * ```ts
   * import { Marker } from "./marker.ts";
   * const m = Marker.parse("os_name == 'nt' or os_name == 'posix'")
   *   .and(Marker.parse("python_version < '3.9'"));
   * if (m.toString() !== '(os_name == "nt" or os_name == "posix") and python_version < "3.9"') {
   *   throw new Error(m.toString());
   * }
   * ```
   */
  and(other: Marker): Marker {
    return new Marker({ kind: "group", items: [this.#root, other.#root], ops: ["and"] });
  }

  /**
   * A marker that holds when either holds; printed like packaging's `a | b`, with parentheses
   * around a side that has more than one comparison.
   *
   * @param other The other marker.
   * @returns The disjunction.
   * @example
   * ```ts
   * import { Marker } from "./marker.ts";
   * const m = Marker.parse("os_name == 'nt'").or(Marker.parse("os_name == 'posix'"));
   * if (m.toString() !== 'os_name == "nt" or os_name == "posix"') throw new Error(m.toString());
   * ```
   */
  or(other: Marker): Marker {
    return new Marker({ kind: "group", items: [this.#root, other.#root], ops: ["or"] });
  }

  /**
   * Evaluates the marker in a complete environment.
   *
   * Comparisons of `python_version`, `python_full_version`, `implementation_version` and
   * `platform_release` are PEP 440 comparisons when the operator and the right-hand side form a
   * valid specifier (pre-releases included), else string comparisons; `extra` compares
   * normalised names. Where packaging would raise `UndefinedComparison` (e.g. `os_name ~= "x"`)
   * the comparison is false.
   *
   * @param env The environment.
   * @param options Requested extras and dependency groups.
   * @returns Whether the marker holds.
   * @throws Never.
   * @example
   * ```ts
   * import { Marker, type MarkerEnvironment } from "./marker.ts";
   * const env: MarkerEnvironment = {
   *   implementation_name: "cpython", implementation_version: "3.11.7", os_name: "posix",
   *   platform_machine: "x86_64", platform_release: "6.1.0", platform_system: "Linux",
   *   platform_version: "#1 SMP", python_full_version: "3.11.7",
   *   platform_python_implementation: "CPython", python_version: "3.11", sys_platform: "linux",
   * };
   * if (!Marker.parse("python_version >= '3.8'").evaluate(env)) throw new Error();
   * if (Marker.parse("'3.12' <= python_version").evaluate(env)) throw new Error();
   * if (!Marker.parse("extra == 'Socks'").evaluate(env, { extras: ["socks"] })) throw new Error();
   * ```
   */
  evaluate(env: MarkerEnvironment, options: MarkerEvaluateOptions = {}): boolean {
    const extras = (options.extras ?? []).map(normalizeExtraName);
    const groups = new Set((options.dependencyGroups ?? []).map(normalizeExtraName));
    const extraSet = new Set(extras);
    const candidates = extras.length === 0 ? [""] : extras;
    return candidates.some((extra) => {
      const lookup: Lookup = (name) => {
        if (name === "extra") return extra;
        if (name === "extras") return extraSet;
        if (name === "dependency_groups") return groups;
        return environmentValue(env, name);
      };
      return evaluateGroup(this.#root, lookup) === true;
    });
  }

  /**
   * Tells whether the marker may hold when only some variables are known, e.g. for a target
   * whose platform is fixed but whose other values are not. Unknown variables can take any
   * value; the answer is false only when no choice of them makes the marker hold. Each
   * comparison is true, false or unknown and `and`/`or` follow three-valued logic, so the check
   * is conservative: it may say true for a marker that is in fact unsatisfiable
   * (`python_version < "3" and python_version >= "3"` with an unknown Python).
   *
   * @param env The known variables.
   * @param options Requested extras (or `"any"`), dependency groups (or `"any"`).
   * @returns False when the marker can never hold under `env`.
   * @throws Never.
   * @example
   * ```ts
   * import { Marker } from "./marker.ts";
   * const m = Marker.parse("sys_platform == 'win32' and python_version < '3.9'");
   * if (m.canHold({ sys_platform: "linux" })) throw new Error("linux never matches");
   * if (!m.canHold({ sys_platform: "win32" })) throw new Error("python is unknown");
   * if (!Marker.parse("extra == 'gui'").canHold({}, { extras: "any" })) throw new Error();
   * ```
   */
  canHold(env: Partial<MarkerEnvironment>, options: MarkerCanHoldOptions = {}): boolean {
    const extrasOption = options.extras ?? [];
    const groupsOption = options.dependencyGroups ?? [];
    const groups = groupsOption === "any"
      ? undefined
      : new Set(groupsOption.map(normalizeExtraName));
    const extras = extrasOption === "any" ? undefined : extrasOption.map(normalizeExtraName);
    const extraSet = extras === undefined ? undefined : new Set(extras);
    const candidates: (string | undefined)[] = extras === undefined
      ? [undefined]
      : extras.length === 0
      ? [""]
      : extras;
    return candidates.some((extra) => {
      const lookup: Lookup = (name) => {
        if (name === "extra") return extra;
        if (name === "extras") return extraSet;
        if (name === "dependency_groups") return groups;
        return environmentValue(env, name);
      };
      return evaluateGroup(this.#root, lookup) !== false;
    });
  }

  /**
   * The variables the marker mentions, by their PEP 508 names (`os.name` is `os_name`,
   * `python_implementation` is `platform_python_implementation`).
   *
   * @example
   * ```ts
   * import { Marker } from "./marker.ts";
   * const names = [...Marker.parse("os.name == 'nt' or extra == 'x'").variables].sort();
   * if (names.join() !== "extra,os_name") throw new Error();
   * ```
   */
  get variables(): ReadonlySet<string> {
    if (this.#variables === undefined) {
      const names = new Set<string>();
      collectVariables(this.#root, names);
      this.#variables = names;
    }
    return this.#variables;
  }

  /**
   * The normalised text, as packaging's `str(Marker)`: single spaces, double quotes, canonical
   * variable names, normalised `extra` values, the user's parentheses (minus outer ones).
   * Values holding quotes or backslashes use single quotes or escapes so the text parses back.
   *
   * @returns The marker text.
   * @example
   * ```ts
   * import { Marker } from "./marker.ts";
   * const m = Marker.parse("(os.name=='nt' or extra=='Foo_Bar')");
   * if (m.toString() !== 'os_name == "nt" or extra == "foo-bar"') throw new Error(m.toString());
   * ```
   */
  toString(): string {
    return formatNode(this.#root, true);
  }
}

function environmentValue(env: Partial<MarkerEnvironment>, name: string): string | undefined {
  const value = (env as Partial<Record<string, string>>)[name];
  // packaging's _repair_python_full_version: non-tagged builds report e.g. "3.13.0+".
  if (name === "python_full_version" && value !== undefined && value.endsWith("+")) {
    return `${value}local`;
  }
  return value;
}

function evaluateNode(node: MarkerNode, lookup: Lookup): Tri {
  return node.kind === "group" ? evaluateGroup(node, lookup) : evaluateComparison(node, lookup);
}

/** `a and b or c`: an `or` of `and` runs, in three-valued logic. */
function evaluateGroup(group: MarkerGroup, lookup: Lookup): Tri {
  let anyUnknown = false;
  let run: Tri = true;
  for (let i = 0; i < group.items.length; i++) {
    if (run !== false) {
      const value = evaluateNode(group.items[i]!, lookup);
      if (value === false) run = false;
      else if (value === undefined) run = undefined;
    }
    const endOfRun = i === group.items.length - 1 || group.ops[i] === "or";
    if (endOfRun) {
      if (run === true) return true;
      if (run === undefined) anyUnknown = true;
      run = true;
    }
  }
  return anyUnknown ? undefined : false;
}

function evaluateComparison(comparison: MarkerComparison, lookup: Lookup): Tri {
  const { left, op, right } = comparison;
  if (left.kind === "variable") {
    const lhs = lookup(left.name);
    // packaging reads a variable on the right of a variable as its own name, literally.
    const rhs = right.kind === "variable" ? right.name : right.value;
    return lhs === undefined ? undefined : compare(left.name, op, lhs, rhs);
  }
  if (right.kind === "variable") {
    const rhs = lookup(right.name);
    return rhs === undefined ? undefined : compare(right.name, op, left.value, rhs);
  }
  // Two quoted strings name no variable; packaging fails with KeyError, uv evaluates to false.
  return false;
}

function compare(
  key: string,
  op: MarkerOp,
  lhs: string | ReadonlySet<string>,
  rhs: string | ReadonlySet<string>,
): boolean {
  if (typeof lhs !== "string") return false; // packaging asserts: a set on the left is an error
  if (typeof rhs !== "string") {
    // PEP 751 `extras` / `dependency_groups`: membership of a normalised name.
    const has = rhs.has(normalizeExtraName(lhs));
    return op === "in" ? has : op === "not in" ? !has : op === "!=";
  }
  if (SET_VARIABLES.has(key)) {
    // A set variable read literally (variable on both sides): compare normalised strings.
    return compareStrings(op, normalizeExtraName(lhs), normalizeExtraName(rhs));
  }
  if (VERSION_VARIABLES.has(key)) {
    const result = compareVersions(op, lhs, rhs);
    if (result !== undefined) return result;
  }
  return compareStrings(op, lhs, rhs);
}

/** packaging's `_operators`: outside version comparisons, `<`/`>` never hold and `<=`/`>=` mean equal. */
function compareStrings(op: MarkerOp, lhs: string, rhs: string): boolean {
  switch (op) {
    case "in":
      return rhs.includes(lhs);
    case "not in":
      return !rhs.includes(lhs);
    case "==":
    case "<=":
    case ">=":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
    case "<":
    case ">":
      return false;
    case "~=":
    case "===":
      return false; // packaging: UndefinedComparison
  }
}

const specifierCache = new Map<string, Specifier | null>();

/** `Specifier(op + rhs).contains(lhs, prereleases=True)`, or undefined when that is no specifier. */
function compareVersions(op: MarkerOp, lhs: string, rhs: string): boolean | undefined {
  const text = op + rhs;
  if (!FULL_SPECIFIER.test(text)) return undefined;
  if (op === "===") {
    // Arbitrary equality compares the strings case-insensitively, parsed or not.
    return lhs.toLowerCase() === text.trim().slice(3).trim().toLowerCase();
  }
  let specifier = specifierCache.get(text);
  if (specifier === undefined) {
    try {
      specifier = Specifier.parse(text.trim());
    } catch {
      specifier = null;
    }
    if (specifierCache.size >= 4096) specifierCache.clear();
    specifierCache.set(text, specifier);
  }
  if (specifier === null) return undefined;
  const version = Version.tryParse(lhs);
  return version === undefined ? false : specifier.contains(version, { prereleases: true });
}

function collectVariables(node: MarkerNode, names: Set<string>): void {
  if (node.kind === "group") {
    for (const item of node.items) collectVariables(item, names);
    return;
  }
  if (node.left.kind === "variable") names.add(node.left.name);
  if (node.right.kind === "variable") names.add(node.right.name);
}

/** packaging's `_format_marker`. */
function formatNode(node: MarkerNode, first: boolean): string {
  if (node.kind === "compare") {
    return `${formatOperand(node.left)} ${node.op} ${formatOperand(node.right)}`;
  }
  // A group of one item prints as that item. packaging's _format_marker resets `first` here,
  // which drops needed parentheses: `((a or b)) and c` would print as `a or b and c`, a different
  // marker. Keeping `first` keeps the meaning (printing must round-trip).
  if (node.items.length === 1) return formatNode(node.items[0]!, first);
  const parts: string[] = [];
  node.items.forEach((item, i) => {
    if (i > 0) parts.push(node.ops[i - 1]!);
    parts.push(formatNode(item, false));
  });
  return first ? parts.join(" ") : `(${parts.join(" ")})`;
}

function formatOperand(operand: MarkerOperand): string {
  return operand.kind === "variable" ? operand.name : quotePython(operand.value);
}
