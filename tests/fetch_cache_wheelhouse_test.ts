// End-to-end: real archives served over HTTP, fetched into the local cache, linked into a
// wheelhouse, which real pip then installs from with --no-index --find-links and as a PEP 503 index.

import assert from "node:assert/strict";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import { WheelhouseStore } from "../cache/wheelhouse_store.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import { buildSdist, buildWheel } from "./wheel_factory.ts";
import { havePip } from "./_python.ts";

const pip = await havePip("the pip end-to-end wheelhouse test");

async function pipDownload(args: string[], dest: string): Promise<string[]> {
  const out = await new Deno.Command("python3", {
    args: [
      "-m",
      "pip",
      "download",
      "--disable-pip-version-check",
      "--no-cache-dir",
      "-d",
      dest,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: {
      PIP_CONFIG_FILE: "/dev/null",
      PIP_FIND_LINKS: "",
      PIP_INDEX_URL: "",
      PIP_EXTRA_INDEX_URL: "",
    },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  return (await Array.fromAsync(Deno.readDir(dest))).map((e) => e.name).sort();
}

Deno.test({
  name: "a synced wheelhouse works with pip --no-index --find-links and as a simple index",
  ignore: !pip,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wheelhouse-e2e-" });
    const wheel = await buildWheel({
      name: "Demo.Pkg",
      version: "1.0",
      requiresDist: ["dep-lib>=2"],
    });
    const dep = await buildWheel({ name: "dep_lib", version: "2.1" });
    const sdist = await buildSdist({ name: "only-sdist", version: "0.3" });
    const files = new Map([wheel, dep, sdist].map((d) => [`/files/${d.filename}`, d]));
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const d = files.get(new URL(req.url).pathname);
      return d ? new Response(d.bytes.slice()) : new Response("no", { status: 404 });
    });
    const base = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    try {
      const cache = new LocalDirStore(`${dir}/cache`);
      const fetcher = new HttpFetchStrategy({ partialDir: cache.partialDir });
      const house = new WheelhouseStore(`${dir}/wh`);
      const wanted = [...files.values()].map((d) => ({
        filename: d.filename,
        sha256: d.sha256,
        url: `${base}/files/${d.filename}`,
        targets: ["py3"],
      }));
      const report = await house.sync(wanted, { cache, fetcher, simple: true });
      assert.equal(report.fetched.length, 3);
      const again = await house.sync(wanted, { cache, fetcher, simple: true });
      assert.equal(again.kept.length, 3);

      const flat = await pipDownload(
        ["--no-index", "--find-links", `${dir}/wh`, "demo-pkg"],
        `${dir}/out1`,
      );
      assert.deepEqual(flat, [dep.filename, wheel.filename].sort());
      // pip would build the sdist to read its metadata (needing setuptools); it is enough that the
      // pages list it.
      const index = await Deno.readTextFile(`${dir}/wh/index.html`);
      assert.ok(index.includes(`${sdist.filename}#sha256=${sdist.sha256}`));
      const viaPage = await pipDownload(
        ["--no-index", "--find-links", `file://${dir}/wh/index.html`, "demo-pkg", "--no-deps"],
        `${dir}/out2`,
      );
      assert.deepEqual(viaPage, [wheel.filename]);
      const viaSimple = await pipDownload(
        ["--index-url", `file://${dir}/wh/simple`, "demo-pkg"],
        `${dir}/out3`,
      );
      assert.deepEqual(viaSimple, [dep.filename, wheel.filename].sort());
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
