import assert from "node:assert/strict";
import { startIndexServer } from "./index_server.ts";
import { buildWheel } from "./wheel_factory.ts";

const wheel = await buildWheel({ name: "srv", version: "1.0" });

Deno.test("startIndexServer() negotiates JSON or HTML by Accept q-values", async () => {
  const s = await startIndexServer({ projects: [wheel] });
  try {
    const ask = async (accept: string): Promise<string | null> => {
      const r = await fetch(`${s.indexUrl}srv/`, { headers: { accept } });
      await r.body?.cancel();
      return r.headers.get("content-type");
    };
    assert.equal(
      await ask("application/vnd.pypi.simple.v1+json"),
      "application/vnd.pypi.simple.v1+json",
    );
    assert.equal(
      await ask("application/vnd.pypi.simple.v1+json;q=0.1, text/html"),
      "text/html; charset=utf-8",
    );
    assert.equal(s.requests.length, 2);
  } finally {
    await s.close();
  }
});

Deno.test("startIndexServer() answers suffix and bounded ranges, or 200 when range is off", async () => {
  for (const range of [true, false]) {
    const s = await startIndexServer({ projects: [wheel], range });
    try {
      const r = await fetch(`${s.url}files/${wheel.filename}`, { headers: { range: "bytes=-10" } });
      const body = new Uint8Array(await r.arrayBuffer());
      if (range) {
        assert.equal(r.status, 206);
        assert.deepEqual(body, wheel.bytes.subarray(wheel.bytes.length - 10));
        assert.equal(
          r.headers.get("content-range"),
          `bytes ${wheel.bytes.length - 10}-${wheel.bytes.length - 1}/${wheel.bytes.length}`,
        );
      } else {
        assert.equal(r.status, 200);
        assert.deepEqual(body, wheel.bytes);
      }
    } finally {
      await s.close();
    }
  }
});

Deno.test("startIndexServer() requires basic auth when asked and serves .metadata", async () => {
  const s = await startIndexServer({
    projects: [wheel],
    basicAuth: { username: "u", password: "p" },
  });
  try {
    const no = await fetch(`${s.indexUrl}srv/`);
    await no.body?.cancel();
    assert.equal(no.status, 401);
    const yes = await fetch(`${s.url}files/${wheel.filename}.metadata`, {
      headers: { authorization: `Basic ${btoa("u:p")}` },
    });
    assert.equal(await yes.text(), wheel.metadata);
  } finally {
    await s.close();
  }
});
