// End-to-end tests of `download --lock`: real lock files from tests/data/third_party/lockfiles, copied
// at test time into a temp folder with every referenced file rebuilt by the wheel factory (same
// file name), served by the test index server (or placed beside the lock for `path` entries),
// and the lock's URLs, hashes and sizes rewritten to match. the vendored data is never written.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { main } from "../cli/main.ts";
import type { HostFacts } from "../cli/_host.ts";
import { memorySink } from "../cli/io.ts";
import type { CliIo } from "../cli/io.ts";
import { planPylock, planUvLock } from "../lock/plan.ts";
import type { LockPlanOptions } from "../lock/types.ts";
import { parseSdistFilename, parseWheelFilename } from "../pep/filename.ts";
import { parsePylock } from "../pep/pylock.ts";
import { type Target, targetFromPreset } from "../pep/tags.ts";
import { parseUvLock } from "../pep/uv_lock.ts";
import { type IndexServer, startIndexServer } from "./index_server.ts";
import { buildSdist, buildWheel, sha256Hex } from "./wheel_factory.ts";
import { havePip, runPython } from "./_python.ts";
import { lockPlanOptions, pipInstallOfflineArgs, type Run } from "./_e2e_helpers.ts";

const LOCKS = new URL("./data/third_party/lockfiles/", import.meta.url).pathname;
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

/** A fixture of `source` for the length of `fn`, closed afterwards whatever happens. */
async function withFixture<T>(
  source: string,
  options: FixtureOptions,
  fn: (fx: Fixture) => Promise<T>,
): Promise<T> {
  const fx = await fixture(source, options);
  try {
    return await fn(fx);
  } finally {
    await fx.close();
  }
}

/** The package of this name in a parsed pylock.toml (`packages`) or uv.lock (`package`). */
function packageNamed(doc: Toml, name: string): Toml {
  return ((doc["packages"] ?? doc["package"]) as Toml[]).find((p) => p["name"] === name)!;
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

/** A fixed Linux host: asking the real python3 for its version costs a second per run here. */
const HOST: HostFacts = {
  os: "linux",
  arch: "x86_64",
  glibc: [2, 35],
  musl: false,
  macosVersion: undefined,
  pythonFullVersion: "3.12.1",
};

/** Runs `download` in-process through `main`, with a fixed host unless `realHost`. */
async function run(
  cwd: string,
  args: string[],
  fetch: typeof globalThis.fetch = globalThis.fetch,
  realHost = false,
): Promise<Run> {
  const stdout = memorySink();
  const stderr = memorySink();
  const io: CliIo = {
    stdout,
    stderr,
    env: () => undefined,
    cwd,
    fetch,
    now: Date.now,
    ...(realHost ? {} : { detectHost: () => Promise.resolve(HOST) }),
  };
  const full = ["--cache-dir", join(cwd, "cache"), "--progress", "off", ...args];
  const code = await main(["download", ...full], io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** `run` that must exit 0 (its stderr is the message when it does not). */
async function runOk(
  cwd: string,
  args: string[],
  fetch: typeof globalThis.fetch = globalThis.fetch,
): Promise<Run> {
  const r = await run(cwd, args, fetch);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** `--lock` and its target: one `--python-platform` per platform, then the Python if given. */
function lockArgs(lock: string, platforms: string | string[], python?: string): string[] {
  return [
    "--lock",
    lock,
    ...[platforms].flat().flatMap((p) => ["--python-platform", p]),
    ...(python === undefined ? [] : ["--python-version", python]),
  ];
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
  const options = lockPlanOptions(source, over);
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

/**
 * `dest` holds exactly the archives the planner picks from the original `source` lock with
 * `over`, each intact; returns them (name to sha256).
 */
async function assertPlanned(
  dest: string,
  fx: Fixture,
  source: string,
  over: Partial<LockPlanOptions>,
): Promise<Map<string, string>> {
  const got = await archivesIn(dest);
  assert.deepEqual(sorted(got), expected(source, over));
  assertIntact(got, fx);
  return got;
}

// ---------------------------------------------------------------------------------------------
// Per target and --all-platforms

Deno.test("download --lock uv.lock (pytest-cov) brings exactly each target's files", () =>
  withFixture(PYTEST_COV, { urls: "server" }, async (fx) => {
    const targets: [string, string][] = [
      ["x86_64-manylinux_2_28", "3.12"],
      ["x86_64-pc-windows-msvc", "3.12"],
      ["aarch64-apple-darwin", "3.12"],
    ];
    for (const [preset, python] of targets) {
      const dest = join(fx.dir, `out-${preset}`);
      await runOk(fx.dir, [...lockArgs(fx.lockPath, preset, python), "-d", dest]);
      const got = await assertPlanned(dest, fx, PYTEST_COV, { targets: [target(preset, python)] });
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
  }));

Deno.test("download --lock uv.lock with several targets writes one requirements file each", () =>
  withFixture(PYTEST_COV, { urls: "server" }, async (fx) => {
    const dest = join(fx.dir, "out");
    await runOk(fx.dir, [
      ...lockArgs(fx.lockPath, ["linux", "windows"], "3.11"),
      "-d",
      dest,
      "--report",
      join(fx.dir, "report.json"),
    ]);
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
  }));

Deno.test("download --lock uv.lock --all-platforms brings every file the lock lists (httpx)", () =>
  withFixture(HTTPX, { urls: "server" }, async (fx) => {
    const dest = join(fx.dir, "all");
    const allPlatforms = ["--lock", fx.lockPath, "--all-platforms", "-d", dest];
    await runOk(fx.dir, allPlatforms);
    const got = await archivesIn(dest);
    const want = expected(HTTPX, { allPlatforms: true });
    assert.ok(want.length > 200, `${want.length} files`);
    assert.deepEqual(sorted(got), want);
    assertIntact(got, fx);
    // One requirements.txt and pylock.toml for every platform: markers choose per machine.
    const reqs = await Deno.readTextFile(join(dest, "requirements.txt"));
    // anyio is locked twice, split on Python: each version where it installs, nothing else.
    assert.match(reqs, /^anyio==4\.12\.1 ; python_version < "3\.10" \\$/m);
    assert.match(reqs, /^anyio==4\.14\.1 ; python_(full_)?version >= "3\.10" \\$/m);
    assert.match(reqs, /^httpcore==[\d.]+ \\$/m);
    const pylock = await Deno.readTextFile(join(dest, "pylock.toml"));
    assert.match(
      pylock,
      /name = "anyio"\nversion = "4\.12\.1"\nmarker = "python_version < \\"3\.10\\""/,
    );
    assert.match(await Deno.readTextFile(join(dest, "README.txt")), /markers in requirements\.txt/);
    // A second run finds everything present and fetches nothing.
    const before = fx.server.requests.length;
    await runOk(fx.dir, allPlatforms);
    assert.equal(fx.server.requests.length, before);
  }));

Deno.test("download --lock uv.lock follows --extra and --no-dev (pytest-cov testing)", () =>
  withFixture(PYTEST_COV, { urls: "server" }, async (fx) => {
    const dest = join(fx.dir, "out");
    await runOk(fx.dir, [
      ...lockArgs(fx.lockPath, "linux", "3.12"),
      "--extra",
      "testing",
      "--no-dev",
      "-d",
      dest,
    ]);
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
  }));

Deno.test("download --lock pylock.toml (uv export) evaluates markers per target", () =>
  withFixture(UV_EXPORT, { urls: "server" }, async (fx) => {
    for (const preset of ["linux", "windows"]) {
      const dest = join(fx.dir, preset);
      const r = await runOk(fx.dir, [...lockArgs(fx.lockPath, preset, "3.12"), "-d", dest]);
      const got = await assertPlanned(dest, fx, UV_EXPORT, { targets: [target(preset, "3.12")] });
      assert.equal(
        sorted(got).includes("colorama-0.4.6-py2.py3-none-any.whl"),
        preset === "windows",
      );
      assert.doesNotMatch(r.stderr, /project/, "the lock's own project is no warning");
    }
    const all = join(fx.dir, "all");
    await runOk(fx.dir, ["--lock", fx.lockPath, "--all-platforms", "-d", all]);
    assert.deepEqual(sorted(await archivesIn(all)), expected(UV_EXPORT, { allPlatforms: true }));
  }));

Deno.test("download --lock with pip's pylock: sdist, version-less archive and build-tag wheel by path", () =>
  withFixture(join(PIP, "pylock.toml"), { urls: "server" }, async (fx) => {
    const dest = join(fx.dir, "out");
    await runOk(fx.dir, [...lockArgs(fx.lockPath, "linux"), "-d", dest]);
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
  }));

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
  fn: () =>
    withFixture(PYTEST_COV, { urls: "server" }, async (fx) => {
      const dest = join(fx.dir, "out");
      await runOk(fx.dir, [
        ...lockArgs(fx.lockPath, "x86_64-manylinux_2_17", pipVersion!),
        "--no-dev",
        "-d",
        dest,
      ]);
      const into = join(fx.dir, "site");
      const out = await runPython(
        pipInstallOfflineArgs(dest, into, ["--no-deps", "-r", join(dest, "requirements.txt")]),
        fx.dir,
      );
      assert.equal(out?.code, 0, out?.stderr);
      const installed = (await listing(into)).filter((n) => /^[^/]+\.dist-info$/.test(n));
      assert.deepEqual(
        installed.map((n) => n.replace(/-[^-]+\.dist-info$/, "")).sort(),
        sorted(await archivesIn(dest)).map((n) => n.split("-")[0]!).sort(),
      );
    }),
});

// ---------------------------------------------------------------------------------------------
// Mirrors

Deno.test("when the lock's URLs are dead, --find-links supplies the same files", () =>
  withFixture(UV_EXPORT, { urls: "dead", mirror: true }, async (fx) => {
    const dest = join(fx.dir, "out");
    await runOk(fx.dir, [
      ...lockArgs(fx.lockPath, "linux", "3.12"),
      "--find-links",
      fx.mirror,
      "--retries",
      "0",
      "-d",
      dest,
    ]);
    await assertPlanned(dest, fx, UV_EXPORT, { targets: [target("linux", "3.12")] });
  }));

Deno.test("when the lock's URLs are dead, --index-url supplies the same files", () =>
  withFixture(UV_EXPORT, { urls: "dead" }, async (fx) => {
    const dest = join(fx.dir, "out");
    await runOk(fx.dir, [
      ...lockArgs(fx.lockPath, "windows", "3.12"),
      "--index-url",
      fx.server.indexUrl,
      "--retries",
      "0",
      "-d",
      dest,
    ]);
    await assertPlanned(dest, fx, UV_EXPORT, { targets: [target("windows", "3.12")] });
    assert.ok(fx.server.requests.some((q) => q.path.startsWith("/simple/click/")));
  }));

Deno.test("--no-index --find-links works with no network at all", () =>
  withFixture(UV_EXPORT, { urls: "server", mirror: true }, async (fx) => {
    const dest = join(fx.dir, "out");
    let calls = 0;
    const noNetwork: typeof globalThis.fetch = () => {
      calls++;
      return Promise.reject(new TypeError("network is off"));
    };
    await runOk(fx.dir, [
      ...lockArgs(fx.lockPath, "windows", "3.12"),
      "--no-index",
      "--find-links",
      fx.mirror,
      "-d",
      dest,
    ], noNetwork);
    assert.equal(calls, 0);
    assert.equal(fx.server.requests.length, 0);
    await assertPlanned(dest, fx, UV_EXPORT, { targets: [target("windows", "3.12")] });
  }));

Deno.test("--no-index without the file on --find-links fails and names the file", () =>
  withFixture(UV_EXPORT, { urls: "server", mirror: true }, async (fx) => {
    await Deno.remove(join(fx.mirror, "click-8.1.7-py3-none-any.whl"));
    const dest = join(fx.dir, "out");
    const r = await run(fx.dir, [
      ...lockArgs(fx.lockPath, "linux", "3.12"),
      "--no-index",
      "--find-links",
      fx.mirror,
      "-d",
      dest,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /click-8\.1\.7-py3-none-any\.whl .*is not on --find-links/);
    assert.deepEqual(await listing(dest), []);
  }));

// ---------------------------------------------------------------------------------------------
// Bad input: a clear message, exit 2 (input) or 1 (download), and the destination untouched

/** The text of each side file (not an archive) among `names` in `dest`; "" where unreadable. */
function sideTexts(dest: string, names: string[]): Promise<string[]> {
  return Promise.all(
    names.filter((n) => !ARCHIVE.test(n)).map((n) =>
      Deno.readTextFile(join(dest, n)).catch(() => "")
    ),
  );
}

/** Runs a good download, then a bad one into the same folder; the folder must not change. */
async function assertFailsCleanly(
  fx: Fixture,
  badLock: string,
  code: number,
  message: RegExp,
  extra: string[] = [],
): Promise<void> {
  const dest = join(fx.dir, "out");
  await runOk(fx.dir, [...lockArgs(fx.lockPath, "linux", "3.12"), "-d", dest]);
  const before = await listing(dest);
  const sums = await archivesIn(dest);
  const texts = await sideTexts(dest, before);
  const r = await run(fx.dir, [...lockArgs(badLock, "linux", "3.12"), "-d", dest, ...extra]);
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).length, 1);
  assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  assert.deepEqual(await listing(dest), before, "no new, partial or temp file");
  assert.deepEqual(await archivesIn(dest), sums, "previous files untouched");
  assert.deepEqual(await sideTexts(dest, before), texts, "side files untouched");
}

/**
 * A good fixture of `goodSource` and a bad one of `badSource` (made with `badOptions`): the bad
 * lock must fail cleanly with `code` and `message` (assertFailsCleanly), then pass `check`.
 */
function assertBadLockFails(
  goodSource: string,
  badSource: string,
  badOptions: FixtureOptions,
  code: number,
  message: RegExp,
  check: (bad: Fixture) => void = () => {},
): Promise<void> {
  return withFixture(
    goodSource,
    { urls: "server" },
    (fx) =>
      withFixture(badSource, badOptions, async (bad) => {
        await assertFailsCleanly(fx, bad.lockPath, code, message);
        check(bad);
      }),
  );
}

Deno.test("a truncated lock fails with exit 2 and the line of the problem", () =>
  withFixture(UV_EXPORT, { urls: "server" }, async (fx) => {
    const text = await Deno.readTextFile(fx.lockPath);
    const bad = join(fx.dir, "bad", "pylock.toml");
    await Deno.mkdir(dirname(bad));
    await Deno.writeTextFile(bad, text.slice(0, Math.floor(text.length / 2)));
    await assertFailsCleanly(fx, bad, 2, /pylock\.toml: invalid TOML at line \d+, column \d+: /);
    const badUv = join(fx.dir, "bad", "uv.lock");
    const uv = Deno.readTextFileSync(PYTEST_COV);
    await Deno.writeTextFile(badUv, uv.slice(0, uv.indexOf("wheels = [") + 30));
    await assertFailsCleanly(fx, badUv, 2, /uv\.lock/);
  }));

Deno.test("a lock file without hashes fails with exit 2", () =>
  withFixture(UV_EXPORT, { urls: "server" }, async (fx) => {
    /** A fixture of `source` changed by `edit` must fail cleanly with exit 2 and `message`. */
    const failsWith = (source: string, edit: (doc: Toml) => void, message: RegExp) =>
      withFixture(
        source,
        { urls: "server", edit },
        (bad) => assertFailsCleanly(fx, bad.lockPath, 2, message),
      );
    // pylock: `hashes` is required by PEP 751; an empty table gives no sha256 to verify.
    await failsWith(UV_EXPORT, (doc) => {
      delete (packageNamed(doc, "click")["sdist"] as Toml)["hashes"];
    }, /click.*sdist has no hashes/);
    await failsWith(UV_EXPORT, (doc) => {
      (packageNamed(doc, "click")["wheels"] as Toml[])[0]!["hashes"] = { md5: "00ff" };
    }, /no sha256 hash[\s\S]*click-8\.1\.7-py3-none-any\.whl \(click: only md5\)/);
    // uv.lock: a wheel without `hash`.
    await failsWith(PYTEST_COV, (doc) => {
      for (const w of packageNamed(doc, "pluggy")["wheels"] as Toml[]) delete w["hash"];
    }, /pluggy-1\.6\.0-py3-none-any\.whl \(pluggy: no hashes\)/);
  }));

Deno.test("a hash mismatch (served bytes differ) fails with exit 1 and stores nothing", async () => {
  // The lock names other bytes for click's wheel than the server sends (same name and size).
  const other = await buildWheel({ name: "click", version: "8.1.7", padding: 64 });
  await assertBadLockFails(
    UV_EXPORT,
    UV_EXPORT,
    {
      urls: "server",
      edit: (doc) => {
        (packageNamed(doc, "click")["wheels"] as Toml[])[0]!["hashes"] = { sha256: other.sha256 };
      },
    },
    1,
    /click-8\.1\.7.*sha256 mismatch|mismatch.*click/i,
    (bad) => {
      assert.ok(bad.server.requests.some((r) => r.path.includes("click-8.1.7-py3-none-any.whl")));
    },
  );
});

Deno.test("pip's pylock.invalidhash.toml fails on the sdist's hash with exit 1", () =>
  // Its sha256 is not the built file's: the fixture keeps the hash as written.
  assertBadLockFails(
    join(PIP, "pylock.toml"),
    join(PIP, "pylock.invalidhash.toml"),
    {
      urls: "server",
      edit: (doc) => {
        const sdist = (doc["packages"] as Toml[])[0]!["sdist"] as Toml;
        sdist["hashes"] = {
          sha256: "3a084929238d13bcd3bb928af04f3bac7ca2357d419e29f01459dc848e2d69a0",
        };
      },
    },
    1,
    /simple-2\.0\.tar\.gz.*mismatch/,
  ));

Deno.test("a size that differs from the served file fails with exit 1", () =>
  assertBadLockFails(
    UV_EXPORT,
    UV_EXPORT,
    {
      urls: "server",
      edit: (doc) => {
        const w = (packageNamed(doc, "click")["wheels"] as Toml[])[0]!;
        w["size"] = (w["size"] as number) + 1;
      },
    },
    1,
    /click-8\.1\.7.*(size|bytes)/i,
  ));

Deno.test("a path escaping the lock's folder fails with exit 2 (pip's ../packages layout)", () =>
  withFixture(
    join(PIP, "pylock.toml"),
    { urls: "server" },
    (fx) =>
      withFixture(
        join(PIP, "pylock.toml"),
        { urls: "server", keepPaths: true },
        async (escaping) => {
          // The file exists at ../packages and its hash matches: only the path is refused.
          await Deno.stat(join(escaping.dir, "packages", "simple-2.0.tar.gz"));
          await assertFailsCleanly(
            fx,
            escaping.lockPath,
            2,
            /"\.\.\/packages\/simple-2\.0\.tar\.gz" points outside the lock file's folder/,
          );
        },
      ),
  ));

Deno.test("unknown lock versions fail with exit 2 and say which version", () =>
  withFixture(UV_EXPORT, { urls: "server" }, async (fx) => {
    const dir = join(fx.dir, "versions");
    await Deno.mkdir(dir);
    const text = await Deno.readTextFile(fx.lockPath);
    const v2 = join(dir, "pylock.toml");
    await Deno.writeTextFile(v2, text.replace(/lock-version = "1\.0"/, 'lock-version = "2.0"'));
    await assertFailsCleanly(fx, v2, 2, /lock-version 2\.0 is not supported/);
    // The same with the real host detection: its message and exit code.
    const realHost = await run(fx.dir, lockArgs(v2, "linux"), fetch, true);
    assert.equal(realHost.code, 2);
    assert.match(realHost.stderr, /^error: .*lock-version 2\.0 is not supported/);
    const minor = join(dir, "pylock.minor.toml");
    await Deno.writeTextFile(minor, text.replace(/lock-version = "1\.0"/, 'lock-version = "1.9"'));
    const ok = await run(fx.dir, [
      ...lockArgs(minor, "linux", "3.12"),
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
  }));

Deno.test("a lock that does not fit the target fails with exit 2 naming the target", () =>
  withFixture(UV_EXPORT, { urls: "server" }, async (fx) => {
    await withFixture(
      join(PIP, "pylock.oldpython.toml"),
      { urls: "server" },
      (old) => assertFailsCleanly(fx, old.lockPath, 2, /requires-python ==3\.6\.\*.*target cp312/),
    );
    const dest = join(fx.dir, "py311");
    const r = await run(fx.dir, [...lockArgs(fx.lockPath, "linux", "3.11"), "-d", dest]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /requires-python >=3\.12(\.0)? does not allow .*3\.11/);
    assert.deepEqual(await listing(dest), []);
  }));
