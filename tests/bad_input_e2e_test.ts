// Security and bad input (issue 12, items 18-20 and 22): unusable places, endless input files,
// silently accepted options and ignored find-links. Bad input is one line `error: …`, exit 2, and
// nothing written; the CLI runs as a subprocess against the example index.
import assert from "node:assert/strict";
import { join } from "node:path";
import { download, EXAMPLES, LINUX_312, type Run, wheelhouse, withServer } from "./_e2e_helpers.ts";
import { sha256Hex } from "./wheel_factory.ts";

// Permission bits do not stop root; the read-only cache case can only be shown by another user.
const IS_ROOT = Deno.uid() === 0;
if (IS_ROOT) {
  console.warn(
    "bad_input_e2e_test: running as root, where mode 0555 does not stop writes; " +
      "SKIPPING the read-only cache test (run the suite as a normal user to exercise it)",
  );
}

/** Exit 2 and exactly one line, `error: …` matching `message`, with no stack trace. */
function assertRefused(run: Run, message: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  const lines = run.stderr.trimEnd().split("\n").filter((l) => !l.startsWith('Run "wheelhouse'));
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

/** Every path under `dir` (recursively) with its size and mtime: "nothing changed" is equality. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(d, e.name);
      const st = await Deno.lstat(path);
      // A folder's own mtime moves when the destination's write probe comes and goes; what it
      // holds is what must not change.
      out.push(e.isDirectory ? `${path}/` : `${path} ${st.size} ${st.mtime?.getTime()}`);
      if (e.isDirectory) await walk(path);
    }
  };
  await walk(dir);
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

// ---------------------------------------------------------------------------------------------
// 18. Unusable places

Deno.test("download refuses a --cache-dir that is a file, before creating the destination", () =>
  withServer(async (server, dir) => {
    await Deno.writeTextFile(join(dir, "not-a-folder"), "x");
    const before = await snapshot(dir);
    const run = await wheelhouse([
      "download",
      "--index-url",
      server.indexUrl,
      "--cache-dir",
      "not-a-folder",
      "--progress",
      "off",
      ...LINUX_312,
      "-d",
      "wh",
      "example-idna",
    ], dir);
    assertRefused(run, /cache .*not-a-folder.* is not a folder/);
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test({
  name: "download refuses a read-only cache folder up front (skipped as root, loudly)",
  ignore: IS_ROOT,
  fn: () =>
    withServer(async (server, dir) => {
      const cache = join(dir, "ro-cache");
      await Deno.mkdir(cache);
      await Deno.chmod(cache, 0o555);
      try {
        const before = await snapshot(dir);
        const run = await wheelhouse([
          "download",
          "--index-url",
          server.indexUrl,
          "--cache-dir",
          cache,
          "--progress",
          "off",
          ...LINUX_312,
          "-d",
          "wh",
          "example-idna",
        ], dir);
        assertRefused(run, /Cannot write to the cache .*permission denied/);
        assert.deepEqual(await snapshot(dir), before);
      } finally {
        await Deno.chmod(cache, 0o755);
      }
    }),
});

Deno.test("download refuses a --report that names a folder, before writing the wheelhouse", () =>
  withServer(async (server, dir) => {
    await Deno.mkdir(join(dir, "reports"));
    const before = await snapshot(dir);
    const run = await download(server, dir, [
      ...LINUX_312,
      "-d",
      "wh",
      "--report",
      "reports",
      "example-idna",
    ]);
    assertRefused(run, /--report reports: .*is a folder/);
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("download refuses a --report that names a folder without rewriting an existing wheelhouse", () =>
  withServer(async (server, dir) => {
    const ok = await download(server, dir, [...LINUX_312, "-d", "wh", "example-idna"]);
    assert.equal(ok.code, 0, ok.stderr);
    await Deno.mkdir(join(dir, "reports"));
    const before = await snapshot(dir);
    const run = await download(server, dir, [
      ...LINUX_312,
      "-d",
      "wh",
      "--report",
      "reports",
      "example-idna==3.6",
    ]);
    assertRefused(run, /--report reports: .*is a folder/);
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("cache info, clean and prune refuse a --cache-dir that is a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-e2e-" });
  try {
    await Deno.writeTextFile(join(dir, "file"), "x");
    const before = await snapshot(dir);
    for (const action of ["info", "clean", "prune"]) {
      const run = await wheelhouse(["cache", action, "--cache-dir", "file"], dir);
      assertRefused(run, /cache .*file.* is not a folder/);
      assert.equal(run.stdout, "", action);
    }
    assert.deepEqual(await snapshot(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// 19. Endless input files

Deno.test("download -r /dev/zero stops at the size cap quickly instead of filling memory", () =>
  withServer(async (server, dir) => {
    const t0 = Date.now();
    const run = await wheelhouse(
      [
        "download",
        "--index-url",
        server.indexUrl,
        "--cache-dir",
        "cache",
        ...LINUX_312,
        "-d",
        "wh",
        "-r",
        "/dev/zero",
      ],
      dir,
      {},
      60_000,
    );
    assertRefused(run, /^error: -r \/dev\/zero: larger than 16 MiB; not a requirements file$/);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.equal(await exists(join(dir, "wh")), false);
  }));

Deno.test("download -c /dev/zero and --lock /dev/zero are refused at the size cap too", () =>
  withServer(async (server, dir) => {
    const c = await download(server, dir, [...LINUX_312, "-c", "/dev/zero", "example-idna"]);
    assertRefused(c, /-c \/dev\/zero: larger than 16 MiB; not a constraints file/);
    const lock = await download(server, dir, [...LINUX_312, "--lock", "/dev/zero"]);
    assertRefused(lock, /\/dev\/zero.*larger than 16 MiB/);
    assert.equal(await exists(join(dir, "wheelhouse")), false);
  }));

// ---------------------------------------------------------------------------------------------
// 20. Silently accepted inputs

Deno.test("download refuses empty -d, --cache-dir and --abi values", () =>
  withServer(async (server, dir) => {
    const before = await snapshot(dir);
    const cases: [string[], RegExp][] = [
      [["-d", "", "example-idna"], /--dest .*empty/],
      [["--dest=", "example-idna"], /--dest .*empty/],
      [["--cache-dir", "", "example-idna"], /--cache-dir .*empty/],
      [["--abi", "", "--platform", "manylinux2014_x86_64", "example-idna"], /--abi .*empty/],
    ];
    for (const [args, message] of cases) {
      const run = await wheelhouse(
        [
          "download",
          "--index-url",
          server.indexUrl,
          "--progress",
          "off",
          "--python-version",
          "3.12",
          ...args,
        ],
        dir,
      );
      assertRefused(run, message);
    }
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("download refuses a destination that is the cache or inside it (a cache inside the destination is fine)", () =>
  withServer(async (server, dir) => {
    await Deno.mkdir(join(dir, "cache"));
    const before = await snapshot(dir);
    const cases: [string, string][] = [
      ["cache", "cache"],
      ["cache/wh", "cache"],
    ];
    for (const [dest, cache] of cases) {
      const run = await wheelhouse([
        "download",
        "--index-url",
        server.indexUrl,
        "--cache-dir",
        cache,
        "--progress",
        "off",
        ...LINUX_312,
        "-d",
        dest,
        "example-idna",
      ], dir);
      assertRefused(run, /destination .* cannot be the cache .* or inside it/);
    }
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("download refuses --only-binary :all: with --no-binary :all:, and one name in both", () =>
  withServer(async (server, dir) => {
    const cases: [string[], RegExp][] = [
      [
        ["--only-binary", ":all:", "--no-binary", ":all:"],
        /--only-binary :all: .*--no-binary :all:/,
      ],
      [["--only-binary", "example-idna", "--no-binary", "Example_Idna"], /example-idna/],
    ];
    for (const [args, message] of cases) {
      const run = await download(server, dir, [...LINUX_312, ...args, "example-idna"]);
      assertRefused(run, message);
    }
    assert.equal(await exists(join(dir, "wheelhouse")), false);
  }));

Deno.test("download refuses --no-binary :all: from the command line against --only-binary :all: in a file", () =>
  withServer(async (server, dir) => {
    await Deno.writeTextFile(join(dir, "reqs.txt"), "--only-binary :all:\nexample-idna\n");
    const run = await download(server, dir, [
      ...LINUX_312,
      "--no-binary",
      ":all:",
      "-r",
      "reqs.txt",
    ]);
    assertRefused(run, /--only-binary :all: .*--no-binary :all:/);
    assert.equal(await exists(join(dir, "wheelhouse")), false);
  }));

/** A pylock.toml beside `dir` listing example-idna, and example-color under the extra "color". */
async function writePylock(dir: string): Promise<string> {
  const file = async (name: string) => {
    const path = join(EXAMPLES, name);
    const bytes = await Deno.readFile(path);
    return `{ url = "file://${path}", size = ${bytes.length}, hashes = { sha256 = "${await sha256Hex(
      bytes,
    )}" } }`;
  };
  const lock = join(dir, "pylock.toml");
  await Deno.writeTextFile(
    lock,
    [
      'lock-version = "1.0"',
      'created-by = "test"',
      'extras = ["color"]',
      "[[packages]]",
      'name = "example-idna"',
      'version = "3.7"',
      `wheels = [${await file("example_idna-3.7-py3-none-any.whl")}]`,
      "[[packages]]",
      'name = "example-color"',
      'version = "0.4.6"',
      `marker = "'color' in extras"`,
      `wheels = [${await file("example_color-0.4.6-py2.py3-none-any.whl")}]`,
      "",
    ].join("\n"),
  );
  return lock;
}

Deno.test("download refuses --no-dev without a uv.lock (with requirements or a pylock.toml)", () =>
  withServer(async (server, dir) => {
    const lock = await writePylock(dir);
    const before = await snapshot(dir);
    const reqs = await download(server, dir, [...LINUX_312, "--no-dev", "example-idna"]);
    assertRefused(reqs, /--no-dev only applies to a uv\.lock/);
    const pylock = await download(server, dir, [...LINUX_312, "--no-dev", "--lock", lock]);
    assertRefused(pylock, /--no-dev only applies to a uv\.lock/);
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("download --all-extras with a pylock.toml is meaningful: it installs the lock's top-level extras", () =>
  withServer(async (server, dir) => {
    const lock = await writePylock(dir);
    const plain = await download(server, dir, [...LINUX_312, "-d", "plain", "--lock", lock]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(
      await exists(join(dir, "plain", "example_color-0.4.6-py2.py3-none-any.whl")),
      false,
    );
    const all = await download(server, dir, [
      ...LINUX_312,
      "-d",
      "all",
      "--all-extras",
      "--lock",
      lock,
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(await exists(join(dir, "all", "example_color-0.4.6-py2.py3-none-any.whl")));
  }));

Deno.test("download --lock warns that a -f mirror path that does not exist is ignored", () =>
  withServer(async (server, dir) => {
    const lock = await writePylock(dir);
    const run = await download(server, dir, [...LINUX_312, "-f", "/nonexistent", "--lock", lock]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /warning: Location '\/nonexistent' is ignored: it is either a non-existing path/,
    );
  }));

Deno.test("download refuses an --extra the lock does not list, and any selection with --all-platforms", () =>
  withServer(async (server, dir) => {
    const lock = await writePylock(dir);
    // The lock's extras are known once it is parsed, after the destination is checked: an
    // existing one is left as it was.
    await Deno.mkdir(join(dir, "wheelhouse"));
    const before = await snapshot(dir);
    const forTarget = await download(server, dir, [
      ...LINUX_312,
      "--extra",
      "nope",
      "--lock",
      lock,
    ]);
    assertRefused(forTarget, /extra "nope" is not in the lock/);
    const all = await download(server, dir, ["--all-platforms", "--extra", "nope", "--lock", lock]);
    // --all-platforms takes the whole lock, so an extra (known or not) would be ignored.
    assertRefused(all, /--all-platforms takes every file of the lock; --extra/);
    const known = await download(server, dir, [
      "--all-platforms",
      "--extra",
      "color",
      "--lock",
      lock,
    ]);
    assertRefused(known, /--all-platforms takes every file of the lock; --extra/);
    assert.deepEqual(await snapshot(dir), before);
  }));

// ---------------------------------------------------------------------------------------------
// 22. Find-links and index options

Deno.test("download warns, as pip does, that a -f path that does not exist is ignored", () =>
  withServer(async (server, dir) => {
    const run = await download(server, dir, [
      ...LINUX_312,
      "-f",
      "/nonexistent",
      "-f",
      "file:///nonexistent-too",
      "example-idna",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /warning: Location '\/nonexistent' is ignored: it is either a non-existing path or lacks a specific scheme\./,
    );
    assert.match(
      run.stderr,
      /warning: Location 'file:\/\/\/nonexistent-too' is ignored: it is neither a file nor a directory\./,
    );
  }));

Deno.test("download warns about a -f path of a requirement file that does not exist", () =>
  withServer(async (server, dir) => {
    await Deno.writeTextFile(join(dir, "reqs.txt"), "-f missing-wheels\nexample-idna\n");
    const run = await download(server, dir, [...LINUX_312, "-r", "reqs.txt"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: Location '.*missing-wheels' is ignored/);
  }));

Deno.test("download refuses bad index options in a requirement file with its file and line", () =>
  withServer(async (server, dir) => {
    const cases: [string, RegExp][] = [
      ["example-idna\n--index-url not-a-url\n", /reqs\.txt line 2: --index-url expects/],
      [
        "--extra-index-url ftp://example.org/simple\nexample-idna\n",
        /reqs\.txt line 1: --extra-index-url expects .*ftp:/,
      ],
      ["-f gopher://example.org/wheels\nexample-idna\n", /reqs\.txt line 1: --find-links expects/],
    ];
    for (const [text, message] of cases) {
      await Deno.writeTextFile(join(dir, "reqs.txt"), text);
      const run = await download(server, dir, [...LINUX_312, "-r", "reqs.txt"]);
      assertRefused(run, message);
    }
    assert.equal(await exists(join(dir, "wheelhouse")), false);
  }));

Deno.test("download takes --index-url from the command line over the one in a requirement file", () =>
  withServer(async (server, dir) => {
    // The file's index is a dead port: only the command line's index can serve the run.
    await Deno.writeTextFile(
      join(dir, "reqs.txt"),
      "--index-url http://127.0.0.1:9/simple\nexample-idna==3.7\n",
    );
    const run = await download(server, dir, [...LINUX_312, "--retries", "0", "-r", "reqs.txt"]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(await exists(join(dir, "wheelhouse", "example_idna-3.7-py3-none-any.whl")));
  }));
