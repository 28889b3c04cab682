// Private to the marker algebra (marker_set.ts): PEP 508 text for a decision-diagram node.
// Never re-exported.
//
// Each node prints as an `or` over its distinct children of "the values that lead there, and
// the child". A child's region may be widened by the regions of children that contain it (on
// those the whole is true anyway), which removes most redundant conditions: the diagram of
// `a or b` prints as `a or b`, not `a or (not a and b)`. Version regions print as specifier
// clauses; python_full_version boundaries at a major.minor print as python_version clauses.
//
// PEP 508 has no `not`, and a few sets have no exact text: the complement of `V > "1.0"` (it
// holds on 1.0's post-releases), strings that are no version together with a version range, a
// negated opaque test (`"3.8" < python_full_version` has no opposite), and odd strings compared
// with `extra`. Those print approximately and the result says so.

import {
  allSubstrings,
  caseVariants,
  FULL_SPECIFIER,
  isSpecifier,
  operandText,
} from "./_marker_atoms.ts";
import {
  FALSE,
  implies,
  type Node,
  not,
  or,
  simplify,
  type ValueLevel,
  type ValueNode,
  versionKeyOf,
} from "./_marker_dd.ts";
import { quotePython } from "./_marker_parser.ts";
import {
  type Cut,
  devZeroKey,
  finalKey,
  increment,
  isPrereleaseKey,
  minorCut,
  partsOf,
  pythonVersionOf,
  segmentOf,
  successor,
} from "./_marker_range.ts";
import { compareKeys, compareNum, makeKey, type Num, type VersionKey } from "./_version_key.ts";

/** A marker expression being printed. */
type Expr =
  | { readonly kind: "atom"; readonly text: string }
  | { readonly kind: "and" | "or"; readonly items: readonly Expr[] }
  | { readonly kind: "true" }
  | { readonly kind: "false" };

const T: Expr = { kind: "true" };
const F: Expr = { kind: "false" };

function atom(text: string): Expr {
  return { kind: "atom", text };
}

function join(kind: "and" | "or", items: readonly Expr[]): Expr {
  const [unit, zero] = kind === "and" ? ["true", "false"] : ["false", "true"];
  const out: Expr[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (item.kind === zero) return item;
    if (item.kind === unit) continue;
    for (const part of item.kind === kind ? item.items : [item]) {
      const text = format(part);
      if (seen.has(text)) continue;
      seen.add(text);
      out.push(part);
    }
  }
  if (out.length === 0) return kind === "and" ? T : F;
  return out.length === 1 ? out[0]! : { kind, items: out };
}

function all(...items: Expr[]): Expr {
  return join("and", items);
}

function any(...items: Expr[]): Expr {
  return join("or", items);
}

function format(expr: Expr): string {
  switch (expr.kind) {
    case "atom":
      return expr.text;
    case "and":
      return expr.items.map((e) => (e.kind === "or" ? `(${format(e)})` : format(e))).join(" and ");
    case "or":
      return expr.items.map(format).join(" or ");
    case "true":
      return "";
    case "false":
      return 'python_version < "0"';
  }
}

/** A text and whether it is exact. */
interface Printed {
  readonly expr: Expr;
  readonly exact: boolean;
}

/** The text of a set: `""` for every environment, `python_version < "0"` for none. */
export function printNode(node: Node): { text: string; exact: boolean } {
  const printed = new Printer().node(node);
  return { text: format(printed.expr), exact: printed.exact };
}

class Printer {
  readonly #memo = new Map<number, Printed>();

  node(node: Node): Printed {
    if (node.kind === "leaf") return { expr: node.value ? T : F, exact: true };
    let printed = this.#memo.get(node.id);
    if (printed === undefined) {
      printed = node.kind === "bit" ? this.#bit(node) : this.#value(node);
      this.#memo.set(node.id, printed);
    }
    return printed;
  }

  #bit(node: Extract<Node, { kind: "bit" }>): Printed {
    const level = node.level;
    const { low: l, high: h } = node;
    let exact = level.printable;
    const yes = atom(level.text);
    let no: Expr = F;
    const lowInHigh = implies(l, h);
    const needNo = h === FALSE || !lowInHigh;
    if (needNo) {
      if (level.negation === undefined) exact = false;
      else no = atom(level.negation);
    }
    let printed: Printed;
    if (l === FALSE) printed = this.#join(yes, this.node(h));
    else if (h === FALSE) printed = this.#join(no, this.node(l));
    else if (lowInHigh) {
      // (bit and high) or low: where low holds the whole does, so high may ignore it.
      printed = this.#or(this.#join(yes, this.#under(h, l)), this.node(l));
    } else if (implies(h, l)) {
      printed = this.#or(this.#join(no, this.#under(l, h)), this.node(h));
    } else {
      printed = this.#or(this.#join(yes, this.node(h)), this.#join(no, this.node(l)));
    }
    return { expr: printed.expr, exact: exact && printed.exact };
  }

  /** `node`, printed as simply as it may be where `covered` (which implies it) does not hold. */
  #under(node: Node, covered: Node): Printed {
    const plain = this.node(node);
    if (covered === FALSE) return plain;
    return pick(plain, this.node(simplify(node, not(covered))));
  }

  #join(condition: Expr, inner: Printed): Printed {
    return { expr: all(condition, inner.expr), exact: inner.exact };
  }

  #or(a: Printed, b: Printed): Printed {
    return { expr: any(a.expr, b.expr), exact: a.exact && b.exact };
  }

  #value(node: ValueNode): Printed {
    const level = node.level;
    const children: Node[] = [];
    for (const c of [...node.segs, node.invalid, ...node.exc.values()]) {
      if (c !== FALSE && !children.includes(c)) children.push(c);
    }
    // Where a larger child holds, the whole holds, so a child's region may include the larger
    // one's: pick whichever prints shorter.
    const regions = children.map((child) => {
      const wider = children.filter((d) => d === child || implies(child, d));
      const strict = regionExpr(level, regionOf(node, [child]));
      if (wider.length === 1) return { printed: strict, widened: false };
      const widened = regionExpr(level, regionOf(node, wider));
      const best = pick(strict, widened);
      return { printed: best, widened: best === widened };
    });
    const terms: Printed[] = children.map((child, i) => {
      // Smaller children whose terms were widened over this child's region hold there already.
      let covered: Node = FALSE;
      children.forEach((d, j) => {
        if (j !== i && regions[j]!.widened && implies(d, child)) covered = or(covered, d);
      });
      return this.#join(regions[i]!.printed.expr, this.#under(child, covered));
    });
    const exact = regions.every((r) => r.printed.exact) && terms.every((t) => t.exact);
    return { expr: any(...terms.map((t) => t.expr)), exact };
  }
}

function pick(a: Printed, b: Printed): Printed {
  if (a.exact !== b.exact) return a.exact ? a : b;
  return format(b.expr).length < format(a.expr).length ? b : a;
}

// ---------------------------------------------------------------------------------------------
// Regions: the values of one variable that lead to some children

interface Region {
  readonly cuts: readonly Cut[];
  readonly member: readonly boolean[];
  readonly invalid: boolean;
  /** Exact strings whose membership differs from their segment's. */
  readonly exc: ReadonlyMap<string, boolean>;
}

function regionOf(node: ValueNode, children: readonly Node[]): Region {
  const has = (n: Node): boolean => children.includes(n);
  const cuts: Cut[] = [];
  const member: boolean[] = [has(node.segs[0]!)];
  node.cuts.forEach((cut, i) => {
    const m = has(node.segs[i + 1]!);
    if (m !== member[member.length - 1]) {
      cuts.push(cut);
      member.push(m);
    }
  });
  const invalid = has(node.invalid);
  const exc = new Map<string, boolean>();
  for (const [value, child] of node.exc) {
    const key = node.level.versions ? versionKeyOf(value) : undefined;
    const fallback = !node.level.versions
      ? member[0]!
      : key === undefined
      ? invalid
      : member[segmentOf(cuts, key)]!;
    if (has(child) !== fallback) exc.set(value, has(child));
  }
  return { cuts, member, invalid, exc };
}

function regionExpr(level: ValueLevel, region: Region): Printed {
  return level.versions ? versionRegion(level, region) : stringRegion(level, region);
}

function stringRegion(level: ValueLevel, region: Region): Printed {
  const X = level.variable;
  let exact = true;
  const text = (op: "==" | "!=" | "in" | "not in", value: string): Expr => {
    const operand = operandText(X, value);
    if (operand === undefined) {
      exact = false;
      return op === "==" || op === "in" ? F : T;
    }
    return atom(`${X} ${op} ${operand}`);
  };
  let expr: Expr;
  if (region.member[0]) {
    const out = substringCovers(level, region, excluded(region), false);
    expr = all(
      ...out.covers.map((c) => any(text("not in", c.value), ...c.holes.map((h) => text("==", h)))),
      ...out.rest.map((v) => text("!=", v)),
    );
  } else {
    const out = substringCovers(level, region, included(region), true);
    expr = any(
      ...out.covers.map((c) => all(text("in", c.value), ...c.holes.map((h) => text("!=", h)))),
      ...out.rest.map((v) => text("==", v)),
    );
  }
  return { expr, exact };
}

function included(region: Region): string[] {
  return [...region.exc].filter(([, m]) => m).map(([v]) => v);
}

function excluded(region: Region): string[] {
  return [...region.exc].filter(([, m]) => !m).map(([v]) => v);
}

/** Whether the exact string is in the region (`undefined`: it cannot occur). */
function memberAt(level: ValueLevel, region: Region, value: string): boolean | undefined {
  const listed = region.exc.get(value);
  if (listed !== undefined) return listed;
  if (!level.versions) return region.member[0]!;
  const key = versionKeyOf(value);
  if (key === undefined) return level.validOnly ? undefined : region.invalid;
  return region.member[segmentOf(region.cuts, key)]!;
}

/** `X in "value"` (or `X not in "value"`), less (plus) the substrings in `holes`. */
interface Cover {
  readonly value: string;
  readonly holes: readonly string[];
}

/**
 * The strings `values` that print as `X in "s"` (with `want` false, `X not in "s"`): those whose
 * substrings are (are not) in the region but for a few holes, and stand for more than
 * themselves. The others are `rest`.
 */
function substringCovers(
  level: ValueLevel,
  region: Region,
  values: readonly string[],
  want: boolean,
): { covers: Cover[]; rest: string[] } {
  const listed = new Set(values);
  const sorted = [...values].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  const covered = new Set<string>();
  const covers: Cover[] = [];
  const rest: string[] = [];
  for (const value of sorted) {
    if (covered.has(value)) continue;
    const parts = allSubstrings(value);
    const holes: string[] = [];
    let stands = 0;
    for (const part of parts) {
      const m = memberAt(level, region, part);
      if (m !== undefined && m !== want) holes.push(part);
      if (holes.length > MAX_HOLES) break;
      if (listed.has(part)) stands++;
    }
    if (holes.length <= MAX_HOLES && stands > holes.length + 1) {
      covers.push({ value, holes });
      for (const part of parts) covered.add(part);
    } else {
      rest.push(value);
    }
  }
  return { covers, rest: rest.filter((v) => !covered.has(v)) };
}

const MAX_HOLES = 3;

// ---------------------------------------------------------------------------------------------
// Version regions

function versionRegion(level: ValueLevel, region: Region): Printed {
  const X = level.variable;
  const pv = level.validOnly;
  let exact = true;
  const { cuts, member } = region;
  // Local versions appear as single points (`== "1.0+local"`); print them as extra points or
  // holes of the region around them.
  const coarseCuts: Cut[] = [];
  const coarse: boolean[] = [member[0]!];
  const points: Expr[] = [];
  const holes: Expr[] = [];
  for (let i = 0; i < cuts.length; i++) {
    const cut = cuts[i]!;
    const next = cuts[i + 1];
    const before = coarse[coarse.length - 1]!;
    if (
      cut.kind === 0 && cut.key.local !== undefined && next?.kind === 1 && next.key === cut.key &&
      member[i + 2] === before
    ) {
      (member[i + 1] ? points : holes).push(
        atom(`${X} ${member[i + 1] ? "==" : "!="} ${quotePython(versionText(cut.key))}`),
      );
      i++;
      continue;
    }
    coarseCuts.push(cut);
    coarse.push(member[i + 1]!);
  }
  const intervals: [Cut | null, Cut | null][] = [];
  coarse.forEach((m, i) => {
    if (m) intervals.push([i === 0 ? null : coarseCuts[i - 1]!, coarseCuts[i] ?? null]);
  });
  const note = (printed: Printed): Expr => {
    exact &&= printed.exact;
    return printed.expr;
  };
  let valid: Expr;
  if (intervals.length === 1 && intervals[0]![0] === null && intervals[0]![1] === null) {
    valid = pv || region.invalid ? T : atom(`${X} >= "0.dev0"`);
  } else {
    const plain = any(...intervals.map(([lo, hi]) => note(interval(X, pv, lo, hi))));
    // The same with gaps of one version, one prefix or one minor written as `!=` holes.
    const groups: { lo: Cut | null; hi: Cut | null; holes: Expr[] }[] = [];
    for (const [lo, hi] of intervals) {
      const last = groups[groups.length - 1];
      const hole = last === undefined ? undefined : single(X, pv, last.hi!, lo!, "!=");
      if (last !== undefined && hole !== undefined) {
        last.hi = hi;
        last.holes.push(hole);
      } else {
        groups.push({ lo, hi, holes: [] });
      }
    }
    const holed = any(
      ...groups.map((g) => all(note(interval(X, pv, g.lo, g.hi)), ...g.holes)),
    );
    valid = format(holed).length < format(plain).length ? holed : plain;
  }
  valid = all(any(valid, ...points), ...holes);
  if (!pv && region.invalid && valid.kind !== "true") exact = false; // no text for "no version"
  const plus: Expr[] = [];
  const minus: Expr[] = [];
  const out = substringCovers(level, region, included(region), true);
  for (const c of out.covers) {
    plus.push(
      all(atom(`${X} in ${quotePython(c.value)}`), ...c.holes.map((h) => notExactString(X, h))),
    );
  }
  const remaining = new Set(out.rest);
  // A whole case class from one `===` prints as that `===`.
  for (const value of [...remaining]) {
    const target = value.toLowerCase();
    const variants = caseVariants(target)?.filter((v) => !pv || versionKeyOf(v) !== undefined);
    if (
      variants !== undefined && variants.length > 1 && variants.every((v) => remaining.has(v)) &&
      FULL_SPECIFIER.test(`===${target}`) && target.trim() === target
    ) {
      for (const v of variants) remaining.delete(v);
      plus.push(atom(`${X} === ${quotePython(target)}`));
    }
  }
  for (const value of remaining) plus.push(exactString(X, value));
  const gone = substringCovers(level, region, excluded(region), false);
  for (const c of gone.covers) {
    minus.push(
      any(atom(`${X} not in ${quotePython(c.value)}`), ...c.holes.map((h) => exactString(X, h))),
    );
  }
  for (const value of gone.rest) minus.push(notExactString(X, value));
  return { expr: all(any(valid, ...plus), ...minus), exact };
}

/** `X == "V"`, `X == "P.*"` or `python_version == "M.m"` when `[lo, hi)` is one of them. */
function single(X: string, pv: boolean, lo: Cut, hi: Cut, op: "==" | "!="): Expr | undefined {
  if (lo.kind !== 0 || hi.kind !== 0 || lo.key.local !== undefined) return undefined;
  const minorLo = minorOf(lo);
  const minorHi = minorOf(hi);
  if (pv && minorLo !== undefined && minorHi !== undefined) {
    const a = minorLo.release;
    const b = minorHi.release;
    const [a0, a1, b0, b1] = [a[0] ?? 0, a[1] ?? 0, b[0] ?? 0, b[1] ?? 0];
    if (
      compareNum(minorLo.epoch, minorHi.epoch) === 0 && compareNum(a0, b0) === 0 &&
      compareNum(increment(a1), b1) === 0
    ) {
      return atom(`python_version ${op} ${quotePython(pythonVersionOf(minorLo))}`);
    }
  }
  if (compareKeys(hi.key, successor(lo.key)) === 0) {
    return atom(`${X} ${op} ${quotePython(versionText(lo.key))}`);
  }
  // `== "P.*"`: from P.dev0 to the dev0 of P with its last number increased.
  const l = partsOf(lo.key);
  const h = partsOf(hi.key);
  if (
    l.pre === undefined && l.post === undefined && l.dev === 0 && h.pre === undefined &&
    h.post === undefined && h.dev === 0 && h.release.length > 0 &&
    compareNum(l.epoch, h.epoch) === 0
  ) {
    const prefix = [...h.release];
    const last = prefix.pop()!;
    if (last === 0 || last === 0n) return undefined;
    prefix.push(typeof last === "bigint" ? last - 1n : last - 1);
    if (compareKeys(devZeroKey(l.epoch, prefix), lo.key) === 0) {
      const epoch = isZero(l.epoch) ? "" : `${l.epoch}!`;
      return atom(`${X} ${op} "${epoch}${prefix.join(".")}.*"`);
    }
  }
  return undefined;
}

function interval(X: string, pv: boolean, lo: Cut | null, hi: Cut | null): Printed {
  if (lo !== null && hi !== null) {
    const one = single(X, pv, lo, hi, "==");
    if (one !== undefined) return { expr: one, exact: true };
  }
  const a = lo === null ? { expr: T, exact: true } : from(X, pv, lo);
  const b = hi === null ? { expr: T, exact: true } : upTo(X, pv, hi);
  return { expr: all(a.expr, b.expr), exact: a.exact && b.exact };
}

/** The values at or above `cut`. */
function from(X: string, pv: boolean, cut: Cut): Printed {
  const minor = pv ? minorOf(cut) : undefined;
  if (minor !== undefined) {
    return { expr: atom(`python_version >= ${quotePython(pythonVersionOf(minor))}`), exact: true };
  }
  if (cut.kind === 2) return { expr: atom(`${X} > ${quoted(cut.key)}`), exact: true };
  const exact = cut.kind === 0 && cut.key.local === undefined;
  return { expr: atom(`${X} >= ${quoted(publicKey(cut.key))}`), exact };
}

/** The values below `cut`. */
function upTo(X: string, pv: boolean, cut: Cut): Printed {
  const minor = pv ? minorOf(cut) : undefined;
  if (minor !== undefined) {
    return { expr: atom(`python_version < ${quotePython(pythonVersionOf(minor))}`), exact: true };
  }
  // Not the complement of `> "R"`: `<= "R"` leaves out R's post-releases.
  if (cut.kind === 2) return { expr: atom(`${X} <= ${quoted(cut.key)}`), exact: false };
  const key = publicKey(cut.key);
  const exact = cut.kind === 0 && cut.key.local === undefined;
  const p = partsOf(key);
  if (isPrereleaseKey(key)) {
    // `< "V"` stops at V for a pre-release V, and at V.dev0 for a final or post-release V.
    const stop = p.pre === undefined && p.dev === 0
      ? makeKey(p.epoch, p.release, undefined, p.post, undefined, undefined)
      : key;
    return { expr: atom(`${X} < ${quoted(stop)}`), exact };
  }
  return { expr: all(atom(`${X} <= ${quoted(key)}`), atom(`${X} != ${quoted(key)}`)), exact };
}

/** The minor whose first full version `cut` is just below, for python_version clauses. */
function minorOf(cut: Cut): VersionKey | undefined {
  if (cut.kind !== 0) return undefined;
  const p = partsOf(cut.key);
  if (
    p.pre !== undefined || p.post !== undefined || p.dev !== 0 || p.local !== undefined ||
    p.release.length > 2
  ) return undefined;
  const minor = finalKey(p.epoch, p.release);
  return minorCut(minor) === cut ? minor : undefined;
}

/** The exact string `value`, for a version variable. */
function exactString(X: string, value: string): Expr {
  if (!isSpecifier(`==${value}`)) return atom(`${X} == ${quotePython(value)}`);
  if (value.trim() === value && FULL_SPECIFIER.test(`===${value}`)) {
    return all(atom(`${X} === ${quotePython(value)}`), atom(`${X} in ${quotePython(value)}`));
  }
  // The substrings of the value, less those of the value without its first or last character.
  const chars = [...value];
  if (chars.length === 0) return atom(`${X} in ""`);
  return all(
    atom(`${X} in ${quotePython(value)}`),
    atom(`${X} not in ${quotePython(chars.slice(1).join(""))}`),
    atom(`${X} not in ${quotePython(chars.slice(0, -1).join(""))}`),
  );
}

/** Any string but `value`, for a version variable. */
function notExactString(X: string, value: string): Expr {
  if (!isSpecifier(`!=${value}`)) return atom(`${X} != ${quotePython(value)}`);
  const chars = [...value];
  if (chars.length === 0) return atom(`${X} not in ""`);
  return any(
    atom(`${X} not in ${quotePython(value)}`),
    atom(`${X} in ${quotePython(chars.slice(1).join(""))}`),
    atom(`${X} in ${quotePython(chars.slice(0, -1).join(""))}`),
  );
}

function isZero(n: Num): boolean {
  return n === 0 || n === 0n;
}

function publicKey(key: VersionKey): VersionKey {
  return key.local === undefined ? key : { ...key, local: undefined };
}

function quoted(key: VersionKey): string {
  return quotePython(versionText(key));
}

/** A version's text from its key, with at least two release numbers. */
function versionText(key: VersionKey): string {
  const p = partsOf(key);
  const release = [...p.release];
  while (release.length < 2) release.push(0);
  let text = `${isZero(p.epoch) ? "" : `${p.epoch}!`}${release.join(".")}`;
  if (p.pre !== undefined) text += `${p.pre[0]}${p.pre[1]}`;
  if (p.post !== undefined) text += `.post${p.post}`;
  if (p.dev !== undefined) text += `.dev${p.dev}`;
  if (p.local !== undefined) text += `+${p.local.join(".")}`;
  return text;
}
