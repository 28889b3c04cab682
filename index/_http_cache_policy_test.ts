import assert from "node:assert/strict";
import fc from "fast-check";
import { beforeRequest, isFresh, isStorable, metaAfterNotModified } from "./_http_cache_policy.ts";
import type { CachedResponseMeta } from "./types.ts";

const meta = (over: Partial<CachedResponseMeta> = {}): CachedResponseMeta => ({
  url: "https://h/simple/a/",
  status: 200,
  storedAt: 1_000_000,
  ...over,
});

Deno.test("beforeRequest() uses a page within max-age and revalidates after it", () => {
  const m = meta({ cacheControl: "max-age=600, public", etag: '"e1"' });
  assert.deepEqual(beforeRequest(m, {}, 1_000_000 + 599_000), { kind: "use-stored" });
  assert.deepEqual(beforeRequest(m, {}, 1_000_000 + 600_000), {
    kind: "revalidate",
    headers: { "if-none-match": '"e1"' },
  });
  assert.deepEqual(beforeRequest(meta({ lastModified: "Mon" }), {}, 0), {
    kind: "revalidate",
    headers: { "if-modified-since": "Mon" },
  });
  assert.deepEqual(beforeRequest(meta(), {}, 0), { kind: "fetch" });
});

Deno.test("beforeRequest(): refresh always fetches; offline never does (law)", () => {
  const arbMeta = fc.option(
    fc.record({
      url: fc.constant("u"),
      status: fc.constant(200),
      storedAt: fc.nat(),
      cacheControl: fc.constantFrom("max-age=0", "max-age=600", "no-cache", "no-store"),
      etag: fc.string(),
    }),
    { nil: undefined },
  );
  fc.assert(fc.property(arbMeta, fc.nat(), (m, now) => {
    const refresh = beforeRequest(m, { refresh: true }, now).kind === "fetch";
    const offline = beforeRequest(m, { offline: true }, now).kind;
    return refresh && offline === (m ? "use-stored" : "offline-miss");
  }));
});

Deno.test("isFresh() counts the Age header and honours no-cache", () => {
  assert.equal(isFresh(meta({ cacheControl: "max-age=60", age: 59 }), 1_000_000 + 2_000), false);
  assert.equal(isFresh(meta({ cacheControl: "max-age=60, no-cache" }), 1_000_000), false);
  assert.equal(isStorable(200, "no-store"), false);
  assert.equal(isStorable(200, "max-age=1"), true);
});

Deno.test("metaAfterNotModified() refreshes validators and the reception time", () => {
  const out = metaAfterNotModified(
    meta({ etag: '"a"', cacheControl: "max-age=1", age: 5 }),
    new Headers({ etag: '"b"' }),
    2_000_000,
  );
  assert.deepEqual(out, {
    ...meta({ etag: '"b"', cacheControl: "max-age=1" }),
    storedAt: 2_000_000,
  });
});
