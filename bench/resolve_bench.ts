/**
 * Resolution speed on resolvelib's functional cases (tests/data/third_party/resolvelib), ours against
 * resolvelib itself (the copy pip vendors, `pip._vendor.resolvelib`) on the same data in the
 * same run. Both sides load the index JSON outside the timing and parse versions and
 * requirements lazily inside it; each case is run once to warm up, then `runs` times, and the
 * median is reported. Run: `deno run -A bench/resolve_bench.ts [runs]`.
 *
 * Goal (issue 4): at least 10x faster in total on the real-PyPI cases, no case above 2 s.
 *
 * @module
 */

import { Requirement } from "../pep/requirement.ts";
import { targetFromPreset } from "../pep/tags.ts";
import { InMemoryProvider, type InMemoryUniverse } from "../resolver/in_memory_provider.ts";
import { resolve } from "../resolver/resolve.ts";

const DATA = new URL("../tests/data/third_party/resolvelib/inputs/", import.meta.url);

/** One case's timings in milliseconds (median); `undefined` when that side failed. */
export interface ResolveBenchCase {
  readonly name: string;
  readonly index: string;
  readonly realPyPI: boolean;
  readonly ours: number | undefined;
  readonly resolvelib: number | undefined;
  readonly resolvelibError?: string;
}

// The same provider as resolvelib's tests/functional/python/test_resolvers_python.py (ordering
// by (transitive, identifier); markers evaluated once per extra of the candidate), adapted to the
// keyword arguments of the resolvelib 1.0 that pip vendors.
const PYTHON_HARNESS = `
import collections, json, operator, os, sys, time, statistics
from functools import reduce
from pip._vendor.packaging import requirements as R, specifiers, utils, version
from pip._vendor.resolvelib import AbstractProvider, BaseReporter, Resolver

Candidate = collections.namedtuple("Candidate", "name version extras")

def _eval_marker(marker, extras=(None,)):
    if not marker:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in extras)

class Provider(AbstractProvider):
    def __init__(self, index):
        self.index = index
    def identify(self, requirement_or_candidate):
        name = utils.canonicalize_name(requirement_or_candidate.name)
        if requirement_or_candidate.extras:
            return name + "[" + ",".join(sorted(requirement_or_candidate.extras)) + "]"
        return name
    def get_preference(self, identifier, resolutions, candidates, information, backtrack_causes):
        return (all(p is not None for _, p in information[identifier]), identifier)
    def find_matches(self, identifier, requirements, incompatibilities):
        name, _, _ = identifier.partition("[")
        bad = {c.version for c in incompatibilities[identifier]}
        extras = {e for r in requirements[identifier] for e in r.extras}
        available = (v for key in self.index.get(name, {}) if (v := version.parse(key)) not in bad)
        spec = reduce(operator.and_, map(operator.attrgetter("specifier"), requirements[identifier]), specifiers.SpecifierSet())
        return sorted((Candidate(name, v, extras) for v in spec.filter(available)), key=operator.attrgetter("version"), reverse=True)
    def is_satisfied_by(self, requirement, candidate):
        return candidate.version in requirement.specifier
    def get_dependencies(self, candidate):
        name = utils.canonicalize_name(candidate.name)
        out = []
        if candidate.extras:
            out.append(R.Requirement(f"{name}=={candidate.version}"))
        for r in self.index[name][str(candidate.version)]["dependencies"]:
            req = R.Requirement(r)
            if _eval_marker(req.marker, candidate.extras):
                out.append(req)
        return out

runs = int(sys.argv[1])
for path in sys.argv[2:]:
    case = json.load(open(path))
    raw = json.load(open(os.path.join(os.path.dirname(path), "..", "index", case["index"] + ".json")))
    index = {k: v for k, v in raw.items() if isinstance(v, dict)}
    times = []
    try:
        for i in range(runs + 1):
            reqs = [R.Requirement(r) for r in case["requested"]]
            t0 = time.perf_counter()
            Resolver(Provider(index), BaseReporter()).resolve(reqs, max_rounds=100000)
            if i > 0:
                times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"case": path, "ms": statistics.median(times)}))
    except Exception as e:
        print(json.dumps({"case": path, "error": type(e).__name__}))
`;

function loadIndex(name: string): InMemoryUniverse {
  const raw = JSON.parse(Deno.readTextFileSync(new URL(`index/${name}.json`, DATA)));
  const universe: Record<string, Record<string, string[]>> = {};
  for (const [project, versions] of Object.entries(raw)) {
    if (typeof versions !== "object" || versions === null) continue;
    universe[project] = {};
    for (const [v, d] of Object.entries(versions as Record<string, { dependencies: string[] }>)) {
      // The harness semantics (see tests/resolver_resolvelib_test.ts): a candidate without extras
      // gets no dependency that carries a marker.
      universe[project]![v] = d.dependencies.filter((dep) => {
        const semicolon = dep.indexOf(";");
        return semicolon < 0 || /\bextra\b/.test(dep.slice(semicolon));
      });
    }
  }
  return universe;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs the benchmark.
 *
 * @param options `runs` per case (default 15); `python` executable (default `python3`).
 * @returns Per-case medians for both resolvers.
 * @throws Never; a missing python3 leaves `resolvelib` undefined with the reason.
 */
export async function runResolveBench(
  options: { runs?: number; python?: string } = {},
): Promise<ResolveBenchCase[]> {
  const runs = options.runs ?? 15;
  const target = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" });
  const cases = [...Deno.readDirSync(new URL("case/", DATA))]
    .filter((e) => e.name.endsWith(".json"))
    .map((e) => e.name)
    .sort();
  const paths = cases.map((c) => new URL(`case/${c}`, DATA).pathname);
  const python = new Map<string, { ms?: number; error?: string }>();
  try {
    const out = await new Deno.Command(options.python ?? "python3", {
      args: ["-c", PYTHON_HARNESS, String(runs), ...paths],
      stdout: "piped",
      stderr: "piped",
    }).output();
    for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { case: string; ms?: number; error?: string };
      python.set(r.case, r);
    }
  } catch (error) {
    for (const p of paths) python.set(p, { error: `python3 unavailable: ${error}` });
  }
  const results: ResolveBenchCase[] = [];
  for (const [i, file] of cases.entries()) {
    const data = JSON.parse(Deno.readTextFileSync(new URL(`case/${file}`, DATA)));
    const universe = loadIndex(data.index);
    const times: number[] = [];
    let failed = false;
    for (let run = 0; run <= runs; run++) {
      const provider = new InMemoryProvider(universe);
      const requirements = (data.requested as string[]).map((r) => Requirement.parse(r));
      const started = performance.now();
      try {
        await resolve(requirements, target, { provider });
      } catch {
        failed = true;
        break;
      }
      if (run > 0) times.push(performance.now() - started);
    }
    const py = python.get(paths[i]!) ?? {};
    results.push({
      name: file.slice(0, -5),
      index: data.index,
      realPyPI: String(data.index).startsWith("pypi-"),
      ours: failed ? undefined : median(times),
      resolvelib: py.ms,
      ...(py.error ? { resolvelibError: py.error } : {}),
    });
  }
  return results;
}

/**
 * Formats the results as a table with totals and the speed-up ratio.
 *
 * @param results From {@linkcode runResolveBench}.
 * @returns Lines of text.
 */
export function formatResolveBench(results: readonly ResolveBenchCase[]): string {
  const ms = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(2));
  const lines = [
    "case                          ours ms   resolvelib ms   ratio",
    ...results.map((r) =>
      `${(r.name + (r.realPyPI ? " *" : "")).padEnd(28)} ${ms(r.ours).padStart(8)} ${
        (r.resolvelibError ? `(${r.resolvelibError})` : ms(r.resolvelib)).padStart(15)
      } ${r.ours && r.resolvelib ? (r.resolvelib / r.ours).toFixed(1).padStart(7) + "x" : ""}`
    ),
  ];
  for (
    const [label, subset] of [
      ["real PyPI (*)", results.filter((r) => r.realPyPI)],
      ["all both solved", results],
    ] as const
  ) {
    const both = subset.filter((r) => r.ours !== undefined && r.resolvelib !== undefined);
    const ours = both.reduce((a, r) => a + r.ours!, 0);
    const theirs = both.reduce((a, r) => a + r.resolvelib!, 0);
    lines.push(
      `total ${label}: ours ${ours.toFixed(2)} ms, resolvelib ${theirs.toFixed(2)} ms, ` +
        `ratio ${ours > 0 ? (theirs / ours).toFixed(1) : "-"}x over ${both.length} cases`,
    );
  }
  const slowest = Math.max(...results.map((r) => r.ours ?? 0));
  lines.push(`slowest case (ours): ${slowest.toFixed(2)} ms (goal: under 2000 ms)`);
  return lines.join("\n");
}

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const runs = Number(Deno.args.find((a) => a !== "--json") ?? 15);
  const results = await runResolveBench({ runs });
  console.log(json ? JSON.stringify(results) : formatResolveBench(results));
}
