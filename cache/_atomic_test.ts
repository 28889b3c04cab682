import assert from "node:assert/strict";
import type { FileStat } from "../fetcher/types.ts";
import { recordableFingerprint, statFingerprint } from "./_atomic.ts";

const file = (ctimeMs: number, extra: Partial<FileStat> = {}): FileStat => ({
  size: 3,
  isFile: true,
  isDirectory: false,
  mtimeMs: ctimeMs,
  ctimeMs,
  ino: 7,
  ...extra,
});

Deno.test("recordableFingerprint(): a file changed within the clock's resolution is racy, unless ctime is exact", () => {
  // Whole-second ctime (Deno's node:fs): racy for the rest of the second.
  const coarse = file(1_700_000_000_000);
  assert.equal(recordableFingerprint(coarse, 1_700_000_000_400), undefined);
  assert.equal(recordableFingerprint(coarse, 1_700_000_001_000), statFingerprint(coarse));
  // Fine but not exact (an older kernel's coarse clock ticks every few ms): racy for a tick.
  const fine = file(1_700_000_000_123.456789);
  assert.equal(recordableFingerprint(fine, 1_700_000_000_125), undefined);
  assert.equal(recordableFingerprint(fine, 1_700_000_000_200), statFingerprint(fine));
  // Exact (multigrain timestamps): any later change moves ctime, so it is recordable at once.
  const exact = file(1_700_000_000_123.456789, { ctimeExact: true });
  assert.equal(recordableFingerprint(exact, 1_700_000_000_123.5), statFingerprint(exact));
  // No ctime at all: never.
  const { ctimeMs: _, ...none } = file(5);
  assert.equal(recordableFingerprint(none, 1e13), undefined);
});
