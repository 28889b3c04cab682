import assert from "node:assert/strict";
import { parseDenoTestSummary } from "./run_all.ts";

Deno.test("parseDenoTestSummary() reads passed, failed and ignored counts", () => {
  const out = "...\nok | 12 passed (3 steps) | 0 failed | 2 ignored (1234ms)\n";
  assert.deepEqual(parseDenoTestSummary(out, 0), { passed: 12, failed: 0, ignored: 2 });
});

Deno.test("parseDenoTestSummary() reads a failed run", () => {
  const out = "FAILED | 3 passed | 2 failed (40ms)\n";
  assert.deepEqual(parseDenoTestSummary(out, 1), { passed: 3, failed: 2, ignored: 0 });
});

Deno.test("parseDenoTestSummary() counts a run that never started as one failure", () => {
  assert.deepEqual(parseDenoTestSummary("error: TS2322", 1), { passed: 0, failed: 1, ignored: 0 });
});

Deno.test("parseDenoTestSummary() counts a non-zero exit with no failures as a failure", () => {
  assert.deepEqual(parseDenoTestSummary("ok | 3 passed | 0 failed (1ms)", 1), {
    passed: 3,
    failed: 1,
    ignored: 0,
  });
});
