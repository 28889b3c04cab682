import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import { buildWheel } from "../tests/wheel_factory.ts";
import { UvCacheReader } from "./unstable_uv_cache_store.ts";
import { archivePointer, httpFile, msgStr, writeTree } from "../tests/_uv_cache_fixture.ts";

Deno.test("UvCacheReader finds wheels through .http pointers and rebuilds an equivalent .whl", async () => {
  const root = await Deno.makeTempDir({ prefix: "uv-cache-" });
  try {
    const wheel = await buildWheel({ name: "Demo.Pkg", version: "1.0" });
    const tree = unzipSync(wheel.bytes);
    const id = "Abc123_def456-XYZ";
    await writeTree(`${root}/archive-v0/${id}`, tree);
    await writeTree(root, {
      [`wheels-v5/pypi/demo-pkg/${wheel.filename.replace(/\.whl$/, "")}.http`]: httpFile(
        archivePointer(id, wheel.sha256),
      ),
      // Older bucket with a pointer to a missing archive, and a broken pointer: both ignored.
      "wheels-v4/pypi/gone/gone-1.0-py3-none-any.http": httpFile(
        archivePointer("missing-archive", undefined),
      ),
      "wheels-v5/pypi/bad/bad-1.0-py3-none-any.http": new Uint8Array([1, 2, 3]),
    });
    const reader = new UvCacheReader(root);
    assert.deepEqual(await reader.buckets(), {
      wheels: ["wheels-v5", "wheels-v4"],
      archive: ["archive-v0"],
    });
    const [entry, ...rest] = await reader.list();
    assert.equal(rest.length, 0);
    assert.ok(entry);
    assert.equal(entry.filename, wheel.filename);
    assert.equal(entry.project, "demo-pkg");
    assert.equal(entry.originalSha256, wheel.sha256);
    assert.equal((await reader.forProject("DEMO_pkg")).length, 1);

    const found = await reader.find(wheel.filename);
    assert.equal(found.kind, "found");
    assert.equal((await reader.find(wheel.filename, { requireHashes: true })).kind, "unusable");
    assert.equal((await reader.find("nope-1.0-py3-none-any.whl")).kind, "absent");

    const rebuilt = await reader.rebuildWheel(entry, `${root}/out/${wheel.filename}`);
    assert.equal(rebuilt.rebuilt, true);
    assert.match(rebuilt.note, /rebuilt from uv's unpacked cache/);
    const bytes = await Deno.readFile(rebuilt.path);
    assert.equal(rebuilt.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.deepEqual(unzipSync(bytes), tree);
    const names = Object.keys(unzipSync(bytes));
    assert.match(names.at(-1) ?? "", /\.dist-info\//, "dist-info goes last");
    // Reproducible: the same tree always rebuilds to the same bytes.
    const again = await reader.rebuildWheel(entry, `${root}/out/again.whl`);
    assert.equal(again.sha256, rebuilt.sha256);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("UvCacheReader reads .rev pointers of local wheels and maps with named fields", async () => {
  const root = await Deno.makeTempDir({ prefix: "uv-cache-" });
  try {
    const wheel = await buildWheel({ name: "local_thing", version: "0.2" });
    const id = "local-archive-0001";
    await writeTree(`${root}/archive-v0/${id}`, unzipSync(wheel.bytes));
    // { timestamp: 1, archive: { id, hashes: [{ algorithm: "sha256", digest }] } }
    const pointer = new Uint8Array([
      0x82,
      ...msgStr("timestamp"),
      0x01,
      ...msgStr("archive"),
      0x82,
      ...msgStr("id"),
      ...msgStr(id),
      ...msgStr("hashes"),
      0x91,
      0x82,
      ...msgStr("algorithm"),
      ...msgStr("sha256"),
      ...msgStr("digest"),
      ...msgStr(wheel.sha256),
    ]);
    await writeTree(root, {
      [`wheels-v6/path/0123abcd/${wheel.filename.replace(/\.whl$/, "")}.rev`]: pointer,
    });
    const [entry] = await new UvCacheReader(root).list();
    assert.equal(entry?.filename, wheel.filename);
    assert.equal(entry?.originalSha256, wheel.sha256);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("UvCacheReader sees nothing in a directory that is not a uv cache", async () => {
  const reader = new UvCacheReader("/definitely/not/here");
  assert.deepEqual(await reader.buckets(), { wheels: [], archive: [] });
  assert.deepEqual(await reader.list(), []);
});
