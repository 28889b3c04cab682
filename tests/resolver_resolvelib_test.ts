// resolvelib's functional "python" cases (tests/data/third_party/resolvelib): same pins as resolvelib,
// and the versions it lists as `unvisited` are never pinned (decided), not even temporarily.

import assert from "node:assert/strict";
import { Requirement } from "../pep/requirement.ts";
import { targetFromPreset } from "../pep/tags.ts";
import { Version } from "../pep/version.ts";
import { normalizeName } from "../pep/name.ts";
import { InMemoryProvider, type InMemoryUniverse } from "../resolver/in_memory_provider.ts";
import { resolve } from "../resolver/resolve.ts";
import { ResolutionError, type ResolveEvent } from "../resolver/types.ts";

const DATA = new URL("./data/third_party/resolvelib/inputs/", import.meta.url);

interface Case {
  index: string;
  requested: string[];
  resolved?: Record<string, string | { version: string; marker?: string }>;
  conflicted?: Record<string, string[]>;
  unvisited?: Record<string, string[]>;
}

/**
 * Loads a resolvelib index as an in-memory universe (non-project keys such as the stray bool
 * dropped). The upstream harness evaluates a marker once per extra of the candidate
 * (`any(marker.evaluate({"extra": e}) for e in candidate.extras)`), so for a candidate without
 * extras every dependency that has a marker is dropped; its expected pins depend on that (no
 * urllib3 for chalice although botocore needs it on Python != 3.4). We reproduce it by keeping
 * only the unmarked dependencies and those that name an extra.
 */
export function loadResolvelibIndex(name: string): InMemoryUniverse {
  const raw = JSON.parse(Deno.readTextFileSync(new URL(`index/${name}.json`, DATA)));
  const universe: Record<string, Record<string, string[]>> = {};
  for (const [project, versions] of Object.entries(raw)) {
    if (typeof versions !== "object" || versions === null) continue;
    universe[project] = {};
    for (
      const [v, detail] of Object.entries(versions as Record<string, { dependencies: string[] }>)
    ) {
      universe[project]![v] = detail.dependencies.filter((d) => {
        const semicolon = d.indexOf(";");
        return semicolon < 0 || /\bextra\b/.test(d.slice(semicolon));
      });
    }
  }
  return universe;
}

/** The case files, by stem. */
export function resolvelibCases(): [string, Case][] {
  return [...Deno.readDirSync(new URL("case/", DATA))]
    .filter((e) => e.name.endsWith(".json"))
    .map((e) => e.name.slice(0, -5))
    .sort()
    .map((stem) => [stem, JSON.parse(Deno.readTextFileSync(new URL(`case/${stem}.json`, DATA)))]);
}

const target = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" });

for (const [stem, testCase] of resolvelibCases()) {
  Deno.test(`resolve() reproduces resolvelib's case ${stem}`, async () => {
    const provider = new InMemoryProvider(loadResolvelibIndex(testCase.index));
    const decided: string[] = [];
    const reporter = {
      onEvent(e: ResolveEvent) {
        if (e.kind === "decided") decided.push(`${e.name}@${e.version}`);
      },
    };
    const requirements = testCase.requested.map((r) => Requirement.parse(r));
    if (testCase.conflicted) {
      await assert.rejects(resolve(requirements, target, { provider, reporter }), ResolutionError);
      return;
    }
    const result = await resolve(requirements, target, { provider, reporter });
    const expected = Object.entries(testCase.resolved ?? {}).map(([name, v]) => {
      const text = typeof v === "string" ? v : v.version;
      return [normalizeName(name), Version.parse(text)] as const;
    }).sort(([a], [b]) => a < b ? -1 : 1);
    const actual = [...result.packages.values()].map((p) => [p.name, p.version] as const);
    assert.deepEqual(actual.map(([n]) => n), expected.map(([n]) => n));
    for (const [i, [name, version]] of expected.entries()) {
      assert.ok(version.equals(actual[i]![1]), `${name}: ${actual[i]![1]} instead of ${version}`);
    }
    for (const [name, versions] of Object.entries(testCase.unvisited ?? {})) {
      for (const v of versions) {
        const key = `${normalizeName(name)}@${Version.parse(v)}`;
        assert.ok(!decided.includes(key), `${key} was pinned: ${decided.join(" ")}`);
      }
    }
  });
}
