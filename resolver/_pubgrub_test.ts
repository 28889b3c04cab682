import assert from "node:assert/strict";
import { Bitset } from "./_bitset.ts";
import { type DependenciesOutcome, Solver, type SolverHost } from "./_pubgrub.ts";
import { explain } from "./_report.ts";

// A tiny universe: versions are integers; dependencies are [package, min, max] inclusive ranges.
type Universe = Record<string, Record<number, [string, number, number][]>>;

function host(universe: Universe, root: [string, number, number][]): SolverHost & {
  versions(pkg: string): number[];
  fetched: string[];
} {
  const all: Universe = { "<root>": { 0: root }, ...universe };
  const versions = (pkg: string) => Object.keys(all[pkg] ?? {}).map(Number).sort((a, b) => a - b);
  const fetched: string[] = [];
  return {
    root: "<root>",
    fetched,
    versions,
    load: (pkg) => Promise.resolve(versions(pkg).length),
    unavailable: () => [],
    preference: (pkg) => versions(pkg).map((_, i) => i).reverse(),
    prefetch: () => {},
    dependencies(pkg, index): Promise<DependenciesOutcome> {
      const v = versions(pkg)[index]!;
      fetched.push(`${pkg}@${v}`);
      const deps = all[pkg]![v]!.map(([name, lo, hi]) => {
        const vs = versions(name);
        return {
          package: name,
          set: Bitset.from(vs.length, (i) => vs[i]! >= lo && vs[i]! <= hi),
          text: `${name}>=${lo},<=${hi}`,
        };
      });
      return Promise.resolve({ kind: "ok", dependencies: deps });
    },
  };
}

async function solve(universe: Universe, root: [string, number, number][]) {
  const h = host(universe, root);
  const outcome = await new Solver(h).solve();
  if (outcome.kind === "error") {
    return {
      error: explain({
        root: "<root>",
        target: "test",
        versions: (p) => h.versions(p).map(String),
        display: (p) => p,
      }, outcome.incompatibility),
      fetched: h.fetched,
    };
  }
  const pins: Record<string, number> = {};
  for (const [pkg, i] of outcome.decisions) if (pkg !== "<root>") pins[pkg] = h.versions(pkg)[i]!;
  return { pins, fetched: h.fetched };
}

Deno.test("Solver picks the newest versions when nothing conflicts", async () => {
  const r = await solve({ a: { 1: [], 2: [["b", 1, 9]] }, b: { 1: [], 3: [] } }, [["a", 0, 9]]);
  assert.deepEqual(r.pins, { a: 2, b: 3 });
});

Deno.test("Solver backtracks when the newest b conflicts with a", async () => {
  const r = await solve(
    { a: { 1: [["c", 1, 1]] }, b: { 1: [], 2: [["c", 2, 2]] }, c: { 1: [], 2: [] } },
    [["a", 1, 1], ["b", 0, 9]],
  );
  assert.deepEqual(r.pins, { a: 1, b: 1, c: 1 });
});

Deno.test("Solver learns from a conflict instead of retrying unrelated versions", async () => {
  // b's versions all need d==1, which needs a==1; asking for a==2 must fail without trying
  // every combination of c.
  const universe: Universe = {
    a: { 1: [], 2: [] },
    b: { 1: [["d", 1, 1]], 2: [["d", 1, 1]] },
    c: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [i, []])),
    d: { 1: [["a", 1, 1]] },
  };
  const r = await solve(universe, [["a", 2, 2], ["c", 0, 99], ["b", 0, 9]]);
  assert.ok(r.error);
  assert.ok(r.fetched.filter((f) => f.startsWith("c@")).length <= 1, r.fetched.join(" "));
  assert.match(r.error, /d==1 depends on a>=1,<=1, b depends on a==1/);
});

Deno.test("Solver reports a missing package in words", async () => {
  const r = await solve({ a: { 1: [["nope", 0, 9]] } }, [["a", 0, 9]]);
  assert.match(r.error ?? "", /nope was not found/);
  assert.match(r.error ?? "", /a==1 depends on nope/);
});

Deno.test("Solver solves a diamond where the shared dependency needs an older parent", async () => {
  const r = await solve({
    a: { 1: [["c", 1, 1]], 2: [["c", 2, 2]] },
    b: { 1: [["c", 1, 1]], 2: [["c", 1, 1]] },
    c: { 1: [], 2: [] },
  }, [["a", 0, 9], ["b", 0, 9]]);
  assert.deepEqual(r.pins, { a: 1, b: 2, c: 1 });
});
