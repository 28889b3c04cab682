import assert from "node:assert/strict";
import { parseCacheArgs, parseDownloadArgs, parseExcludeNewer, UsageError } from "./_options.ts";

Deno.test("parseDownloadArgs() applies pip's defaults", () => {
  const o = parseDownloadArgs(["requests"]);
  assert.deepEqual(o.requirements, ["requests"]);
  assert.equal(o.dest, "wheelhouse");
  assert.equal(o.concurrency, 16);
  assert.equal(o.retries, 5);
  assert.equal(o.indexStrategy, "first-index");
  assert.equal(o.progress, "auto");
});

Deno.test("parseDownloadArgs() collects repeated and comma-separated options", () => {
  const o = parseDownloadArgs([
    "-r",
    "a.txt",
    "--requirement=b.txt",
    "--only-binary",
    ":all:",
    "--no-binary",
    "a,b",
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "macosx_11_0_arm64",
    "--python-version",
    "3.11",
    "--python-version",
    "3.13",
    "-qq",
  ]);
  assert.deepEqual(o.requirementFiles, ["a.txt", "b.txt"]);
  assert.deepEqual(o.onlyBinary, [":all:"]);
  assert.deepEqual(o.noBinary, ["a", "b"]);
  assert.deepEqual(o.platforms, ["manylinux2014_x86_64", "macosx_11_0_arm64"]);
  assert.deepEqual(o.pythonVersions, ["3.11", "3.13"]);
  assert.equal(o.quiet, 2);
});

Deno.test("parseDownloadArgs() rejects bad values with one-line usage errors", () => {
  const bad: string[][] = [
    ["--concurrency", "0"],
    ["--retries", "x"],
    ["--progress", "sometimes"],
    ["--index-strategy", "best"],
    ["--python-version", "three"],
    ["--bogus"],
    ["--python-platform", "linux", "--platform", "win_amd64"],
    ["--no-index", "--index-url", "http://x"],
    ["--all-platforms"],
    ["--exclude-newer", "yesterday"],
  ];
  for (const args of bad) {
    assert.throws(() => parseDownloadArgs(args), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${args.join(" ")}: ${e}`);
      assert.ok(!e.message.includes("\n"), e.message);
      return true;
    });
  }
});

Deno.test("parseExcludeNewer() takes a date as the end of that UTC day", () => {
  assert.equal(parseExcludeNewer("2024-03-01").toISOString(), "2024-03-01T23:59:59.999Z");
  assert.equal(
    parseExcludeNewer("2024-03-01T12:00:00Z").toISOString(),
    "2024-03-01T12:00:00.000Z",
  );
});

Deno.test("parseCacheArgs() accepts the four actions and project names for clean", () => {
  assert.equal(parseCacheArgs(["dir"]).action, "dir");
  assert.deepEqual(parseCacheArgs(["clean", "numpy", "six"]).projects, ["numpy", "six"]);
  assert.throws(() => parseCacheArgs(["wipe"]), UsageError);
  assert.throws(() => parseCacheArgs(["info", "x"]), UsageError);
  assert.throws(() => parseCacheArgs([]), UsageError);
});

Deno.test("parseDownloadArgs() takes -r pylock.toml or -r uv.lock alone as the lock", () => {
  const o = parseDownloadArgs(["-r", "locks/pylock.toml", "--all-platforms"]);
  assert.equal(o.lock, "locks/pylock.toml");
  assert.deepEqual(o.requirementFiles, []);
  assert.equal(parseDownloadArgs(["-r", "uv.lock"]).lock, "uv.lock");
  // With other inputs it stays a requirement file (and fails there, clearly).
  assert.equal(parseDownloadArgs(["-r", "pylock.toml", "six"]).lock, undefined);
  assert.equal(parseDownloadArgs(["-r", "requirements.txt"]).lock, undefined);
});

Deno.test("parseDownloadArgs() refuses empty values (-d '', --cache-dir '', --abi '') as usage errors", () => {
  const bad: string[][] = [
    ["-d", "", "six"],
    ["--dest=", "six"],
    ["--cache-dir", "", "six"],
    ["--abi", "", "six"],
    ["--abi", ",", "six"],
    ["--platform", " ", "six"],
    ["-r", ""],
    ["--report", "", "six"],
  ];
  for (const args of bad) {
    assert.throws(() => parseDownloadArgs(args), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${JSON.stringify(args)}: ${e}`);
      assert.match(e.message, /^--[a-z-]+ expects a value, got /);
      return true;
    });
  }
  assert.throws(() => parseCacheArgs(["info", "--cache-dir", ""]), /--cache-dir expects a value/);
});
