// PubGrub (Natalie Weizenbaum, 2018; as in dart-lang/pub and pubgrub-rs, which uv uses) over
// finite candidate lists. A term is a set of "states" of one package: a bitset of the versions it
// may take plus whether "not selected at all" is allowed. Positive terms ("a 1.0 or 2.0 is
// selected") do not allow absence; negative terms ("not a 1.0") do. Intersection, subset and
// negation are then plain set operations, which keeps the algorithm exact for any specifier.

import { Bitset } from "./_bitset.ts";

export interface Term {
  readonly set: Bitset;
  /** True when the package not being selected at all satisfies the term (a negative term). */
  readonly absent: boolean;
}

export type Cause =
  | { readonly kind: "root" }
  | { readonly kind: "dependency"; readonly text: string; readonly constraint: boolean }
  | { readonly kind: "unavailable"; readonly reason: string }
  | { readonly kind: "no-versions"; readonly text?: string }
  | { readonly kind: "conflict"; readonly left: Incompatibility; readonly right: Incompatibility };

export interface Incompatibility {
  readonly id: number;
  readonly terms: ReadonlyMap<string, Term>;
  readonly cause: Cause;
}

export type DependenciesOutcome =
  | {
    readonly kind: "ok";
    readonly dependencies: readonly Dependency[];
  }
  | { readonly kind: "unavailable"; readonly reason: string };

/**
 * `package` must be in `set` when the depender is selected; a constraint only forbids the
 * versions outside `set` and does not require the package.
 */
export interface Dependency {
  readonly package: string;
  readonly set: Bitset;
  readonly text: string;
  readonly constraint?: boolean;
}

/** What the solver needs to know about packages; all indices are into ascending version lists. */
export interface SolverHost {
  readonly root: string;
  /** Loads the package and returns the number of its versions (the universe of its sets). */
  load(pkg: string): Promise<number>;
  /** Versions that cannot be used for this target, grouped by reason (after load). */
  unavailable(pkg: string): readonly { set: Bitset; reason: string }[];
  /** Usable version indices, best first (after load). */
  preference(pkg: string): readonly number[];
  dependencies(pkg: string, index: number): Promise<DependenciesOutcome>;
  /** Hint: the metadata of this version will probably be needed soon. */
  prefetch(pkg: string, index: number): void;
  /** Called when a version is chosen (for progress reporting). */
  decided?(pkg: string, index: number): void;
}

export type SolveOutcome =
  | { readonly kind: "ok"; readonly decisions: ReadonlyMap<string, number> }
  | { readonly kind: "error"; readonly incompatibility: Incompatibility };

export function termIntersect(a: Term, b: Term): Term {
  return { set: a.set.and(b.set), absent: a.absent && b.absent };
}

export function termNegate(a: Term): Term {
  return { set: a.set.not(), absent: !a.absent };
}

function termSubset(a: Term, b: Term): boolean {
  return a.set.isSubsetOf(b.set) && (!a.absent || b.absent);
}

function termDisjoint(a: Term, b: Term): boolean {
  return !a.set.intersects(b.set) && !(a.absent && b.absent);
}

function termIsEmpty(a: Term): boolean {
  return !a.absent && a.set.isEmpty();
}

interface Assignment {
  readonly pkg: string;
  readonly term: Term;
  readonly level: number;
  readonly cause: Incompatibility | null;
  readonly index: number;
  /** Intersection of all assignments to this package up to and including this one. */
  readonly accumulated: Term;
}

class PartialSolution {
  readonly assignments: Assignment[] = [];
  readonly #byPackage = new Map<string, Assignment[]>();
  readonly decisions = new Map<string, number>();
  level = 0;

  accumulated(pkg: string): Term | undefined {
    const list = this.#byPackage.get(pkg);
    return list && list.length > 0 ? list[list.length - 1]!.accumulated : undefined;
  }

  /** Whether some positive assignment of `pkg` stems from a decided package (or the root). */
  requiredByDecision(pkg: string, root: string): boolean {
    for (const a of this.#byPackage.get(pkg) ?? []) {
      if (a.term.absent || a.cause === null) continue;
      const others = [...a.cause.terms.keys()].filter((p) => p !== pkg);
      if (others.length > 0 && others.every((p) => p === root || this.decisions.has(p))) {
        return true;
      }
    }
    return false;
  }

  #push(pkg: string, term: Term, cause: Incompatibility | null): void {
    let list = this.#byPackage.get(pkg);
    if (!list) this.#byPackage.set(pkg, list = []);
    const previous = list[list.length - 1]?.accumulated;
    const assignment: Assignment = {
      pkg,
      term,
      level: this.level,
      cause,
      index: this.assignments.length,
      accumulated: previous ? termIntersect(previous, term) : term,
    };
    list.push(assignment);
    this.assignments.push(assignment);
  }

  decide(pkg: string, index: number, size: number): void {
    this.level++;
    this.decisions.set(pkg, index);
    this.#push(pkg, { set: Bitset.of(size, [index]), absent: false }, null);
  }

  derive(pkg: string, term: Term, cause: Incompatibility): void {
    this.#push(pkg, term, cause);
  }

  backtrack(level: number): void {
    while (
      this.assignments.length > 0 && this.assignments[this.assignments.length - 1]!.level > level
    ) {
      const a = this.assignments.pop()!;
      this.#byPackage.get(a.pkg)!.pop();
      if (a.cause === null) this.decisions.delete(a.pkg);
    }
    this.level = level;
  }

  /** The earliest assignment after which the package's accumulated term is a subset of `term`. */
  satisfier(pkg: string, term: Term): Assignment {
    for (const a of this.#byPackage.get(pkg) ?? []) {
      if (termSubset(a.accumulated, term)) return a;
    }
    throw new Error(`internal: no satisfier for ${pkg}`);
  }

  /** Packages with a positive accumulated term that have no decision yet, in first-seen order. */
  *undecided(): Generator<[string, Term]> {
    for (const [pkg, list] of this.#byPackage) {
      const last = list[list.length - 1];
      if (last && !last.accumulated.absent && !this.decisions.has(pkg)) {
        yield [pkg, last.accumulated];
      }
    }
  }
}

type Relation = "satisfied" | "contradicted" | "inconclusive";

/** Solves for the host's root package; returns the decisions or the root incompatibility. */
export class Solver {
  readonly #host: SolverHost;
  readonly #solution = new PartialSolution();
  readonly #incompatibilities = new Map<string, Incompatibility[]>();
  readonly #sizes = new Map<string, number>();
  readonly #direct = new Set<string>();
  #nextId = 0;

  readonly #threshold: number;
  /** uv's conflict tracking: how often each package was the culprit of a rejected version. */
  readonly #culprits = new Map<string, number>();
  readonly #early = new Set<string>();
  readonly #late = new Set<string>();

  /**
   * @param host The packages.
   * @param options `conflictThreshold`: after that many versions of packages were rejected
   *   because of one decided package (the culprit), the culprit's decision is undone, the
   *   package it blocked is decided first and the culprit next, before the rest, as uv does;
   *   off (the pip-like order) by default.
   */
  constructor(host: SolverHost, options: { conflictThreshold?: number } = {}) {
    this.#host = host;
    this.#threshold = options.conflictThreshold ?? Infinity;
  }

  /** When a package was first loaded (uv decides in the order packages are found). */
  #order(pkg: string): number {
    let order = this.#found.get(pkg);
    if (order === undefined) this.#found.set(pkg, order = this.#found.size);
    return order;
  }
  readonly #found = new Map<string, number>();

  /** Counts a conflict of `affected`'s new version with `culprit`'s decision. */
  #recordConflict(affected: string, culprit: string): void {
    if (!this.#solution.decisions.has(culprit)) return;
    const count = (this.#culprits.get(culprit) ?? 0) + 1;
    this.#culprits.set(culprit, count);
    if (count !== this.#threshold) return;
    this.#early.add(affected);
    if (!this.#early.has(culprit)) this.#late.add(culprit);
    const decision = this.#solution.assignments.find((a) => a.pkg === culprit && a.cause === null);
    if (decision) this.#solution.backtrack(decision.level - 1);
  }

  get sizes(): ReadonlyMap<string, number> {
    return this.#sizes;
  }

  async solve(): Promise<SolveOutcome> {
    const root = this.#host.root;
    await this.#ensure(root);
    this.#add(new Map([[root, { set: Bitset.empty(1), absent: true }]]), { kind: "root" });
    let next: string[] | undefined = [root];
    while (next !== undefined) {
      const failure = this.#propagate(next);
      if (failure) return { kind: "error", incompatibility: failure };
      next = await this.#choose();
    }
    return { kind: "ok", decisions: new Map(this.#solution.decisions) };
  }

  /** Loads a package; true when it was new (its facts were just added). */
  async #ensure(pkg: string): Promise<boolean> {
    if (this.#sizes.has(pkg)) return false;
    const size = await this.#host.load(pkg);
    if (this.#sizes.has(pkg)) return false;
    this.#sizes.set(pkg, size);
    this.#order(pkg);
    if (size === 0) {
      this.#add(new Map([[pkg, { set: Bitset.empty(0), absent: false }]]), { kind: "no-versions" });
    }
    for (const { set, reason } of this.#host.unavailable(pkg)) {
      if (!set.isEmpty()) {
        this.#add(new Map([[pkg, { set, absent: false }]]), { kind: "unavailable", reason });
      }
    }
    return true;
  }

  #add(terms: ReadonlyMap<string, Term>, cause: Cause): Incompatibility {
    const incompatibility: Incompatibility = { id: this.#nextId++, terms, cause };
    for (const pkg of terms.keys()) {
      let list = this.#incompatibilities.get(pkg);
      if (!list) this.#incompatibilities.set(pkg, list = []);
      list.push(incompatibility);
    }
    return incompatibility;
  }

  #relation(pkg: string, term: Term): Relation {
    const acc = this.#solution.accumulated(pkg);
    // Unconstrained (as in pub): inconclusive even for a term every state satisfies, so that a
    // dependency on a package without versions is derived and then explained as such.
    if (!acc) return "inconclusive";
    if (termSubset(acc, term)) return "satisfied";
    if (termDisjoint(acc, term)) return "contradicted";
    return "inconclusive";
  }

  #propagate(start: readonly string[]): Incompatibility | undefined {
    const changed = [...start];
    while (changed.length > 0) {
      const pkg = changed.pop()!;
      const list = this.#incompatibilities.get(pkg) ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        const incompatibility = list[i]!;
        let unsatisfied: [string, Term] | undefined;
        let contradicted = false;
        let inconclusive = 0;
        for (const [p, t] of incompatibility.terms) {
          const relation = this.#relation(p, t);
          if (relation === "contradicted") {
            contradicted = true;
            break;
          }
          if (relation === "inconclusive") {
            inconclusive++;
            unsatisfied = [p, t];
            if (inconclusive > 1) break;
          }
        }
        if (contradicted || inconclusive > 1) continue;
        if (inconclusive === 0) {
          const rootCause = this.#resolveConflict(incompatibility);
          if (rootCause.failure) return rootCause.incompatibility;
          const [p, t] = this.#onlyUnsatisfied(rootCause.incompatibility);
          this.#solution.derive(p, termNegate(t), rootCause.incompatibility);
          changed.length = 0;
          changed.push(p);
          break;
        }
        const [p, t] = unsatisfied!;
        this.#solution.derive(p, termNegate(t), incompatibility);
        if (!changed.includes(p)) changed.push(p);
      }
    }
    return undefined;
  }

  #onlyUnsatisfied(incompatibility: Incompatibility): [string, Term] {
    for (const [p, t] of incompatibility.terms) {
      if (this.#relation(p, t) !== "satisfied") return [p, t];
    }
    throw new Error("internal: conflict resolution left a satisfied incompatibility");
  }

  #isFailure(incompatibility: Incompatibility): boolean {
    const terms = incompatibility.terms;
    if (terms.size === 0) return true;
    if (terms.size !== 1) return false;
    const t = terms.get(this.#host.root);
    return t !== undefined && !t.absent;
  }

  #resolveConflict(
    start: Incompatibility,
  ): { failure: boolean; incompatibility: Incompatibility } {
    let incompatibility = start;
    let isNew = false;
    while (!this.#isFailure(incompatibility)) {
      let satisfier: Assignment | undefined;
      let satisfierTerm: [string, Term] | undefined;
      let previousLevel = 1;
      let difference: Term | undefined;
      for (const [p, t] of incompatibility.terms) {
        const s = this.#solution.satisfier(p, t);
        if (!satisfier) {
          satisfier = s;
          satisfierTerm = [p, t];
        } else if (satisfier.index < s.index) {
          previousLevel = Math.max(previousLevel, satisfier.level);
          satisfier = s;
          satisfierTerm = [p, t];
          difference = undefined;
        } else {
          previousLevel = Math.max(previousLevel, s.level);
        }
        if (satisfierTerm![0] === p) {
          const diff = termIntersect(satisfier.term, termNegate(t));
          difference = termIsEmpty(diff) ? undefined : diff;
          if (difference) {
            previousLevel = Math.max(
              previousLevel,
              this.#solution.satisfier(p, termNegate(difference)).level,
            );
          }
        }
      }
      if (previousLevel < satisfier!.level || satisfier!.cause === null) {
        this.#solution.backtrack(previousLevel);
        if (isNew) {
          incompatibility = this.#add(incompatibility.terms, incompatibility.cause);
        }
        return { failure: false, incompatibility };
      }
      const terms = new Map<string, Term>();
      const merge = (p: string, t: Term) => {
        const existing = terms.get(p);
        terms.set(p, existing ? termIntersect(existing, t) : t);
      };
      for (const [p, t] of incompatibility.terms) if (p !== satisfierTerm![0]) merge(p, t);
      for (const [p, t] of satisfier!.cause!.terms) if (p !== satisfier!.pkg) merge(p, t);
      if (difference) merge(satisfier!.pkg, termNegate(difference));
      // A term that allows every state says nothing; drop it.
      for (const [p, t] of [...terms]) if (t.absent && t.set.isFull()) terms.delete(p);
      incompatibility = {
        id: -1,
        terms,
        cause: { kind: "conflict", left: incompatibility, right: satisfier!.cause! },
      };
      isNew = true;
    }
    return { failure: true, incompatibility };
  }

  /** Decides one more package; returns the packages whose facts changed, or undefined when done. */
  async #choose(): Promise<string[] | undefined> {
    // Decision order: a package with at most one candidate left first (no branching, so no
    // effect on which solution is found); then direct requirements before transitive ones, then
    // by name, as resolvelib's reference provider orders them. The order depends only on the
    // decisions made, never on derived facts, so a constraint that the solution already
    // satisfies cannot change it (tested as a property).
    // With conflict tracking (uv's order): packages without a candidate first, then the often
    // rejected, then the often culprit, then the rest in the order they were found.
    let best: { pkg: string; term: Term; candidates: number[] } | undefined;
    let bestKey = "";
    const uv = this.#threshold !== Infinity;
    for (const [pkg, term] of this.#solution.undecided()) {
      const candidates = this.#host.preference(pkg).filter((i) => term.set.has(i));
      if (candidates.length <= (uv ? 0 : 1)) {
        best = { pkg, term, candidates };
        break;
      }
      // A package required only through packages not yet decided comes last: uv's ranges
      // make such a requirement hold only once its depender is decided.
      const key = uv
        ? `${
          !this.#solution.requiredByDecision(pkg, this.#host.root)
            ? 3
            : this.#early.has(pkg)
            ? 0
            : this.#late.has(pkg)
            ? 1
            : 2
        }${String(this.#order(pkg)).padStart(9, "0")}`
        : `${this.#direct.has(pkg) ? 0 : 1}${pkg}`;
      if (!best || key < bestKey) {
        best = { pkg, term, candidates };
        bestKey = key;
      }
    }
    if (!best) return undefined;
    const { pkg, term, candidates } = best;
    const index = candidates[0];
    if (index === undefined) {
      this.#add(new Map([[pkg, { set: term.set, absent: false }]]), { kind: "no-versions" });
      return [pkg];
    }
    const outcome = await this.#host.dependencies(pkg, index);
    const size = this.#sizes.get(pkg)!;
    const self: Term = { set: Bitset.of(size, [index]), absent: false };
    if (outcome.kind === "unavailable") {
      this.#add(new Map([[pkg, self]]), { kind: "unavailable", reason: outcome.reason });
      return [pkg];
    }
    if (pkg === this.#host.root) {
      for (const d of outcome.dependencies) if (!d.constraint) this.#direct.add(d.package);
    }
    const loaded = await Promise.all(outcome.dependencies.map((d) => this.#ensure(d.package)));
    // New packages are propagated first (the stack pops from the end) so that their own facts
    // (no versions, unusable files) are known before the dependency on them is used.
    const changed = [
      pkg,
      ...outcome.dependencies.filter((_, i) => loaded[i]).map((d) => d.package),
    ];
    let conflict = false;
    for (const dep of outcome.dependencies) {
      if (!dep.constraint && dep.set.isEmpty() && dep.set.size > 0) {
        // No version matches at all: record the derivation pub would make with its open-ended
        // ranges ("a depends on b>=2 and no versions of b match >=2, so a cannot be used"),
        // which a finite empty set cannot express by itself.
        const full: Term = { set: Bitset.full(dep.set.size), absent: true };
        const dependency: Incompatibility = {
          id: this.#nextId++,
          terms: new Map([[pkg, self], [dep.package, full]]),
          cause: { kind: "dependency", text: dep.text, constraint: false },
        };
        const none: Incompatibility = {
          id: this.#nextId++,
          terms: new Map([[dep.package, { set: dep.set, absent: false }]]),
          cause: { kind: "no-versions", text: dep.text },
        };
        this.#add(new Map([[pkg, self]]), { kind: "conflict", left: dependency, right: none });
        conflict = true;
        continue;
      }
      const terms = new Map<string, Term>([[pkg, self]]);
      const negated: Term = { set: dep.set.not(), absent: !dep.constraint };
      const existing = terms.get(dep.package);
      terms.set(dep.package, existing ? termIntersect(existing, negated) : negated);
      const incompatibility = this.#add(terms, {
        kind: "dependency",
        text: dep.text,
        constraint: dep.constraint ?? false,
      });
      const clash = [...incompatibility.terms].every(([p, t]) =>
        p === pkg || this.#relation(p, t) === "satisfied"
      );
      if (clash && !dep.constraint) this.#recordConflict(pkg, dep.package);
      conflict ||= clash;
      if (!dep.constraint) {
        const next = this.#host.preference(dep.package).find((i) => dep.set.has(i));
        if (next !== undefined) this.#host.prefetch(dep.package, next);
      }
    }
    if (!conflict) {
      this.#solution.decide(pkg, index, size);
      this.#host.decided?.(pkg, index);
    }
    return changed;
  }
}
