import assert from "node:assert/strict";
import { readTar } from "./_tar.ts";
import { makeTar } from "./_tar_testing.ts";
import { BuildError } from "./types.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("readTar() reads files, folders, links, modes and times of a ustar archive", () => {
  const members = readTar(makeTar([
    { name: "demo-1.0/", type: "5", mode: 0o755 },
    { name: "demo-1.0/run.sh", data: "#!/bin/sh\n", mode: 0o755, mtime: 1_600_000_000 },
    { name: "demo-1.0/link", type: "2", linkname: "run.sh" },
    { name: "demo-1.0/hard", type: "1", linkname: "demo-1.0/run.sh" },
  ]));
  assert.deepEqual(members.map((m) => [m.path, m.type]), [
    ["demo-1.0/", "dir"],
    ["demo-1.0/run.sh", "file"],
    ["demo-1.0/link", "symlink"],
    ["demo-1.0/hard", "hardlink"],
  ]);
  assert.equal(text(members[1]?.data ?? new Uint8Array()), "#!/bin/sh\n");
  assert.equal(members[1]?.mode, 0o755);
  assert.equal(members[1]?.mtime, 1_600_000_000);
  assert.equal(members[2]?.linkTarget, "run.sh");
});

Deno.test("readTar() applies pax paths, GNU long names and the ustar prefix", () => {
  const long = `demo-1.0/${"a".repeat(120)}/file.py`;
  const members = readTar(makeTar([
    { name: long, data: "pax", pax: true },
    { name: long.replace("file", "gnu"), data: "gnu", gnuLongName: true },
    { name: long.replace("file", "prefixed"), data: "prefix", ustarPrefix: true },
    { name: "demo-1.0/after.py", data: "plain" },
  ]));
  assert.deepEqual(members.map((m) => m.path), [
    long,
    long.replace("file", "gnu"),
    long.replace("file", "prefixed"),
    "demo-1.0/after.py",
  ]);
  assert.deepEqual(members.map((m) => text(m.data)), ["pax", "gnu", "prefix", "plain"]);
});

Deno.test("readTar() refuses a header with a bad checksum and a truncated member", () => {
  assert.throws(
    () => readTar(makeTar([{ name: "x", data: "1", badChecksum: true }])),
    (e) => e instanceof BuildError && e.code === "invalid-archive" && /checksum/.test(e.message),
  );
  const whole = makeTar([{ name: "x", data: "y".repeat(2000) }]);
  assert.throws(
    () => readTar(whole.subarray(0, 1024)),
    (e) => e instanceof BuildError && /truncated/.test(e.message),
  );
});

Deno.test("readTar() stops at the first zero block and tolerates a missing second one", () => {
  const tar = makeTar([{ name: "a", data: "1" }]);
  assert.equal(readTar(tar.subarray(0, tar.length - 512)).length, 1);
  assert.equal(readTar(new Uint8Array(0)).length, 0);
});
