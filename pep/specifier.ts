/**
 * PEP 440 version specifiers (`>=1.0`, `~=2.2`, `==1.*`, `!=1.0.post1`, `===foo`) and
 * comma-separated specifier sets, with the semantics of `packaging.specifiers`.
 *
 * Everything that can be is decided at parse time: each specifier compiles to one small
 * predicate over precomputed version keys, because resolvers call `contains` very often.
 *
 * @module
 */

import { compareKeys, compareNum, makeKey, PY_WS, pyStrip, VERSION_KEY } from "./_version_key.ts";
import type { VersionKey } from "./_version_key.ts";
import { Version } from "./version.ts";

/** The eight comparison operators of PEP 440. */
export type SpecifierOperator = "~=" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "===";

/** Options of {@link Specifier.contains}, {@link SpecifierSet.contains} and `filter`. */
export interface PrereleaseOptions {
  /**
   * `true` admits pre-releases, `false` rejects them; when absent, pre-releases are admitted
   * only if the specifier (or set) names one, e.g. `>=1.0a1`.
   */
  prereleases?: boolean | undefined;
}

/** Raised when a specifier or specifier set is not valid PEP 440 syntax. */
export class InvalidSpecifierError extends SyntaxError {
  /** Always `"invalid-specifier"`. */
  readonly code: "invalid-specifier" = "invalid-specifier";
  /** The text that failed to parse (the whole set, for {@link SpecifierSet.parse}). */
  readonly input: string;
  /** 1-based column in `input` where the problem was found. */
  readonly column: number;

  /**
   * Builds the error; the message quotes the input and names the column.
   *
   * @param input The text that failed to parse.
   * @param column 1-based column of the problem.
   * @param reason Why the text is invalid.
   * @param options `cause`, when another error lies beneath.
   */
  constructor(input: string, column: number, reason: string, options?: { cause?: unknown }) {
    super(`Invalid specifier ${JSON.stringify(input)}: ${reason} (column ${column})`, options);
    this.name = "InvalidSpecifierError";
    this.input = input;
    this.column = column;
  }
}

// The version part allowed after each operator, as in packaging's specifier regex.
const HEAD = "v?(?:[0-9]+!)?[0-9]+";
const PRE = "(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?";
const POST = "(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?";
const DEV = "(?:[-_.]?dev[-_.]?[0-9]*)?";
const LOCAL = "(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?";
const EQUALITY = `${HEAD}(?:\\.[0-9]+)*(?:\\.\\*|${PRE}${POST}${DEV}${LOCAL})`;
// PEP 440: "~=" needs at least two release components.
const COMPATIBLE = `${HEAD}(?:\\.[0-9]+)+${PRE}${POST}${DEV}`;
// Ordered comparisons allow neither a wildcard nor a local label.
const ORDERED = `${HEAD}(?:\\.[0-9]+)*${PRE}${POST}${DEV}`;
// "===" takes anything but whitespace, ";" (markers) and ")" (the legacy parenthesised form).
const ARBITRARY = `[^${PY_WS.slice(1, -1)};)]*`;

function anchored(body: string): RegExp {
  return new RegExp(`^(?:${body})$`, "i");
}
function prefix(body: string): RegExp {
  return new RegExp(`^(?:${body})`, "i");
}

const VERSION_SYNTAX: Readonly<Record<SpecifierOperator, RegExp>> = {
  "===": anchored(ARBITRARY),
  "==": anchored(EQUALITY),
  "!=": anchored(EQUALITY),
  "~=": anchored(COMPATIBLE),
  "<=": anchored(ORDERED),
  ">=": anchored(ORDERED),
  "<": anchored(ORDERED),
  ">": anchored(ORDERED),
};
const VERSION_PREFIX: Readonly<Record<SpecifierOperator, RegExp>> = {
  "===": prefix(ARBITRARY),
  "==": prefix(EQUALITY),
  "!=": prefix(EQUALITY),
  "~=": prefix(COMPATIBLE),
  "<=": prefix(ORDERED),
  ">=": prefix(ORDERED),
  "<": prefix(ORDERED),
  ">": prefix(ORDERED),
};
// Longest first, so "===" wins over "==" and "<=" over "<".
const OPERATORS: readonly SpecifierOperator[] = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];
const LEADING_WS = new RegExp(`^${PY_WS}*`);

type Matcher = (v: Version, raw: string | undefined) => boolean;

/** The compiled predicate of a specifier; module-private. */
const MATCH: unique symbol = Symbol("wheelhouse.specifierMatch");
const CONSTRUCT = Symbol("construct");

/** Explains what is wrong with the version part of a specifier. */
function explain(op: SpecifierOperator, version: string): string {
  if (version === "") return `the version after "${op}" is missing`;
  if (op === "===") return `the text after "===" may not contain whitespace, ";" or ")"`;
  const wildcard = version.includes(".*");
  if (wildcard && op !== "==" && op !== "!=") {
    return `a ".*" wildcard is only allowed with "==" and "!=", not "${op}"`;
  }
  if (wildcard) {
    return `a ".*" wildcard must directly follow the release numbers (no pre-, post-, dev-release or local label)`;
  }
  if (version.includes("+") && op !== "==" && op !== "!=") {
    return `a local version label ("+...") is only allowed with "==" and "!="`;
  }
  if (op === "~=" && Version.tryParse(version)?.release.length === 1) {
    return `"~=" needs a version with at least two release numbers, e.g. "~=${version}.0"`;
  }
  return `"${version}" is not a valid PEP 440 version for "${op}"`;
}

/**
 * Parses one specifier, reporting columns relative to `whole` at `offset` (0-based).
 * `text` must already be stripped of surrounding whitespace by the caller or not; both work.
 */
function parseSpecifier(text: string, whole: string, offset: number): Specifier {
  const lead = LEADING_WS.exec(text)![0].length;
  const stripped = pyStrip(text);
  const op = OPERATORS.find((o) => stripped.startsWith(o));
  if (op === undefined) {
    const reason = stripped === ""
      ? "the specifier is empty"
      : "expected an operator (~=, ==, !=, <=, >=, <, >, ===) before the version";
    throw new InvalidSpecifierError(whole, offset + lead + 1, reason);
  }
  const afterOp = stripped.slice(op.length);
  const version = pyStrip(afterOp);
  const versionStart = offset + lead + op.length + LEADING_WS.exec(afterOp)![0].length;
  if (!VERSION_SYNTAX[op].test(version)) {
    const good = VERSION_PREFIX[op].exec(version)?.[0].length ?? 0;
    // Point at the first character that does not fit, unless nothing fits at all.
    const column = versionStart + (good > 0 && good < version.length ? good : 0) + 1;
    throw new InvalidSpecifierError(whole, column, explain(op, version));
  }
  return new Specifier(CONSTRUCT, op, version);
}

/** Whether `key` starts with the release prefix `release` (zero-padded) in epoch `epoch`. */
function prefixMatcher(spec: VersionKey, length: number): (key: VersionKey) => boolean {
  const epoch = spec.epoch;
  const release = spec.release;
  return (key) => {
    if (key.epoch !== epoch && compareNum(key.epoch, epoch) !== 0) return false;
    const r = key.release;
    for (let i = 0; i < length; i++) {
      const a = r[i] ?? 0;
      const b = release[i] ?? 0;
      if (a !== b && compareNum(a, b) !== 0) return false;
    }
    return true;
  };
}

function compile(op: SpecifierOperator, version: string): Matcher {
  if (op === "===") {
    const wanted = version.toLowerCase();
    // Arbitrary equality compares strings: the text as given, or a Version's normal form.
    return (v, raw) => (raw ?? v.toString()).toLowerCase() === wanted;
  }
  if (version.endsWith(".*")) {
    const base = Version.parse(version.slice(0, -2));
    const inPrefix = prefixMatcher(base[VERSION_KEY], base.release.length);
    return op === "==" ? (v) => inPrefix(v[VERSION_KEY]) : (v) => !inPrefix(v[VERSION_KEY]);
  }
  const spec = Version.parse(version);
  const sk = spec[VERSION_KEY];
  switch (op) {
    case "==":
    case "!=": {
      // PEP 440: without a local label in the specifier, local labels of the candidate are
      // ignored ("==1.0" matches "1.0+abc"); with one, the match is exact.
      const ignoreLocal = spec.local === undefined;
      return op === "=="
        ? (v) => compareKeys(v[VERSION_KEY], sk, ignoreLocal) === 0
        : (v) => compareKeys(v[VERSION_KEY], sk, ignoreLocal) !== 0;
    }
    case "<=":
      return (v) => compareKeys(v[VERSION_KEY], sk, true) <= 0;
    case ">=":
      return (v) => compareKeys(v[VERSION_KEY], sk, true) >= 0;
    case "~=": {
      // ~=V.N is >=V.N together with ==V.* (PEP 440 "Compatible release").
      const inPrefix = prefixMatcher(sk, spec.release.length - 1);
      return (v) => {
        const key = v[VERSION_KEY];
        return compareKeys(key, sk, true) >= 0 && inPrefix(key);
      };
    }
    case "<": {
      // PEP 440: "<V" must not match a pre-release of V unless V is itself a pre-release.
      // packaging draws the line at V.dev0 (with V's pre/post kept): anything from there up is
      // "a pre-release of V".
      if (spec.isPrerelease) return (v) => compareKeys(v[VERSION_KEY], sk) < 0;
      // spec has no pre-release here; its post number is taken from the exact key.
      const post = sk.suffix[2] === 1 ? sk.suffix[3] : undefined;
      const earliest = makeKey(sk.epoch, sk.release, undefined, post, 0, undefined);
      return (v) => {
        const key = v[VERSION_KEY];
        if (compareKeys(key, sk) >= 0) return false;
        return !(v.isPrerelease && compareKeys(key, earliest) >= 0);
      };
    }
    case ">": {
      // PEP 440: ">V" must not match a post-release of V unless V is itself a post-release,
      // nor a local version of V.
      const specIsPost = spec.isPostrelease;
      const specHasDev = spec.isDevrelease;
      return (v) => {
        const key = v[VERSION_KEY];
        if (compareKeys(key, sk) <= 0) return false;
        if (!specIsPost && !specHasDev && v.isPostrelease && isPostOf(key, sk)) return false;
        if (key.local !== undefined && compareKeys(key, sk, true) === 0) return false;
        return true;
      };
    }
  }
}

/** Whether `key` (a post-release) is a post-release of `spec` (neither post nor dev). */
function isPostOf(key: VersionKey, spec: VersionKey): boolean {
  if (key.epoch !== spec.epoch && compareNum(key.epoch, spec.epoch) !== 0) return false;
  const a = key.release;
  const b = spec.release;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && compareNum(a[i]!, b[i]!) !== 0) return false;
  }
  // Same pre-release: suffix[0] is the pre rank (0/1/2, or 3 for none), suffix[1] its number.
  return key.suffix[0] === spec.suffix[0] && compareNum(key.suffix[1]!, spec.suffix[1]!) === 0;
}

function namesPrereleaseOf(op: SpecifierOperator, version: string): boolean {
  // packaging: "!=" and "==X.*" never opt into pre-releases; "===" does when its text is a
  // pre-release version; every other operator does when its version is a pre-release.
  if (op === "!=" || version.endsWith(".*")) return false;
  return Version.tryParse(version)?.isPrerelease ?? false;
}

function canonicalForm(spec: Specifier): string {
  const { operator, version } = spec;
  if (operator === "===" || version.endsWith(".*")) return `${operator}${version}`;
  const v = Version.parse(version);
  if (operator === "~=") return `${operator}${v}`;
  // As packaging's canonicalize_version: trailing zeros of the release do not count.
  const release = [...v.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const text = v.toString();
  const base = v.baseVersion;
  const trimmedBase = v.epoch === 0 ? release.join(".") : `${v.epoch}!${release.join(".")}`;
  return `${operator}${trimmedBase}${text.slice(base.length)}`;
}

/**
 * One PEP 440 version specifier: an operator and a version.
 *
 * @example
 * ```ts
 * import { Specifier } from "./specifier.ts";
 * const spec = Specifier.parse("~= 2.2");
 * if (spec.toString() !== "~=2.2") throw new Error(spec.toString());
 * if (!spec.contains("2.9") || spec.contains("3.0")) throw new Error("~=2.2 is >=2.2,==2.*");
 * ```
 */
export class Specifier {
  /** The operator. */
  readonly operator: SpecifierOperator;
  /** The version as written, without surrounding whitespace (e.g. `"1.0"`, `"1.*"`). */
  readonly version: string;
  /**
   * The compiled predicate; module-private (its symbol is never exported), so it is left out of
   * the documentation.
   *
   * @ignore
   */
  readonly [MATCH]: Matcher;
  readonly #namesPrerelease: boolean;

  /**
   * Not for direct use: call {@link Specifier.parse}.
   *
   * @param token A module-private token.
   * @param operator The operator.
   * @param version The validated version text.
   * @throws {TypeError} When called from outside this module.
   */
  constructor(token: symbol, operator: SpecifierOperator, version: string) {
    if (token !== CONSTRUCT) {
      throw new TypeError("Specifier has no public constructor: use Specifier.parse(text)");
    }
    this.operator = operator;
    this.version = version;
    this[MATCH] = compile(operator, version);
    this.#namesPrerelease = namesPrereleaseOf(operator, version);
  }

  /**
   * Parses one specifier such as `">= 1.0"`, `"==1.*"` or `"===foobar"`.
   *
   * @param text The specifier; surrounding whitespace and whitespace after the operator are
   *   ignored.
   * @returns The parsed specifier.
   * @throws {InvalidSpecifierError} When the text is not a valid specifier, e.g. `"~=1"`,
   *   `"==1.*+local"`, `">=1.*"` or `"<1.0+local"`.
   * @example
   * ```ts
   * import { InvalidSpecifierError, Specifier } from "./specifier.ts";
   * if (Specifier.parse(" >= 1.0 ").version !== "1.0") throw new Error();
   * try {
   *   Specifier.parse(">=1.*");
   *   throw new Error("should have failed");
   * } catch (e) {
   *   if (!(e instanceof InvalidSpecifierError) || e.column !== 4) throw e;
   * }
   * ```
   */
  static parse(text: string): Specifier {
    if (typeof text !== "string") {
      throw new InvalidSpecifierError(String(text), 1, "a specifier must be a string");
    }
    return parseSpecifier(text, text, 0);
  }

  /**
   * Whether a version satisfies this specifier.
   *
   * @param v A version, or a string (which `===` compares as written; an unparseable string
   *   matches nothing else).
   * @param options `prereleases`: see {@link PrereleaseOptions}.
   * @returns `true` when `v` is admitted.
   * @throws Never.
   * @example
   * ```ts
   * import { Specifier } from "./specifier.ts";
   * const spec = Specifier.parse(">=1.0");
   * if (spec.contains("2.0a1")) throw new Error("pre-releases need opting in");
   * if (!spec.contains("2.0a1", { prereleases: true })) throw new Error("opted in");
   * if (!Specifier.parse(">=1.0a1").contains("2.0a1")) throw new Error("named a pre-release");
   * ```
   */
  contains(v: Version | string, options?: PrereleaseOptions): boolean {
    let version: Version | undefined;
    let raw: string | undefined;
    if (typeof v === "string") {
      raw = v;
      version = Version.tryParse(v);
      if (version === undefined) {
        return this.operator === "===" && v.toLowerCase() === this.version.toLowerCase();
      }
    } else {
      version = v;
    }
    if (version.isPrerelease && !(options?.prereleases ?? this.#namesPrerelease)) return false;
    return this[MATCH](version, raw);
  }

  /**
   * Whether this specifier names a pre-release, which opts it into matching pre-releases
   * (`">=1.0a1"`, `"==1.0.dev0"`; never `"!=..."` nor `"==....*"`).
   *
   * @example
   * ```ts
   * import { Specifier } from "./specifier.ts";
   * if (!Specifier.parse("<2.0rc1").namesPrerelease) throw new Error();
   * if (Specifier.parse("!=2.0rc1").namesPrerelease) throw new Error();
   * ```
   */
  get namesPrerelease(): boolean {
    return this.#namesPrerelease;
  }

  /**
   * The specifier with normalised spacing: operator then version as written.
   *
   * @returns e.g. `">=1.0"` for `" >= 1.0"`.
   * @example
   * ```ts
   * import { Specifier } from "./specifier.ts";
   * if (Specifier.parse("== 1.0.*").toString() !== "==1.0.*") throw new Error();
   * ```
   */
  toString(): string {
    return `${this.operator}${this.version}`;
  }
}

/**
 * A conjunction of specifiers, such as `">=1.0,!=1.3.*,<2"`; the empty set admits every
 * version (pre-releases only when nothing else matches, in {@link SpecifierSet.filter}).
 *
 * @example
 * ```ts
 * import { SpecifierSet } from "./specifier.ts";
 * import { Version } from "./version.ts";
 * const set = SpecifierSet.parse(">=1.0, !=1.3.*, <2");
 * if (!set.contains(Version.parse("1.2")) || set.contains(Version.parse("1.3.1"))) {
 *   throw new Error("wrong containment");
 * }
 * ```
 */
export class SpecifierSet {
  /** The set that admits every version. */
  static readonly ANY: SpecifierSet = new SpecifierSet([]);

  /** The specifiers, in the order written. */
  readonly specifiers: readonly Specifier[];
  readonly #matchers: readonly Matcher[];
  readonly #namesPrerelease: boolean;
  #text: string | undefined;

  /**
   * Builds a set from already parsed specifiers; usually {@link SpecifierSet.parse} is simpler.
   *
   * @param specifiers The specifiers, all of which must hold.
   * @throws Never.
   */
  constructor(specifiers: Iterable<Specifier>) {
    this.specifiers = Object.freeze([...specifiers]);
    this.#matchers = this.specifiers.map((s) => s[MATCH]);
    this.#namesPrerelease = this.specifiers.some((s) => s.namesPrerelease);
  }

  /**
   * Parses a comma-separated list of specifiers; empty items are skipped, so `""` is
   * {@link SpecifierSet.ANY}.
   *
   * @param text The specifier set, e.g. `">=1.0, <2"`.
   * @returns The parsed set.
   * @throws {InvalidSpecifierError} When any item is invalid; `column` is relative to `text`.
   * @example
   * ```ts
   * import { InvalidSpecifierError, SpecifierSet } from "./specifier.ts";
   * if (!SpecifierSet.parse(" ").isAny) throw new Error();
   * try {
   *   SpecifierSet.parse(">=1.0, ~=2");
   *   throw new Error("should have failed");
   * } catch (e) {
   *   if (!(e instanceof InvalidSpecifierError) || e.column !== 10) throw e;
   * }
   * ```
   */
  static parse(text: string): SpecifierSet {
    if (typeof text !== "string") {
      throw new InvalidSpecifierError(String(text), 1, "a specifier set must be a string");
    }
    const specs: Specifier[] = [];
    let offset = 0;
    for (const item of text.split(",")) {
      if (pyStrip(item) !== "") specs.push(parseSpecifier(item, text, offset));
      offset += item.length + 1;
    }
    return specs.length === 0 ? SpecifierSet.ANY : new SpecifierSet(specs);
  }

  /**
   * Whether a version satisfies every specifier.
   *
   * @param v The version.
   * @param options `prereleases`: when absent, a pre-release is admitted only if some
   *   specifier names a pre-release.
   * @returns `true` when `v` is admitted.
   * @throws Never.
   * @example
   * ```ts
   * import { SpecifierSet } from "./specifier.ts";
   * import { Version } from "./version.ts";
   * const set = SpecifierSet.parse(">=1.0,<2");
   * if (set.contains(Version.parse("1.5b1"))) throw new Error("pre-release not named");
   * if (!set.contains(Version.parse("1.5b1"), { prereleases: true })) throw new Error();
   * ```
   */
  contains(v: Version, options?: PrereleaseOptions): boolean {
    if (v.isPrerelease && !(options?.prereleases ?? this.#namesPrerelease)) return false;
    const matchers = this.#matchers;
    for (let i = 0; i < matchers.length; i++) {
      if (!matchers[i]!(v, undefined)) return false;
    }
    return true;
  }

  /**
   * The versions that satisfy the set, in input order, as packaging's `filter`: when
   * `prereleases` is absent and the set names no pre-release, pre-releases are returned only
   * if no final release matches.
   *
   * @param versions The candidate versions.
   * @param options `prereleases`: `true`/`false` to force admitting or rejecting them.
   * @returns The matching versions.
   * @throws Never.
   * @example
   * ```ts
   * import { SpecifierSet } from "./specifier.ts";
   * import { Version } from "./version.ts";
   * const set = SpecifierSet.parse(">=1.2.3");
   * const pick = (xs: string[]) => set.filter(xs.map((x) => Version.parse(x))).join(" ");
   * if (pick(["1.2", "1.3", "1.5a1"]) !== "1.3") throw new Error("finals win");
   * if (pick(["1.2", "1.5a1"]) !== "1.5a1") throw new Error("only pre-releases match");
   * ```
   */
  filter(versions: Iterable<Version>, options?: PrereleaseOptions): Version[] {
    const forced = options?.prereleases ?? (this.#namesPrerelease ? true : undefined);
    const matchers = this.#matchers;
    const finals: Version[] = [];
    const all: Version[] = [];
    outer: for (const v of versions) {
      if (forced === false && v.isPrerelease) continue;
      for (let i = 0; i < matchers.length; i++) {
        if (!matchers[i]!(v, undefined)) continue outer;
      }
      all.push(v);
      if (!v.isPrerelease) finals.push(v);
    }
    if (forced !== undefined) return all;
    // PEP 440: "accept pre-releases ... if there are no final or post releases that satisfy".
    return finals.length > 0 ? finals : all;
  }

  /**
   * The set whose members satisfy both sets (the specifiers of both, concatenated).
   *
   * @param other The other set.
   * @returns The intersection.
   * @throws Never.
   * @example
   * ```ts
   * import { SpecifierSet } from "./specifier.ts";
   * const both = SpecifierSet.parse(">=1.0").intersect(SpecifierSet.parse("<2"));
   * if (both.toString() !== "<2,>=1.0") throw new Error(both.toString());
   * ```
   */
  intersect(other: SpecifierSet): SpecifierSet {
    if (other.specifiers.length === 0) return this;
    if (this.specifiers.length === 0) return other;
    return new SpecifierSet([...this.specifiers, ...other.specifiers]);
  }

  /**
   * Whether any specifier names a pre-release (see {@link Specifier.namesPrerelease}).
   *
   * @example
   * ```ts
   * import { SpecifierSet } from "./specifier.ts";
   * if (!SpecifierSet.parse(">=1.0,<2.0b1").namesPrerelease) throw new Error();
   * ```
   */
  get namesPrerelease(): boolean {
    return this.#namesPrerelease;
  }

  /**
   * Whether the set has no specifier, so admits every version.
   *
   * @example
   * ```ts
   * import { SpecifierSet } from "./specifier.ts";
   * if (!SpecifierSet.parse("").isAny || SpecifierSet.parse(">0").isAny) throw new Error();
   * ```
   */
  get isAny(): boolean {
    return this.specifiers.length === 0;
  }

  /**
   * The set as packaging prints it: specifiers sorted, duplicates (`==1.0`, `==1.0.0`) dropped,
   * joined by `,`.
   *
   * @returns e.g. `"!=1.0.1,>=1.0.0"`.
   * @example
   * ```ts
   * import { SpecifierSet } from "./specifier.ts";
   * if (SpecifierSet.parse(">=1.0.0, !=1.0.1").toString() !== "!=1.0.1,>=1.0.0") throw new Error();
   * ```
   */
  toString(): string {
    if (this.#text !== undefined) return this.#text;
    const seen = new Set<string>();
    const out: string[] = [];
    for (const spec of [...this.specifiers].sort(byText)) {
      const canonical = canonicalForm(spec);
      if (seen.has(canonical)) continue;
      seen.add(canonical);
      out.push(spec.toString());
    }
    this.#text = out.join(",");
    return this.#text;
  }
}

function byText(a: Specifier, b: Specifier): number {
  const x = a.toString();
  const y = b.toString();
  return x < y ? -1 : x > y ? 1 : 0;
}
