// The packse scenarios (tests/data/third_party/packse/scenarios) as data for the resolver
// tests: their TOML, and their packages as an in-memory universe.

import { parse as parseToml } from "smol-toml";
import { formatTag, parseTag } from "../pep/tags.ts";
import type {
  InMemoryFile,
  InMemoryUniverse,
  InMemoryVersion,
} from "../resolver/in_memory_provider.ts";

export const DIR = new URL("./data/third_party/packse/scenarios/", import.meta.url);

export interface ScenarioVersion {
  requires?: string[];
  requires_python?: string;
  extras?: Record<string, string[]>;
  sdist?: boolean;
  wheel?: boolean;
  yanked?: boolean;
  wheel_tags?: string[];
}

export interface Scenario {
  name: string;
  root: { requires?: string[]; requires_python?: string };
  expected: { satisfiable: boolean; packages?: Record<string, string>; explanation?: string };
  packages?: Record<string, { versions: Record<string, ScenarioVersion> }>;
  environment?: { python?: string };
  testgen?: { kind?: string; disable?: boolean };
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

export function universeOf(s: Scenario): InMemoryUniverse {
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

export function scenarios(): [string, Scenario][] {
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
