// Names that lie (issue 12, items 6, 7 and 21): a locked file must be a distribution of the
// package it is locked as; a filename from an index is one safe path segment or it is skipped
// with a warning; lock entries that are no files (git, directories) fail the run instead of a
// green run with an incomplete folder. The CLI runs as a subprocess against test indexes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { indexArgs, wheelhouse } from "./_e2e_helpers.ts";
import { buildWheel, sha256Hex } from "./wheel_factory.ts";
import { startIndexServer } from "./index_server.ts";

const TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"];

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "wheelhouse-names-" });
}

Deno.test("a pylock entry for click whose wheel is named six is refused (exit 2) and the folder's six is untouched", async () => {
  const six = await buildWheel({ name: "six", version: "1.17.0", tags: "py2.py3-none-any" });
  const click = await buildWheel({ name: "click", version: "8.5.0" });
  const server = await startIndexServer({ projects: [six, click] });
  const dir = await tempDir();
  try {
    const cache = join(dir, "cache");
    const first = await wheelhouse(
      ["download", ...indexArgs(server.indexUrl, cache), ...TARGET, "-d", "wh", "six==1.17.0"],
      dir,
    );
    assert.equal(first.code, 0, first.stderr);
    // click's bytes and hash, under six's name.
    await Deno.writeTextFile(
      join(dir, "pylock.toml"),
      `lock-version = "1.0"
created-by = "test"
[[packages]]
name = "click"
version = "8.5.0"
wheels = [{ name = "${six.filename}", url = "${server.url}files/${click.filename}", hashes = { sha256 = "${click.sha256}" } }]
`,
    );
    const r = await wheelhouse(
      [
        "download",
        "--lock",
        "pylock.toml",
        "--cache-dir",
        cache,
        "--progress",
        "off",
        ...TARGET,
        "-d",
        "wh",
      ],
      dir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /six-1\.17\.0-py2\.py3-none-any\.whl" is a distribution of six 1\.17\.0, not of the locked click 8\.5\.0/,
    );
    assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
    assert.equal(await sha256Hex(await Deno.readFile(join(dir, "wh", six.filename))), six.sha256);
    assert.ok(!server.requests.some((q) => q.path.endsWith(click.filename)), "nothing fetched");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a uv.lock URL climbing to another project's file is refused with exit 2", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "uv.lock"),
      `version = 1
requires-python = ">=3.8"
[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "click" }]
[[package]]
name = "click"
version = "8.5.0"
source = { registry = "http://127.0.0.1:9/simple" }
wheels = [{ url = "http://127.0.0.1:9/files/x/../../OTHER-8.5.0-py3-none-any.whl", hash = "sha256:${
        "a".repeat(64)
      }" }]
`,
    );
    const r = await wheelhouse(
      [
        "download",
        "--lock",
        "uv.lock",
        "--cache-dir",
        "cache",
        "--progress",
        "off",
        ...TARGET,
        "-d",
        "wh",
      ],
      dir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /OTHER-8\.5\.0-py3-none-any\.whl" is a distribution of other 8\.5\.0, not of the locked click 8\.5\.0/,
    );
    assert.ok(!(await exists(join(dir, "wh", "OTHER-8.5.0-py3-none-any.whl"))));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("an index link whose filename holds a path separator or NUL is skipped with a warning; the run goes on", async () => {
  const good = await buildWheel({ name: "evil", version: "1.0" });
  const files = "/files/";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/simple/evil/") {
      const file = (filename: string, href: string, sha256: string) => ({
        filename,
        url: href,
        hashes: { sha256 },
      });
      return Response.json({
        meta: { "api-version": "1.1" },
        name: "evil",
        files: [
          file("evil-1.8-py3-none-any.sub/y.whl", `${files}y.whl`, "b".repeat(64)),
          file("evil-1.9-py3-none-any\u0000.whl", `${files}z.whl`, "c".repeat(64)),
          file(good.filename, `${files}${good.filename}`, good.sha256),
        ],
      }, { headers: { "content-type": "application/vnd.pypi.simple.v1+json" } });
    }
    if (url.pathname === `${files}${good.filename}`) {
      return new Response(good.bytes as Uint8Array<ArrayBuffer>);
    }
    return new Response("not found", { status: 404 });
  });
  const dir = await tempDir();
  try {
    const { port } = server.addr as Deno.NetAddr;
    const r = await wheelhouse(
      [
        "download",
        ...indexArgs(`http://127.0.0.1:${port}/simple/`, join(dir, "cache")),
        ...TARGET,
        "-d",
        "wh",
        "evil",
      ],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Skipping a link on .*"evil-1\.8-py3-none-any\.sub\/y\.whl": it contains a path separator/,
    );
    assert.match(r.stderr, /control character U\+0000/);
    assert.ok(!r.stderr.includes("\u0000"), "no raw NUL echoed");
    const names = [...Deno.readDirSync(join(dir, "wh"))].map((e) => e.name);
    assert.ok(names.includes(good.filename), names.join());
    assert.ok(!names.some((n) => n.startsWith("evil-1.8") || n.startsWith("evil-1.9")));
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lock entries that are git checkouts or local directories fail a --no-build run (exit 1) naming them", async () => {
  const dir = await tempDir();
  try {
    await Deno.mkdir(join(dir, "lib"));
    await Deno.writeTextFile(
      join(dir, "pylock.toml"),
      `lock-version = "1.0"
created-by = "test"
[[packages]]
name = "project"
directory = { path = ".", editable = true }
[[packages]]
name = "tool"
version = "1.0"
vcs = { type = "git", url = "https://example.org/tool.git", commit-id = "${"d".repeat(40)}" }
[[packages]]
name = "lib"
version = "1.0"
directory = { path = "lib" }
`,
    );
    const r = await wheelhouse(
      [
        "download",
        "--lock",
        "pylock.toml",
        "--cache-dir",
        "cache",
        "--progress",
        "off",
        ...TARGET,
        "-d",
        "wh",
        "-v",
        "--no-build",
      ],
      dir,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /The lock names 2 packages that are not a file to download and --no-build forbids building/,
    );
    assert.match(r.stderr, /tool: a git checkout \(https:\/\/example\.org\/tool\.git at d{40}\)/);
    assert.match(r.stderr, /lib: a local directory \(lib\)/);
    // The lock's own project is said in -v, neither a warning nor a gap.
    assert.match(r.stderr, /project is the locked project itself/);
    assert.ok(!/warning: project/.test(r.stderr), r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
