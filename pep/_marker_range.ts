// Private to the marker algebra (marker_set.ts): cuts in the PEP 440 version order, the exact
// version ranges of specifiers, and the map from `python_version` ranges to
// `python_full_version` ranges. Never re-exported.
//
// The PEP 440 order has no immediate successors (between any two versions lies another, e.g. a
// local version), so a set of versions that specifiers can describe is a union of intervals
// between "cuts", and a sorted list of distinct cuts describes it uniquely. Three kinds of cut
// are needed: just below a version, just above one (only around local versions), and above every
// version of a release (what `>V` starts from: PEP 440 excludes V's post-releases).

import {
  compareKeys,
  compareNum,
  makeKey,
  type Num,
  type PreLetter,
  VERSION_KEY,
  type VersionKey,
} from "./_version_key.ts";
import type { SpecifierOperator } from "./specifier.ts";
import { Version } from "./version.ts";

/** A cut in the version order; interned, so equal cuts are the same object. */
export interface Cut {
  readonly id: number;
  /** 0: just below `key`; 1: just above `key`; 2: above every version of `key`'s release. */
  readonly kind: 0 | 1 | 2;
  readonly key: VersionKey;
}

/** `[lower, upper)`: the versions above `lower` and below `upper`; `null` is unbounded. */
export type Interval = readonly [Cut | null, Cut | null];

const PRE_LETTERS: readonly PreLetter[] = ["a", "b", "rc"];
const cuts = new Map<string, Cut>();

/** A stable text for a key: equal keys (`1.0`, `1.0.0`) give equal texts. */
function keyText(key: VersionKey): string {
  const local = key.local === undefined ? "" : `+${key.local.join(".")}`;
  return `${key.epoch}!${key.release.join(".")}~${key.suffix.join(",")}${local}`;
}

function intern(kind: 0 | 1 | 2, key: VersionKey): Cut {
  const text = `${kind}:${keyText(key)}`;
  let cut = cuts.get(text);
  if (cut === undefined) {
    cut = { id: cuts.size + 1, kind, key };
    cuts.set(text, cut);
  }
  return cut;
}

/** The cut just below `key`. */
export function below(key: VersionKey): Cut {
  return intern(0, key);
}

/** The cut just above `key` (and below its local versions, when it has none). */
export function above(key: VersionKey): Cut {
  return intern(1, key);
}

/** The cut above every version whose epoch and release are those of `key`. */
function afterRelease(key: VersionKey): Cut {
  return intern(2, finalKey(key.epoch, key.release));
}

/** The final version `epoch!release`. */
export function finalKey(epoch: Num, release: readonly Num[]): VersionKey {
  return makeKey(epoch, release, undefined, undefined, undefined, undefined);
}

/** `epoch!release.dev0`, the lowest version of a release. */
export function devZeroKey(epoch: Num, release: readonly Num[]): VersionKey {
  return makeKey(epoch, release, undefined, undefined, 0, undefined);
}

/** Adds one, exactly. */
export function increment(n: Num): Num {
  if (typeof n === "bigint") return n + 1n;
  return n + 1 > Number.MAX_SAFE_INTEGER ? BigInt(n) + 1n : n + 1;
}

function compareEpochRelease(a: VersionKey, b: VersionKey): number {
  const c = compareNum(a.epoch, b.epoch);
  if (c !== 0) return c;
  const n = Math.min(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const d = compareNum(a.release[i]!, b.release[i]!);
    if (d !== 0) return d;
  }
  return a.release.length - b.release.length;
}

/** Orders two cuts. */
export function compareCuts(a: Cut, b: Cut): number {
  if (a === b) return 0;
  if (a.kind !== 2 && b.kind !== 2) {
    return compareKeys(a.key, b.key) || a.kind - b.kind;
  }
  if (a.kind === 2 && b.kind === 2) return compareEpochRelease(a.key, b.key);
  if (a.kind === 2) return compareEpochRelease(a.key, b.key) || 1;
  return compareEpochRelease(a.key, b.key) || -1;
}

/** Whether the version `key` lies above `cut`. */
function isAbove(key: VersionKey, cut: Cut): boolean {
  if (cut.kind === 2) return compareEpochRelease(key, cut.key) > 0;
  const c = compareKeys(key, cut.key);
  return cut.kind === 0 ? c >= 0 : c > 0;
}

/** The number of `sorted` cuts below `key`: the index of its segment. */
export function segmentOf(sorted: readonly Cut[], key: VersionKey): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (isAbove(key, sorted[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const MIN = devZeroKey(0, []);

/** Whether the cut lies below every version (`0.dev0` is the least version). */
export function isBottom(cut: Cut): boolean {
  return cut.kind === 0 && compareKeys(cut.key, MIN) === 0;
}

/** The parts of a key, as makeKey takes them. */
interface KeyParts {
  readonly epoch: Num;
  readonly release: readonly Num[];
  readonly pre: readonly [PreLetter, Num] | undefined;
  readonly post: Num | undefined;
  readonly dev: Num | undefined;
  readonly local: VersionKey["local"];
}

/** Splits a key back into its parts (the release trimmed of trailing zeros). */
export function partsOf(key: VersionKey): KeyParts {
  const [preRank, preN, postRank, postN, devRank, devN] = key.suffix as [
    Num,
    Num,
    Num,
    Num,
    Num,
    Num,
  ];
  const rank = Number(preRank);
  return {
    epoch: key.epoch,
    release: key.release,
    pre: rank >= 0 && rank <= 2 ? [PRE_LETTERS[rank]!, preN] : undefined,
    post: Number(postRank) === 1 ? postN : undefined,
    dev: Number(devRank) === 0 ? devN : undefined,
    local: key.local,
  };
}

/** Whether the key is a pre-release (a pre or a dev segment). */
export function isPrereleaseKey(key: VersionKey): boolean {
  const p = partsOf(key);
  return p.pre !== undefined || p.dev !== undefined;
}

/** The least version above every local version of `key` (which has no local label). */
export function successor(key: VersionKey): VersionKey {
  const p = partsOf(key);
  if (p.dev !== undefined) {
    return makeKey(p.epoch, p.release, p.pre, p.post, increment(p.dev), undefined);
  }
  const post = p.post === undefined ? 0 : increment(p.post);
  return makeKey(p.epoch, p.release, p.pre, post, 0, undefined);
}

/** The versions not in `intervals` (sorted, disjoint). */
export function complement(intervals: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  // The start of the current gap; null (below everything) only before the first interval.
  let from: Cut | null = null;
  let closed = false;
  for (const [lo, hi] of intervals) {
    if (lo !== null && lo !== from) out.push([from, lo]);
    if (hi === null) {
      closed = true;
      break;
    }
    from = hi;
  }
  if (!closed) out.push([from, null]);
  return out.filter(([lo, hi]) => !(lo === null && hi !== null && isBottom(hi)));
}

function padded(release: readonly Num[], length: number): Num[] {
  return Array.from({ length }, (_, i) => release[i] ?? 0);
}

function bumpLast(release: readonly Num[]): Num[] {
  const out = [...release];
  out[out.length - 1] = increment(out[out.length - 1]!);
  return out;
}

/**
 * The exact set of versions `Specifier(op + version).contains(v, { prereleases: true })` admits
 * (any operator but `===`), as sorted disjoint intervals. Mirrors specifier.ts's `compile`.
 */
export function specifierIntervals(op: SpecifierOperator, version: string): Interval[] {
  if (version.endsWith(".*")) {
    const base = Version.parse(version.slice(0, -2));
    const key = base[VERSION_KEY];
    const prefix = padded(key.release, base.release.length);
    const inside: Interval[] = [[
      below(devZeroKey(key.epoch, prefix)),
      below(devZeroKey(key.epoch, bumpLast(prefix))),
    ]];
    return op === "==" ? inside : complement(inside);
  }
  const v = Version.parse(version);
  const key = v[VERSION_KEY];
  const p = partsOf(key);
  switch (op) {
    case "==":
    case "!=": {
      const inside: Interval[] = [
        p.local === undefined ? [below(key), below(successor(key))] : [below(key), above(key)],
      ];
      return op === "==" ? inside : complement(inside);
    }
    case "<=":
      return [[null, below(successor(key))]];
    case ">=":
      return [[below(key), null]];
    case "<": {
      // PEP 440: `<V` excludes V's pre-releases unless V is one; packaging starts them at V.dev0.
      const end = p.pre !== undefined || p.dev !== undefined
        ? key
        : makeKey(p.epoch, p.release, undefined, p.post, 0, undefined);
      return [[null, below(end)]];
    }
    case ">": {
      // PEP 440: `>V` excludes V's local versions, and V's post-releases unless V is one.
      if (p.post !== undefined || p.dev !== undefined) return [[below(successor(key)), null]];
      if (p.pre !== undefined) {
        const next = makeKey(
          p.epoch,
          p.release,
          [p.pre[0], increment(p.pre[1])],
          undefined,
          0,
          undefined,
        );
        return [[below(next), null]];
      }
      return [[afterRelease(key), null]];
    }
    case "~=": {
      const prefix = padded(key.release, v.release.length - 1);
      return [[below(key), below(devZeroKey(key.epoch, bumpLast(prefix)))]];
    }
    case "===":
      throw new TypeError("=== compares strings, not version ranges");
  }
}

// ---------------------------------------------------------------------------------------------
// python_version is the major.minor of python_full_version: "[epoch!]major.minor".

/** The `python_version` of a full version key. */
export function pythonVersionOf(key: VersionKey): string {
  const [a, b] = [key.release[0] ?? 0, key.release[1] ?? 0];
  return `${compareNum(key.epoch, 0) === 0 ? "" : `${key.epoch}!`}${a}.${b}`;
}

const PV_TEXT = /^(?:([1-9][0-9]*)!)?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/;

/** The key of a `python_version` text in its canonical form (`3.11`, `1!3.8`), else undefined. */
export function pythonVersionKey(text: string): VersionKey | undefined {
  const m = PV_TEXT.exec(text);
  if (m === null) return undefined;
  const num = (s: string): Num => {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : BigInt(s);
  };
  return finalKey(m[1] === undefined ? 0 : num(m[1]), [num(m[2]!), num(m[3]!)]);
}

/** `epoch!major.minor` of a key, and the next minor. */
function minorOf(key: VersionKey): { here: VersionKey; next: VersionKey } {
  const a = key.release[0] ?? 0;
  const b = key.release[1] ?? 0;
  return { here: finalKey(key.epoch, [a, b]), next: finalKey(key.epoch, [a, increment(b)]) };
}

/** The cut below the first full version whose python_version is the minor `minor`. */
export function minorCut(minor: VersionKey): Cut {
  return below(devZeroKey(minor.epoch, padded(minor.release, 2)));
}

/** The full versions whose python_version is `minor` (a two-component final version). */
export function minorInterval(minor: VersionKey): Interval {
  return [minorCut(minor), minorCut(minorOf(minor).next)];
}

/**
 * The cut of full versions matching a cut of python_version values: python_version `M.m` lies
 * above `cut` exactly when every full version `M.m.*` does, so the image is the cut below the
 * first full version of the least minor above `cut`.
 */
function pullCut(cut: Cut): Cut {
  const { here, next } = minorOf(cut.key);
  let first: VersionKey;
  if (cut.kind === 2) first = next;
  else {
    const c = compareKeys(cut.key, here);
    first = (cut.kind === 0 ? c <= 0 : c < 0) ? here : next;
  }
  return minorCut(first);
}

/** The full-version intervals whose python_version lies in `intervals`. */
export function pullBack(intervals: readonly Interval[]): Interval[] {
  const out: [Cut | null, Cut | null][] = [];
  for (const [lo, hi] of intervals) {
    const a = lo === null ? null : pullCut(lo);
    const b = hi === null ? null : pullCut(hi);
    if (a !== null && a === b) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === a) last[1] = b;
    else out.push([a, b]);
  }
  return out;
}

/**
 * The python_version values (two-component finals) `V` for which `Specifier(op + V)` admits
 * `literal`: what a reversed comparison `"literal" op python_version` means. Derived from PEP
 * 440's rules for each operator; `undefined` for `===`, `in` and `not in`.
 */
export function reversedPythonVersion(
  op: SpecifierOperator,
  literal: VersionKey,
): Interval[] | undefined {
  const p = partsOf(literal);
  const pub = makeKey(p.epoch, p.release, p.pre, p.post, p.dev, undefined);
  const { here, next } = minorOf(literal);
  const from = (k: VersionKey): Interval[] => [[minorCut(k), null]];
  const upTo = (k: VersionKey): Interval[] => [[null, minorCut(k)]];
  const isFinal = p.pre === undefined && p.post === undefined && p.dev === undefined;
  switch (op) {
    case "==":
    case "!=": {
      const inside: Interval[] = isFinal && literal.release.length <= 2
        ? [minorInterval(here)]
        : [];
      return op === "==" ? inside : complement(inside);
    }
    case "<=": // literal <= V, ignoring the literal's local label
      return from(compareKeys(pub, here) <= 0 ? here : next);
    case ">=": // V <= literal
      return upTo(compareKeys(pub, here) < 0 ? here : next);
    case "<": // literal < V, and no pre-release of a final V: V from the next minor on
      return from(next);
    case ">": // literal above every post-release of V
      return upTo(literal.release.length <= 2 ? here : next);
    case "~=": { // V <= literal within literal's major
      const first = finalKey(p.epoch, [literal.release[0] ?? 0, 0]);
      if (compareKeys(pub, here) >= 0) return [[minorCut(first), minorCut(next)]];
      if (compareKeys(here, first) === 0) return [];
      return [[minorCut(first), minorCut(here)]];
    }
    case "===":
      return undefined;
  }
}
