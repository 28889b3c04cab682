import assert from "node:assert/strict";
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
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot write index pages to the cache \(EROFS/);
  assert.equal((await pages.get("page:a"))?.body[0], 1);
});
