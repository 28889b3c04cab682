// What people see (issue 17): a real progress bar in a terminal, a true summary, outputs that say
// how to install them, and messages that are right. The CLI runs as a subprocess; the terminal
// test drives it in a pseudo-terminal made by `script` against a throttled test index.
import assert from "node:assert/strict";
import { join } from "node:path";
import { common, download, ROOT, wheelhouse, withServer } from "./_e2e_helpers.ts";
import { buildWheel } from "./wheel_factory.ts";
import { startIndexServer } from "./index_server.ts";

const TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"];

async function haveScript(): Promise<boolean> {
  try {
    const out = await new Deno.Command("script", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/** Single-quotes a word for `sh -c`. */
function sh(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

Deno.test("in a terminal the run draws a real bar: bytes of total, rate and time left, a line per transfer, at most ten redraws a second", async () => {
  if (!(await haveScript())) {
    console.warn("SKIPPED: the pseudo-terminal test needs `script` (util-linux)");
    return;
  }
  const big = await Promise.all(
    ["alpha", "beta"].map((name) => buildWheel({ name, version: "1.0", padding: 700_000 })),
  );
  const server = await startIndexServer({ projects: big, bytesPerSecond: 500_000 });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-pty-" });
  try {
    const cmd = [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      join(ROOT, "cli", "main.ts"),
      "download",
      "--index-url",
      server.indexUrl,
      "--cache-dir",
      join(dir, "cache"),
      ...TARGET,
      "-d",
      join(dir, "wh"),
      "alpha",
      "beta",
    ].map(sh).join(" ");
    const started = Date.now();
    const out = await new Deno.Command("script", {
      args: ["-q", "-e", "-c", cmd, "/dev/null"],
      env: { TERM: "xterm", COLUMNS: "120", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (Date.now() - started) / 1000;
    const screen = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, screen);
    assert.match(
      screen,
      /Downloading [█░]{24} [\d.]+ (KiB|MiB)\/[\d.]+ (KiB|MiB) · [\d.]+ (KiB|MiB)\/s · \d+s left · \d\/2 files/,
    );
    assert.match(
      screen,
      / {2}[█░]{24} (alpha|beta)-1\.0-py3-none-any\.whl [\d.]+ KiB\/[\d.]+ KiB · [\d.]+ KiB\/s/,
    );
    const redraws = screen.split("Downloading ").length - 1;
    assert.ok(redraws >= 3, `a bar that moves (${redraws} redraws)`);
    assert.ok(redraws <= Math.ceil(seconds * 10) + 6, `${redraws} redraws in ${seconds}s`);
    // The drawing is cleared before the summary, which is true: about 1.4 MB moved.
    assert.match(
      screen,
      // deno-lint-ignore no-control-regex
      /\x1b\[\d+A\x1b\[0JResolved 2 packages in [\d.]+s · Downloaded 2 files \(1\.3 MiB\) in [\d.]+s/,
    );
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("off a terminal there are no escape codes; -q prints nothing; -v lists every file with where it came from", () =>
  withServer(async (server, dir) => {
    const first = await download(server, dir, ["-d", "wh", ...TARGET, "example-app"]);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(!first.stderr.includes("\x1b"), "no escape codes in a pipe");
    assert.match(first.stderr, /Resolved \d+ packages in/);
    assert.doesNotMatch(first.stderr, /\b1 packages\b|\b1 files\b/);
    const quiet = await download(server, dir, ["-q", "-d", "wh2", ...TARGET, "example-app"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    const again = await download(server, dir, ["-v", "-d", "wh", ...TARGET, "example-app"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /example_app-[\d.]+-py3-none-any\.whl .* already in the folder/);
    const third = await download(server, dir, ["-v", "-d", "wh3", ...TARGET, "example-app"]);
    assert.match(
      third.stderr,
      /example_app-[\d.]+-py3-none-any\.whl .* from the cache \(first from http/,
    );
  }));

Deno.test("every run ends with the exact install command, and README.txt gives pip, uv and pylock commands per target", () =>
  withServer(async (server, dir) => {
    const one = await download(server, dir, ["-d", "wh", ...TARGET, "example-app"]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(
      one.stderr,
      /Install offline with: python -m pip install --no-index --find-links wh -r wh\/requirements\.txt/,
    );
    const two = await download(server, dir, [
      "-d",
      "multi",
      "--python-version",
      "3.11",
      "--python-platform",
      "x86_64-manylinux_2_28",
      "--python-platform",
      "x86_64-pc-windows-msvc",
      "example-app[fast]",
    ]);
    assert.equal(two.code, 0, two.stderr);
    const readme = await Deno.readTextFile(join(dir, "multi", "README.txt"));
    for (const req of two.stderr.matchAll(/-r multi\/(requirements-[^\s]+\.txt)/g)) {
      assert.ok(readme.includes(`pip install --no-index --find-links . -r ${req[1]}`), readme);
      assert.ok(readme.includes(`uv pip install --offline --no-index --find-links . -r ${req[1]}`));
    }
    assert.equal([...two.stderr.matchAll(/Install offline \(/g)].length, 2, two.stderr);
    assert.match(readme, /-r pylock\.toml/);
    assert.match(readme, /Python 3\.11/);
  }));

Deno.test("a narrower re-run says which files are no longer wanted, and --prune removes only those", () =>
  withServer(async (server, dir) => {
    await Deno.mkdir(join(dir, "wh"));
    await Deno.writeTextFile(join(dir, "wh", "mine-1.0-py3-none-any.whl"), "the user's own file");
    const wide = await download(server, dir, ["-d", "wh", ...TARGET, "example-app[fast]"]);
    assert.equal(wide.code, 0, wide.stderr);
    const narrow = await download(server, dir, ["-d", "wh", ...TARGET, "example-app"]);
    assert.equal(narrow.code, 0, narrow.stderr);
    assert.match(
      narrow.stderr,
      /note: \d+ files? in wh (is|are) no longer wanted \(.*\); --prune removes/,
    );
    assert.doesNotMatch(narrow.stderr, /mine-1\.0/);
    const pruned = await download(server, dir, ["-d", "wh", "--prune", ...TARGET, "example-app"]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stderr, /Removed \d+ files? no longer wanted/);
    const left = [...Deno.readDirSync(join(dir, "wh"))].map((e) => e.name);
    assert.ok(left.includes("mine-1.0-py3-none-any.whl"), "a file wheelhouse did not write stays");
    const again = await download(server, dir, ["-d", "wh", ...TARGET, "example-app"]);
    assert.doesNotMatch(again.stderr, /no longer wanted/);
  }));

Deno.test("a long target name still makes a usable file name (no ENAMETOOLONG, nothing half-written)", () =>
  withServer(async (server, dir) => {
    const r = await download(server, dir, [
      "-d",
      "wh",
      "--abi",
      "cp311",
      "--python-version",
      "3.11",
      "--python-version",
      "3.12",
      "--platform",
      "manylinux_2_36_x86_64",
      "--platform",
      "manylinux_2_35_x86_64",
      "--platform",
      "manylinux_2_34_x86_64",
      "--platform",
      "manylinux_2_28_x86_64",
      "--platform",
      "manylinux_2_17_x86_64",
      "example-app",
    ]);
    assert.notEqual(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /ENAMETOOLONG/);
    if (r.code === 0) {
      for (const e of Deno.readDirSync(join(dir, "wh"))) assert.ok(e.name.length < 120, e.name);
    }
  }));

Deno.test("--exclude-newer against an index without upload times warns once, naming it", () =>
  withServer(async (server, dir) => {
    const r = await wheelhouse(
      [
        "download",
        ...common(server, dir),
        ...TARGET,
        "-d",
        "wh",
        "--exclude-newer",
        "2020-01-01T00:00:00Z",
        "example-app",
      ],
      dir,
    );
    const warnings = r.stderr.match(/--exclude-newer: .* gives no upload times/g) ?? [];
    assert.equal(warnings.length, 1, r.stderr);
  }, { format: "html" }));

Deno.test("usage errors point at the command's own help; control bytes from an input file are never echoed raw", () =>
  withServer(async (server, dir) => {
    const usage = await wheelhouse(["download", "--no-such-option"], dir);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Run "wheelhouse download --help" for usage\./);
    await Deno.writeTextFile(join(dir, "reqs.txt"), "bad\u001b[2J\u0007name ===\n");
    const bad = await download(server, dir, ["-d", "wh", ...TARGET, "-r", "reqs.txt"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.ok(
      !bad.stderr.includes("\u001b") && !bad.stderr.includes("\u0007"),
      JSON.stringify(bad.stderr),
    );
    assert.match(bad.stderr, /\\x1b/);
  }));
