// Offline means offline (issue 13): the cache answers as an index, private packages are found by
// name, local files need no network, and a miss says exactly what is missing. The CLI runs as a
// subprocess against a test index that is stopped before the offline runs; pip is the consumer.
import assert from "node:assert/strict";
import { join } from "node:path";
import { indexArgs, pipInstallOfflineArgs, wheelhouse } from "./_e2e_helpers.ts";
import { havePip, runPython } from "./_python.ts";
import { buildWheel, type BuiltDist } from "./wheel_factory.ts";
import { type IndexServer, startIndexServer } from "./index_server.ts";

const HAVE_PIP = await havePip("pip install of an offline wheelhouse");
// The host's Python (3.11 here) so that pip can install the result.
const TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"];

interface World {
  dir: string;
  cache: string;
  server: IndexServer;
  priv: BuiltDist;
}

/** A private wheel in a folder of its own, and an index with its dependency and another project. */
async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-offline-" });
  const priv = await buildWheel({
    name: "private_pkg",
    version: "0.1",
    requiresDist: ["helper>=1.0"],
  });
  await Deno.mkdir(join(dir, "private"));
  await Deno.writeFile(join(dir, "private", priv.filename), priv.bytes);
  const server = await startIndexServer({
    projects: [
      await buildWheel({ name: "helper", version: "1.0" }),
      await buildWheel({ name: "helper", version: "2.0" }),
      await buildWheel({ name: "tool", version: "3.1", requiresDist: ["helper"] }),
    ],
  });
  try {
    await fn({ dir, cache: join(dir, "cache"), server, priv });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function offline(w: World, dest: string, rest: string[]): Promise<import("./_e2e_helpers.ts").Run> {
  return wheelhouse(
    [
      "download",
      "--offline",
      "--cache-dir",
      w.cache,
      "--progress",
      "off",
      ...TARGET,
      "-d",
      dest,
      ...rest,
    ],
    w.dir,
  );
}

Deno.test("uv#4728: a private wheel added once by path is found offline by name, with no index named, and pip installs the folder", () =>
  withWorld(async (w) => {
    const fill = await wheelhouse(
      [
        "download",
        ...indexArgs(w.server.indexUrl, w.cache),
        ...TARGET,
        "-d",
        "first",
        `./private/${w.priv.filename}`,
        "tool",
      ],
      w.dir,
    );
    assert.equal(fill.code, 0, fill.stderr);
    await w.server.close(); // The network is gone; the private folder too.
    await Deno.remove(join(w.dir, "private"), { recursive: true });
    const r = await offline(w, "again", ["-v", "private_pkg==0.1", "tool"]);
    assert.equal(r.code, 0, r.stderr);
    const names = [...Deno.readDirSync(join(w.dir, "again"))].map((e) => e.name).sort();
    for (const f of [w.priv.filename, "helper-2.0-py3-none-any.whl", "tool-3.1-py3-none-any.whl"]) {
      assert.ok(names.includes(f), `${f} in ${names.join(", ")}`);
    }
    // -v says where each file came from.
    assert.match(r.stderr, /private_pkg-0\.1-py3-none-any\.whl: listed by the cache \(from /);
    if (!HAVE_PIP) return;
    const pip = await runPython(
      pipInstallOfflineArgs(join(w.dir, "again"), join(w.dir, "site"), [
        "-r",
        join(w.dir, "again", "requirements.txt"),
      ]),
      w.dir,
    );
    assert.equal(pip?.code, 0, pip?.stderr);
  }));

Deno.test("offline without the --index-url that filled the cache works; -f, --no-index and file: paths need no network", () =>
  withWorld(async (w) => {
    const fill = await wheelhouse(
      ["download", ...indexArgs(w.server.indexUrl, w.cache), ...TARGET, "-d", "first", "tool"],
      w.dir,
    );
    assert.equal(fill.code, 0, fill.stderr);
    const byUrl = await wheelhouse(
      [
        "download",
        ...indexArgs(w.server.indexUrl, w.cache),
        ...TARGET,
        "-d",
        "second",
        `tool @ ${w.server.url}files/tool-3.1-py3-none-any.whl`,
      ],
      w.dir,
    );
    assert.equal(byUrl.code, 0, byUrl.stderr);
    await w.server.close();
    const noIndex = await offline(w, "a", ["tool"]);
    assert.equal(noIndex.code, 0, noIndex.stderr);
    // A direct URL given without a hash is found in the cache by the URL it came from.
    const direct = await offline(w, "e", [`tool @ ${w.server.url}files/tool-3.1-py3-none-any.whl`]);
    assert.equal(direct.code, 0, direct.stderr);
    // A local folder and local paths, offline: read from disk, never "the cache lacks".
    const links = await offline(w, "b", ["--no-index", "-f", "private", "private_pkg==0.1"]);
    assert.equal(links.code, 0, links.stderr);
    const relative = await offline(w, "c", [`private_pkg @ file:./private/${w.priv.filename}`]);
    assert.equal(relative.code, 0, relative.stderr);
    await Deno.writeTextFile(join(w.dir, "private", "reqs.txt"), `./${w.priv.filename}\n`);
    const inFile = await offline(w, "d", ["-r", "private/reqs.txt"]);
    assert.equal(inFile.code, 0, inFile.stderr);
    for (const dest of ["b", "c", "d"]) {
      assert.ok(
        [...Deno.readDirSync(join(w.dir, dest))].some((e) => e.name === w.priv.filename),
        dest,
      );
    }
  }));

Deno.test("an offline miss names the project, the range and who wants it, where it looked, what the cache holds and which index to name", () =>
  withWorld(async (w) => {
    const fill = await wheelhouse(
      [
        "download",
        ...indexArgs(w.server.indexUrl, w.cache),
        ...TARGET,
        "-d",
        "first",
        "helper==1.0",
      ],
      w.dir,
    );
    assert.equal(fill.code, 0, fill.stderr);
    const indexUrl = w.server.indexUrl;
    await w.server.close();
    const r = await offline(w, "x", ["helper>=2", "nothere"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Offline, and nothing this machine holds can serve/);
    assert.match(
      r.stderr,
      /nothere \(requested\): not found in https:\/\/pypi\.org\/simple\/ \(its kept pages\), the cache's own files/,
    );
    const other = await offline(w, "y", ["helper>=2"]);
    assert.match(other.stderr, /helper>=2 \(requested\): no version found offline fits/);
    assert.match(
      other.stderr,
      /the cache holds 1 file of helper \(helper-1\.0-py3-none-any\.whl\)/,
    );
    assert.match(
      other.stderr,
      new RegExp(
        `the cache has helper's page from ${indexUrl.replace(/[.]/g, "\\.")}: add --index-url`,
      ),
    );
    assert.match(other.stderr, /hint: offline, only the cache and local files are used: pass -f/);
    assert.doesNotMatch(other.stderr, /run once without --offline/);
    // A dependency's miss says who wanted which range.
    const dep = await wheelhouse(
      [
        "download",
        "--offline",
        "--no-index",
        "-f",
        "private",
        "--cache-dir",
        join(w.dir, "empty"),
        "--progress",
        "off",
        ...TARGET,
        "-d",
        "z",
        "private_pkg",
      ],
      w.dir,
    );
    assert.equal(dep.code, 1, dep.stderr);
    assert.match(dep.stderr, /helper>=1\.0 \(by private-pkg 0\.1\): not found in .*private/);
  }));

Deno.test("cache list shows what an offline run can serve, per project, with where each file came from", () =>
  withWorld(async (w) => {
    const fill = await wheelhouse(
      [
        "download",
        ...indexArgs(w.server.indexUrl, w.cache),
        ...TARGET,
        "-d",
        "first",
        "tool",
        `./private/${w.priv.filename}`,
      ],
      w.dir,
    );
    assert.equal(fill.code, 0, fill.stderr);
    const r = await wheelhouse(["cache", "list", "--cache-dir", w.cache], w.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^helper: 1 file \(2\.0\)$/m);
    assert.match(
      r.stdout,
      new RegExp(
        `tool-3\\.1-py3-none-any\\.whl .* from ${w.server.indexUrl.replace(/[.]/g, "\\.")}`,
      ),
    );
    assert.match(r.stdout, /private_pkg-0\.1-py3-none-any\.whl .* from direct reference/);
    assert.match(r.stdout, /index page kept from http:\/\/127\.0\.0\.1:\d+\/simple\//);
    const one = await wheelhouse(
      ["cache", "list", "--cache-dir", w.cache, "Private.Pkg", "nope"],
      w.dir,
    );
    assert.match(one.stdout, /^private-pkg: 1 file \(0\.1\)$/m);
    assert.match(one.stdout, /^nope: nothing in the cache$/m);
    assert.doesNotMatch(one.stdout, /^tool/m);
  }));

Deno.test("--no-deps asks for no dependency's index page", () =>
  withWorld(async (w) => {
    const r = await wheelhouse(
      [
        "download",
        ...indexArgs(w.server.indexUrl, w.cache),
        ...TARGET,
        "-d",
        "nd",
        "--no-deps",
        "tool",
      ],
      w.dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const pages = w.server.requests.filter((q) => q.path.startsWith("/simple/")).map((q) => q.path);
    assert.ok(pages.includes("/simple/tool/"), pages.join());
    assert.ok(!pages.includes("/simple/helper/"), pages.join());
  }));
