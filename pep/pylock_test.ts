import assert from "node:assert/strict";
import { join } from "node:path";
import type { MarkerEnvironment } from "./marker.ts";
import { parsePylock, PylockError, selectPylockPackages } from "./pylock.ts";
import { assertThrowsCode, markerEnv } from "./_helpers_testing.ts";

const ROOT = new URL("../tests/data/third_party/lockfiles/pylock", import.meta.url).pathname;

function* tomlFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* tomlFiles(path);
    else if (entry.name.endsWith(".toml") && entry.name.startsWith("pylock")) yield path;
  }
}

// uv's snapshot tests redact the interpreter's patch version as "[X]" (e.g. ">=3.12.[X]"); the
// uv export data keeps that redaction, so the tests put a concrete patch number back.
function read(path: string): string {
  return Deno.readTextFileSync(path).replaceAll(".[X]", ".0");
}

const WINDOWS = markerEnv({ os_name: "nt", platform_system: "Windows", sys_platform: "win32" });

// pip's fixtures that pip's own tests reject (see lockfiles/pylock/README.md); they are
// checked one by one below.
const PIP_INVALID = new Set([
  "pylock.invalid.toml",
  "pylock.invalidhash.toml",
  "pylock.oldpython.toml",
]);

Deno.test("parsePylock() parses every pylock.toml in the test data", () => {
  let count = 0;
  for (const path of tomlFiles(ROOT)) {
    if (PIP_INVALID.has(path.slice(path.lastIndexOf("/") + 1))) continue;
    const lock = parsePylock(read(path), { path });
    assert.equal(lock.lockVersion, "1.0", path);
    for (const p of lock.packages) {
      const sources = [p.vcs, p.directory, p.archive].filter((s) => s !== undefined).length;
      assert.ok(
        sources === 1 || (sources === 0 && (p.sdist !== undefined || p.wheels.length > 0)),
        path,
      );
      for (const f of [...p.wheels, ...(p.sdist ? [p.sdist] : [])]) {
        assert.ok(f.filename.length > 0 && !f.filename.includes("/"), `${path}: ${f.filename}`);
      }
    }
    count++;
  }
  assert.ok(count >= 30, `only ${count} files`);
});

Deno.test("parsePylock() rejects pip's pylock.invalid.toml because it has no lock-version", () => {
  const text = Deno.readTextFileSync(`${ROOT}/pip/pylock.invalid.toml`);
  assert.throws(
    () => parsePylock(text, { path: "pylock.invalid.toml" }),
    (e: unknown) =>
      e instanceof PylockError && e instanceof SyntaxError && e.code === "missing-key" &&
      /^pylock\.invalid\.toml: lock-version is missing/.test(e.message),
  );
});

Deno.test("selectPylockPackages() rejects pip's pylock.oldpython.toml: requires-python ==3.6.* excludes 3.12", () => {
  const lock = parsePylock(Deno.readTextFileSync(`${ROOT}/pip/pylock.oldpython.toml`));
  assert.throws(
    () => selectPylockPackages(lock, markerEnv()),
    (e: unknown) =>
      e instanceof PylockError && e.code === "unsupported-python" && /==3\.6\.\*/.test(e.message),
  );
  // The same lock is fine for a 3.6 target, so the rejection is about the target.
  assert.equal(
    selectPylockPackages(lock, markerEnv({ python_full_version: "3.6.15", python_version: "3.6" }))
      .length,
    1,
  );
});

Deno.test("parsePylock() keeps pip's pylock.invalidhash.toml digest, which differs from the real file's", () => {
  // The file is syntactically valid; pip rejects it when the downloaded sdist's sha256 does not
  // match. That check belongs to the fetcher: here we show that the digest is carried through
  // unchanged and differs from the one pip's good fixture records for the same file.
  const bad = parsePylock(Deno.readTextFileSync(`${ROOT}/pip/pylock.invalidhash.toml`));
  const good = parsePylock(Deno.readTextFileSync(`${ROOT}/pip/pylock.onesdist.toml`));
  const badSdist = bad.packages[0]?.sdist;
  const goodSdist = good.packages[0]?.sdist;
  assert.equal(badSdist?.filename, goodSdist?.filename);
  assert.equal(badSdist?.path, goodSdist?.path);
  assert.notEqual(badSdist?.hashes["sha256"], goodSdist?.hashes["sha256"]);
});

Deno.test("parsePylock() reads the PEP 751 example: environments, wheels, attestation identities, tool", () => {
  const lock = parsePylock(Deno.readTextFileSync(`${ROOT}/packaging/pylock.spec-example.toml`));
  assert.equal(lock.createdBy, "mousebender");
  assert.equal(lock.environments?.length, 2);
  assert.equal(lock.requiresPython?.toString(), "==3.12.*");
  const [attrs, cattrs, numpy] = lock.packages;
  assert.equal(attrs?.wheels[0]?.size, 63152);
  assert.equal(attrs?.wheels[0]?.uploadTime?.getTime(), Date.parse("2025-01-25T11:30:10.164Z"));
  assert.equal(attrs?.attestationIdentities[0]?.["kind"], "GitHub");
  assert.equal(cattrs?.index, "https://pypi.org/simple");
  assert.deepEqual(cattrs?.dependencies.map((d) => d["name"]), ["attrs"]);
  assert.equal(numpy?.wheels.length, 2);
  assert.ok(lock.tool?.["mousebender"] !== undefined);
});

Deno.test("selectPylockPackages() applies the spec example's environments", () => {
  const lock = parsePylock(Deno.readTextFileSync(`${ROOT}/packaging/pylock.spec-example.toml`));
  assert.deepEqual(selectPylockPackages(lock, WINDOWS).map((p) => p.name), [
    "attrs",
    "cattrs",
    "numpy",
  ]);
  assertThrowsCode(
    () =>
      selectPylockPackages(lock, markerEnv({ sys_platform: "darwin", platform_system: "Darwin" })),
    PylockError,
    "unsupported-environment",
  );
});

Deno.test("selectPylockPackages() picks colorama only on Windows in uv's flask[dotenv] export", () => {
  const lock = parsePylock(
    Deno.readTextFileSync(`${ROOT}/uv-export/pep_751_dependency_extra/pylock.toml`),
  );
  const linux = selectPylockPackages(lock, markerEnv()).map((p) => p.name);
  const windows = selectPylockPackages(lock, WINDOWS).map((p) => p.name);
  assert.ok(!linux.includes("colorama"));
  assert.ok(windows.includes("colorama"));
  assert.equal(windows.length, linux.length + 1);
  assert.equal(linux.length, 9);
});

Deno.test("selectPylockPackages() chooses between torch builds by marker in uv's conflict export", () => {
  const lock = parsePylock(
    read(`${ROOT}/uv-export/pylock_workspace_member_conflict_markers/pylock.toml`),
  );
  const torch = (e: MarkerEnvironment) =>
    selectPylockPackages(lock, e).filter((p) => p.name === "torch").map((p) => p.version);
  assert.deepEqual(torch(markerEnv()), ["2.6.0+cpu"]);
  assert.deepEqual(
    torch(markerEnv({ sys_platform: "darwin", platform_system: "Darwin", os_name: "posix" })),
    ["2.6.0"],
  );
  // uv writes `hashes = {}` for the PyTorch index, which publishes none.
  const wheel = lock.packages.find((p) => p.version === "2.6.0+cpu")?.wheels[0];
  assert.deepEqual(wheel?.hashes, {});
  assert.equal(wheel?.filename, "torch-2.6.0+cpu-cp312-cp312-linux_x86_64.whl");
});

Deno.test("selectPylockPackages() evaluates extras and dependency_groups markers and checks names", () => {
  const lock = parsePylock(`
lock-version = "1.0"
created-by = "test"
extras = ["Fast"]
dependency-groups = ["dev", "docs"]
default-groups = ["dev"]

[[packages]]
name = "base"
archive = { url = "https://example.org/base-1.0-py3-none-any.whl", hashes = { sha256 = "00" } }

[[packages]]
name = "speedup"
marker = "'fast' in extras"
archive = { url = "https://example.org/speedup-1.0-py3-none-any.whl", hashes = { sha256 = "00" } }

[[packages]]
name = "pytest"
marker = "'dev' in dependency_groups"
archive = { url = "https://example.org/pytest-1.0-py3-none-any.whl", hashes = { sha256 = "00" } }

[[packages]]
name = "sphinx"
marker = "'docs' in dependency_groups"
archive = { url = "https://example.org/sphinx-1.0-py3-none-any.whl", hashes = { sha256 = "00" } }
`);
  const names = (o: { extras?: string[]; groups?: string[] }) =>
    selectPylockPackages(lock, markerEnv(), o).map((p) => p.name);
  assert.deepEqual(names({}), ["base", "pytest"]);
  assert.deepEqual(names({ extras: ["FAST"], groups: ["docs"] }), ["base", "speedup", "sphinx"]);
  assert.deepEqual(names({ groups: [] }), ["base"]);
  assertThrowsCode(() => names({ extras: ["slow"] }), PylockError, "unknown-extra");
  assertThrowsCode(() => names({ groups: ["lint"] }), PylockError, "unknown-group");
});

Deno.test("selectPylockPackages() refuses two selected entries with one name", () => {
  const lock = parsePylock(`
lock-version = "1.0"
created-by = "test"
[[packages]]
name = "a"
version = "1.0"
archive = { path = "a-1.0.tar.gz", hashes = { sha256 = "00" } }
[[packages]]
name = "A"
version = "2.0"
marker = "os_name == 'posix'"
archive = { path = "a-2.0.tar.gz", hashes = { sha256 = "00" } }
`);
  assert.equal(selectPylockPackages(lock, WINDOWS).length, 1);
  assertThrowsCode(
    () => selectPylockPackages(lock, markerEnv()),
    PylockError,
    "conflicting-packages",
  );
});

Deno.test("parsePylock() names the entry when a file has no hashes or a package has two sources", () => {
  const base = 'lock-version = "1.0"\ncreated-by = "t"\n';
  const cases: [string, string, RegExp][] = [
    [
      base +
      '[[packages]]\nname = "a"\n[[packages]]\nname = "b"\nwheels = [{ url = "https://x/b-1-py3-none-any.whl" }]\n',
      "missing-key",
      /packages\[0\] \("a"\) has no source/,
    ],
    [
      base + '[[packages]]\nname = "a"\nwheels = [{ url = "https://x/a-1-py3-none-any.whl" }]\n',
      "invalid-value",
      /^pylock\.toml: packages\[0\] \("a"\)\.wheels\[0\] has no hashes$/,
    ],
    [
      base +
      '[[packages]]\nname = "a"\ndirectory = { path = "." }\nsdist = { path = "a.tar.gz", hashes = {sha256 = "00"} }\n',
      "invalid-value",
      /more than one/,
    ],
    ['lock-version = "2.0"\ncreated-by = "t"\npackages = []\n', "unsupported-version", /2\.0/],
    [base, "missing-key", /packages is missing/],
    [base + "packages = [", "toml", /invalid TOML/],
  ];
  for (const [text, code, message] of cases) {
    assert.throws(
      () => parsePylock(text),
      (e: unknown) => {
        assert.ok(e instanceof PylockError, String(e));
        if (code !== "missing-key") assert.equal(e.code, code, e.message);
        assert.match(e.message, message);
        return true;
      },
    );
  }
});

Deno.test("parsePylock() accepts a newer minor lock-version and reports TOML errors with a line", () => {
  assert.equal(
    parsePylock('lock-version = "1.7"\ncreated-by = "t"\npackages = []\n').lockVersion,
    "1.7",
  );
  assertThrowsCode(
    () => parsePylock('lock-version = "1.0"\ncreated-by = "t"\npackages = [\n  { name = }\n]\n'),
    PylockError,
    "toml",
    (e) => assert.equal(e.line, 4),
  );
});
