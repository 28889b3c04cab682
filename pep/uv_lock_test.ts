import assert from "node:assert/strict";
import { join } from "node:path";
import { parseUvLock, selectUvLockPackages, UvLockError, type UvLockPackage } from "./uv_lock.ts";
import { assertThrowsCode, markerEnv } from "./_helpers_testing.ts";

const ECOSYSTEM =
  new URL("../tests/data/third_party/lockfiles/uv-ecosystem", import.meta.url).pathname;
const SNAPSHOTS =
  new URL("../tests/data/third_party/packse/uv-lock-snapshots", import.meta.url).pathname;

const ids = (ps: readonly UvLockPackage[]) => ps.map((p) => `${p.name}@${p.version}`);

function lockPaths(): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(ECOSYSTEM)) {
    if (e.isDirectory) out.push(join(ECOSYSTEM, e.name, "uv.lock"));
  }
  for (const e of Deno.readDirSync(SNAPSHOTS)) {
    if (e.name.endsWith(".uv.lock")) out.push(join(SNAPSHOTS, e.name));
  }
  return out.sort();
}

Deno.test("parseUvLock() parses every uv.lock in the test data and resolves every edge", () => {
  const paths = lockPaths();
  assert.ok(paths.length >= 30, `only ${paths.length} files`);
  for (const path of paths) {
    const lock = parseUvLock(Deno.readTextFileSync(path), { path });
    assert.equal(lock.version, 1, path);
    assert.ok(lock.packages.length > 0, path);
    for (const p of lock.packages) {
      for (const w of p.wheels) assert.ok(w.filename.endsWith(".whl"), `${path}: ${w.filename}`);
      if (p.source.kind === "registry") assert.ok(p.version !== undefined, path);
    }
    // Selecting for all platforms never fails and never returns a workspace member.
    const all = selectUvLockPackages(lock, { extras: "all" });
    assert.ok(all.every((p) => p.source.kind !== "virtual"), path);
  }
});

Deno.test("parseUvLock() reads sources, forks, extras and file details of pytest-cov's lock", () => {
  const lock = parseUvLock(Deno.readTextFileSync(`${ECOSYSTEM}/pytest-cov/uv.lock`));
  assert.equal(lock.revision, 3);
  assert.equal(lock.requiresPython?.toString(), ">=3.9");
  assert.deepEqual(lock.resolutionMarkers, [
    "python_full_version >= '3.10'",
    "python_full_version < '3.10'",
  ]);
  const root = lock.packages.find((p) => p.name === "pytest-cov");
  assert.deepEqual(root?.source, { kind: "editable", path: "." });
  assert.equal(root?.dependencies[0]?.version, "7.10.7");
  assert.deepEqual(root?.dependencies[0]?.extras, ["toml"]);
  assert.equal(root?.dependencies[0]?.marker?.toString(), 'python_full_version < "3.10"');
  assert.deepEqual([...root!.optionalDependencies.keys()], ["testing"]);
  const colorama = lock.packages.find((p) => p.name === "colorama");
  assert.deepEqual(colorama?.source, { kind: "registry", url: "https://pypi.org/simple" });
  assert.equal(colorama?.sdist?.filename, "colorama-0.4.6.tar.gz");
  assert.equal(colorama?.sdist?.size, 27697);
  assert.equal(
    colorama?.wheels[0]?.hash,
    "sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6",
  );
  assert.equal(colorama?.wheels[0]?.uploadTime?.getTime(), Date.parse("2022-10-25T02:36:20.889Z"));
});

Deno.test("selectUvLockPackages() follows pytest-cov's Python forks for 3.12 on Linux (checked by hand)", () => {
  const lock = parseUvLock(Deno.readTextFileSync(`${ECOSYSTEM}/pytest-cov/uv.lock`));
  assert.deepEqual(ids(selectUvLockPackages(lock, { env: markerEnv() })), [
    "coverage@7.14.3",
    "iniconfig@2.3.0",
    "packaging@26.2",
    "pluggy@1.6.0",
    "pygments@2.20.0",
    "pytest@9.1.1",
  ]);
});

Deno.test("selectUvLockPackages() follows pytest-cov's Python forks for 3.9 on Windows (checked by hand)", () => {
  const lock = parseUvLock(Deno.readTextFileSync(`${ECOSYSTEM}/pytest-cov/uv.lock`));
  const windows39 = markerEnv({
    python_full_version: "3.9.18",
    python_version: "3.9",
    sys_platform: "win32",
    os_name: "nt",
    platform_system: "Windows",
  });
  assert.deepEqual(ids(selectUvLockPackages(lock, { env: windows39 })), [
    "colorama@0.4.6",
    "coverage@7.10.7",
    "exceptiongroup@1.3.1",
    "iniconfig@2.1.0",
    "packaging@26.2",
    "pluggy@1.6.0",
    "pygments@2.20.0",
    "pytest@8.4.2",
    "tomli@2.4.1",
    "typing-extensions@4.15.0",
  ]);
});

Deno.test("selectUvLockPackages() keeps both sides of every fork when no environment is given", () => {
  const lock = parseUvLock(Deno.readTextFileSync(`${ECOSYSTEM}/pytest-cov/uv.lock`));
  const all = ids(selectUvLockPackages(lock));
  for (
    const id of [
      "coverage@7.10.7",
      "coverage@7.14.3",
      "pytest@8.4.2",
      "pytest@9.1.1",
      "tomli@2.4.1",
    ]
  ) {
    assert.ok(all.includes(id), id);
  }
  assert.ok(!all.some((id) => id.startsWith("virtualenv@")), "testing extra not requested");
  const testing = ids(selectUvLockPackages(lock, { extras: ["testing"] }));
  assert.ok(testing.some((id) => id.startsWith("virtualenv@")));
  assert.ok(testing.length > all.length);
});

Deno.test("selectUvLockPackages() includes the dev group unless noDev, and rejects unknown names", () => {
  const lock = parseUvLock(Deno.readTextFileSync(`${ECOSYSTEM}/github-wikidata-bot/uv.lock`));
  const withDev = ids(selectUvLockPackages(lock, { env: markerEnv() }));
  const noDev = ids(selectUvLockPackages(lock, { env: markerEnv(), noDev: true }));
  assert.ok(withDev.some((id) => id.startsWith("ruff@")));
  assert.ok(!noDev.some((id) => id.startsWith("ruff@")));
  assert.ok(noDev.every((id) => withDev.includes(id)));
  assertThrowsCode(
    () => selectUvLockPackages(lock, { groups: ["docs"] }),
    UvLockError,
    "unknown-group",
  );
  assertThrowsCode(
    () => selectUvLockPackages(lock, { extras: ["nope"] }),
    UvLockError,
    "unknown-extra",
  );
  assertThrowsCode(
    () =>
      selectUvLockPackages(lock, {
        env: markerEnv({ python_full_version: "3.11.9", python_version: "3.11" }),
      }),
    UvLockError,
    "unsupported-python",
  );
});

Deno.test("selectUvLockPackages() picks a, b and c per platform in packse's marker-inherit-combined-allowed", () => {
  const lock = parseUvLock(
    Deno.readTextFileSync(`${SNAPSHOTS}/fork__marker-inherit-combined-allowed.uv.lock`),
  );
  const darwin = { sys_platform: "darwin", platform_system: "Darwin" };
  assert.deepEqual(ids(selectUvLockPackages(lock, { env: markerEnv() })), ["a@2.0.0"]);
  assert.deepEqual(
    ids(selectUvLockPackages(lock, { env: markerEnv({ ...darwin, implementation_name: "pypy" }) })),
    ["a@1.0.0", "b@1.0.0", "c@1.0.0"],
  );
  assert.deepEqual(ids(selectUvLockPackages(lock, { env: markerEnv(darwin) })), [
    "a@1.0.0",
    "b@2.0.0",
  ]);
  assert.deepEqual(
    ids(selectUvLockPackages(lock, { env: markerEnv({ sys_platform: "win32" }) })),
    [],
  );
});

Deno.test("parseUvLock() rejects a newer lock version and accepts a newer revision", () => {
  assert.throws(
    () => parseUvLock("version = 2\nrevision = 1\n"),
    (e: unknown) =>
      e instanceof UvLockError && e instanceof SyntaxError && e.code === "unsupported-version" &&
      /version 2 is newer/.test(e.message),
  );
  assert.equal(parseUvLock("version = 1\nrevision = 99\n").revision, 99);
  assertThrowsCode(() => parseUvLock("revision = 3\n"), UvLockError, "missing-key");
});

Deno.test("parseUvLock() names the package whose dependency points nowhere or whose source is wrong", () => {
  const base =
    'version = 1\n[[package]]\nname = "app"\nversion = "1"\nsource = { virtual = "." }\n';
  assert.throws(
    () => parseUvLock(base + 'dependencies = [{ name = "ghost" }]\n', { path: "proj/uv.lock" }),
    (e: unknown) =>
      e instanceof UvLockError && e.code === "unresolved-dependency" &&
      e.message ===
        'proj/uv.lock: package[0] ("app") dependencies[0] -> "ghost": no such package in the lock',
  );
  assert.throws(
    () =>
      parseUvLock(
        'version = 1\n[[package]]\nname = "x"\nsource = { virtual = ".", editable = "." }\n',
      ),
    (e: unknown) => e instanceof UvLockError && /exactly one of/.test(e.message),
  );
  assertThrowsCode(
    () => parseUvLock("version = 1\n[[package]\n"),
    UvLockError,
    "toml",
    (e) => assert.equal(e.line, 2),
  );
});

Deno.test("selectUvLockPackages() starts from [manifest] members in a workspace and follows edge extras", () => {
  const lock = parseUvLock(`
version = 1
revision = 3
[manifest]
members = ["app", "lib"]

[[package]]
name = "app"
version = "1"
source = { editable = "." }
dependencies = [{ name = "lib" }]

[[package]]
name = "lib"
version = "1"
source = { editable = "packages/lib" }
dependencies = [{ name = "requests", extra = ["socks"] }]

[[package]]
name = "pysocks"
version = "1.7.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "requests"
version = "2.32.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "urllib3" }]

[package.optional-dependencies]
socks = [{ name = "pysocks" }]

[[package]]
name = "urllib3"
version = "2.2.0"
source = { registry = "https://pypi.org/simple" }
`);
  assert.deepEqual(ids(selectUvLockPackages(lock, { env: markerEnv() })), [
    "pysocks@1.7.1",
    "requests@2.32.0",
    "urllib3@2.2.0",
  ]);
});
