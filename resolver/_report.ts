// Turns PubGrub's derivation tree into sentences, following the reporting scheme of
// dart-lang/pub's `SolveFailure` (doc/solver.md "Error Reporting"): external facts are leaves,
// derived facts are numbered when they are referred to more than once.

import type { Incompatibility, Term } from "./_pubgrub.ts";
import type { Bitset } from "./_bitset.ts";

export interface ReportContext {
  readonly root: string;
  readonly target: string;
  /** Version strings of a package, ascending (indices of the bitsets). */
  versions(pkg: string): readonly string[];
  /** Display name of a package key. */
  display(pkg: string): string;
  /** Why a package has no versions at all, as the provider said (e.g. which indexes were asked). */
  notFound?(pkg: string): string | undefined;
}

/** Describes a set of versions of a package: "b", "b==1.0", "b>=2.0", "b>=1.0,<=1.4". */
export function describeSet(ctx: ReportContext, pkg: string, set: Bitset): string {
  const name = ctx.display(pkg);
  const versions = ctx.versions(pkg);
  const indices = [...set.indices()];
  if (indices.length === 0) return `${name} (no versions)`;
  // "a" for every version of a, but "a==1.0" when a has just that one (clearer in a message).
  if (indices.length === versions.length && versions.length > 1) return name;
  if (indices.length === 1) return `${name}==${versions[indices[0]!]}`;
  const runs: [number, number][] = [];
  for (const i of indices) {
    const last = runs[runs.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  }
  const parts = runs.map(([lo, hi]) => {
    if (lo === hi) return `==${versions[lo]}`;
    if (lo === 0) return `<=${versions[hi]}`;
    if (hi === versions.length - 1) return `>=${versions[lo]}`;
    return `>=${versions[lo]},<=${versions[hi]}`;
  });
  return parts.length === 1 ? `${name}${parts[0]}` : `${name} (${parts.join(" or ")})`;
}

function positive(ctx: ReportContext, pkg: string, term: Term): string {
  return describeSet(ctx, pkg, term.set);
}

/** For a negative term (absent allowed), the versions it forbids. */
function forbidden(ctx: ReportContext, pkg: string, term: Term): string {
  return describeSet(ctx, pkg, term.set.not());
}

/** One incompatibility in words. */
export function describeIncompatibility(ctx: ReportContext, inc: Incompatibility): string {
  const entries = [...inc.terms];
  const cause = inc.cause;
  if (cause.kind === "dependency") {
    const depender = entries.find(([p, t]) => !t.absent && p === ctx.root) ??
      entries.find(([, t]) => !t.absent);
    if (depender && depender[0] === ctx.root) {
      return `you ${cause.constraint ? "constrain" : "require"} ${cause.text}`;
    }
    if (depender) return `${positive(ctx, depender[0], depender[1])} depends on ${cause.text}`;
  }
  if (cause.kind === "no-versions" && entries.length === 1) {
    const [pkg, term] = entries[0]!;
    if (ctx.versions(pkg).length === 0) {
      return `${ctx.display(pkg)} ${
        ctx.notFound?.(pkg) ?? "was not found in the package registry"
      }`;
    }
    const what = cause.text ?? positive(ctx, pkg, term);
    return `no version of ${what} is available for ${ctx.target}`;
  }
  if (cause.kind === "unavailable" && entries.length === 1) {
    const [pkg, term] = entries[0]!;
    return `${positive(ctx, pkg, term)} ${cause.reason}`;
  }
  if (cause.kind === "root") return "the root requirements are needed";
  const others = entries.filter(([p, t]) => !(p === ctx.root && !t.absent));
  if (others.length === 0) return `the requirements are unsatisfiable for ${ctx.target}`;
  if (others.length === 1) {
    const [pkg, term] = others[0]!;
    return term.absent
      ? `${forbidden(ctx, pkg, term)} is required`
      : `${positive(ctx, pkg, term)} cannot be used`;
  }
  if (others.length === 2) {
    const [a, b] = others as [[string, Term], [string, Term]];
    if (!a[1].absent && b[1].absent) {
      return `${positive(ctx, a[0], a[1])} depends on ${forbidden(ctx, b[0], b[1])}`;
    }
    if (a[1].absent && !b[1].absent) {
      return `${positive(ctx, b[0], b[1])} depends on ${forbidden(ctx, a[0], a[1])}`;
    }
    if (!a[1].absent && !b[1].absent) {
      return `${positive(ctx, a[0], a[1])} is incompatible with ${positive(ctx, b[0], b[1])}`;
    }
    return `either ${forbidden(ctx, a[0], a[1])} or ${forbidden(ctx, b[0], b[1])} is required`;
  }
  const pos = others.filter(([, t]) => !t.absent).map(([p, t]) => positive(ctx, p, t));
  const neg = others.filter(([, t]) => t.absent).map(([p, t]) => forbidden(ctx, p, t));
  if (neg.length === 0) return `${pos.join(", ")} cannot all be used together`;
  return `if ${pos.join(" and ")} then one of ${neg.join(", ")} is required`;
}

/** The whole derivation as numbered sentences ending in the failure. */
export function explain(ctx: ReportContext, failure: Incompatibility): string {
  if (failure.cause.kind !== "conflict") return capitalise(describeIncompatibility(ctx, failure));
  const derivations = new Map<Incompatibility, number>();
  const count = (inc: Incompatibility) => {
    derivations.set(inc, (derivations.get(inc) ?? 0) + 1);
    if (inc.cause.kind === "conflict" && derivations.get(inc) === 1) {
      count(inc.cause.left);
      count(inc.cause.right);
    }
  };
  count(failure);
  const lines: { text: string; number?: number }[] = [];
  const numbers = new Map<Incompatibility, number>();
  let next = 1;
  const say = (inc: Incompatibility) => describeIncompatibility(ctx, inc);
  const write = (inc: Incompatibility, text: string, numbered: boolean) => {
    if (numbered) {
      const n = next++;
      numbers.set(inc, n);
      lines.push({ text, number: n });
    } else lines.push({ text });
  };
  const isConflict = (inc: Incompatibility) => inc.cause.kind === "conflict";
  const singleLine = (inc: Incompatibility) =>
    inc.cause.kind === "conflict" && !isConflict(inc.cause.left) && !isConflict(inc.cause.right);
  const visit = (inc: Incompatibility, conclusion = false): void => {
    if (inc.cause.kind !== "conflict") return;
    const numbered = conclusion || (derivations.get(inc) ?? 0) > 1;
    const { left, right } = inc.cause;
    const text = say(inc);
    if (isConflict(left) && isConflict(right)) {
      const l = numbers.get(left), r = numbers.get(right);
      if (l !== undefined && r !== undefined) {
        write(inc, `Because ${say(left)} (${l}) and ${say(right)} (${r}), ${text}.`, numbered);
      } else if (l !== undefined || r !== undefined) {
        const [known, n, other] = l !== undefined ? [left, l, right] : [right, r!, left];
        visit(other);
        write(inc, `And because ${say(known)} (${n}), ${text}.`, numbered);
      } else if (singleLine(left) || singleLine(right)) {
        const [first, second] = singleLine(right) ? [left, right] : [right, left];
        visit(first);
        visit(second);
        write(inc, `Thus, ${text}.`, numbered);
      } else {
        visit(left, true);
        lines.push({ text: "" });
        visit(right);
        write(inc, `And because ${say(left)} (${numbers.get(left)}), ${text}.`, numbered);
      }
    } else if (isConflict(left) || isConflict(right)) {
      const [derived, external] = isConflict(left) ? [left, right] : [right, left];
      const line = numbers.get(derived);
      if (line !== undefined) {
        write(inc, `Because ${say(external)} and ${say(derived)} (${line}), ${text}.`, numbered);
      } else if (
        derived.cause.kind === "conflict" && (derivations.get(derived) ?? 0) <= 1 &&
        isConflict(derived.cause.left) !== isConflict(derived.cause.right)
      ) {
        const [collapsedDerived, collapsedExternal] = isConflict(derived.cause.left)
          ? [derived.cause.left, derived.cause.right]
          : [derived.cause.right, derived.cause.left];
        visit(collapsedDerived);
        write(
          inc,
          `And because ${say(collapsedExternal)} and ${say(external)}, ${text}.`,
          numbered,
        );
      } else {
        visit(derived);
        write(inc, `And because ${say(external)}, ${text}.`, numbered);
      }
    } else {
      write(inc, `Because ${say(left)} and ${say(right)}, ${text}.`, numbered);
    }
  };
  visit(failure, true);
  const width = String(next).length + 2;
  const hasNumbers = next > 2;
  return lines.map(({ text, number }) => {
    if (!hasNumbers) return text;
    return number === undefined ? " ".repeat(width) + text : `(${number})`.padEnd(width) + text;
  }).join("\n").trimEnd();
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + ".";
}
