// The bench's clean-up between runs: a finished run's folder is emptied, never a cache other runs read.
import assert from "node:assert/strict";
import { join } from "node:path";
import { retire } from "../bench/_process.ts";

Deno.test("bench retire: empties a run's files, keeps the tree and links from outside", async () => {
  const root = await Deno.makeTempDir();
  try {
    const run = join(root, "run");
    const cache = join(root, "reference-cache");
    await Deno.mkdir(join(run, "cache", "ab"), { recursive: true });
    await Deno.mkdir(join(run, "dest"), { recursive: true });
    await Deno.mkdir(cache);
    // A cold run: the cache entry and its link in the run's own destination.
    await Deno.writeTextFile(join(run, "cache", "ab", "entry"), "cold bytes");
    await Deno.link(join(run, "cache", "ab", "entry"), join(run, "dest", "cold.whl"));
    // A file of the run alone.
    await Deno.writeTextFile(join(run, "dest", "README.txt"), "how to install");
    // A warm run: a link into a cache that later runs read.
    await Deno.writeTextFile(join(cache, "entry"), "reference bytes");
    await Deno.link(join(cache, "entry"), join(run, "dest", "warm.whl"));

    await retire(run);

    for (const f of ["cache/ab/entry", "dest/cold.whl", "dest/README.txt"]) {
      const st = await Deno.stat(join(run, f));
      assert.equal(st.size, 0, `${f} emptied`);
    }
    assert.equal(await Deno.readTextFile(join(cache, "entry")), "reference bytes");
    assert.equal(await Deno.readTextFile(join(run, "dest", "warm.whl")), "reference bytes");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
