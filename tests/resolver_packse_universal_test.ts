// Every universal packse scenario as a test of resolveUniversal(). Where uv's lock tests left a
// uv.lock snapshot (tests/data/third_party/packse/uv-lock-snapshots), the resolution must have
// exactly its packages and versions, each installed in exactly the same environments (compared
// as sets of environments, not as marker text). Unsatisfiable scenarios must fail naming the
// environments; the few with neither a snapshot nor expected packages carry an expectation read
// from their description, written out below.

import assert from "node:assert/strict";
import { MarkerSet } from "../pep/marker_set.ts";
import { normalizeName } from "../pep/name.ts";
import { Requirement } from "../pep/requirement.ts";
import { SpecifierSet } from "../pep/specifier.ts";
import { pythonEnvironments } from "../pep/tag_markers.ts";
import { parseUvLock } from "../pep/uv_lock.ts";
import { Version } from "../pep/version.ts";
import { uvLockMarkers } from "../lock/uv_lock_markers.ts";
import { InMemoryProvider } from "../resolver/in_memory_provider.ts";
import { ResolutionError, type ResolutionStrategy } from "../resolver/types.ts";
import { resolveUniversal, type UniversalResolution } from "../resolver/universal.ts";
import { type Scenario, scenarios, universeOf } from "./_packse.ts";

const SNAPSHOTS = new URL("./data/third_party/packse/uv-lock-snapshots/", import.meta.url);

/** Expectations for scenarios with no snapshot and no expected packages, from their text. */
const BY_DESCRIPTION: Record<string, Record<string, string>> = {
  // "Both versions of `a` work on every supported Python version": the newest everywhere.
  "fork-strategy-environments": { "a@2.0.0": "" },
  // foo's two bar requirements fork on linux; baz is not required.
  "upgrade-outcomes": {
    "foo@1.0.0": "",
    "bar@1.0.0": "sys_platform == 'linux'",
    "bar@2.0.0": "sys_platform != 'linux'",
  },
  // "All platforms select the stable release of `c`".
  "prerelease-base-marker-stable-preference-explicit-first": { "c@1.0.0": "" },
};

/** name@version -> the environments that install it, within `region`. */
function fromResolution(r: UniversalResolution, region: MarkerSet): Map<string, MarkerSet> {
  return new Map(r.packages.map((p) => [`${p.name}@${p.version}`, p.marker.intersect(region)]));
}

function fromSnapshot(text: string, region: MarkerSet): Map<string, MarkerSet> {
  const lock = parseUvLock(text);
  const markers = uvLockMarkers(lock, { extras: [], groups: undefined, noDev: false });
  return new Map(
    [...markers].map(([p, where]) => [
      `${p.normalizedName}@${Version.parse(p.version!)}`,
      where.intersect(region),
    ]),
  );
}

function show(m: Map<string, MarkerSet>): string {
  return [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}: ${v}`).join("\n");
}

function assertSame(actual: Map<string, MarkerSet>, expected: Map<string, MarkerSet>): void {
  const same = actual.size === expected.size &&
    [...expected].every(([k, v]) => actual.get(k)?.equals(v) === true);
  assert.ok(same, `resolved:\n${show(actual)}\nexpected:\n${show(expected)}`);
}

function snapshotOf(path: string): string | undefined {
  const file = new URL(`${path.replace("/", "__").replace(/\.toml$/, "")}.uv.lock`, SNAPSHOTS);
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
}

const universal = scenarios().filter(([, s]) => s.resolver_options?.universal);

Deno.test("the suite has all 37 universal packse scenarios", () => {
  assert.equal(universal.length, 37);
});

for (const [path, scenario] of universal) {
  Deno.test(`resolveUniversal() follows packse scenario ${path}`, async () => {
    await check(path, scenario);
  });
}

async function check(path: string, scenario: Scenario): Promise<void> {
  const o = scenario.resolver_options ?? {};
  let region = pythonEnvironments(SpecifierSet.parse(scenario.root.requires_python ?? ">=3.12"));
  // uv's expectation comes from `uv pip compile --universal`, whose lowest Python is the
  // interpreter's when nothing else says.
  if (scenario.testgen?.kind === "compile") {
    region = region.intersect(
      MarkerSet.parse(`python_full_version >= "${scenario.environment?.python ?? "3.12"}"`),
    );
  }
  const provider = new InMemoryProvider(universeOf(scenario));
  const requirements = (scenario.root.requires ?? []).map((r) => Requirement.parse(r));
  const options = {
    provider,
    environment: region,
    ...(o.prereleases ? { prereleases: true } : {}),
    ...(o.no_build ? { onlyBinary: o.no_build.map(normalizeName) } : {}),
    ...(o.no_binary ? { noBinary: o.no_binary.map(normalizeName) } : {}),
    ...(o.resolution ? { resolution: o.resolution as ResolutionStrategy } : {}),
    ...(o.required_environments
      ? { requiredEnvironments: o.required_environments.map((m) => MarkerSet.parse(m)) }
      : {}),
  };
  if (!scenario.expected.satisfiable) {
    const error = await resolveUniversal(requirements, options).then(
      (r) => assert.fail(`expected failure, got ${show(fromResolution(r, region))}`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ResolutionError, String(error));
    assert.equal(error.code, "unsatisfiable");
    assert.match(error.message, /^No solution for (every environment|the environments where )/);
    return;
  }
  const result = await resolveUniversal(requirements, options);
  const actual = fromResolution(result, region);
  const snapshot = snapshotOf(path);
  if (snapshot !== undefined) {
    assertSame(actual, fromSnapshot(snapshot, region));
    return;
  }
  const described = BY_DESCRIPTION[scenario.name];
  if (described !== undefined) {
    assertSame(
      actual,
      new Map(
        Object.entries(described).map(([k, m]) => [k, MarkerSet.parse(m).intersect(region)]),
      ),
    );
    return;
  }
  // The rest state packages that must be in the resolution: each is there.
  const expected = Object.entries(scenario.expected.packages ?? {});
  assert.ok(expected.length > 0, `${path} has no ground truth`);
  for (const [name, version] of expected) {
    const key = `${normalizeName(name)}@${Version.parse(version)}`;
    assert.ok(actual.has(key), `${key} missing from\n${show(actual)}`);
  }
}
