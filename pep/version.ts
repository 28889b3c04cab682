/**
 * PEP 440 versions: permissive parsing and normalisation as `packaging` does, and the total
 * order of PEP 440 with a comparison key computed once at parse time.
 *
 * @module
 */

import {
  compareKeys,
  type LocalPart,
  makeKey,
  type Num,
  parseNum,
  type PreLetter,
  PY_WS,
  VERSION_KEY,
  type VersionKey,
} from "./_version_key.ts";

// PEP 440 "Appendix B" grammar as packaging accepts it (case-insensitive, surrounding whitespace,
// optional "v", alternate spellings and separators). Groups:
// 1 epoch, 2 release, 3 pre letter, 4 pre number, 5 implicit post number ("1.0-1"),
// 6 post letter, 7 post number, 8 dev letter, 9 dev number, 10 local.
const VERSION_RE = new RegExp(
  `^${PY_WS}*v?` +
    "(?:([0-9]+)!)?" +
    "([0-9]+(?:\\.[0-9]+)*)" +
    "(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?" +
    "(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?" +
    "(?:[-_.]?(dev)[-_.]?([0-9]+)?)?" +
    "(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?" +
    `${PY_WS}*$`,
  "i",
);
const SIMPLE_RE = /^[0-9]+(?:\.[0-9]+)*$/;
const LOCAL_SEPARATORS = /[-_.]/;
const DIGITS = /^[0-9]+$/;

const PRE_SPELLINGS: Readonly<Record<string, PreLetter>> = {
  a: "a",
  alpha: "a",
  b: "b",
  beta: "b",
  c: "rc",
  rc: "rc",
  pre: "rc",
  preview: "rc",
};

/** Raised by {@link Version.parse} when a string is not a PEP 440 version. */
export class InvalidVersionError extends SyntaxError {
  /** Always `"invalid-version"`. */
  readonly code: "invalid-version" = "invalid-version";
  /** The text that failed to parse. */
  readonly input: string;

  /**
   * Builds the error; the message quotes the input.
   *
   * @param input The text that failed to parse.
   * @param options `cause`, when another error lies beneath.
   */
  constructor(input: string, options?: { cause?: unknown }) {
    super(
      `Invalid version ${JSON.stringify(input)}: ${describeProblem(input)}`,
      options,
    );
    this.name = "InvalidVersionError";
    this.input = input;
  }
}

function describeProblem(input: string): string {
  if (input.trim() === "") return "the version is empty";
  if (/^\s*[0-9]/.test(input) || /^\s*v[0-9]/i.test(input)) {
    return "it does not follow PEP 440 (expected [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local])";
  }
  return 'a PEP 440 version starts with a number (optionally after an epoch "N!" or a "v")';
}

interface VersionParts {
  readonly epoch: Num;
  readonly release: readonly Num[];
  readonly pre: readonly [PreLetter, Num] | undefined;
  readonly post: Num | undefined;
  readonly dev: Num | undefined;
  readonly local: readonly LocalPart[] | undefined;
}

const CONSTRUCT = Symbol("construct");

function toNumber(n: Num): number {
  return typeof n === "number" ? n : Number(n);
}

/**
 * A PEP 440 version, parsed once and immutable.
 *
 * Components larger than 2^53 are kept exactly for ordering and formatting; the numeric fields
 * (`release`, `epoch`, ...) then hold the nearest `number`.
 *
 * @example
 * ```ts
 * import { Version } from "./version.ts";
 * const v = Version.parse("1.0-Alpha.1");
 * if (v.toString() !== "1.0a1") throw new Error("not normalised");
 * if (!(v.compare(Version.parse("1.0")) < 0)) throw new Error("1.0a1 sorts before 1.0");
 * ```
 */
export class Version {
  /** The epoch (`N!`), 0 when absent. */
  readonly epoch: number;
  /** The release segment as written, trailing zeros included. */
  readonly release: readonly number[];
  /** The normalised pre-release segment, e.g. `["rc", 1]`. */
  readonly pre: readonly ["a" | "b" | "rc", number] | undefined;
  /** The post-release number. */
  readonly post: number | undefined;
  /** The development-release number. */
  readonly dev: number | undefined;
  /** The local label split on `.`, `-`, `_`: numbers for all-digit parts, lower-case strings. */
  readonly local: readonly (string | number)[] | undefined;
  /**
   * The comparison key; private to the pep module (its symbol is never exported), so it is left
   * out of the documentation.
   *
   * @ignore
   */
  readonly [VERSION_KEY]: VersionKey;
  readonly #parts: VersionParts;
  readonly #isPrerelease: boolean;
  #text: string | undefined;

  /**
   * Not for direct use: call {@link Version.parse} or {@link Version.tryParse}.
   *
   * @param token A module-private token.
   * @param parts The parsed parts.
   * @throws {TypeError} When called from outside this module.
   */
  constructor(token: symbol, parts: unknown) {
    if (token !== CONSTRUCT) {
      throw new TypeError("Version has no public constructor: use Version.parse(text)");
    }
    const p = parts as VersionParts;
    this.#parts = p;
    this.epoch = toNumber(p.epoch);
    this.release = Object.freeze(p.release.map(toNumber));
    this.pre = p.pre === undefined
      ? undefined
      : Object.freeze([p.pre[0], toNumber(p.pre[1])] as ["a" | "b" | "rc", number]);
    this.post = p.post === undefined ? undefined : toNumber(p.post);
    this.dev = p.dev === undefined ? undefined : toNumber(p.dev);
    this.local = p.local === undefined ? undefined : Object.freeze(
      p.local.map((x) => typeof x === "bigint" ? Number(x) : x),
    );
    this[VERSION_KEY] = makeKey(p.epoch, p.release, p.pre, p.post, p.dev, p.local);
    this.#isPrerelease = p.pre !== undefined || p.dev !== undefined;
    this.#text = undefined;
  }

  /**
   * Parses a version as `packaging.version.Version` does: case-insensitive, surrounding
   * whitespace ignored, a leading `v`, alternate spellings (`alpha`, `beta`, `c`, `pre`,
   * `preview`, `rev`, `r`), optional separators and implicit numbers (`1.0-1`, `1.0a`).
   *
   * @param text The version string.
   * @returns The parsed version.
   * @throws {InvalidVersionError} When `text` is not a PEP 440 version.
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * const v = Version.parse(" v1!2.0-Preview-3.REV4.DEV5+Ubuntu-1 ");
   * if (v.toString() !== "1!2.0rc3.post4.dev5+ubuntu.1") throw new Error(v.toString());
   * ```
   */
  static parse(text: string): Version {
    if (typeof text !== "string") {
      throw new InvalidVersionError(String(text));
    }
    if (SIMPLE_RE.test(text)) {
      const release = text.split(".").map(parseNum);
      return new Version(CONSTRUCT, {
        epoch: 0,
        release,
        pre: undefined,
        post: undefined,
        dev: undefined,
        local: undefined,
      });
    }
    const m = VERSION_RE.exec(text);
    if (m === null) throw new InvalidVersionError(text);
    const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
    const parts: VersionParts = {
      epoch: epoch === undefined ? 0 : parseNum(epoch),
      release: release!.split(".").map(parseNum),
      pre: preL === undefined
        ? undefined
        : [PRE_SPELLINGS[preL.toLowerCase()]!, preN === undefined ? 0 : parseNum(preN)],
      post: postN1 !== undefined
        ? parseNum(postN1)
        : postL !== undefined
        ? (postN2 === undefined ? 0 : parseNum(postN2))
        : undefined,
      dev: devL === undefined ? undefined : devN === undefined ? 0 : parseNum(devN),
      local: local === undefined
        ? undefined
        : local.split(LOCAL_SEPARATORS).map((part) =>
          DIGITS.test(part) ? parseNum(part) : part.toLowerCase()
        ),
    };
    return new Version(CONSTRUCT, parts);
  }

  /**
   * Parses a version, or returns `undefined` when the text is not a PEP 440 version.
   *
   * @param text The version string.
   * @returns The parsed version or `undefined`.
   * @throws Never.
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (Version.tryParse("1.0") === undefined) throw new Error("valid");
   * if (Version.tryParse("french toast") !== undefined) throw new Error("invalid");
   * ```
   */
  static tryParse(text: string): Version | undefined {
    try {
      return Version.parse(text);
    } catch (error) {
      if (error instanceof InvalidVersionError) return undefined;
      throw error;
    }
  }

  /**
   * Whether this is a pre-release: it has a pre-release or a development segment.
   *
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (!Version.parse("1.0.dev0").isPrerelease) throw new Error("dev releases are pre-releases");
   * ```
   */
  get isPrerelease(): boolean {
    return this.#isPrerelease;
  }

  /**
   * Whether this version has a post-release segment.
   *
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (!Version.parse("1.0-1").isPostrelease) throw new Error("1.0-1 is 1.0.post1");
   * ```
   */
  get isPostrelease(): boolean {
    return this.#parts.post !== undefined;
  }

  /**
   * Whether this version has a development segment.
   *
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (Version.parse("1.0a1").isDevrelease) throw new Error("not a dev release");
   * ```
   */
  get isDevrelease(): boolean {
    return this.#parts.dev !== undefined;
  }

  /**
   * The normalised version without its local label.
   *
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (Version.parse("1!1.2.3dev1+abc").public !== "1!1.2.3.dev1") throw new Error();
   * ```
   */
  get public(): string {
    const text = this.toString();
    const plus = text.indexOf("+");
    return plus === -1 ? text : text.slice(0, plus);
  }

  /**
   * The epoch and release segment only, normalised.
   *
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (Version.parse("1!1.2.3rc1.post2+abc").baseVersion !== "1!1.2.3") throw new Error();
   * ```
   */
  get baseVersion(): string {
    const p = this.#parts;
    const release = p.release.join(".");
    return p.epoch === 0 ? release : `${p.epoch}!${release}`;
  }

  /**
   * Orders this version against another in the PEP 440 total order.
   *
   * @param other The version to compare with.
   * @returns -1, 0 or 1.
   * @throws Never.
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * const order = ["1.0.dev0", "1.0a1", "1.0", "1.0+local", "1.0.post1"].map((s) => Version.parse(s));
   * for (let i = 1; i < order.length; i++) {
   *   if (order[i - 1]!.compare(order[i]!) !== -1) throw new Error("out of order");
   * }
   * ```
   */
  compare(other: Version): number {
    return compareKeys(this[VERSION_KEY], other[VERSION_KEY]);
  }

  /**
   * Whether two versions are equal in the PEP 440 order (`1.0` equals `1.0.0`).
   *
   * @param other The version to compare with.
   * @returns `true` when equal.
   * @throws Never.
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (!Version.parse("1.0").equals(Version.parse("1.0.0"))) throw new Error();
   * ```
   */
  equals(other: Version): boolean {
    return compareKeys(this[VERSION_KEY], other[VERSION_KEY]) === 0;
  }

  /**
   * The normalised form, as `str(packaging.version.Version(...))`.
   *
   * @returns e.g. `"1!2.0.post1.dev3+ubuntu.1"`.
   * @example
   * ```ts
   * import { Version } from "./version.ts";
   * if (Version.parse("1.0.0-r2").toString() !== "1.0.0.post2") throw new Error();
   * ```
   */
  toString(): string {
    if (this.#text !== undefined) return this.#text;
    const p = this.#parts;
    let text = this.baseVersion;
    if (p.pre !== undefined) text += `${p.pre[0]}${p.pre[1]}`;
    if (p.post !== undefined) text += `.post${p.post}`;
    if (p.dev !== undefined) text += `.dev${p.dev}`;
    if (p.local !== undefined) text += `+${p.local.join(".")}`;
    this.#text = text;
    return text;
  }
}

/**
 * Orders two versions in the PEP 440 total order; a comparator for `Array.prototype.sort`.
 *
 * @param a The first version.
 * @param b The second version.
 * @returns -1, 0 or 1.
 * @throws Never.
 * @example
 * ```ts
 * import { compareVersions, Version } from "./version.ts";
 * const sorted = ["2.0", "1.0rc1", "1.0"].map((s) => Version.parse(s)).sort(compareVersions);
 * if (sorted.join(" ") !== "1.0rc1 1.0 2.0") throw new Error(sorted.join(" "));
 * ```
 */
export function compareVersions(a: Version, b: Version): number {
  return compareKeys(a[VERSION_KEY], b[VERSION_KEY]);
}
