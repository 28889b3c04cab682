import assert from "node:assert/strict";
import fc from "fast-check";
import { ifRangeHolds, parseRange } from "./_range.ts";

Deno.test("parseRange() reads first-last, first- and -suffix ranges, clamped to the file", () => {
  assert.deepEqual(parseRange("bytes=0-9", 100), { kind: "partial", start: 0, end: 10 });
  assert.deepEqual(parseRange("bytes=90-", 100), { kind: "partial", start: 90, end: 100 });
  assert.deepEqual(parseRange("bytes=-10", 100), { kind: "partial", start: 90, end: 100 });
  assert.deepEqual(parseRange("bytes=-500", 100), { kind: "partial", start: 0, end: 100 });
  assert.deepEqual(parseRange("bytes=50-500", 100), { kind: "partial", start: 50, end: 100 });
  assert.deepEqual(parseRange("Bytes = 1-1", 100), { kind: "partial", start: 1, end: 2 });
});

Deno.test("parseRange() answers 416 for ranges past the end and the whole file for nonsense", () => {
  assert.deepEqual(parseRange("bytes=100-", 100), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=-0", 100), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=0-0", 0), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=99999999999999999999-", 100), { kind: "unsatisfiable" });
  for (
    const h of [undefined, "bytes=5-1", "items=0-1", "bytes=a-b", "bytes=-", "bytes=0-1,5-6", "0-1"]
  ) {
    assert.deepEqual(parseRange(h, 100), { kind: "whole" }, String(h));
  }
});

Deno.test("parseRange() never gives a partial range outside the file or an empty one (law)", () => {
  fc.assert(
    fc.property(
      fc.option(fc.nat(300)),
      fc.option(fc.nat(300)),
      fc.nat(200),
      (a, b, size) => {
        const r = parseRange(`bytes=${a ?? ""}-${b ?? ""}`, size);
        if (r.kind === "partial") {
          assert.ok(0 <= r.start && r.start < r.end && r.end <= size);
        }
      },
    ),
  );
});

Deno.test("ifRangeHolds() needs a strong entity tag match or the exact date", () => {
  const etag = '"abc"';
  const ms = Date.parse("2024-03-01T10:00:00.500Z");
  assert.equal(ifRangeHolds(undefined, etag, ms), true);
  assert.equal(ifRangeHolds('"abc"', etag, ms), true);
  assert.equal(ifRangeHolds('"abd"', etag, ms), false);
  assert.equal(ifRangeHolds('W/"abc"', etag, ms), false);
  assert.equal(ifRangeHolds("Fri, 01 Mar 2024 10:00:00 GMT", etag, ms), true);
  assert.equal(ifRangeHolds("Fri, 01 Mar 2024 09:00:00 GMT", etag, ms), false);
  assert.equal(ifRangeHolds("garbage", etag, ms), false);
});
