/**
 * Universal resolution against per-target resolution on resolvelib's two real-PyPI cases
 * (tests/data/third_party/resolvelib), with the index's markers kept (most of its dependencies
 * carry one, so the universal resolver has something to fork on). Each way is run once to warm
 * up, then `runs` times; the median is reported. Run: `deno run -A bench/universal_bench.ts [runs]`.
 *
 * Rows: one target at one Python release (the per-target resolution of before), one target as a
 * range of releases (`--python-version 3.11`), six point targets (three platforms, two Pythons)
 * in one call, and one universal resolution over every environment with Python >= 3.8.
 *
 * Goal (issue 15): universal within 3x of the one-target resolution.
 *
 * @module
 */

import { MarkerSet } from "../pep/marker_set.ts";
import { Requirement } from "../pep/requirement.ts";
import { type Target, targetFromPreset } from "../pep/tags.ts";
import { InMemoryProvider, type InMemoryUniverse } from "../resolver/in_memory_provider.ts";
import { resolve, resolveTargets } from "../resolver/resolve.ts";
import { resolveUniversal } from "../resolver/universal.ts";
import { median } from "./_process.ts";

const DATA = new URL("../tests/data/third_party/resolvelib/inputs/", import.meta.url);

/** One case's medians in milliseconds, and what the universal resolution found. */
export interface UniversalBenchCase {
  readonly name: string;
  readonly point: number;
  readonly range: number;
  readonly sixTargets: number;
  readonly universal: number;
  readonly forks: number;
  readonly packages: number;
}

function loadIndex(name: string): InMemoryUniverse {
  const raw = JSON.parse(Deno.readTextFileSync(new URL(`index/${name}.json`, DATA)));
  const universe: Record<string, Record<string, string[]>> = {};
  for (const [project, versions] of Object.entries(raw)) {
    if (typeof versions !== "object" || versions === null) continue;
    universe[project] = {};
    for (const [v, d] of Object.entries(versions as Record<string, { dependencies: string[] }>)) {
      universe[project]![v] = d.dependencies;
    }
  }
  return universe;
}

async function timed(runs: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    await run();
    if (i > 0) times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Runs the benchmark.
 *
 * @param options `runs` per way and case (default 9).
 * @returns Per-case medians.
 * @throws {ResolutionError} when a case cannot be resolved one of the ways.
 */
export async function runUniversalBench(
  options: { runs?: number } = {},
): Promise<UniversalBenchCase[]> {
  const runs = options.runs ?? 9;
  const linux = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" });
  const range: Target = { ...linux, anyPatch: true };
  const six = ["x86_64-manylinux_2_28", "windows", "macos"].flatMap((p) =>
    ["3.8", "3.11"].map((v) => targetFromPreset(p, { pythonVersion: v }))
  );
  const everywhere = MarkerSet.parse('python_full_version >= "3.8"');
  const out: UniversalBenchCase[] = [];
  for (const file of ["chalice.json", "conflict-with-dependency.json"]) {
    const data = JSON.parse(Deno.readTextFileSync(new URL(`case/${file}`, DATA)));
    const universe = loadIndex(data.index);
    const requirements = (data.requested as string[]).map((r) => Requirement.parse(r));
    const fresh = () => new InMemoryProvider(universe);
    let forks = 0;
    let packages = 0;
    const universal = await timed(runs, async () => {
      const r = await resolveUniversal(requirements, {
        provider: fresh(),
        environment: everywhere,
      });
      forks = r.forks.length;
      packages = r.packages.length;
    });
    out.push({
      name: file.slice(0, -5),
      point: await timed(runs, () => resolve(requirements, linux, { provider: fresh() })),
      range: await timed(runs, () => resolve(requirements, range, { provider: fresh() })),
      sixTargets: await timed(runs, () => resolveTargets(requirements, six, { provider: fresh() })),
      universal,
      forks,
      packages,
    });
  }
  return out;
}

/**
 * Formats the results as a table with the ratio to the one-target resolution.
 *
 * @param results From {@linkcode runUniversalBench}.
 * @returns Lines of text.
 */
export function formatUniversalBench(results: readonly UniversalBenchCase[]): string {
  const ms = (x: number) => x.toFixed(1).padStart(9);
  const lines = [
    "case                       1 target   range   6 targets   universal  forks  packages  universal/1 target",
    ...results.map((r) =>
      `${r.name.padEnd(26)}${ms(r.point)}${ms(r.range)}${ms(r.sixTargets)}${ms(r.universal)}${
        String(r.forks).padStart(7)
      }${String(r.packages).padStart(10)}${(r.universal / r.point).toFixed(2).padStart(19)}x`
    ),
  ];
  const worst = Math.max(...results.map((r) => r.universal / r.point));
  lines.push(`worst universal/1 target: ${worst.toFixed(2)}x (goal: within 3x)`);
  return lines.join("\n");
}

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const runs = Number(Deno.args.find((a) => a !== "--json") ?? 9);
  const results = await runUniversalBench({ runs });
  console.log(json ? JSON.stringify(results) : formatUniversalBench(results));
}
