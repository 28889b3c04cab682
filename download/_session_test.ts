import assert from "node:assert/strict";
import type { CachedResponse } from "../index/types.ts";
import { bestEffortPages } from "./_session.ts";

Deno.test("bestEffortPages() turns failed page writes into one warning and keeps reading", async () => {
  const warnings: string[] = [];
  const pages = bestEffortPages({
    get: () =>
      Promise.resolve({ body: new Uint8Array([1]), meta: { url: "u", status: 200, storedAt: 0 } }),
    put: () =>
      Promise.reject(Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" })),
  }, (m) => warnings.push(m));
  await pages.put("page:a", new Uint8Array(), { url: "u", status: 200, storedAt: 0 });
  await pages.put("page:b", new Uint8Array(), { url: "u", status: 200, storedAt: 0 });
  await pages.flush();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot write index pages to the cache \(EROFS/);
  assert.equal((await pages.get("page:a"))?.body[0], 1);
});

Deno.test("bestEffortPages() writes behind the caller, in order per key; reads and flush wait for the writes", async () => {
  const disk = new Map<string, CachedResponse>();
  const gates: (() => void)[] = [];
  const pages = bestEffortPages({
    get: (key) => Promise.resolve(disk.get(key)),
    // Each write waits for the test to let it land.
    put: (key, body, meta) =>
      new Promise<void>((done) =>
        gates.push(() => {
          disk.set(key, { body, meta });
          done();
        })
      ),
  }, () => {});
  const meta = { url: "u", status: 200, storedAt: 0 };
  // put() returns before the write has landed: the page goes on to the resolver at once.
  await pages.put("page:a", new Uint8Array([1]), meta);
  await pages.put("page:a", new Uint8Array([2]), meta);
  assert.equal(disk.size, 0);
  let ran = false;
  pages.later(() => Promise.resolve().then(() => void (ran = true)));
  const read = pages.get("page:a");
  const flushed = pages.flush();
  // The second write of a key starts only once the first has landed.
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(gates.length, 1);
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(disk.get("page:a")?.body[0], 1);
  assert.equal(gates.length, 1);
  gates.shift()!();
  await flushed;
  assert.equal(disk.get("page:a")?.body[0], 2);
  assert.equal((await read)?.body[0], 2, "a read waits for the key's writes");
  assert.equal(ran, true);
});
