// Every non-universal packse scenario (tests/data/third_party/packse/scenarios) as a test: a
// satisfiable scenario must give exactly the expected packages, an unsatisfiable one must fail
// with a ResolutionError that explains itself. Skips carry their reason below.

import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { Requirement } from "../pep/requirement.ts";
import { formatTag, parseTag, targetFromPreset } from "../pep/tags.ts";
import { normalizeName } from "../pep/name.ts";
import { Version } from "../pep/version.ts";
import {
  type InMemoryFile,
  InMemoryProvider,
  type InMemoryUniverse,
  type InMemoryVersion,
} from "../resolver/in_memory_provider.ts";
import { resolve } from "../resolver/resolve.ts";
import { ResolutionError } from "../resolver/types.ts";

const DIR = new URL("./data/third_party/packse/scenarios/", import.meta.url);

interface ScenarioVersion {
  requires?: string[];
  requires_python?: string;
  extras?: Record<string, string[]>;
  sdist?: boolean;
  wheel?: boolean;
  yanked?: boolean;
  wheel_tags?: string[];
}

interface Scenario {
  name: string;
  root: { requires?: string[]; requires_python?: string };
  expected: { satisfiable: boolean; packages?: Record<string, string>; explanation?: string };
  packages?: Record<string, { versions: Record<string, ScenarioVersion> }>;
  environment?: { python?: string };
  resolver_options?: {
    python?: string;
    prereleases?: boolean;
    no_build?: string[];
    no_binary?: string[];
    universal?: boolean;
    python_platform?: string;
    required_environments?: string[];
    resolution?: string;
  };
}

// Scenarios whose expectation is a uv policy we deliberately do not follow.
const POLICY_SKIPS: Record<string, string> = {
  "python-less-than-current":
    "uv ignores Requires-Python upper bounds; like pip we honour the whole specifier, so a==1.0.0 (<=3.8) is unusable on 3.9",
};

/** Why a scenario is not run, or undefined. */
function skipReason(s: Scenario): string | undefined {
  if (POLICY_SKIPS[s.name]) return POLICY_SKIPS[s.name];
  const o = s.resolver_options ?? {};
  if (o.universal) return "universal (forking) resolution is out of scope (issue 4)";
  if (o.resolution) return `resolution strategy "${o.resolution}" is not implemented (newest only)`;
  if (o.required_environments) return "required-environments only applies to universal resolution";
  return undefined;
}

function universeOf(s: Scenario): InMemoryUniverse {
  const universe: Record<string, Record<string, InMemoryVersion>> = {};
  for (const [name, { versions }] of Object.entries(s.packages ?? {})) {
    universe[name] = {};
    for (const [v, d] of Object.entries(versions)) {
      // packse's default Requires-Python is ">=3.12"; ">=0" means any.
      const requiresPython = d.requires_python ?? ">=3.12";
      const files: InMemoryFile[] = [];
      if (d.wheel !== false) {
        for (const tag of d.wheel_tags?.length ? d.wheel_tags : ["py3-none-any"]) {
          files.push({ kind: "wheel", tags: parseTag(tag).map(formatTag) });
        }
      }
      if (d.sdist !== false) files.push({ kind: "sdist" });
      universe[name]![v] = {
        requires: d.requires ?? [],
        ...(requiresPython === ">=0" ? {} : { requiresPython }),
        extras: d.extras ?? {},
        files,
        yanked: d.yanked ?? false,
      };
    }
  }
  return universe;
}

function scenarios(): [string, Scenario][] {
  const out: [string, Scenario][] = [];
  for (const category of [...Deno.readDirSync(DIR)].filter((e) => e.isDirectory)) {
    for (const file of Deno.readDirSync(new URL(`${category.name}/`, DIR))) {
      if (!file.name.endsWith(".toml")) continue;
      const text = Deno.readTextFileSync(new URL(`${category.name}/${file.name}`, DIR));
      out.push([`${category.name}/${file.name}`, parseToml(text) as unknown as Scenario]);
    }
  }
  return out.sort(([a], [b]) => (a < b ? -1 : 1));
}

for (const [path, scenario] of scenarios()) {
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
