// The bench's mirror server: HTML pages by default, PEP 691 JSON with sizes when asked for.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startMirrorServer } from "../bench/mirror_server.ts";
import { buildWheel, sha256Hex } from "./wheel_factory.ts";

const JSON_PAGE = "application/vnd.pypi.simple.v1+json";

Deno.test("mirror server: JSON pages with each file's size (PEP 700) only with json, HTML otherwise", async () => {
  const dir = await Deno.makeTempDir();
  const wheel = await buildWheel({ name: "demo", version: "1.0" });
  await Deno.writeFile(join(dir, wheel.filename), wheel.bytes);
  const sha256 = await sha256Hex(wheel.bytes);
  for (const json of [true, false]) {
    const server = await startMirrorServer({ sources: [{ kind: "flat", dir }], json });
    try {
      const res = await fetch(`${server.indexUrl}demo/`, { headers: { accept: JSON_PAGE } });
      if (!json) {
        assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
        assert.ok((await res.text()).includes(`#sha256=${sha256}`));
        continue;
      }
      assert.equal(res.headers.get("content-type"), JSON_PAGE);
      const page = await res.json();
      assert.equal(page.meta["api-version"], "1.1");
      const [file] = page.files;
      assert.equal(file.filename, wheel.filename);
      assert.equal(file.size, wheel.bytes.length);
      assert.deepEqual(file.hashes, { sha256 });
      assert.ok(file["core-metadata"].sha256);
      const body = await fetch(new URL(file.url, res.url));
      assert.deepEqual(new Uint8Array(await body.arrayBuffer()), wheel.bytes);
      // A client that asks for HTML still gets it.
      const html = await fetch(`${server.indexUrl}demo/`, { headers: { accept: "text/html" } });
      assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
      await html.body?.cancel();
    } finally {
      await server.close();
    }
  }
  await Deno.remove(dir, { recursive: true });
});
