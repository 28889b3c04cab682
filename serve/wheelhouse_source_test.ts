import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { buildSdist, buildWheel } from "../tests/wheel_factory.ts";
import { makeWheelhouse } from "./_serve_testing.ts";
import { nodeServeFs } from "./_node_fs.ts";
import { ServeError, type ServeFileSystem } from "./types.ts";
import { WheelhouseSource } from "./wheelhouse_source.ts";

async function text(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("WheelhouseSource offers exactly the manifest's files, grouped by normalised project", async () => {
  const a = await buildWheel({ name: "Demo.Pkg", version: "1.0", requiresPython: ">=3.8" });
  const s = await buildSdist({ name: "Demo.Pkg", version: "1.0" });
  const other = await buildWheel({ name: "other", version: "2.0" });
  const stray = await buildWheel({ name: "stray", version: "1.0" });
  const wh = await makeWheelhouse([a, s, other], { unlisted: [stray] });
  try {
    const source = await WheelhouseSource.open(wh.dir);
    assert.equal(source.fileCount, 3);
    assert.deepEqual((await source.projects()).projects, ["demo-pkg", "other"]);
    const demo = await source.project("DEMO_pkg");
    assert.equal(demo.kind, "found");
    if (demo.kind !== "found") return;
    assert.deepEqual(demo.files.map((f) => f.filename), [a.filename, s.filename].sort());
    const wheel = demo.files.find((f) => f.filename === a.filename)!;
    assert.equal(wheel.sha256, a.sha256);
    assert.equal(wheel.requiresPython, ">=3.8");
    assert.equal(wheel.hasMetadata, true);
    assert.equal(demo.files.find((f) => f.filename === s.filename)?.hasMetadata, false);
    assert.equal((await source.file(stray.filename)).kind, "not-found");
    assert.equal((await source.project("stray")).kind, "not-found");
    assert.equal((await source.file("manifest.json")).kind, "not-found");
    const whole = await source.open(wheel);
    assert.equal(whole.kind, "opened");
    if (whole.kind === "opened") assert.deepEqual(await text(whole.body), a.bytes);
    const part = await source.open(wheel, { start: 10, end: 20 });
    if (part.kind === "opened") assert.deepEqual(await text(part.body), a.bytes.subarray(10, 20));
  } finally {
    await wh.remove();
  }
});

Deno.test("WheelhouseSource leaves out missing, resized and escaping files, with a warning each", async () => {
  const dists = await Promise.all(
    ["a", "b", "c", "d", "e"].map((n) => buildWheel({ name: n, version: "1.0" })),
  );
  const [a, b, c, d, e] = dists;
  if (!a || !b || !c || !d || !e) throw new Error("five wheels");
  const wh = await makeWheelhouse(dists);
  const outside = await Deno.makeTempDir();
  try {
    await Deno.remove(join(wh.dir, a.filename));
    await Deno.writeFile(join(wh.dir, b.filename), new Uint8Array(3));
    // c: a symlink to a copy outside the folder; d: a symlink to a file inside it (allowed).
    await Deno.writeFile(join(outside, c.filename), c.bytes);
    await Deno.remove(join(wh.dir, c.filename));
    await Deno.symlink(join(outside, c.filename), join(wh.dir, c.filename));
    await Deno.rename(join(wh.dir, d.filename), join(wh.dir, "real-d.bin"));
    await Deno.symlink("real-d.bin", join(wh.dir, d.filename));
    const warnings: string[] = [];
    const source = await WheelhouseSource.open(wh.dir, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual((await source.projects()).projects, ["d", "e"]);
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.match(warnings.join("\n"), /a-1\.0.*missing/);
    assert.match(warnings.join("\n"), /b-1\.0.*3 bytes/);
    assert.match(warnings.join("\n"), /c-1\.0.*symlink that leads outside/);

    // A file swapped for an escaping symlink after it was listed is not opened.
    const listed = await source.file(e.filename);
    assert.equal(listed.kind, "found");
    if (listed.kind !== "found") return;
    await Deno.remove(join(wh.dir, e.filename));
    await Deno.writeFile(join(outside, e.filename), e.bytes);
    await Deno.symlink(join(outside, e.filename), join(wh.dir, e.filename));
    const opened = await source.open(listed.file);
    assert.equal(opened.kind, "gone");
    assert.equal(await source.metadata(listed.file), undefined);
  } finally {
    await wh.remove();
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("WheelhouseSource reads a wheel's METADATA once and keeps it in memory", async () => {
  const w = await buildWheel({
    name: "meta",
    version: "1.0",
    requiresDist: ["idna>=3"],
    padding: 200_000,
  });
  const wh = await makeWheelhouse([w]);
  let opens = 0;
  let bytesRead = 0;
  const counting: ServeFileSystem = {
    ...nodeServeFs,
    async open(path) {
      opens++;
      const h = await nodeServeFs.open(path);
      return {
        ...h,
        read: async (buffer, position) => {
          const n = await h.read(buffer, position);
          bytesRead += n;
          return n;
        },
      };
    },
  };
  try {
    const source = await WheelhouseSource.open(wh.dir, { fs: counting });
    const found = await source.file(w.filename);
    if (found.kind !== "found") throw new Error("not listed");
    const [m1, m2] = await Promise.all([source.metadata(found.file), source.metadata(found.file)]);
    assert.equal(new TextDecoder().decode(m1!.bytes), w.metadata);
    assert.equal(m1!.sha256, createHash("sha256").update(m1!.bytes).digest("hex"));
    assert.equal(m2, m1);
    assert.equal(await source.metadata(found.file), m1);
    assert.equal(opens, 1);
    // The central directory and one entry, not the 200 kB wheel.
    assert.ok(bytesRead < w.bytes.length / 2, `${bytesRead} of ${w.bytes.length} bytes read`);
  } finally {
    await wh.remove();
  }
});

Deno.test("WheelhouseSource notices a rewritten manifest and serves the folder as it is now", async () => {
  const a = await buildWheel({ name: "a", version: "1.0" });
  const b = await buildWheel({ name: "b", version: "1.0" });
  const wh = await makeWheelhouse([a]);
  let now = 0;
  try {
    const source = await WheelhouseSource.open(wh.dir, { now: () => now, recheckMs: 1000 });
    const before = await source.projects();
    assert.deepEqual(before.projects, ["a"]);
    const next = await makeWheelhouse([a, b]);
    await Deno.writeFile(join(wh.dir, b.filename), b.bytes);
    await Deno.copyFile(join(next.dir, "manifest.json"), join(wh.dir, "manifest.json"));
    await next.remove();
    assert.deepEqual((await source.projects()).projects, ["a"], "not looked at again yet");
    now = 1000;
    const after = await source.projects();
    assert.deepEqual(after.projects, ["a", "b"]);
    assert.notEqual(after.revision, before.revision);
    // A damaged manifest later: what was listed stays served.
    await Deno.writeTextFile(join(wh.dir, "manifest.json"), "{ not json");
    now = 2000;
    assert.deepEqual((await source.projects()).projects, ["a", "b"]);
  } finally {
    await wh.remove();
  }
});

Deno.test("WheelhouseSource.open() says why a folder cannot be served", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const code = async (path: string): Promise<string> => {
      try {
        await WheelhouseSource.open(path);
        return "opened";
      } catch (e) {
        assert.ok(e instanceof ServeError, String(e));
        return e.code;
      }
    };
    assert.equal(await code(join(dir, "absent")), "no-folder");
    await Deno.writeTextFile(join(dir, "file"), "x");
    assert.equal(await code(join(dir, "file")), "not-a-folder");
    assert.equal(await code(dir), "no-manifest");
    await Deno.writeTextFile(join(dir, "manifest.json"), '{"version": 2}');
    assert.equal(await code(dir), "unreadable-manifest");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
