import assert from "node:assert/strict";
import { lockPlanOptions } from "../tests/_e2e_helpers.ts";
import { join } from "node:path";
import { parsePylock, PylockError } from "../pep/pylock.ts";
import { type Target, targetFromPreset } from "../pep/tags.ts";
import { parseUvLock, selectUvLockPackages, type UvLock } from "../pep/uv_lock.ts";
import { LockError } from "./types.ts";
import { lockKindOf, lockKindOfName, planPylock, planUvLock } from "./plan.ts";
import type { LockPlan } from "./types.ts";

const LOCKS = new URL("../tests/data/third_party/lockfiles/", import.meta.url).pathname;
const PIP_INVALID = ["pylock.invalid.toml", "pylock.invalidhash.toml", "pylock.oldpython.toml"];

// uv's snapshot tests redact the interpreter's patch version as "[X]" (">=3.12.[X]"); put a
// concrete patch number back, as pep/pylock_test.ts does.
function readLock(path: string): string {
  return Deno.readTextFileSync(path).replaceAll(".[X]", ".0");
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...walk(p));
    else if (lockKindOfName(p) !== undefined) out.push(p);
  }
  return out.sort();
}

const ALL_LOCKS = walk(LOCKS);

function target(preset: string, python = "3.12"): Target {
  return targetFromPreset(preset, { pythonVersion: python });
}

const opts = lockPlanOptions;

function uvLock(rel: string): { lock: UvLock; path: string } {
  const path = join(LOCKS, rel);
  return { lock: parseUvLock(readLock(path), { path }), path };
}

/** Expands `a.b-c-d.e` compressed tag sets, independently of pep/filename.ts. */
function expandTags(filename: string): string[] {
  const parts = filename.slice(0, -".whl".length).split("-");
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const out: string[] = [];
  for (const p of py.split(".")) {
    for (const a of abi.split(".")) for (const pl of plat.split(".")) out.push(`${p}-${a}-${pl}`);
  }
  return out;
}

/** The oracle: index of the wheel's best tag in the target's list (Infinity when none). */
function oracleRank(filename: string, t: Target): number {
  let best = Infinity;
  for (const tag of expandTags(filename)) {
    const i = t.tags.indexOf(tag);
    if (i >= 0 && i < best) best = i;
  }
  return best;
}

function names(plan: LockPlan): string[] {
  return plan.files.map((f) => f.filename).sort();
}

Deno.test("the shared lock-file corpus is found (pylock and uv.lock files)", () => {
  assert.ok(ALL_LOCKS.filter((p) => lockKindOfName(p) === "pylock").length >= 30);
  assert.equal(ALL_LOCKS.filter((p) => lockKindOfName(p) === "uv").length, 3);
});

Deno.test("every shared lock file parses, except pip's lock without lock-version", () => {
  for (const path of ALL_LOCKS) {
    const text = readLock(path);
    const kind = lockKindOf(path, text);
    if (path.endsWith("pylock.invalid.toml")) {
      assert.throws(
        () => parsePylock(text, { path }),
        (e) =>
          e instanceof PylockError && e.code === "missing-key" && /lock-version/.test(e.message),
      );
      continue;
    }
    if (kind === "pylock") parsePylock(text, { path });
    else if (kind === "uv") parseUvLock(text, { path });
    else assert.fail(`${path}: unknown kind`);
  }
});

Deno.test("pip's three invalid pylock files are rejected, each with its reason", async () => {
  const dir = join(LOCKS, "pylock/pip");
  const [invalid, invalidhash, oldpython] = PIP_INVALID.map((n) => readLock(join(dir, n))) as [
    string,
    string,
    string,
  ];
  assert.throws(() => parsePylock(invalid), /lock-version is missing/);
  // requires-python ==3.6.* cannot serve a 3.12 target.
  assert.throws(
    () =>
      planPylock(
        parsePylock(oldpython),
        opts(join(dir, "pylock.oldpython.toml"), { targets: [target("linux")] }),
      ),
    (e) =>
      e instanceof LockError && /requires-python ==3\.6\.\*/.test(e.message) &&
      /target cp312/.test(e.message),
  );
  // The hash of the sdist is not the real one: it differs from pylock.toml's by one digit
  // (the download is what catches it; see tests/lock_download_test.ts).
  const good = parsePylock(await Deno.readTextFile(join(dir, "pylock.toml")));
  const bad = parsePylock(invalidhash);
  const goodHash = good.packages[0]!.sdist!.hashes["sha256"];
  const badHash = bad.packages[0]!.sdist!.hashes["sha256"];
  assert.equal(bad.packages[0]!.sdist!.filename, good.packages[0]!.sdist!.filename);
  assert.notEqual(goodHash, badHash);
});

Deno.test("planUvLock picks, per target, the best-ranked compatible wheel of each package", () => {
  for (const rel of ["uv-ecosystem/pytest-cov/uv.lock", "uv-ecosystem/httpx/uv.lock"]) {
    const { lock, path } = uvLock(rel);
    const targets = [
      target("x86_64-manylinux_2_28", "3.12"),
      target("windows", "3.11"),
      target("aarch64-apple-darwin", "3.13"),
    ];
    for (const t of targets) {
      const plan = planUvLock(lock, opts(path, { targets: [t] }));
      assert.deepEqual(plan.missing, []);
      const packages = selectUvLockPackages(lock, { env: t.markerEnvironment, path });
      assert.equal(plan.files.length, packages.length, `${rel} ${t.name}: one file per package`);
      for (const pkg of packages) {
        const file = plan.files.find((f) => f.project === pkg.normalizedName);
        assert.ok(file, `${rel} ${t.name}: ${pkg.name} has a file`);
        assert.deepEqual(file.targets, [t.name]);
        const ranks = pkg.wheels.map((w) => oracleRank(w.filename, t));
        const best = Math.min(...ranks);
        if (best === Infinity) {
          assert.equal(file.filename, pkg.sdist?.filename, `${pkg.name}: sdist when no wheel fits`);
        } else {
          assert.equal(oracleRank(file.filename, t), best, `${pkg.name} on ${t.name}`);
        }
        assert.match(file.sha256 ?? "", /^[0-9a-f]{64}$/);
      }
    }
  }
});

Deno.test("planUvLock chooses the platform's native coverage wheel for pytest-cov", () => {
  const { lock, path } = uvLock("uv-ecosystem/pytest-cov/uv.lock");
  const pick = (t: Target) =>
    planUvLock(lock, opts(path, { targets: [t] })).files.find((f) => f.project === "coverage")
      ?.filename ?? "";
  assert.match(pick(target("x86_64-manylinux_2_28", "3.12")), /-cp312-cp312-.*manylinux.*x86_64/);
  assert.match(pick(target("windows", "3.12")), /-cp312-cp312-win_amd64\.whl$/);
  assert.match(pick(target("aarch64-apple-darwin", "3.12")), /-cp312-cp312-macosx_.*arm64\.whl$/);
  // colorama is for Windows only (pytest's marker).
  const win = planUvLock(lock, opts(path, { targets: [target("windows", "3.12")] }));
  const linux = planUvLock(lock, opts(path, { targets: [target("linux", "3.12")] }));
  assert.ok(win.files.some((f) => f.project === "colorama"));
  assert.ok(!linux.files.some((f) => f.project === "colorama"));
});

Deno.test("planUvLock with several targets shares files and lists each file's targets", () => {
  const { lock, path } = uvLock("uv-ecosystem/pytest-cov/uv.lock");
  const a = target("linux", "3.12");
  const b = target("windows", "3.12");
  const plan = planUvLock(lock, opts(path, { targets: [a, b] }));
  const pure = plan.files.find((f) => f.project === "pluggy")!;
  assert.deepEqual(pure.targets, [a.name, b.name]);
  const cov = plan.files.filter((f) => f.project === "coverage");
  assert.equal(cov.length, 2);
  assert.deepEqual(cov.map((f) => f.targets.length), [1, 1]);
  const single = [a, b].map((t) => names(planUvLock(lock, opts(path, { targets: [t] }))));
  assert.deepEqual(names(plan), [...new Set(single.flat())].sort());
});

Deno.test("planUvLock --all-platforms takes every wheel and sdist the lock lists", () => {
  for (const rel of ["uv-ecosystem/pytest-cov/uv.lock", "uv-ecosystem/httpx/uv.lock"]) {
    const { lock, path } = uvLock(rel);
    const plan = planUvLock(lock, opts(path, { allPlatforms: true }));
    const expected = lock.packages.flatMap((p) =>
      [...p.wheels, ...(p.sdist ? [p.sdist] : [])].map((f) => f.filename)
    );
    assert.deepEqual(names(plan), [...new Set(expected)].sort());
    assert.ok(plan.files.every((f) => f.targets.length === 0));
    const linux = planUvLock(lock, opts(path, { targets: [target("linux")], extras: "all" }));
    for (const f of linux.files) assert.ok(names(plan).includes(f.filename), f.filename);
    assert.ok(plan.files.length > linux.files.length);
  }
});

Deno.test("planUvLock follows --extra, --all-extras and --no-dev", () => {
  const { lock, path } = uvLock("uv-ecosystem/pytest-cov/uv.lock");
  const t = [target("linux", "3.12")];
  const base = planUvLock(lock, opts(path, { targets: t, noDev: true }));
  const testing = planUvLock(lock, opts(path, { targets: t, extras: ["testing"], noDev: true }));
  const all = planUvLock(lock, opts(path, { targets: t, extras: "all", noDev: true }));
  assert.ok(testing.files.length > base.files.length);
  assert.ok(testing.files.some((f) => f.project === "virtualenv"));
  assert.ok(!base.files.some((f) => f.project === "virtualenv"));
  assert.deepEqual(names(all), names(testing));
  assert.throws(
    () => planUvLock(lock, opts(path, { targets: t, extras: ["nope"] })),
    /extra "nope"/,
  );
});

Deno.test("planUvLock rejects a target outside requires-python, naming the target", () => {
  const { lock, path } = uvLock("uv-ecosystem/httpx/uv.lock");
  assert.throws(
    () => planUvLock(lock, opts(path, { targets: [target("linux", "3.8")] })),
    (e) => e instanceof LockError && /3\.8/.test(e.message) && /target cp38/.test(e.message),
  );
});

Deno.test("planPylock evaluates markers per target on a uv export", () => {
  const path = join(LOCKS, "pylock/uv-export/pep_751_dependency_extra/pylock.toml");
  const lock = parsePylock(readLock(path), { path });
  const linux = planPylock(lock, opts(path, { targets: [target("linux")] }));
  const win = planPylock(lock, opts(path, { targets: [target("windows")] }));
  assert.ok(!linux.files.some((f) => f.project === "colorama"));
  assert.ok(win.files.some((f) => f.filename === "colorama-0.4.6-py2.py3-none-any.whl"));
  assert.match(
    linux.files.find((f) => f.project === "markupsafe")!.filename,
    /cp312-cp312-manylinux_2_17_x86_64/,
  );
  assert.match(win.files.find((f) => f.project === "markupsafe")!.filename, /win_amd64/);
  // The editable project itself (the lock's own folder) is the project, not a gap.
  assert.deepEqual(linux.undownloadable, []);
  assert.deepEqual(linux.ownProjects, ["project"]);
  // --all-platforms: every wheel and sdist of every package.
  const all = planPylock(lock, opts(path, { allPlatforms: true }));
  const expected = lock.packages.flatMap((p) =>
    [...p.wheels, ...(p.sdist ? [p.sdist] : [])].map((f) => f.filename)
  );
  assert.deepEqual(names(all), expected.sort());
});

Deno.test("planPylock falls back to the sdist when no wheel fits the target", () => {
  const path = join(LOCKS, "pylock/uv-export/pylock_toml_filter_by_requires_python/pylock.toml");
  const lock = parsePylock(readLock(path), { path });
  const riscv = planPylock(lock, opts(path, { targets: [target("riscv64-unknown-linux")] }));
  assert.deepEqual(names(riscv), ["numpy-1.26.4.tar.gz"]);
  const arm = planPylock(lock, opts(path, { targets: [target("aarch64-apple-darwin")] }));
  assert.deepEqual(names(arm), ["numpy-1.26.4-cp312-cp312-macosx_11_0_arm64.whl"]);
  assert.equal(arm.files[0]!.size, 13685868);
});

Deno.test("planPylock reports vcs and directory packages as not downloadable", () => {
  const git = join(LOCKS, "pylock/uv-export/pep_751_git_dependency/pylock.toml");
  const plan = planPylock(
    parsePylock(readLock(git), { path: git }),
    opts(git, { targets: [target("linux")] }),
  );
  const vcs = plan.undownloadable.filter((u) => /git checkout/.test(u.reason));
  assert.equal(vcs.length, 1);
  assert.match(vcs[0]!.reason, /github\.com/);
  const dir = join(LOCKS, "pylock/pip/pylock.directory.toml");
  const d = planPylock(parsePylock(readLock(dir)), opts(dir, { allPlatforms: true }));
  assert.deepEqual(d.files, []);
  assert.deepEqual(d.undownloadable.map((u) => u.project), ["simplewheel", "singlemodule"]);
});

Deno.test("planPylock checks the lock's environments and requires-python per target", () => {
  const path = join(LOCKS, "pylock/packaging/pylock.spec-example.toml");
  const lock = parsePylock(readLock(path), { path });
  const ok = planPylock(lock, opts(path, { targets: [target("windows", "3.12")] }));
  assert.ok(ok.files.length >= 2);
  assert.throws(
    () => planPylock(lock, opts(path, { targets: [target("macos", "3.12")] })),
    (e) => e instanceof LockError && /environments/.test(e.message) && /macos/.test(e.message),
  );
  assert.throws(
    () => planPylock(lock, opts(path, { targets: [target("linux", "3.11")] })),
    (e) => e instanceof LockError && /==3\.12\.\*/.test(e.message),
  );
});

Deno.test("planPylock resolves paths inside the lock's folder and refuses paths outside", () => {
  const inside = parsePylock(`
lock-version = "1.0"
created-by = "t"
[[packages]]
name = "simple"
version = "2.0"
sdist = { path = "packages/simple-2.0.tar.gz", hashes = { sha256 = "aa" } }
`);
  const plan = planPylock(inside, opts("/srv/locks/pylock.toml", { allPlatforms: true }));
  assert.equal(plan.files[0]!.url, "file:///srv/locks/packages/simple-2.0.tar.gz");
  const pipLock = join(LOCKS, "pylock/pip/pylock.toml");
  assert.throws(
    () =>
      planPylock(
        parsePylock(readLock(pipLock)),
        opts(pipLock, { targets: [target("linux")] }),
      ),
    (e) =>
      e instanceof LockError &&
      /"\.\.\/packages\/simple-2\.0\.tar\.gz" points outside/.test(e.message),
  );
  const absolute = parsePylock(`
lock-version = "1.0"
created-by = "t"
[[packages]]
name = "simple"
sdist = { path = "/etc/simple-2.0.tar.gz", hashes = { sha256 = "aa" } }
`);
  assert.throws(
    () => planPylock(absolute, opts("/srv/locks/pylock.toml", { allPlatforms: true })),
    /points outside/,
  );
});

Deno.test("planPylock takes a wheel archive only for targets it fits", () => {
  const lock = parsePylock(`
lock-version = "1.0"
created-by = "t"
[[packages]]
name = "native"
archive = { url = "https://example.org/native-1.0-cp312-cp312-win_amd64.whl", hashes = { sha256 = "aa" } }
`);
  const win = planPylock(lock, opts("/l/pylock.toml", { targets: [target("windows")] }));
  assert.deepEqual(names(win), ["native-1.0-cp312-cp312-win_amd64.whl"]);
  const linux = planPylock(lock, opts("/l/pylock.toml", { targets: [target("linux")] }));
  assert.deepEqual(linux.files, []);
  assert.equal(linux.missing[0]?.project, "native");
});

Deno.test("planPylock prefers the higher build tag among equally ranked wheels", () => {
  const lock = parsePylock(`
lock-version = "1.0"
created-by = "t"
[[packages]]
name = "b"
version = "1.0"
wheels = [
  { url = "https://example.org/b-1.0-1-py3-none-any.whl", hashes = { sha256 = "aa" } },
  { url = "https://example.org/b-1.0-2-py3-none-any.whl", hashes = { sha256 = "bb" } },
  { url = "https://example.org/b-1.0-py3-none-any.whl", hashes = { sha256 = "cc" } },
]
`);
  const plan = planPylock(lock, opts("/l/pylock.toml", { targets: [target("linux")] }));
  assert.deepEqual(names(plan), ["b-1.0-2-py3-none-any.whl"]);
});

Deno.test("a lock naming one file twice with different hashes is refused", () => {
  const lock = parsePylock(`
lock-version = "1.0"
created-by = "t"
[[packages]]
name = "a"
version = "1.0"
marker = "sys_platform == 'linux'"
wheels = [{ url = "https://one.example/a-1.0-py3-none-any.whl", hashes = { sha256 = "aa" } }]
[[packages]]
name = "a"
version = "1.0"
marker = "sys_platform == 'win32'"
wheels = [{ url = "https://two.example/a-1.0-py3-none-any.whl", hashes = { sha256 = "bb" } }]
`);
  assert.throws(
    () => planPylock(lock, opts("/l/pylock.toml", { allPlatforms: true })),
    (e) => e instanceof LockError && /twice with different hashes/.test(e.message),
  );
  const t = [target("linux"), target("windows")];
  assert.throws(() => planPylock(lock, opts("/l/pylock.toml", { targets: t })), /twice/);
});

Deno.test("a lock url with an unusable scheme is refused", () => {
  const lock = parsePylock(`
lock-version = "1.0"
created-by = "t"
[[packages]]
name = "a"
wheels = [{ url = "ftp://example.org/a-1.0-py3-none-any.whl", hashes = { sha256 = "aa" } }]
`);
  assert.throws(
    () => planPylock(lock, opts("/l/pylock.toml", { allPlatforms: true })),
    /ftp: url/,
  );
});

Deno.test("lockKindOf tells locks by name, then by content", () => {
  assert.equal(lockKindOfName("pylock.toml"), "pylock");
  assert.equal(lockKindOfName("dir/pylock.ci.toml"), "pylock");
  assert.equal(lockKindOfName("pylock.a.b.toml"), undefined);
  assert.equal(lockKindOfName("/x/pylock/foo.toml"), undefined);
  assert.equal(lockKindOfName("uv.lock"), "uv");
  assert.equal(lockKindOf("x.toml", "version = 1\nrevision = 3\n\n[[package]]\n"), "uv");
  assert.equal(lockKindOf("x.toml", "[project]\nname = 'a'\n"), undefined);
});

Deno.test("a locked file whose name is another project's or another version's is refused as wrong-file", () => {
  const pylock = (file: string) =>
    parsePylock(`lock-version = "1.0"
created-by = "test"
[[packages]]
name = "click"
version = "8.5.0"
wheels = [{ url = "https://example.org/${file}", hashes = { sha256 = "aa" } }]
`);
  const path = "/tmp/x/pylock.toml";
  const plan = (file: string) => planPylock(pylock(file), opts(path, { allPlatforms: true }));
  assert.equal(plan("click-8.5.0-py3-none-any.whl").files.length, 1);
  assert.throws(
    () => plan("six-1.17.0-py2.py3-none-any.whl"),
    (e: unknown) =>
      e instanceof LockError && e.code === "wrong-file" &&
      /"six-1\.17\.0-py2\.py3-none-any\.whl" is a distribution of six 1\.17\.0, not of the locked click 8\.5\.0/
        .test(e.message),
  );
  assert.throws(
    () => plan("click-8.4.0-py3-none-any.whl"),
    (e: unknown) => e instanceof LockError && e.code === "wrong-file",
  );
  assert.throws(
    () => plan("click-8.5.0.exe"),
    (e: unknown) => e instanceof LockError && e.code === "wrong-file",
  );
  // uv.lock: a URL that climbs out of its folder to another project's file.
  const uv = parseUvLock(`version = 1
[[package]]
name = "click"
version = "8.5.0"
source = { registry = "https://example.org/simple" }
wheels = [{ url = "https://example.org/x/../../OTHER-8.5.0-py3-none-any.whl", hash = "sha256:aa" }]
`);
  assert.throws(
    () => planUvLock(uv, opts("/tmp/x/uv.lock", { allPlatforms: true })),
    (e: unknown) =>
      e instanceof LockError && e.code === "wrong-file" && /other 8\.5\.0/.test(e.message),
  );
});

Deno.test("a uv.lock's virtual root is its own project under --all-platforms, not a gap", () => {
  const lock = parseUvLock(`version = 1
[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "lib" }]
[[package]]
name = "lib"
version = "1.0"
source = { directory = "../lib" }
`);
  const all = planUvLock(lock, opts("/tmp/x/uv.lock", { allPlatforms: true }));
  assert.deepEqual(all.ownProjects, ["app"]);
  assert.deepEqual(all.undownloadable.map((u) => u.project), ["lib"]);
});
