// pip's YAML resolver cases (tests/data/third_party/pip-yaml): compare the resolved set only
// (pip's error-message regexes are ignored). The YAML is read with the npm `yaml` package in its
// YAML 1.1 mode, as PyYAML reads it for pip's own harness.
//
// Harness semantics, as in pip's tests/functional/test_yaml.py: requests run in sequence on one
// environment. An install resolves the new requirements only, preferring installed versions
// (pip upgrades only what it must), and adds the result to the environment; an uninstall removes
// the named projects. `state: null`, or an `error` with a non-zero (default) code, expects a
// failure; an `error` with code 0 and no state is pip succeeding with a warning about a broken
// environment (conflicting_triangle) and is only checked to succeed. conflict_1 #0 (A needs
// B==1.0.0 and B==2.0.0) says code 0 too, but no resolver can succeed there: we expect failure.

import { parse as parseYaml } from "yaml";
import assert from "node:assert/strict";
import { Requirement } from "../pep/requirement.ts";
import { normalizeName } from "../pep/name.ts";
import { targetFromPreset } from "../pep/tags.ts";
import { Version } from "../pep/version.ts";
import { InMemoryProvider, type InMemoryVersion } from "../resolver/in_memory_provider.ts";
import { resolve } from "../resolver/resolve.ts";
import { ResolutionError } from "../resolver/types.ts";

const DIR = new URL("./data/third_party/pip-yaml/", import.meta.url);

type Available = string | {
  name: string;
  version: string;
  depends?: string[];
  extras?: Record<string, string[]>;
};
interface Step {
  install?: string | string[];
  uninstall?: string | string[];
  options?: string;
}
interface Response {
  state?: string[] | null;
  error?: unknown;
}
interface YamlFile {
  base?: { available?: Available[] };
  cases: { request: Step[]; response: Response[]; skip?: string; available?: Available[] }[];
}

function loadYaml(): Record<string, YamlFile> {
  const files: Record<string, YamlFile> = {};
  const names = [...Deno.readDirSync(DIR)].map((e) => e.name).filter((n) => n.endsWith(".yml"))
    .sort();
  for (const name of names) {
    // YAML 1.1, as PyYAML (which pip's harness uses) reads it.
    files[name] = parseYaml(Deno.readTextFileSync(new URL(name, DIR)), { version: "1.1" });
  }
  return files;
}

function universeOf(available: Available[]): Record<string, Record<string, InMemoryVersion>> {
  const universe: Record<string, Record<string, InMemoryVersion>> = {};
  for (const entry of available) {
    let name: string, version: string, depends: string[], extras: Record<string, string[]> = {};
    if (typeof entry === "string") {
      const [head, tail] = entry.split(";", 2) as [string, string | undefined];
      [name, version] = head.trim().split(/\s+/) as [string, string];
      const deps = tail?.trim().replace(/^depends\s+/, "") ?? "";
      depends = deps ? deps.split(",").map((d) => d.trim()) : [];
    } else {
      ({ name, version } = entry);
      depends = entry.depends ?? [];
      extras = entry.extras ?? {};
    }
    universe[name] ??= {};
    universe[name]![String(version)] = { requires: depends, extras, requiresPython: ">=3" };
  }
  return universe;
}

const list = (x: string | string[] | undefined) =>
  x === undefined ? [] : Array.isArray(x) ? x : [x];
const target = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.11" });
const files = loadYaml();

for (const [file, data] of Object.entries(files)) {
  const cases = data.cases.length > 0 ? data.cases : [undefined];
  cases.forEach((testCase, index) => {
    Deno.test({
      name: `resolve() matches pip's YAML case ${file} #${index}`,
      ignore: testCase === undefined,
      fn: async () => {
        const available = testCase!.available ?? data.base?.available ?? [];
        const provider = new InMemoryProvider(universeOf(available));
        const installed = new Map<string, Version>();
        for (const [step, request] of testCase!.request.entries()) {
          const response = testCase!.response[step]!;
          for (const name of list(request.uninstall)) installed.delete(normalizeName(name));
          const installs = list(request.install);
          if (installs.length > 0) {
            const requirements = installs.map((r) => Requirement.parse(r));
            const outcome = await resolve(requirements, target, {
              provider,
              preferences: installed,
              noDeps: request.options?.includes("--no-deps") ?? false,
            }).catch((e: unknown) => e instanceof Error ? e : new Error(String(e)));
            const code = (response.error as { code?: number } | undefined)?.code ?? 1;
            const impossible = file === "conflict_1.yml" && index === 0;
            if (
              response.state === null ||
              (response.state === undefined && (code !== 0 || impossible))
            ) {
              assert.ok(outcome instanceof ResolutionError, `expected a failure at step ${step}`);
              continue;
            }
            if (outcome instanceof Error) throw outcome;
            for (const p of outcome.packages.values()) installed.set(p.name, p.version);
            if (response.state === undefined) continue;
          }
          const expected = (response.state ?? []).map((s) => {
            const [n, v] = s.split(/\s+/) as [string, string];
            return `${normalizeName(n)} ${Version.parse(String(v))}`;
          }).sort();
          const actual = [...installed].map(([n, v]) => `${n} ${v}`).sort();
          assert.deepEqual(actual, expected, `step ${step}`);
        }
      },
    });
  });
}
