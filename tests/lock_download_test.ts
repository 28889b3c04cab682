// End-to-end tests of `download --lock`: real lock files from ../shared/testdata/lockfiles, copied
// at test time into a temp folder with every referenced file rebuilt by the wheel factory (same
// file name), served by the test index server (or placed beside the lock for `path` entries),
// and the lock's URLs, hashes and sizes rewritten to match. ../shared is never written.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { main } from "../cli/main.ts";
import { download } from "../cli/download.ts";
import { describeError, exitCodeOf } from "../cli/_errors.ts";
import type { HostFacts } from "../cli/_host.ts";
import { memorySink } from "../cli/io.ts";
import type { CliIo } from "../cli/io.ts";
import { type LockPlanOptions, planPylock, planUvLock } from "../cli/_lock_plan.ts";
import { parseSdistFilename, parseWheelFilename } from "../pep/filename.ts";
import { parsePylock } from "../pep/pylock.ts";
import { type Target, targetFromPreset } from "../pep/tags.ts";
import { parseUvLock } from "../pep/uv_lock.ts";
import { type IndexServer, startIndexServer } from "./index_server.ts";
import { buildSdist, buildWheel, sha256Hex } from "./wheel_factory.ts";
import { havePip, runPython } from "./_python.ts";

const LOCKS = new URL("../../shared/testdata/lockfiles/", import.meta.url).pathname;
const PYTEST_COV = join(LOCKS, "uv-ecosystem/pytest-cov/uv.lock");
const HTTPX = join(LOCKS, "uv-ecosystem/httpx/uv.lock");
const UV_EXPORT = join(LOCKS, "pylock/uv-export/pep_751_dependency_extra/pylock.toml");
const PIP = join(LOCKS, "pylock/pip");
const ARCHIVE = /\.(whl|tar\.gz|zip|tar\.bz2|tar\.xz|tgz|tar)$/;

// ---------------------------------------------------------------------------------------------
// Fixture copies

type Toml = Record<string, unknown>;

/** Archives built once per file name for the whole run (the factory is deterministic). */
const built = new Map<string, Promise<{ bytes: Uint8Array; sha256: string }>>();

/** A real archive with this file name: a wheel with the name's tags, or an sdist. */
function archiveFor(filename: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  let p = built.get(filename);
  if (p === undefined) {
    p = (async () => {
      if (filename.endsWith(".whl")) {
        const w = parseWheelFilename(filename);
        // The last three dash-separated parts are the (compressed) tag triple.
        const tags = filename.slice(0, -4).split("-").slice(-3).join("-");
        return await buildWheel({ name: w.name, version: w.version.toString(), tags });
      }
      try {
        const s = parseSdistFilename(filename);
        return await buildSdist({ name: s.name, version: s.version.toString() });
      } catch {
        return await buildSdist({ name: "archive", version: "0" });
      }
    })().then((d) => ({ bytes: d.bytes, sha256: d.sha256 }));
    built.set(filename, p);
  }
  return p;
}

function lastSegment(location: string): string {
  const bare = location.replace(/[?#].*$/, "");
  return decodeURIComponent(bare.slice(bare.lastIndexOf("/") + 1));
}

interface FixtureOptions {
  /** Where recorded URLs point: this server's `/files/`, or a dead port. */
  urls: "server" | "dead";
  /** Keep `path` entries as written (pip's `../packages/...`) instead of moving them beside. */
  keepPaths?: boolean;
  /** Also write every archive into the fixture's find-links folder (`mirror`). */
  mirror?: boolean;
  /** Change the parsed document before it is written. */
  edit?: (doc: Toml) => void;
}

interface Fixture {
  dir: string;
  lockPath: string;
  /** Every archive written beside the lock or served, by file name. */
  archives: Map<string, { bytes: Uint8Array; sha256: string }>;
  /** A find-links folder that holds every archive when asked for (`mirror: true`). */
  mirror: string;
  server: IndexServer;
  close(): Promise<void>;
}

/**
 * Copies a lock into a temp folder: every file it references rebuilt with the same name, served
 * from a test index (URL entries) or written beside the lock (path entries), hashes and sizes
 * rewritten to the built archives.
 */
async function fixture(source: string, options: FixtureOptions): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "wh-lock-" });
  const kind = source.endsWith("uv.lock") ? "uv" : "pylock";
  // uv's snapshots redact the patch version as "[X]"; put a number back (as pep/ tests do).
  const doc = parseToml(Deno.readTextFileSync(source).replaceAll(".[X]", ".0")) as Toml;
  const server = await startIndexServer({ projects: [] });
  const mirror = join(dir, "mirror");
  await Deno.mkdir(mirror);
  const archives = new Map<string, { bytes: Uint8Array; sha256: string }>();
  // pip's fixtures sit in a "locks" folder beside "packages" when paths are kept.
  const lockDir = options.keepPaths ? join(dir, "locks") : dir;
  await Deno.mkdir(lockDir, { recursive: true });
  const base = options.urls === "server" ? `${server.url}files/` : "http://127.0.0.1:9/files/";

  const rewrite = async (entry: Toml): Promise<void> => {
    const url = entry["url"] as string | undefined;
    const path = entry["path"] as string | undefined;
    const filename = (entry["name"] ?? entry["filename"] ?? lastSegment(url ?? path!)) as string;
    const { bytes, sha256 } = await archiveFor(filename);
    archives.set(filename, { bytes, sha256 });
    if (options.mirror) await Deno.writeFile(join(mirror, filename), bytes);
    let servable = true;
    try {
      parseWheelFilename(filename);
    } catch {
      try {
        parseSdistFilename(filename);
      } catch {
        servable = false;
      }
    }
    if (url !== undefined && servable) {
      await server.addFile({ filename, bytes, sha256 });
      entry["url"] = `${base}${encodeURIComponent(filename)}`;
    } else {
      const rel = options.keepPaths && path !== undefined ? path : `packages/${filename}`;
      const target = join(lockDir, rel);
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.writeFile(target, bytes);
      delete entry["url"];
      entry["path"] = rel;
    }
    if (kind === "uv") entry["hash"] = `sha256:${sha256}`;
    else entry["hashes"] = { sha256 };
    if (entry["size"] !== undefined) entry["size"] = bytes.length;
  };

  const packages = (doc[kind === "uv" ? "package" : "packages"] ?? []) as Toml[];
  for (const pkg of packages) {
    const entries = [
      ...((pkg["wheels"] ?? []) as Toml[]),
      ...(pkg["sdist"] ? [pkg["sdist"] as Toml] : []),
      ...(pkg["archive"] ? [pkg["archive"] as Toml] : []),
    ];
    for (const e of entries) await rewrite(e);
  }
  options.edit?.(doc);
  const lockPath = join(lockDir, source.slice(source.lastIndexOf("/") + 1));
  await Deno.writeTextFile(lockPath, stringifyToml(doc));
  return {
    dir,
    lockPath,
    archives,
    mirror,
    server,
    close: async () => {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fixed Linux host: asking the real python3 for its version costs a second per run here. */
const HOST: HostFacts = {
  os: "linux",
  arch: "x86_64",
  glibc: [2, 35],
  musl: false,
  macosVersion: undefined,
  pythonFullVersion: "3.12.1",
};

/**
 * Runs `download` in-process as `main` does (same error text and exit codes), with a fixed host;
 * `viaMain` goes through `main` itself.
 */
async function run(
  cwd: string,
  args: string[],
  fetch: typeof globalThis.fetch = globalThis.fetch,
  viaMain = false,
): Promise<Run> {
  const stdout = memorySink();
  const stderr = memorySink();
  const io: CliIo = { stdout, stderr, env: () => undefined, cwd, fetch, now: Date.now };
  const full = ["--cache-dir", join(cwd, "cache"), "--progress", "off", ...args];
  let code: number;
  if (viaMain) code = await main(["download", ...full], io);
  else {
    try {
      code = await download(full, io, {
        detectHost: () => Promise.resolve(HOST),
        readText: (p) => Deno.readTextFile(p),
      });
    } catch (e) {
      stderr.write(`error: ${describeError(e)}\n`);
      code = exitCodeOf(e);
    }
  }
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Archives in a folder, by name, with their sha256. */
async function archivesIn(dest: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    for await (const e of Deno.readDir(dest)) {
      if (e.isFile && ARCHIVE.test(e.name)) {
        out.set(e.name, await sha256Hex(await Deno.readFile(join(dest, e.name))));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** Every entry of a folder, recursively, as relative paths. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string): Promise<void> => {
    for await (const e of Deno.readDir(d)) {
      out.push(prefix + e.name);
      if (e.isDirectory) await walk(join(d, e.name), `${prefix}${e.name}/`);
    }
  };
  try {
    await walk(dir, "");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

function target(preset: string, python: string): Target {
  return targetFromPreset(preset, { pythonVersion: python });
}

/** What the planner chooses from the original (shared) lock: the oracle of the e2e checks. */
function expected(source: string, over: Partial<LockPlanOptions>): string[] {
  const text = Deno.readTextFileSync(source).replaceAll(".[X]", ".0");
  const options: LockPlanOptions = {
    lockPath: source,
    targets: [],
    allPlatforms: false,
    extras: [],
    groups: undefined,
    noDev: false,
    ...over,
  };
  const plan = source.endsWith("uv.lock")
    ? planUvLock(parseUvLock(text), options)
    : planPylock(parsePylock(text), options);
  return plan.files.map((f) => f.filename).sort();
}

function sorted(m: Map<string, string>): string[] {
  return [...m.keys()].sort();
}

/** The archives arrived intact: each equals the one the fixture built. */
function assertIntact(got: Map<string, string>, fx: Fixture): void {
  for (const [name, sha] of got) assert.equal(sha, fx.archives.get(name)?.sha256, name);
}

// ---------------------------------------------------------------------------------------------
// Per target and --all-platforms

Deno.test("download --lock uv.lock (pytest-cov) brings exactly each target's files", async () => {
  const fx = await fixture(PYTEST_COV, { urls: "server" });
  try {
    const targets: [string, string][] = [
      ["x86_64-manylinux_2_28", "3.12"],
      ["x86_64-pc-windows-msvc", "3.12"],
      ["aarch64-apple-darwin", "3.12"],
    ];
    for (const [preset, python] of targets) {
      const dest = join(fx.dir, `out-${preset}`);
      const r = await run(fx.dir, [
        "--lock",
        fx.lockPath,
        "--python-platform",
        preset,
        "--python-version",
        python,
        "-d",
        dest,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = await archivesIn(dest);
      const want = expected(PYTEST_COV, { targets: [target(preset, python)] });
      assert.deepEqual(sorted(got), want);
      assertIntact(got, fx);
      const native = sorted(got).find((n) => n.startsWith("coverage-"));
      assert.match(
        native ?? "",
        preset.includes("windows")
          ? /cp312-cp312-win_amd64\.whl$/
          : preset.includes("darwin")
          ? /cp312-cp312-macosx_.*arm64\.whl$/
          : /cp312-cp312-.*manylinux.*x86_64.*\.whl$/,
      );
      assert.equal(sorted(got).some((n) => n.startsWith("colorama-")), preset.includes("windows"));
      const reqs = await Deno.readTextFile(join(dest, "requirements.txt"));
      assert.match(reqs, /^pytest==9\.1\.1 \\\n {4}--hash=sha256:[0-9a-f]{64}/m);
      await Deno.stat(join(dest, "pylock.toml"));
      await Deno.stat(join(dest, "manifest.json"));
    }
  } finally {
    await fx.close();
  }
});

Deno.test("download --lock uv.lock with several targets writes one requirements file each", async () => {
  const fx = await fixture(PYTEST_COV, { urls: "server" });
  try {
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "linux",
      "--python-platform",
      "windows",
      "--python-version",
      "3.11",
      "-d",
      dest,
      "--report",
      join(fx.dir, "report.json"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ts = [target("linux", "3.11"), target("windows", "3.11")];
    const got = await archivesIn(dest);
    assert.deepEqual(sorted(got), expected(PYTEST_COV, { targets: ts }));
    // colorama is only in the Windows set, so the sets differ and each target gets its file.
    const files = (await listing(dest)).filter((n) => n.startsWith("requirements"));
    assert.equal(files.length, 2, files.join());
    const win = files.find((n) => n.includes("windows"))!;
    assert.match(await Deno.readTextFile(join(dest, win)), /^colorama==/m);
    const report = JSON.parse(await Deno.readTextFile(join(fx.dir, "report.json")));
    assert.ok(JSON.stringify(report).includes("colorama"));
  } finally {
    await fx.close();
  }
});

Deno.test("download --lock uv.lock --all-platforms brings every file the lock lists (httpx)", async () => {
  const fx = await fixture(HTTPX, { urls: "server" });
  try {
    const dest = join(fx.dir, "all");
    const r = await run(fx.dir, ["--lock", fx.lockPath, "--all-platforms", "-d", dest]);
    assert.equal(r.code, 0, r.stderr);
    const got = await archivesIn(dest);
    const want = expected(HTTPX, { allPlatforms: true });
    assert.ok(want.length > 200, `${want.length} files`);
    assert.deepEqual(sorted(got), want);
    assertIntact(got, fx);
    // A second run finds everything present and fetches nothing.
    const before = fx.server.requests.length;
    const again = await run(fx.dir, ["--lock", fx.lockPath, "--all-platforms", "-d", dest]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fx.server.requests.length, before);
  } finally {
    await fx.close();
  }
});

Deno.test("download --lock uv.lock follows --extra and --no-dev (pytest-cov testing)", async () => {
  const fx = await fixture(PYTEST_COV, { urls: "server" });
  try {
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "linux",
      "--python-version",
      "3.12",
      "--extra",
      "testing",
      "--no-dev",
      "-d",
      dest,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = sorted(await archivesIn(dest));
    assert.deepEqual(
      got,
      expected(PYTEST_COV, {
        targets: [target("linux", "3.12")],
        extras: ["testing"],
        noDev: true,
      }),
    );
    assert.ok(got.some((n) => n.startsWith("virtualenv-")));
  } finally {
    await fx.close();
  }
});

Deno.test("download --lock pylock.toml (uv export) evaluates markers per target", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  try {
    for (const preset of ["linux", "windows"]) {
      const dest = join(fx.dir, preset);
      const r = await run(fx.dir, [
        "--lock",
        fx.lockPath,
        "--python-platform",
        preset,
        "--python-version",
        "3.12",
        "-d",
        dest,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = await archivesIn(dest);
      assert.deepEqual(sorted(got), expected(UV_EXPORT, { targets: [target(preset, "3.12")] }));
      assertIntact(got, fx);
      assert.equal(
        sorted(got).includes("colorama-0.4.6-py2.py3-none-any.whl"),
        preset === "windows",
      );
      assert.match(r.stderr, /project is not downloadable: a local editable directory/);
    }
    const all = join(fx.dir, "all");
    const r = await run(fx.dir, ["--lock", fx.lockPath, "--all-platforms", "-d", all]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(sorted(await archivesIn(all)), expected(UV_EXPORT, { allPlatforms: true }));
  } finally {
    await fx.close();
  }
});

Deno.test("download --lock with pip's pylock: sdist, version-less archive and build-tag wheel by path", async () => {
  const fx = await fixture(join(PIP, "pylock.toml"), { urls: "server" });
  try {
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, ["--lock", fx.lockPath, "--python-platform", "linux", "-d", dest]);
    assert.equal(r.code, 0, r.stderr);
    const got = await archivesIn(dest);
    assert.deepEqual(sorted(got), [
      "simple-2.0.tar.gz",
      "simple2-3.0.tar.gz",
      "simplewheel-2.0-1-py2.py3-none-any.whl",
    ]);
    assertIntact(got, fx);
    const reqs = await Deno.readTextFile(join(dest, "requirements.txt"));
    assert.match(reqs, /^simple2==3\.0 /m);
    assert.equal(fx.server.requests.length, 0, "path entries are read from disk");
  } finally {
    await fx.close();
  }
});

// ---------------------------------------------------------------------------------------------
// pip installs the result

/** The `major.minor` of python3 when it has pip, else undefined. */
// The install check runs where this machine's pip can install the Linux x86_64 wheels; the
// lock is downloaded for this machine's Python version.
const pipVersion = await havePip("the pip install check")
  ? (await runPython(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], "."))?.stdout
    .trim()
  : undefined;

Deno.test({
  name: "pip install --no-index --find-links installs a lock download for this machine",
  ignore: pipVersion === undefined || Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
  fn: async () => {
    const fx = await fixture(PYTEST_COV, { urls: "server" });
    try {
      const dest = join(fx.dir, "out");
      const version = pipVersion!;
      const r = await run(fx.dir, [
        "--lock",
        fx.lockPath,
        "--python-platform",
        "x86_64-manylinux_2_17",
        "--python-version",
        version,
        "--no-dev",
        "-d",
        dest,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const into = join(fx.dir, "site");
      const out = await runPython([
        "-m",
        "pip",
        "install",
        "--no-index",
        "--find-links",
        dest,
        "--target",
        into,
        "--no-deps",
        "-r",
        join(dest, "requirements.txt"),
      ], fx.dir);
      assert.equal(out?.code, 0, out?.stderr);
      const installed = (await listing(into)).filter((n) => /^[^/]+\.dist-info$/.test(n));
      assert.deepEqual(
        installed.map((n) => n.replace(/-[^-]+\.dist-info$/, "")).sort(),
        sorted(await archivesIn(dest)).map((n) => n.split("-")[0]!).sort(),
      );
    } finally {
      await fx.close();
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Mirrors

Deno.test("when the lock's URLs are dead, --find-links supplies the same files", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "dead", mirror: true });
  try {
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "linux",
      "--python-version",
      "3.12",
      "--find-links",
      fx.mirror,
      "--retries",
      "0",
      "-d",
      dest,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = await archivesIn(dest);
    assert.deepEqual(sorted(got), expected(UV_EXPORT, { targets: [target("linux", "3.12")] }));
    assertIntact(got, fx);
  } finally {
    await fx.close();
  }
});

Deno.test("when the lock's URLs are dead, --index-url supplies the same files", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "dead" });
  try {
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "windows",
      "--python-version",
      "3.12",
      "--index-url",
      fx.server.indexUrl,
      "--retries",
      "0",
      "-d",
      dest,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = await archivesIn(dest);
    assert.deepEqual(sorted(got), expected(UV_EXPORT, { targets: [target("windows", "3.12")] }));
    assertIntact(got, fx);
    assert.ok(fx.server.requests.some((q) => q.path.startsWith("/simple/click/")));
  } finally {
    await fx.close();
  }
});

Deno.test("--no-index --find-links works with no network at all", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server", mirror: true });
  try {
    const dest = join(fx.dir, "out");
    let calls = 0;
    const noNetwork: typeof globalThis.fetch = () => {
      calls++;
      return Promise.reject(new TypeError("network is off"));
    };
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "windows",
      "--python-version",
      "3.12",
      "--no-index",
      "--find-links",
      fx.mirror,
      "-d",
      dest,
    ], noNetwork);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(calls, 0);
    assert.equal(fx.server.requests.length, 0);
    const got = await archivesIn(dest);
    assert.deepEqual(sorted(got), expected(UV_EXPORT, { targets: [target("windows", "3.12")] }));
    assertIntact(got, fx);
  } finally {
    await fx.close();
  }
});

Deno.test("--no-index without the file on --find-links fails and names the file", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server", mirror: true });
  try {
    await Deno.remove(join(fx.mirror, "click-8.1.7-py3-none-any.whl"));
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "linux",
      "--python-version",
      "3.12",
      "--no-index",
      "--find-links",
      fx.mirror,
      "-d",
      dest,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /click-8\.1\.7-py3-none-any\.whl .*is not on --find-links/);
    assert.deepEqual(await listing(dest), []);
  } finally {
    await fx.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input: a clear message, exit 2 (input) or 1 (download), and the destination untouched

/** Runs a good download, then a bad one into the same folder; the folder must not change. */
async function assertFailsCleanly(
  fx: Fixture,
  badLock: string,
  code: number,
  message: RegExp,
  extra: string[] = [],
): Promise<void> {
  const dest = join(fx.dir, "out");
  const args = ["--python-platform", "linux", "--python-version", "3.12", "-d", dest];
  const good = await run(fx.dir, ["--lock", fx.lockPath, ...args]);
  assert.equal(good.code, 0, good.stderr);
  const before = await listing(dest);
  const sums = await archivesIn(dest);
  const texts = await Promise.all(
    before.filter((n) => !ARCHIVE.test(n)).map((n) =>
      Deno.readTextFile(join(dest, n)).catch(() => "")
    ),
  );
  const r = await run(fx.dir, ["--lock", badLock, ...args, ...extra]);
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).length, 1);
  assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  assert.deepEqual(await listing(dest), before, "no new, partial or temp file");
  assert.deepEqual(await archivesIn(dest), sums, "previous files untouched");
  const after = await Promise.all(
    before.filter((n) => !ARCHIVE.test(n)).map((n) =>
      Deno.readTextFile(join(dest, n)).catch(() => "")
    ),
  );
  assert.deepEqual(after, texts, "side files untouched");
}

Deno.test("a truncated lock fails with exit 2 and the line of the problem", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  try {
    const text = await Deno.readTextFile(fx.lockPath);
    const bad = join(fx.dir, "bad", "pylock.toml");
    await Deno.mkdir(dirname(bad));
    await Deno.writeTextFile(bad, text.slice(0, Math.floor(text.length / 2)));
    await assertFailsCleanly(fx, bad, 2, /pylock\.toml: invalid TOML at line \d+, column \d+: /);
    const badUv = join(fx.dir, "bad", "uv.lock");
    const uv = Deno.readTextFileSync(PYTEST_COV);
    await Deno.writeTextFile(badUv, uv.slice(0, uv.indexOf("wheels = [") + 30));
    await assertFailsCleanly(fx, badUv, 2, /uv\.lock/);
  } finally {
    await fx.close();
  }
});

Deno.test("a lock file without hashes fails with exit 2", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  try {
    // pylock: `hashes` is required by PEP 751; an empty table gives no sha256 to verify.
    const noTable = await fixture(UV_EXPORT, {
      urls: "server",
      edit: (doc) => {
        const pkg = (doc["packages"] as Toml[]).find((p) => p["name"] === "click")!;
        delete (pkg["sdist"] as Toml)["hashes"];
      },
    });
    try {
      await assertFailsCleanly(fx, noTable.lockPath, 2, /click.*sdist has no hashes/);
    } finally {
      await noTable.close();
    }
    const empty = await fixture(UV_EXPORT, {
      urls: "server",
      edit: (doc) => {
        const pkg = (doc["packages"] as Toml[]).find((p) => p["name"] === "click")!;
        (pkg["wheels"] as Toml[])[0]!["hashes"] = { md5: "00ff" };
      },
    });
    try {
      await assertFailsCleanly(
        fx,
        empty.lockPath,
        2,
        /no sha256 hash[\s\S]*click-8\.1\.7-py3-none-any\.whl \(click: only md5\)/,
      );
    } finally {
      await empty.close();
    }
    // uv.lock: a wheel without `hash`.
    const uv = await fixture(PYTEST_COV, {
      urls: "server",
      edit: (doc) => {
        const pkg = (doc["package"] as Toml[]).find((p) => p["name"] === "pluggy")!;
        for (const w of pkg["wheels"] as Toml[]) delete w["hash"];
      },
    });
    try {
      await assertFailsCleanly(
        fx,
        uv.lockPath,
        2,
        /pluggy-1\.6\.0-py3-none-any\.whl \(pluggy: no hashes\)/,
      );
    } finally {
      await uv.close();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("a hash mismatch (served bytes differ) fails with exit 1 and stores nothing", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  // The lock names other bytes for click's wheel than the server sends (same name and size).
  const other = await buildWheel({ name: "click", version: "8.1.7", padding: 64 });
  const bad = await fixture(UV_EXPORT, {
    urls: "server",
    edit: (doc) => {
      const pkg = (doc["packages"] as Toml[]).find((p) => p["name"] === "click")!;
      (pkg["wheels"] as Toml[])[0]!["hashes"] = { sha256: other.sha256 };
    },
  });
  try {
    await assertFailsCleanly(
      fx,
      bad.lockPath,
      1,
      /click-8\.1\.7.*sha256 mismatch|mismatch.*click/i,
    );
    assert.ok(bad.server.requests.some((r) => r.path.includes("click-8.1.7-py3-none-any.whl")));
  } finally {
    await bad.close();
    await fx.close();
  }
});

Deno.test("pip's pylock.invalidhash.toml fails on the sdist's hash with exit 1", async () => {
  // Its sha256 is not the built file's: the fixture keeps the hash as written.
  const fx = await fixture(join(PIP, "pylock.toml"), { urls: "server" });
  const bad = await fixture(join(PIP, "pylock.invalidhash.toml"), {
    urls: "server",
    edit: (doc) => {
      const sdist = (doc["packages"] as Toml[])[0]!["sdist"] as Toml;
      sdist["hashes"] = {
        sha256: "3a084929238d13bcd3bb928af04f3bac7ca2357d419e29f01459dc848e2d69a0",
      };
    },
  });
  try {
    await assertFailsCleanly(fx, bad.lockPath, 1, /simple-2\.0\.tar\.gz.*mismatch/);
  } finally {
    await bad.close();
    await fx.close();
  }
});

Deno.test("a size that differs from the served file fails with exit 1", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  const bad = await fixture(UV_EXPORT, {
    urls: "server",
    edit: (doc) => {
      const pkg = (doc["packages"] as Toml[]).find((p) => p["name"] === "click")!;
      const w = (pkg["wheels"] as Toml[])[0]!;
      w["size"] = (w["size"] as number) + 1;
    },
  });
  try {
    await assertFailsCleanly(fx, bad.lockPath, 1, /click-8\.1\.7.*(size|bytes)/i);
  } finally {
    await bad.close();
    await fx.close();
  }
});

Deno.test("a path escaping the lock's folder fails with exit 2 (pip's ../packages layout)", async () => {
  const fx = await fixture(join(PIP, "pylock.toml"), { urls: "server" });
  const escaping = await fixture(join(PIP, "pylock.toml"), { urls: "server", keepPaths: true });
  try {
    // The file exists at ../packages and its hash matches: only the path is refused.
    await Deno.stat(join(escaping.dir, "packages", "simple-2.0.tar.gz"));
    await assertFailsCleanly(
      fx,
      escaping.lockPath,
      2,
      /"\.\.\/packages\/simple-2\.0\.tar\.gz" points outside the lock file's folder/,
    );
  } finally {
    await escaping.close();
    await fx.close();
  }
});

Deno.test("unknown lock versions fail with exit 2 and say which version", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  const dir = join(fx.dir, "versions");
  await Deno.mkdir(dir);
  try {
    const text = await Deno.readTextFile(fx.lockPath);
    const v2 = join(dir, "pylock.toml");
    await Deno.writeTextFile(v2, text.replace(/lock-version = "1\.0"/, 'lock-version = "2.0"'));
    await assertFailsCleanly(fx, v2, 2, /lock-version 2\.0 is not supported/);
    // The same through main() itself: its message and exit code.
    const viaMain = await run(fx.dir, ["--lock", v2, "--python-platform", "linux"], fetch, true);
    assert.equal(viaMain.code, 2);
    assert.match(viaMain.stderr, /^error: .*lock-version 2\.0 is not supported/);
    const minor = join(dir, "pylock.minor.toml");
    await Deno.writeTextFile(minor, text.replace(/lock-version = "1\.0"/, 'lock-version = "1.9"'));
    const ok = await run(fx.dir, [
      "--lock",
      minor,
      "--python-platform",
      "linux",
      "--python-version",
      "3.12",
      "-d",
      join(fx.dir, "minor"),
    ]);
    assert.equal(ok.code, 0, `a newer minor version is read: ${ok.stderr}`);
    const uv2 = join(dir, "uv.lock");
    await Deno.writeTextFile(
      uv2,
      Deno.readTextFileSync(PYTEST_COV).replace(/^version = 1$/m, "version = 2"),
    );
    await assertFailsCleanly(fx, uv2, 2, /lock version 2 is newer than this reader supports/);
  } finally {
    await fx.close();
  }
});

Deno.test("a lock that does not fit the target fails with exit 2 naming the target", async () => {
  const fx = await fixture(UV_EXPORT, { urls: "server" });
  try {
    const old = await fixture(join(PIP, "pylock.oldpython.toml"), { urls: "server" });
    try {
      await assertFailsCleanly(fx, old.lockPath, 2, /requires-python ==3\.6\.\*.*target cp312/);
    } finally {
      await old.close();
    }
    const dest = join(fx.dir, "py311");
    const r = await run(fx.dir, [
      "--lock",
      fx.lockPath,
      "--python-platform",
      "linux",
      "--python-version",
      "3.11",
      "-d",
      dest,
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /requires-python >=3\.12(\.0)? does not allow .*3\.11/);
    assert.deepEqual(await listing(dest), []);
  } finally {
    await fx.close();
  }
});
