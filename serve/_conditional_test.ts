import assert from "node:assert/strict";
import { isNotModified } from "./_conditional.ts";

const MS = Date.parse("2024-03-01T10:00:00.750Z");

Deno.test("isNotModified() matches If-None-Match lists weakly, and * always", () => {
  assert.equal(isNotModified({ ifNoneMatch: '"a"' }, '"a"', MS), true);
  assert.equal(isNotModified({ ifNoneMatch: 'W/"a"' }, '"a"', MS), true);
  assert.equal(isNotModified({ ifNoneMatch: '"x", W/"a"' }, 'W/"a"', MS), true);
  assert.equal(isNotModified({ ifNoneMatch: '"b"' }, '"a"', MS), false);
  assert.equal(isNotModified({ ifNoneMatch: "*" }, '"a"', MS), true);
});

Deno.test("isNotModified() reads If-Modified-Since to the second, and only without If-None-Match", () => {
  const same = "Fri, 01 Mar 2024 10:00:00 GMT";
  assert.equal(isNotModified({ ifModifiedSince: same }, '"a"', MS), true);
  assert.equal(
    isNotModified({ ifModifiedSince: "Fri, 01 Mar 2024 09:59:59 GMT" }, '"a"', MS),
    false,
  );
  assert.equal(isNotModified({ ifModifiedSince: "not a date" }, '"a"', MS), false);
  assert.equal(isNotModified({ ifNoneMatch: '"b"', ifModifiedSince: same }, '"a"', MS), false);
  assert.equal(isNotModified({}, '"a"', MS), false);
});
