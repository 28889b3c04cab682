import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { buildSdist, buildWheel, ustar } from "./wheel_factory.ts";
import { havePip } from "./_python.ts";

const decoder = new TextDecoder();

const python = await havePip("real-pip checks of the wheel factory");

Deno.test("buildWheel() writes METADATA, WHEEL and a RECORD that lists every file", async () => {
  const w = await buildWheel({
    name: "My.Pkg",
    version: "2.0",
    requiresDist: ["idna"],
    padding: 1000,
  });
  assert.equal(w.filename, "my_pkg-2.0-py3-none-any.whl");
  const files = unzipSync(w.bytes);
  const record = decoder.decode(files["my_pkg-2.0.dist-info/RECORD"]);
  for (const name of Object.keys(files)) assert.ok(record.includes(`${name},`), name);
  assert.equal(decoder.decode(files["my_pkg-2.0.dist-info/METADATA"]), w.metadata);
  assert.ok(w.bytes.length > 1000, "padding does not compress");
});

Deno.test("ustar() pads to 512-byte blocks and ends with two zero blocks", () => {
  const tar = ustar([["a/b.txt", new TextEncoder().encode("hi")]]);
  assert.equal(tar.length, 512 * 4);
  assert.equal(decoder.decode(tar.subarray(257, 262)), "ustar");
});

Deno.test({
  name: "real pip installs a factory wheel from a find-links directory",
  ignore: !python,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const w = await buildWheel({ name: "wh-factory-demo", version: "1.2.3" });
      await Deno.writeFile(`${dir}/${w.filename}`, w.bytes);
      const out = await new Deno.Command("python3", {
        args: [
          "-m",
          "pip",
          "install",
          "--no-index",
          "--find-links",
          dir,
          "--target",
          `${dir}/target`,
          "--no-deps",
          "--disable-pip-version-check",
          "wh-factory-demo",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, decoder.decode(out.stderr));
      const init = await Deno.readTextFile(`${dir}/target/wh_factory_demo/__init__.py`);
      assert.match(init, /1\.2\.3/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Python's tarfile reads a factory sdist and its PKG-INFO",
  ignore: !python,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const s = await buildSdist({ name: "sd", version: "0.1", requiresDist: ["six"] });
      await Deno.writeFile(`${dir}/${s.filename}`, s.bytes);
      const script =
        `import tarfile,sys\nt=tarfile.open(sys.argv[1])\nprint(t.extractfile("sd-0.1/PKG-INFO").read().decode(),end="")`;
      const out = await new Deno.Command("python3", {
        args: ["-c", script, `${dir}/${s.filename}`],
        stdout: "piped",
      })
        .output();
      assert.equal(decoder.decode(out.stdout), s.metadata);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
