/**
 * PEP 508 markers as exact sets of environments: intersection, union, complement, emptiness,
 * implication and equality decided on the sets, not on the text, and printed back as marker
 * text. Semantics are those of {@link Marker.evaluate} (packaging's).
 *
 * A set is a reduced ordered decision diagram whose nodes are interned, so equal sets are the
 * same diagram and {@link MarkerSet.equals} is a comparison of identities. Version-like
 * variables branch on ranges of PEP 440 versions (bounds exactly as specifiers draw them,
 * pre-releases included), string variables on exact strings, and `extra` and the PEP 751 sets
 * `extras` and `dependency_groups` are variables of their own.
 *
 * Modelling choices, each exact for the environments it describes:
 * - `python_version` is the major.minor of `python_full_version`, as on every interpreter, so
 *   `python_version > "3.11"` and `python_full_version >= "3.12.dev0"` are one set and
 *   {@link MarkerSet.evaluate} reads `python_full_version` only. It must be a valid version.
 * - the environment's `extra` and the `extras` set are independent variables; evaluation
 *   tries each requested extra, as {@link Marker.evaluate} does.
 *
 * Where the algebra is only conservative: a variable compared with a string on its *left*
 * (`"arm" in platform_machine`; `"3.8" < python_full_version`, whose meaning depends on how the
 * value is spelled, as packaging then makes the value the specifier), and `X in "text"` with a
 * text over 128 characters, are opaque tests. They are decided exactly on every environment and
 * wherever a set fixes the variable to exact strings, but relations between two of them are not
 * used: `"ab" in os_name and "b" not in os_name` is empty, yet {@link MarkerSet.isEmpty} says
 * false, and two such sets may be equal without {@link MarkerSet.equals} knowing. Everything
 * else is exact: ranges, `===`, `~=`, wildcards, `X in "text"` (the text's substrings), string
 * equality, and reversed `python_version` comparisons (its values are two-component finals).
 *
 * @example
 * ```ts
 * import { MarkerSet } from "./marker_set.ts";
 * const a = MarkerSet.parse("python_version >= '3.8'");
 * if (!a.union(MarkerSet.parse("python_version < '3.8'")).isUniversal) throw new Error();
 * const b = MarkerSet.parse("python_full_version < '3.11.3'")
 *   .intersect(MarkerSet.parse("python_version == '3.11'"));
 * if (b.toString() !== 'python_version >= "3.11" and python_full_version < "3.11.3"') {
 *   throw new Error(b.toString());
 * }
 * ```
 *
 * @module
 */

import { groupNode } from "./_marker_atoms.ts";
import {
  and,
  type Assignment,
  evaluate,
  FALSE,
  implies,
  type Node,
  not,
  or,
  restrict,
  simplify,
  TRUE,
} from "./_marker_dd.ts";
import {
  type MarkerGroup,
  MarkerParseFailure,
  normalizeExtraName,
  parseMarkerSource,
  quotePython,
} from "./_marker_parser.ts";
import { printNode } from "./_marker_print.ts";
import {
  InvalidMarkerError,
  Marker,
  type MarkerEnvironment,
  type MarkerEvaluateOptions,
} from "./marker.ts";
import { Version } from "./version.ts";

/**
 * Variables to fix with {@link MarkerSet.restrict}: environment values, the `extra` value, and
 * the members of `extras` and `dependency_groups`. `python_version` is not among them: fix
 * `python_full_version`, of which it is a part.
 */
export interface MarkerSetRestriction extends Partial<Omit<MarkerEnvironment, "python_version">> {
  /** The value of `extra` (normalised, as evaluation does). */
  extra?: string;
  /** The whole `extras` set. */
  extras?: readonly string[];
  /** The whole `dependency_groups` set. */
  dependencyGroups?: readonly string[];
}

const ENV_VARIABLES = [
  "python_full_version",
  "implementation_version",
  "platform_release",
  "sys_platform",
  "platform_system",
  "os_name",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "platform_version",
] as const;

/**
 * A set of environments described by PEP 508 markers, with exact set operations.
 *
 * @example
 * ```ts
 * import { MarkerSet } from "./marker_set.ts";
 * const linux = MarkerSet.parse("sys_platform == 'linux'");
 * const windows = MarkerSet.parse("sys_platform == 'win32'");
 * if (!linux.intersect(windows).isEmpty) throw new Error("one platform at a time");
 * if (!linux.implies(windows.negate())) throw new Error();
 * ```
 */
export class MarkerSet {
  /** Every environment: the set of an absent marker. */
  static readonly ALWAYS: MarkerSet = new MarkerSet(TRUE);
  /** No environment. */
  static readonly NEVER: MarkerSet = new MarkerSet(FALSE);

  readonly #node: Node;
  #printed: { text: string; exact: boolean } | undefined;

  private constructor(node: Node) {
    this.#node = node;
  }

  static #of(node: Node): MarkerSet {
    return node === TRUE
      ? MarkerSet.ALWAYS
      : node === FALSE
      ? MarkerSet.NEVER
      : new MarkerSet(node);
  }

  /**
   * Parses marker text into its set; blank text is {@link MarkerSet.ALWAYS}, as an absent
   * marker.
   *
   * @param text The marker, e.g. `python_version >= "3.8" and sys_platform != "win32"`.
   * @returns The set of environments where it holds.
   * @throws {InvalidMarkerError} When the text is not a marker.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const set = MarkerSet.parse("'3.8' <= python_version and python_version < '3.10'");
   * if (set.toString() !== 'python_version >= "3.8" and python_version < "3.10"') {
   *   throw new Error(set.toString());
   * }
   * if (!MarkerSet.parse("  ").isUniversal) throw new Error();
   * ```
   */
  static parse(text: string): MarkerSet {
    if (text.trim() === "") return MarkerSet.ALWAYS;
    let group: MarkerGroup;
    try {
      group = parseMarkerSource(text);
    } catch (error) {
      if (error instanceof MarkerParseFailure) {
        throw new InvalidMarkerError(error.message, { input: text, column: error.column });
      }
      throw error;
    }
    return MarkerSet.#of(groupNode(group));
  }

  /**
   * The environments where each given variable has the given value (the others are free): a
   * target's platform, say, with its Python left open.
   *
   * @param values Variable values, as a {@link MarkerEnvironment} holds them.
   * @returns The set; universal when no value is given.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const linux = MarkerSet.where({ sys_platform: "linux", platform_machine: "x86_64" });
   * if (!linux.implies(MarkerSet.parse("sys_platform == 'linux'"))) throw new Error();
   * if (linux.isDisjoint(MarkerSet.parse("python_version == '3.12'"))) throw new Error();
   * ```
   */
  static where(values: Partial<MarkerEnvironment>): MarkerSet {
    const atoms = Object.entries(values).filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} == ${quotePython(v!)}`);
    return MarkerSet.parse(atoms.join(" and "));
  }

  /**
   * The set of a parsed {@link Marker}.
   *
   * @param marker The marker.
   * @returns The set of environments where it holds.
   * @throws Never.
   * @example
   * ```ts
   * import { Marker } from "./marker.ts";
   * import { MarkerSet } from "./marker_set.ts";
   * const set = MarkerSet.fromMarker(Marker.parse("os_name == 'nt' or os_name == 'nt'"));
   * if (set.toString() !== 'os_name == "nt"') throw new Error(set.toString());
   * ```
   */
  static fromMarker(marker: Marker): MarkerSet {
    // Marker keeps its tree private; its text parses back to the same tree.
    return MarkerSet.parse(marker.toString());
  }

  /**
   * The set as a {@link Marker} (parsed from {@link MarkerSet.toString}), or `undefined` for
   * {@link MarkerSet.ALWAYS}, which needs no marker.
   *
   * @returns The marker.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const marker = MarkerSet.parse("extra == 'Socks'").toMarker();
   * if (marker?.toString() !== 'extra == "socks"') throw new Error(String(marker));
   * if (MarkerSet.ALWAYS.toMarker() !== undefined) throw new Error();
   * ```
   */
  toMarker(): Marker | undefined {
    return this.#node === TRUE ? undefined : Marker.parse(this.toString());
  }

  /**
   * The environments in both sets (`a and b`).
   *
   * @param other The other set.
   * @returns The intersection.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const both = MarkerSet.parse("python_version >= '3.9'")
   *   .intersect(MarkerSet.parse("python_version >= '3.8' and os_name == 'nt'"));
   * if (both.toString() !== 'python_version >= "3.9" and os_name == "nt"') {
   *   throw new Error(both.toString());
   * }
   * ```
   */
  intersect(other: MarkerSet): MarkerSet {
    return MarkerSet.#of(and(this.#node, other.#node));
  }

  /**
   * The environments in either set (`a or b`).
   *
   * @param other The other set.
   * @returns The union.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const either = MarkerSet.parse("python_version < '3.9'")
   *   .union(MarkerSet.parse("python_version == '3.9'"));
   * if (either.toString() !== 'python_version < "3.10"') throw new Error(either.toString());
   * ```
   */
  union(other: MarkerSet): MarkerSet {
    return MarkerSet.#of(or(this.#node, other.#node));
  }

  /**
   * The environments not in the set.
   *
   * @returns The complement.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const set = MarkerSet.parse("sys_platform == 'win32' or python_version < '3.9'");
   * const text = set.negate().toString();
   * if (text !== 'python_version >= "3.9" and sys_platform != "win32"') throw new Error(text);
   * if (!set.negate().negate().equals(set)) throw new Error();
   * ```
   */
  negate(): MarkerSet {
    return MarkerSet.#of(not(this.#node));
  }

  /**
   * Whether no environment is in the set ("never").
   *
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * if (!MarkerSet.parse("python_version > '3.11' and python_full_version < '3.12'").isEmpty) {
   *   throw new Error();
   * }
   * ```
   */
  get isEmpty(): boolean {
    return this.#node === FALSE;
  }

  /**
   * Whether every environment is in the set ("always").
   *
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * if (!MarkerSet.parse("os_name != 'nt' or os_name == 'nt'").isUniversal) throw new Error();
   * ```
   */
  get isUniversal(): boolean {
    return this.#node === TRUE;
  }

  /**
   * Whether the two sets share no environment.
   *
   * @param other The other set.
   * @returns `true` when the intersection is empty.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const old = MarkerSet.parse("python_version < '3.8'");
   * if (!old.isDisjoint(MarkerSet.parse("python_full_version >= '3.8.0'"))) throw new Error();
   * ```
   */
  isDisjoint(other: MarkerSet): boolean {
    return and(this.#node, other.#node) === FALSE;
  }

  /**
   * Whether every environment of this set is in `other` (the marker implies the other).
   *
   * @param other The other set.
   * @returns `true` when this set is a subset of `other`.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const narrow = MarkerSet.parse("python_version == '3.11' and sys_platform == 'linux'");
   * if (!narrow.implies(MarkerSet.parse("python_version >= '3.8'"))) throw new Error();
   * ```
   */
  implies(other: MarkerSet): boolean {
    return implies(this.#node, other.#node);
  }

  /**
   * The same as {@link MarkerSet.implies}, by its set-theory name.
   *
   * @param other The other set.
   * @returns `true` when this set is a subset of `other`.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * if (!MarkerSet.NEVER.isSubsetOf(MarkerSet.parse("os_name == 'nt'"))) throw new Error();
   * ```
   */
  isSubsetOf(other: MarkerSet): boolean {
    return implies(this.#node, other.#node);
  }

  /**
   * Whether the two sets hold the same environments, however they were written.
   *
   * @param other The other set.
   * @returns `true` when equal.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const a = MarkerSet.parse("python_version ~= '3.8'");
   * const b = MarkerSet.parse("python_version >= '3.8' and python_version < '4'");
   * if (!a.equals(b)) throw new Error();
   * ```
   */
  equals(other: MarkerSet): boolean {
    return this.#node === other.#node;
  }

  /**
   * Whether an environment is in the set; agrees with {@link Marker.evaluate} for environments
   * whose `python_version` is the major.minor of their `python_full_version` (which is what
   * this reads).
   *
   * @param env The environment.
   * @param options Requested extras (the set holds when it holds for any) and groups.
   * @returns Whether the environment is in the set.
   * @throws {RangeError} When the set depends on `python_full_version` and it is no version.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * import type { MarkerEnvironment } from "./marker.ts";
   * const env: MarkerEnvironment = {
   *   implementation_name: "cpython", implementation_version: "3.11.7", os_name: "posix",
   *   platform_machine: "x86_64", platform_release: "6.1.0", platform_system: "Linux",
   *   platform_version: "#1 SMP", python_full_version: "3.11.7",
   *   platform_python_implementation: "CPython", python_version: "3.11", sys_platform: "linux",
   * };
   * const set = MarkerSet.parse("python_version >= '3.8' and extra == 'socks'");
   * if (set.evaluate(env) || !set.evaluate(env, { extras: ["Socks"] })) throw new Error();
   * ```
   */
  evaluate(env: MarkerEnvironment, options: MarkerEvaluateOptions = {}): boolean {
    const extras = (options.extras ?? []).map(normalizeExtraName);
    const values = new Map<string, string>();
    for (const name of ENV_VARIABLES) values.set(name, env[name]);
    values.set("python_full_version", repairFullVersion(env.python_full_version));
    const sets = new Map<string, ReadonlySet<string>>([
      ["extras", new Set(extras)],
      ["dependency_groups", new Set((options.dependencyGroups ?? []).map(normalizeExtraName))],
    ]);
    return (extras.length === 0 ? [""] : extras).some((extra) => {
      values.set("extra", extra);
      return evaluate(this.#node, { values, sets });
    });
  }

  /**
   * The set with some variables fixed: the environments whose other variables, together with
   * the given values, are in this set. The result does not depend on the fixed variables.
   *
   * @param values The values to fix.
   * @returns The restricted set.
   * @throws {RangeError} When `python_full_version` is given and is no version.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const set = MarkerSet.parse(
   *   "sys_platform == 'win32' and python_version < '3.9' or sys_platform == 'linux'",
   * );
   * if (set.restrict({ sys_platform: "win32" }).toString() !== 'python_version < "3.9"') {
   *   throw new Error();
   * }
   * if (!set.restrict({ sys_platform: "linux" }).isUniversal) throw new Error();
   * ```
   */
  restrict(values: MarkerSetRestriction): MarkerSet {
    const fixed = new Map<string, string>();
    for (const name of ENV_VARIABLES) {
      const value = values[name];
      if (value !== undefined) fixed.set(name, value);
    }
    if (values.python_full_version !== undefined) {
      const full = repairFullVersion(values.python_full_version);
      if (Version.tryParse(full) === undefined) {
        throw new RangeError(`python_full_version ${JSON.stringify(full)} is no PEP 440 version`);
      }
      fixed.set("python_full_version", full);
    }
    if (values.extra !== undefined) fixed.set("extra", normalizeExtraName(values.extra));
    const sets = new Map<string, ReadonlySet<string>>();
    if (values.extras !== undefined) {
      sets.set("extras", new Set(values.extras.map(normalizeExtraName)));
    }
    if (values.dependencyGroups !== undefined) {
      sets.set("dependency_groups", new Set(values.dependencyGroups.map(normalizeExtraName)));
    }
    const assignment: Assignment = { values: fixed, sets };
    return MarkerSet.#of(restrict(this.#node, assignment));
  }

  /**
   * A set that agrees with this one wherever `assumption` holds and is as simple as the
   * diagram allows elsewhere: conditions the assumption already guarantees disappear, e.g.
   * `python_version >= "3.8"` under a `Requires-Python` of `>= 3.9`.
   * `result.intersect(assumption)` equals `this.intersect(assumption)`.
   *
   * @param assumption What is known to hold.
   * @returns The simplified set.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const set = MarkerSet.parse("python_version >= '3.8' and sys_platform == 'linux'");
   * const simpler = set.simplify(MarkerSet.parse("python_version >= '3.9'"));
   * if (simpler.toString() !== 'sys_platform == "linux"') throw new Error(simpler.toString());
   * ```
   */
  simplify(assumption: MarkerSet): MarkerSet {
    return MarkerSet.#of(simplify(this.#node, assumption.#node));
  }

  /**
   * PEP 508 text for the set, which packaging parses back to the same set: `""` for
   * {@link MarkerSet.ALWAYS}, `python_version < "0"` for {@link MarkerSet.NEVER}. A few sets
   * made by {@link MarkerSet.negate} have no exact text (see {@link MarkerSet.printsExactly});
   * they print approximately.
   *
   * @returns The marker text.
   * @throws Never.
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const set = MarkerSet.parse("os.name == 'nt' and (python_version < '3.9' or os_name == 'nt')");
   * if (set.toString() !== 'os_name == "nt"') throw new Error(set.toString());
   * ```
   */
  toString(): string {
    return this.#print().text;
  }

  /**
   * Whether {@link MarkerSet.toString} is exact. Sets built from marker text with
   * `intersect` and `union` always are; a complement may not be, when it holds on what PEP 508
   * cannot say: the post-releases of V in `not (X > "V")`, strings that are no version
   * (`platform_release`), or the opposite of an opaque test such as `"3.8" < platform_release`.
   *
   * @example
   * ```ts
   * import { MarkerSet } from "./marker_set.ts";
   * const above = MarkerSet.parse("platform_release > '5.0'");
   * if (!above.printsExactly || above.negate().printsExactly) throw new Error();
   * ```
   */
  get printsExactly(): boolean {
    return this.#print().exact;
  }

  #print(): { text: string; exact: boolean } {
    this.#printed ??= printNode(this.#node);
    return this.#printed;
  }
}

/** packaging's `_repair_python_full_version`: non-tagged builds report e.g. "3.13.0+". */
function repairFullVersion(value: string): string {
  return value.endsWith("+") ? `${value}local` : value;
}
