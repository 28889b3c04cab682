// Every non-universal packse scenario (tests/data/third_party/packse/scenarios) as a test: a
// satisfiable scenario must give exactly the expected packages, an unsatisfiable one must fail
// with a ResolutionError that explains itself. Skips carry their reason below. The universal
// ones are in resolver_packse_universal_test.ts.

import assert from "node:assert/strict";
import { Requirement } from "../pep/requirement.ts";
import { targetFromPreset } from "../pep/tags.ts";
import { normalizeName } from "../pep/name.ts";
import { Version } from "../pep/version.ts";
import { InMemoryProvider } from "../resolver/in_memory_provider.ts";
import { resolve } from "../resolver/resolve.ts";
import { ResolutionError, type ResolutionStrategy } from "../resolver/types.ts";
import { type Scenario, scenarios, universeOf } from "./_packse.ts";

// Scenarios whose expectation is a uv policy we deliberately do not follow.
const POLICY_SKIPS: Record<string, string> = {
  "python-less-than-current":
    "uv ignores Requires-Python upper bounds; like pip we honour the whole specifier, so a==1.0.0 (<=3.8) is unusable on 3.9",
};

/** Why a scenario is not run, or undefined. */
function skipReason(s: Scenario): string | undefined {
  if (POLICY_SKIPS[s.name]) return POLICY_SKIPS[s.name];
  return undefined;
}

for (const [path, scenario] of scenarios().filter(([, s]) => !s.resolver_options?.universal)) {
  const reason = skipReason(scenario);
  Deno.test({
    name: `resolve() follows packse scenario ${path}${reason ? ` (skipped: ${reason})` : ""}`,
    ignore: reason !== undefined,
    fn: async () => {
      const o = scenario.resolver_options ?? {};
      const python = o.python ?? scenario.environment?.python ?? "3.12";
      const target = targetFromPreset(o.python_platform ?? "x86_64-manylinux_2_28", {
        pythonVersion: python,
      });
      const provider = new InMemoryProvider(universeOf(scenario));
      const requirements = (scenario.root.requires ?? []).map((r) => Requirement.parse(r));
      const options = {
        provider,
        ...(o.prereleases ? { prereleases: true } : {}),
        ...(o.no_build ? { onlyBinary: o.no_build.map(normalizeName) } : {}),
        ...(o.no_binary ? { noBinary: o.no_binary.map(normalizeName) } : {}),
        ...(o.resolution ? { resolution: o.resolution as ResolutionStrategy } : {}),
      };
      if (!scenario.expected.satisfiable) {
        const error = await resolve(requirements, target, options).then(
          (r) =>
            assert.fail(
              `expected failure, got ${
                [...r.packages.values()].map((p) => `${p.name}==${p.version}`)
              }`,
            ),
          (e: unknown) => e,
        );
        assert.ok(error instanceof ResolutionError, String(error));
        assert.equal(error.code, "unsatisfiable");
        assert.match(error.message, new RegExp(target.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
        return;
      }
      const result = await resolve(requirements, target, options);
      const expected = scenario.expected.packages ?? {};
      if (Object.keys(expected).length === 0) return;
      const actual = Object.fromEntries(
        [...result.packages.values()].map((p) => [p.name, p.version.toString()]),
      );
      const wanted = Object.fromEntries(
        Object.entries(expected).map(([n, v]) => [normalizeName(n), Version.parse(v).toString()]),
      );
      assert.deepEqual(actual, wanted, scenario.expected.explanation);
    },
  });
}
