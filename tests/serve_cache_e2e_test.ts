// `wheelhouse serve --cache` end to end (issue 16): a cache filled by downloads from an index and
// from a folder of private wheels is served as one index, after the index that filled it is gone;
// pip installs from it into a fresh venv and wheelhouse downloads from it. Skips the pip part,
// loudly, where python3 with venv is absent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { archives, EXAMPLES, indexArgs, LINUX_312, wheelhouse } from "./_e2e_helpers.ts";
import { servedFilesFromDir, startIndexServer } from "./index_server.ts";
import { freshVenv, haveVenv, pipFreeze, runPython } from "./_python.ts";
import { serve } from "./_serve_cli.ts";
import { buildWheel } from "./wheel_factory.ts";

const hasVenv = await haveVenv("pip installs from `wheelhouse serve --cache`");

Deno.test("serve --cache offers what every earlier download put in the cache, private wheels included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-serve-cache-" });
  const cache = join(dir, "cache");
  const index = await startIndexServer({ projects: await servedFilesFromDir(EXAMPLES) });
  try {
    // With python3, the host is the target, so that pip can install what the cache holds.
    const target = hasVenv ? [] : [...LINUX_312];
    const fromIndex = await wheelhouse(
      [
        "download",
        ...indexArgs(index.indexUrl, cache),
        "-d",
        join(dir, "a"),
        ...target,
        "example-app[fast]",
      ],
      dir,
    );
    assert.equal(fromIndex.code, 0, fromIndex.stderr);
    const private_ = join(dir, "private");
    await Deno.mkdir(private_);
    const wheel = await buildWheel({ name: "private_pkg", version: "0.1" });
    await Deno.writeFile(join(private_, wheel.filename), wheel.bytes);
    const fromFolder = await wheelhouse(
      [
        "download",
        "--no-index",
        "-f",
        private_,
        "--cache-dir",
        cache,
        "--progress",
        "off",
        "-d",
        join(dir, "b"),
        ...LINUX_312,
        "private_pkg==0.1",
      ],
      dir,
    );
    assert.equal(fromFolder.code, 0, fromFolder.stderr);
  } finally {
    await index.close();
  }
  const served = await serve(["--cache", "--cache-dir", cache, "--port", "0"], dir);
  let stopped;
  try {
    const list = await fetch(served.indexUrl).then((r) => r.text());
    assert.match(list, /href="[^"]*private-pkg\/"/);
    assert.match(list, /href="[^"]*example-app\/"/);
    // Our own client: the private wheel by name, from the cache's index.
    const dest = join(dir, "c");
    const ours = await wheelhouse(
      [
        "download",
        ...indexArgs(served.indexUrl, join(dir, "cache2")),
        "-d",
        dest,
        ...LINUX_312,
        "private_pkg==0.1",
      ],
      dir,
    );
    assert.equal(ours.code, 0, ours.stderr);
    assert.deepEqual(await archives(dest), ["private_pkg-0.1-py3-none-any.whl"]);
    if (hasVenv) {
      const python = await freshVenv(join(dir, "venv"));
      const install = await runPython(
        [
          "-m",
          "pip",
          "install",
          "--index-url",
          served.indexUrl,
          "--no-cache-dir",
          "example-app[fast]",
          "private-pkg",
        ],
        dir,
        python,
      );
      assert.equal(install?.code, 0, `${install?.stdout}${install?.stderr}`);
      const got = await pipFreeze(python);
      assert.match(got, /^example-app==1\.1\.0$/m);
      assert.match(got, /^private[-_]pkg==0\.1$/m);
    }
  } finally {
    stopped = await served.stop();
  }
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /Serving \d+ files of \d+ projects from the cache /);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("serve --cache refuses a folder argument and a cache that is not there, with exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-serve-cache-bad-" });
  try {
    const cases: [string[], RegExp][] = [
      [["--cache", "wheelhouse"], /--cache serves the cache, not a folder/],
      [["--cache-dir", dir], /--cache-dir only applies with --cache/],
      [["--cache", "--cache-dir", join(dir, "none")], /does not exist/],
    ];
    for (const [args, message] of cases) {
      const out = await wheelhouse(["serve", "--port", "0", ...args], dir);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr.split("\n")[0]!, message);
      assert.doesNotMatch(out.stderr, /\n\s+at /);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
