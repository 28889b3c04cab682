import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashJson, isInside, lastLines, publishDir } from "./_util.ts";

Deno.test("publishDir() lets the first of two racing copies win and removes the other", async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), "wh-util-"));
  try {
    const a = join(dir, "a");
    const b = join(dir, "b");
    for (const [p, text] of [[a, "first"], [b, "second"]] as const) {
      await fsp.mkdir(p);
      await fsp.writeFile(join(p, "f"), text);
    }
    const final = join(dir, "entries", "k");
    assert.equal(await publishDir(a, final), true);
    assert.equal(await publishDir(b, final), false);
    assert.equal(await fsp.readFile(join(final, "f"), "utf8"), "first");
    assert.deepEqual((await fsp.readdir(dir)).sort(), ["entries"]);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

Deno.test("hashJson() does not depend on key order", () => {
  assert.equal(hashJson({ a: 1, b: [{ c: 2, d: 3 }] }), hashJson({ b: [{ d: 3, c: 2 }], a: 1 }));
  assert.notEqual(hashJson({ a: [1, 2] }), hashJson({ a: [2, 1] }));
});

Deno.test("isInside() and lastLines() do what their names say", () => {
  assert.ok(isInside("/a/b", "/a/b/c"));
  assert.ok(isInside("/a/b", "/a/b"));
  assert.ok(!isInside("/a/b", "/a/bc"));
  assert.ok(!isInside("/a/b", "/a"));
  assert.deepEqual(lastLines("1\n2\n3\n\n", 2), ["2", "3"]);
});
