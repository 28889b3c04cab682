// Private to the marker algebra (marker_set.ts): a reduced, ordered, hash-consed decision diagram
// over the marker variables. Never re-exported.
//
// Levels, in a fixed global order:
// - one *value* level per environment variable (and `extra`). A value node maps every possible
//   value of its variable to a child: version-like variables through sorted cuts in the PEP 440
//   order (plus one child for strings that are no version), string variables through one child
//   for "any other string"; both with a few exact strings ("exceptions") that go elsewhere.
// - after each value level, *bit* levels for that variable: opaque tests such as
//   `"linux" in sys_platform`, computed exactly on a value but treated as free by the algebra,
//   except that a node never tests a bit for an exception string (the value decides it).
// - membership bits `"name" in extras` and `"name" in dependency_groups`, last.
//
// Nodes are interned, so two sets are equal exactly when their nodes are the same object — up
// to the freedom of opaque bits (see marker_set.ts for what that costs).

import { compareCuts, type Cut, isBottom, segmentOf } from "./_marker_range.ts";
import { VERSION_KEY, type VersionKey } from "./_version_key.ts";
import { Version } from "./version.ts";

/** Variables with a value level, in diagram order. */
export const VALUE_VARIABLES = [
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
  "extra",
] as const;

/** A variable with a value level. */
export type ValueVariable = typeof VALUE_VARIABLES[number];

/** A variable holding a set of names (PEP 751). */
export type SetVariable = "extras" | "dependency_groups";

/** A value level: the node maps the variable's value to a child. */
export interface ValueLevel {
  readonly kind: "value";
  readonly id: number;
  readonly group: number;
  readonly name: string;
  readonly variable: ValueVariable;
  /** Values compare as versions (cuts apply to those that parse). */
  readonly versions: boolean;
  /** Only valid versions occur (python_full_version): invalid strings are no part of the set. */
  readonly validOnly: boolean;
}

/** A bit level: an opaque test of one variable's value, or a membership in a set variable. */
export interface BitLevel {
  readonly kind: "bit";
  readonly id: number;
  readonly group: number;
  /** The order within the group; the test's text. */
  readonly name: string;
  readonly variable: ValueVariable | SetVariable;
  /** The PEP 508 text that holds when the bit is set. */
  readonly text: string;
  /** The PEP 508 text that holds when the bit is clear, when there is one. */
  readonly negation: string | undefined;
  /** For tests of a value: the test. */
  readonly test: ((value: string) => boolean) | undefined;
  /** For membership bits: the normalised name. */
  readonly member: string | undefined;
  /** Whether `text` and `negation` mean exactly this test when parsed back. */
  readonly printable: boolean;
}

/** A level of the diagram. */
export type Level = ValueLevel | BitLevel;

/** A terminal: the set holds (`TRUE`) or not (`FALSE`). */
export interface Leaf {
  readonly kind: "leaf";
  readonly id: number;
  readonly value: boolean;
}

/** A decision on a bit. */
export interface BitNode {
  readonly kind: "bit";
  readonly id: number;
  readonly level: BitLevel;
  readonly low: Node;
  readonly high: Node;
}

/** A decision on a variable's value. */
export interface ValueNode {
  readonly kind: "value";
  readonly id: number;
  readonly level: ValueLevel;
  /** Sorted distinct cuts; `segs[i]` is the child between `cuts[i - 1]` and `cuts[i]`. */
  readonly cuts: readonly Cut[];
  readonly segs: readonly Node[];
  /** The child for strings that are no version (equal to `segs[0]` where that cannot occur). */
  readonly invalid: Node;
  /** Exact strings whose child differs from the one their segment gives; sorted. */
  readonly exc: ReadonlyMap<string, Node>;
}

/** A node of the diagram. */
export type Node = Leaf | BitNode | ValueNode;

/** The empty set. */
export const FALSE: Leaf = Object.freeze({ kind: "leaf", id: 0, value: false });
/** The set of every environment. */
export const TRUE: Leaf = Object.freeze({ kind: "leaf", id: 1, value: true });

const SET_GROUP: Readonly<Record<SetVariable, number>> = {
  extras: VALUE_VARIABLES.length * 2,
  dependency_groups: VALUE_VARIABLES.length * 2 + 1,
};

let levelIds = 0;
const VALUE_LEVELS = new Map<string, ValueLevel>(
  VALUE_VARIABLES.map((variable, i) => [variable, {
    kind: "value",
    id: ++levelIds,
    group: 2 * i,
    name: "",
    variable,
    versions: i < 3,
    validOnly: i === 0,
  }]),
);
const BIT_LEVELS = new Map<string, BitLevel>();

/** The value level of a variable. */
export function valueLevel(variable: ValueVariable): ValueLevel {
  return VALUE_LEVELS.get(variable)!;
}

/** The bit level of an opaque test of `variable`, created on first use (by its text). */
export function testLevel(
  variable: ValueVariable,
  text: string,
  negation: string | undefined,
  test: (value: string) => boolean,
  printable = true,
): BitLevel {
  const group = valueLevel(variable).group + 1;
  const key = `${group}\0${text}`;
  let level = BIT_LEVELS.get(key);
  if (level === undefined) {
    const cache = new Map<string, boolean>();
    const cached = (value: string): boolean => {
      let result = cache.get(value);
      if (result === undefined) {
        result = test(value);
        if (cache.size >= 4096) cache.clear();
        cache.set(value, result);
      }
      return result;
    };
    level = {
      kind: "bit",
      id: ++levelIds,
      group,
      name: text,
      variable,
      text,
      negation,
      test: cached,
      member: undefined,
      printable,
    };
    BIT_LEVELS.set(key, level);
  }
  return level;
}

/** The bit level of `"name" in <set variable>` (the name already normalised). */
export function memberLevel(variable: SetVariable, name: string, quoted: string): BitLevel {
  const group = SET_GROUP[variable];
  const key = `${group}\0${name}`;
  let level = BIT_LEVELS.get(key);
  if (level === undefined) {
    level = {
      kind: "bit",
      id: ++levelIds,
      group,
      name,
      variable,
      text: `${quoted} in ${variable}`,
      negation: `${quoted} not in ${variable}`,
      test: undefined,
      member: name,
      printable: true,
    };
    BIT_LEVELS.set(key, level);
  }
  return level;
}

/** Orders levels; a leaf (`undefined`) comes last. */
export function compareLevels(a: Level | undefined, b: Level | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a.group - b.group || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The level a node decides on, `undefined` for a leaf. */
function levelOf(node: Node): Level | undefined {
  return node.kind === "leaf" ? undefined : node.level;
}

// ---------------------------------------------------------------------------------------------
// Construction

// The unique table holds nodes weakly: a node nobody holds can go, and a new equal node then
// takes its place, so equal live sets are still the same object and memory stays bounded.
const unique = new Map<string, WeakRef<Node>>();
let sweepAt = 1 << 16;

function interned(key: string): Node | undefined {
  return unique.get(key)?.deref();
}

function intern<N extends Node>(key: string, node: N): N {
  if (unique.size >= sweepAt) {
    for (const [k, ref] of unique) if (ref.deref() === undefined) unique.delete(k);
    sweepAt = Math.max(1 << 16, unique.size * 2);
  }
  unique.set(key, new WeakRef(node));
  return node;
}
let nodeIds = 1;

const keyCache = new Map<string, VersionKey | null>();

/** The version key of a string, or undefined when it is no PEP 440 version. */
export function versionKeyOf(text: string): VersionKey | undefined {
  let key = keyCache.get(text);
  if (key === undefined) {
    key = Version.tryParse(text)?.[VERSION_KEY] ?? null;
    if (keyCache.size >= 8192) keyCache.clear();
    keyCache.set(text, key);
  }
  return key ?? undefined;
}

/** A bit node, reduced (no node whose two children are equal). */
export function mkBit(level: BitLevel, low: Node, high: Node): Node {
  if (low === high) return low;
  const key = `b${level.id},${low.id},${high.id}`;
  return interned(key) ??
    intern(key, Object.freeze({ kind: "bit", id: ++nodeIds, level, low, high }));
}

function defaultAt(
  level: ValueLevel,
  cuts: readonly Cut[],
  segs: readonly Node[],
  invalid: Node,
  value: string,
): Node {
  if (!level.versions) return segs[0]!;
  const key = versionKeyOf(value);
  if (key !== undefined) return segs[segmentOf(cuts, key)]!;
  if (level.validOnly) {
    throw new RangeError(`${level.variable} ${JSON.stringify(value)} is no PEP 440 version`);
  }
  return invalid;
}

/** The child a value node gives `value`, before its bits are decided. */
function childAt(node: ValueNode, value: string): Node {
  return node.exc.get(value) ?? defaultAt(node.level, node.cuts, node.segs, node.invalid, value);
}

/** Decides the bits of `level`'s variable at the top of `node` for the value `value`. */
export function resolveAt(level: ValueLevel, node: Node, value: string): Node {
  const group = level.group + 1;
  while (node.kind === "bit" && node.level.group === group) {
    node = node.level.test!(value) ? node.high : node.low;
  }
  return node;
}

/** The child a value node gives `value`, with the variable's bits decided. */
function resolvedChildAt(node: ValueNode, value: string): Node {
  return node.exc.get(value) ?? resolveAt(node.level, childAt(node, value), value);
}

/**
 * A value node in canonical form: adjacent equal segments merged, exceptions kept only where
 * they differ from what the segment gives the string, and no node when every value gives the
 * same child. Exception children must not test the variable's bits.
 */
export function mkValue(
  level: ValueLevel,
  cuts: readonly Cut[],
  segs: readonly Node[],
  invalid: Node,
  exceptions: Iterable<readonly [string, Node]>,
): Node {
  const outCuts: Cut[] = [];
  const outSegs: Node[] = [segs[0]!];
  for (let i = 0; i < cuts.length; i++) {
    const cut = cuts[i]!;
    const next = segs[i + 1]!;
    if (isBottom(cut)) {
      outSegs[outSegs.length - 1] = next; // nothing lies below the least version
      continue;
    }
    if (next === outSegs[outSegs.length - 1]) continue;
    outCuts.push(cut);
    outSegs.push(next);
  }
  const inv = level.versions && !level.validOnly ? invalid : outSegs[0]!;
  const kept: [string, Node][] = [];
  for (const [value, child] of exceptions) {
    if (level.validOnly && versionKeyOf(value) === undefined) continue;
    const fallback = resolveAt(level, defaultAt(level, outCuts, outSegs, inv, value), value);
    if (child !== fallback) kept.push([value, child]);
  }
  if (kept.length === 0 && outSegs.length === 1 && inv === outSegs[0]) return inv;
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key = `v${level.id}|${outCuts.map((c) => c.id).join(",")}|${
    outSegs.map((n) => n.id).join(",")
  }|${inv.id}|${kept.map(([s, n]) => `${JSON.stringify(s)}:${n.id}`).join(",")}`;
  return interned(key) ?? intern(
    key,
    Object.freeze({
      kind: "value",
      id: ++nodeIds,
      level,
      cuts: Object.freeze(outCuts),
      segs: Object.freeze(outSegs),
      invalid: inv,
      exc: new Map(kept),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Boolean operations

type Op = "and" | "or";
const MEMO_LIMIT = 1 << 18;
const memos: Record<Op, Map<string, Node>> = { and: new Map(), or: new Map() };
const negations = new Map<number, Node>();

/** The intersection. */
export function and(a: Node, b: Node): Node {
  return apply("and", a, b);
}

/** The union. */
export function or(a: Node, b: Node): Node {
  return apply("or", a, b);
}

function apply(op: Op, a: Node, b: Node): Node {
  if (a === b) return a;
  if (a.kind === "leaf") return a.value === (op === "and") ? b : a;
  if (b.kind === "leaf") return b.value === (op === "and") ? a : b;
  const memo = memos[op];
  const key = a.id < b.id ? `${a.id},${b.id}` : `${b.id},${a.id}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const order = compareLevels(a.level, b.level);
  let result: Node;
  if (order === 0) {
    result = a.kind === "bit"
      ? mkBit(a.level, apply(op, a.low, (b as BitNode).low), apply(op, a.high, (b as BitNode).high))
      : mergeValues(op, a, b as ValueNode);
  } else {
    const [x, y] = order < 0 ? [a, b] : [b, a];
    result = x.kind === "bit" ? mkBit(x.level, apply(op, x.low, y), apply(op, x.high, y)) : mkValue(
      x.level,
      x.cuts,
      x.segs.map((s) => apply(op, s, y)),
      apply(op, x.invalid, y),
      [...x.exc].map(([v, c]) => [v, apply(op, c, resolveAt(x.level, y, v))] as const),
    );
  }
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, result);
  return result;
}

/** Walks the merged cuts of two value nodes of one level; `visit` gets each segment's pair. */
function overlay(
  a: ValueNode,
  b: ValueNode,
  visit: (x: Node, y: Node) => Node,
): { cuts: Cut[]; segs: Node[] } {
  const cuts: Cut[] = [];
  const segs: Node[] = [visit(a.segs[0]!, b.segs[0]!)];
  let i = 0;
  let j = 0;
  while (i < a.cuts.length || j < b.cuts.length) {
    const ca = a.cuts[i];
    const cb = b.cuts[j];
    const d = ca === undefined ? 1 : cb === undefined ? -1 : compareCuts(ca, cb);
    if (d <= 0) i++;
    if (d >= 0) j++;
    cuts.push(d <= 0 ? ca! : cb!);
    segs.push(visit(a.segs[i]!, b.segs[j]!));
  }
  return { cuts, segs };
}

function mergeValues(op: Op, a: ValueNode, b: ValueNode): Node {
  const { cuts, segs } = overlay(a, b, (x, y) => apply(op, x, y));
  const values = new Set([...a.exc.keys(), ...b.exc.keys()]);
  const exceptions = [...values].map((v) =>
    [v, apply(op, resolvedChildAt(a, v), resolvedChildAt(b, v))] as const
  );
  return mkValue(a.level, cuts, segs, apply(op, a.invalid, b.invalid), exceptions);
}

/** The complement. */
export function not(node: Node): Node {
  if (node.kind === "leaf") return node.value ? FALSE : TRUE;
  const hit = negations.get(node.id);
  if (hit !== undefined) return hit;
  const result = node.kind === "bit" ? mkBit(node.level, not(node.low), not(node.high)) : mkValue(
    node.level,
    node.cuts,
    node.segs.map(not),
    not(node.invalid),
    [...node.exc].map(([v, c]) => [v, not(c)] as const),
  );
  if (negations.size >= MEMO_LIMIT) negations.clear();
  negations.set(node.id, result);
  negations.set(result.id, node);
  return result;
}

/** Whether every member of `a` is a member of `b`. */
export function implies(a: Node, b: Node): boolean {
  return a === b || and(a, not(b)) === FALSE;
}

// ---------------------------------------------------------------------------------------------
// Evaluation and restriction

/** The values an evaluation or a restriction fixes. */
export interface Assignment {
  /** Values of value variables (python_full_version already repaired). */
  readonly values: ReadonlyMap<string, string>;
  /** Members of set variables (normalised names). */
  readonly sets: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Whether the environment is in the set; every variable the diagram reaches must be assigned.
 */
export function evaluate(node: Node, assignment: Assignment): boolean {
  while (node.kind !== "leaf") {
    if (node.kind === "bit") {
      node = bitValue(node.level, assignment) ? node.high : node.low;
    } else {
      node = childAt(node, valueOf(node.level.variable, assignment));
    }
  }
  return node.value;
}

function valueOf(variable: string, assignment: Assignment): string {
  const value = assignment.values.get(variable);
  if (value === undefined) throw new TypeError(`No value for the marker variable ${variable}`);
  return value;
}

function bitValue(level: BitLevel, assignment: Assignment): boolean {
  if (level.member !== undefined) {
    return assignment.sets.get(level.variable)?.has(level.member) ?? false;
  }
  return level.test!(valueOf(level.variable, assignment));
}

/** The set with the assigned variables fixed: the result no longer depends on them. */
export function restrict(
  node: Node,
  assignment: Assignment,
  memo: Map<number, Node> = new Map(),
): Node {
  if (node.kind === "leaf") return node;
  const hit = memo.get(node.id);
  if (hit !== undefined) return hit;
  let result: Node;
  const variable = node.level.variable;
  const fixed = node.kind === "bit" && node.level.member !== undefined
    ? assignment.sets.has(variable)
    : assignment.values.has(variable);
  if (node.kind === "bit") {
    result = fixed
      ? restrict(bitValue(node.level, assignment) ? node.high : node.low, assignment, memo)
      : mkBit(
        node.level,
        restrict(node.low, assignment, memo),
        restrict(node.high, assignment, memo),
      );
  } else if (fixed) {
    result = restrict(childAt(node, assignment.values.get(variable)!), assignment, memo);
  } else {
    result = mkValue(
      node.level,
      node.cuts,
      node.segs.map((s) => restrict(s, assignment, memo)),
      restrict(node.invalid, assignment, memo),
      [...node.exc].map(([v, c]) => [v, restrict(c, assignment, memo)] as const),
    );
  }
  memo.set(node.id, result);
  return result;
}

/** The union of a node's children: the set with its top variable left free. */
function existsTop(node: Node): Node {
  if (node.kind === "leaf") return node;
  if (node.kind === "bit") return or(node.low, node.high);
  let result = node.invalid;
  for (const s of node.segs) result = or(result, s);
  for (const c of node.exc.values()) result = or(result, c);
  return result;
}

/**
 * A node that agrees with `f` wherever `care` holds and is no larger where it does not matter:
 * a variant of Coudert and Madre's "restrict" for value levels (regions outside `care` take a
 * neighbour's child, and a variable whose cared-for regions all lead to one child disappears).
 */
export function simplify(f: Node, care: Node, memo: Map<string, Node> = new Map()): Node {
  if (care === FALSE) return FALSE;
  if (care === TRUE || f.kind === "leaf") return f;
  if (implies(care, f)) return TRUE;
  if (and(care, f) === FALSE) return FALSE;
  const key = `${f.id},${care.id}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const order = compareLevels(f.level, levelOf(care));
  let result: Node;
  if (order > 0) {
    result = simplify(f, existsTop(care), memo);
  } else if (order < 0) {
    result = f.kind === "bit"
      ? mkBit(f.level, simplify(f.low, care, memo), simplify(f.high, care, memo))
      : mkValue(
        f.level,
        f.cuts,
        f.segs.map((s) => simplify(s, care, memo)),
        simplify(f.invalid, care, memo),
        [...f.exc].map(([v, c]) => [v, simplify(c, resolveAt(f.level, care, v), memo)] as const),
      );
  } else if (f.kind === "bit") {
    const c = care as BitNode;
    result = c.low === FALSE
      ? simplify(f.high, c.high, memo)
      : c.high === FALSE
      ? simplify(f.low, c.low, memo)
      : mkBit(f.level, simplify(f.low, c.low, memo), simplify(f.high, c.high, memo));
  } else {
    result = simplifyValues(f, care as ValueNode, memo);
  }
  memo.set(key, result);
  return result;
}

function simplifyValues(f: ValueNode, care: ValueNode, memo: Map<string, Node>): Node {
  const DONT_CARE = FALSE; // marker for pieces outside `care`, replaced below
  const cared: (Node | undefined)[] = [];
  const { cuts } = overlay(f, care, (x, y) => {
    cared.push(y === FALSE ? undefined : simplify(x, y, memo));
    return DONT_CARE;
  });
  const invalid = care.invalid === FALSE ? undefined : simplify(f.invalid, care.invalid, memo);
  const exceptions: [string, Node][] = [];
  for (const v of new Set([...f.exc.keys(), ...care.exc.keys()])) {
    const c = resolvedChildAt(care, v);
    if (c !== FALSE) exceptions.push([v, simplify(resolvedChildAt(f, v), c, memo)]);
  }
  const distinct = new Set<Node>(exceptions.map(([, n]) => n));
  for (const n of cared) if (n !== undefined) distinct.add(n);
  if (invalid !== undefined && f.level.versions && !f.level.validOnly) distinct.add(invalid);
  if (distinct.size <= 1) return distinct.values().next().value ?? FALSE;
  // Regions outside `care` take the child on their left (or right), so boundaries disappear.
  const first = cared.find((n) => n !== undefined) ?? invalid ?? exceptions[0]![1];
  const segs: Node[] = [];
  let last = first;
  for (const n of cared) {
    last = n ?? last;
    segs.push(last);
  }
  const inv = invalid ?? (distinct.has(FALSE) ? FALSE : segs[0]!);
  return mkValue(f.level, cuts, segs, inv, exceptions);
}
