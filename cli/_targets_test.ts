import assert from "node:assert/strict";
import { buildTargets } from "./_targets.ts";
import type { HostFacts } from "./_host.ts";

const HOST: HostFacts = {
  os: "linux",
  arch: "x86_64",
  glibc: [2, 36],
  musl: false,
  macosVersion: undefined,
  pythonFullVersion: "3.11.7",
};
const NONE = {
  platforms: [],
  pythonVersions: [],
  implementation: undefined,
  abis: [],
  pythonPlatforms: [],
};

Deno.test("buildTargets() uses the host when no target is named", () => {
  const [t, ...rest] = buildTargets(NONE, HOST);
  assert.equal(rest.length, 0);
  assert.equal(t!.pythonFullVersion, "3.11.7");
  assert.equal(t!.markerEnvironment.sys_platform, "linux");
});

Deno.test("buildTargets() multiplies presets by Python versions", () => {
  const ts = buildTargets({
    ...NONE,
    pythonPlatforms: ["x86_64-manylinux_2_28", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"],
    pythonVersions: ["3.11", "3.13"],
  }, HOST);
  assert.equal(ts.length, 6);
  assert.equal(new Set(ts.map((t) => t.name)).size, 6);
  assert.deepEqual(new Set(ts.map((t) => t.pythonVersion)), new Set(["3.11", "3.13"]));
});

Deno.test("buildTargets() folds pip-style platforms into one target per Python", () => {
  const ts = buildTargets({
    ...NONE,
    platforms: ["manylinux2014_x86_64", "manylinux_2_28_x86_64"],
    pythonVersions: ["3.12"],
  }, HOST);
  assert.equal(ts.length, 1);
  assert.ok(ts[0]!.platforms.includes("manylinux_2_28_x86_64"));
  assert.ok(ts[0]!.platforms.includes("manylinux1_x86_64"));
});

Deno.test("buildTargets() keeps the host platform when only a Python version is given", () => {
  const ts = buildTargets({ ...NONE, pythonVersions: ["3.9"] }, HOST);
  assert.equal(ts[0]!.pythonVersion, "3.9");
  assert.ok(ts[0]!.tags[0]!.startsWith("cp39-cp39-manylinux_2_36"));
});

Deno.test("buildTargets() applies --implementation and --abi to the host's platforms", () => {
  const [t] = buildTargets({ ...NONE, implementation: "pp", pythonVersions: ["3.10"] }, HOST);
  assert.ok(t!.tags[0]!.startsWith("pp310-"), t!.tags[0]);
  assert.ok(t!.platforms.includes("manylinux_2_36_x86_64"));
  const [a] = buildTargets({ ...NONE, abis: ["abi3"], pythonVersions: ["3.12"] }, HOST);
  assert.ok(a!.tags.every((tag) => !tag.includes("-cp312-")), a!.tags.slice(0, 3).join());
  assert.ok(a!.tags.includes("cp312-abi3-manylinux_2_36_x86_64"), a!.tags.slice(0, 3).join());
});

Deno.test("buildTargets() gives Apple presets the macOS version asked for", () => {
  const [t] = buildTargets({
    ...NONE,
    pythonPlatforms: ["aarch64-apple-darwin"],
    pythonVersions: ["3.12"],
    macosVersion: "14.0",
  }, HOST);
  assert.ok(t!.tags[0]!.endsWith("macosx_14_0_arm64"), t!.tags[0]);
});
