import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, zipSync } from "fflate";
import { makeTar, type TarSpec } from "./_tar_testing.ts";
import { BuildError } from "./types.ts";
import { unpackSdist } from "./unpack_sdist.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fsp.mkdtemp(join(tmpdir(), "wh-unpack-"));
  try {
    await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function sdist(dir: string, specs: TarSpec[], name = "demo-1.0.tar.gz"): Promise<string> {
  const path = join(dir, name);
  await fsp.writeFile(path, gzipSync(makeTar(specs)));
  return path;
}

async function refused(archive: string, dest: string, pattern: RegExp): Promise<void> {
  await assert.rejects(
    () => unpackSdist(archive, dest),
    (e) => e instanceof BuildError && e.code === "invalid-archive" && pattern.test(e.message),
  );
  // Nothing at all is written from an archive that breaks the rules.
  assert.deepEqual(await fsp.readdir(dest).catch(() => []), []);
}

Deno.test("unpackSdist() unpacks a .tar.gz into its top folder, keeping executable bits", async () => {
  await withDir(async (dir) => {
    const archive = await sdist(dir, [
      { name: "demo-1.0/", type: "5" },
      { name: "demo-1.0/pyproject.toml", data: "[project]\nname='demo'\n" },
      { name: "demo-1.0/bin/tool", data: "#!/bin/sh\n", mode: 0o755 },
      { name: "demo-1.0/src/demo/__init__.py", data: "" },
      { name: "demo-1.0/src/demo/alias.py", type: "2", linkname: "__init__.py" },
      { name: "demo-1.0/copy.toml", type: "1", linkname: "demo-1.0/pyproject.toml" },
    ]);
    const root = await unpackSdist(archive, join(dir, "out"));
    assert.equal(root, join(dir, "out", "demo-1.0"));
    assert.match(await fsp.readFile(join(root, "pyproject.toml"), "utf8"), /demo/);
    assert.equal((await fsp.stat(join(root, "bin", "tool"))).mode & 0o111, 0o111);
    assert.equal(await fsp.readlink(join(root, "src", "demo", "alias.py")), "__init__.py");
    assert.match(await fsp.readFile(join(root, "copy.toml"), "utf8"), /demo/);
  });
});

Deno.test("unpackSdist() unpacks a .zip and an archive without a single top folder", async () => {
  await withDir(async (dir) => {
    const enc = new TextEncoder();
    await fsp.writeFile(
      join(dir, "z.zip"),
      zipSync({ "a.txt": enc.encode("a"), "b/c.txt": enc.encode("c") }),
    );
    const root = await unpackSdist(join(dir, "z.zip"), join(dir, "out"));
    assert.equal(root, join(dir, "out"));
    assert.equal(await fsp.readFile(join(root, "b", "c.txt"), "utf8"), "c");
  });
});

Deno.test("unpackSdist() refuses members that escape the destination", async () => {
  await withDir(async (dir) => {
    const dest = join(dir, "out");
    await refused(await sdist(dir, [{ name: "demo/../../evil", data: "x" }]), dest, /outside/);
    await refused(await sdist(dir, [{ name: "/etc/evil", data: "x" }]), dest, /outside/);
  });
});

Deno.test("unpackSdist() refuses links that leave the root or pass through other links", async () => {
  await withDir(async (dir) => {
    const dest = join(dir, "out");
    const cases: [TarSpec[], RegExp][] = [
      [[{ name: "d/l", type: "2", linkname: "../../etc/passwd" }], /points outside/],
      [[{ name: "d/l", type: "2", linkname: "/etc/passwd" }], /absolute/],
      // d/s -> .. is inside (it is the root), but d/s/.. would then be the root's parent.
      [
        [{ name: "d/s", type: "2", linkname: ".." }, { name: "t", type: "2", linkname: "d/s/.." }],
        /through another link/,
      ],
      [
        [{ name: "d/l", type: "2", linkname: "." }, { name: "d/l/x", data: "x" }],
        /inside a symbolic link/,
      ],
      [[{ name: "d/h", type: "1", linkname: "/etc/passwd" }], /hard link/],
      [
        [{ name: "d/h", type: "1", linkname: "d/later" }, { name: "d/later", data: "" }],
        /hard link/,
      ],
      [[{ name: "d/dev", type: "3" }], /device or fifo/],
    ];
    for (const [specs, pattern] of cases) await refused(await sdist(dir, specs), dest, pattern);
  });
});

Deno.test("unpackSdist() names the formats it does not read", async () => {
  await withDir(async (dir) => {
    await fsp.writeFile(join(dir, "x.tar.bz2"), new Uint8Array([0x42, 0x5a, 0x68, 0x39, 0, 0]));
    await refused(join(dir, "x.tar.bz2"), join(dir, "out"), /bzip2 and xz/);
    await fsp.writeFile(join(dir, "x.tar.gz"), new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    await refused(join(dir, "x.tar.gz"), join(dir, "out"), /gzip/);
    await fsp.writeFile(join(dir, "notes.txt"), "hello");
    await refused(join(dir, "notes.txt"), join(dir, "out"), /not a tar, tar.gz or zip/);
  });
});
