// Private helpers shared by version.ts and specifier.ts: the precomputed comparison key of a
// version (packaging's `_cmpkey`), and Python's notion of whitespace. Never re-exported.

/** Where a Version keeps its comparison key; private to the pep module. */
export const VERSION_KEY: unique symbol = Symbol("wheelhouse.versionKey");

/** A numeric component: a `number` when it is a safe integer, else an exact `bigint`. */
export type Num = number | bigint;

/** A local-version segment as compared: strings sort before numbers (PEP 440). */
export type LocalPart = Num | string;

/**
 * The total-order key of a PEP 440 version, computed once at parse time.
 *
 * Mirrors packaging's `_cmpkey`: `(epoch, trimmed release, suffix[, local])`, where the suffix is
 * `(preRank, preN, postRank, postN, devRank, devN)` with preRank -1 for a dev-only release
 * (sorts before any a/b/rc), 0/1/2 for a/b/rc and 3 for no pre-release; postRank 0 without a
 * post segment and 1 with one; devRank 0 with a dev segment and 1 without.
 */
export interface VersionKey {
  readonly epoch: Num;
  readonly release: readonly Num[];
  readonly suffix: readonly Num[];
  readonly local: readonly LocalPart[] | undefined;
}

/** Pre-release letters in the order PEP 440 sorts them. */
export type PreLetter = "a" | "b" | "rc";

const PRE_RANK: Readonly<Record<PreLetter, number>> = { a: 0, b: 1, rc: 2 };

/**
 * Whitespace as Python's `str.isspace()` and `re` `\s` see it (packaging strips and matches
 * with these), which differs from JavaScript's `\s` by \x1c-\x1f and \x85 (in) and \ufeff (out).
 */
export const PY_WS =
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

const LEADING_WS = new RegExp(`^${PY_WS}+`);
const TRAILING_WS = new RegExp(`${PY_WS}+$`);

/** Python's `str.strip()`. */
export function pyStrip(text: string): string {
  return text.replace(LEADING_WS, "").replace(TRAILING_WS, "");
}

/** Parses an ASCII digit string exactly: a number when safe, a bigint beyond 2^53. */
export function parseNum(digits: string): Num {
  if (digits.length <= 15) return Number(digits);
  const big = BigInt(digits);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Orders two numeric components exactly, whatever mix of number and bigint they are. */
export function compareNum(a: Num, b: Num): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the comparison key of a version from its (already normalised) parts. */
export function makeKey(
  epoch: Num,
  release: readonly Num[],
  pre: readonly [PreLetter, Num] | undefined,
  post: Num | undefined,
  dev: Num | undefined,
  local: readonly LocalPart[] | undefined,
): VersionKey {
  // Trailing zeros do not count: 1.0.0 == 1.
  let end = release.length;
  while (end > 0 && release[end - 1] === 0) end--;
  const trimmed = end === release.length ? release : release.slice(0, end);
  let preRank: number;
  let preN: Num = 0;
  if (pre !== undefined) {
    preRank = PRE_RANK[pre[0]];
    preN = pre[1];
  } else if (post === undefined && dev !== undefined) {
    preRank = -1;
  } else {
    preRank = 3;
  }
  const suffix: Num[] = [
    preRank,
    preN,
    post === undefined ? 0 : 1,
    post ?? 0,
    dev === undefined ? 1 : 0,
    dev ?? 0,
  ];
  return { epoch, release: trimmed, suffix, local };
}

/**
 * Orders two keys: -1, 0 or 1. With `ignoreLocal`, compares the public versions only (as
 * packaging does for `<=`, `>=` and `==` without a local label).
 */
export function compareKeys(a: VersionKey, b: VersionKey, ignoreLocal = false): number {
  if (a === b) return 0;
  if (a.epoch !== b.epoch) {
    const c = compareNum(a.epoch, b.epoch);
    if (c !== 0) return c;
  }
  const ar = a.release;
  const br = b.release;
  const n = ar.length < br.length ? ar.length : br.length;
  for (let i = 0; i < n; i++) {
    const x = ar[i]!;
    const y = br[i]!;
    if (x !== y) {
      const c = compareNum(x, y);
      if (c !== 0) return c;
    }
  }
  if (ar.length !== br.length) return ar.length < br.length ? -1 : 1;
  const as = a.suffix;
  const bs = b.suffix;
  for (let i = 0; i < 6; i++) {
    const x = as[i]!;
    const y = bs[i]!;
    if (x !== y) {
      const c = compareNum(x, y);
      if (c !== 0) return c;
    }
  }
  if (ignoreLocal) return 0;
  return compareLocal(a.local, b.local);
}

function compareLocal(
  a: readonly LocalPart[] | undefined,
  b: readonly LocalPart[] | undefined,
): number {
  if (a === b) return 0;
  // A version without a local label sorts before any with one.
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xs = typeof x === "string";
    const ys = typeof y === "string";
    // PEP 440: alphanumeric segments sort before numeric ones.
    if (xs !== ys) return xs ? -1 : 1;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
