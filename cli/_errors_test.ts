import assert from "node:assert/strict";
import { describeError, exitCodeOf, InputError } from "./_errors.ts";
import { UsageError } from "./_options.ts";
import { Requirement } from "../pep/requirement.ts";
import { DownloadError } from "../download/types.ts";
import { LockError } from "../lock/types.ts";

Deno.test("exitCodeOf() gives 2 for usage and input problems and 1 for failures", () => {
  assert.equal(exitCodeOf(new UsageError("x")), 2);
  assert.equal(exitCodeOf(new InputError("x")), 2);
  let parseError: unknown;
  try {
    Requirement.parse("foo >=");
  } catch (e) {
    parseError = e;
  }
  assert.equal(exitCodeOf(parseError), 2);
  assert.equal(exitCodeOf(new Error("network down")), 1);
  assert.equal(exitCodeOf(new DownloadError("invalid-input", "x")), 2);
  assert.equal(exitCodeOf(new DownloadError("unusable-destination", "x")), 2);
  assert.equal(exitCodeOf(new DownloadError("offline-miss", "x")), 1);
  assert.equal(exitCodeOf(new DownloadError("download-failed", "x")), 1);
  assert.equal(exitCodeOf(new LockError("outside-folder", "x")), 2);
});

Deno.test("describeError() adds causes that say something new", () => {
  const e = new Error("Cannot fetch x", { cause: new Error("connection reset") });
  assert.equal(describeError(e), "Cannot fetch x\n  caused by: connection reset");
  const same = new Error("boom: inner", { cause: new Error("inner") });
  assert.equal(describeError(same), "boom: inner");
});
