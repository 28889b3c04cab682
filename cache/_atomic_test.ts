import assert from "node:assert/strict";
import type { FileStat } from "../fetcher/types.ts";
import { fingerprintHolds, recordableFingerprint, statFingerprint } from "./_atomic.ts";

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

Deno.test("fingerprintHolds(): the same stat, or names of the file removed since; nothing else", () => {
  const recorded = statFingerprint(file(1_000, { nlink: 3 }));
  assert.ok(fingerprintHolds(recorded, file(1_000, { nlink: 3 })));
  // A folder of its links removed: ctime moved, the link count fell, nothing else changed.
  assert.ok(fingerprintHolds(recorded, file(1_000, { ctimeMs: 2_000, nlink: 1 })));
  // A link count that grew behind the cache's back, or stayed with ctime moved: hashed.
  assert.ok(!fingerprintHolds(recorded, file(1_000, { ctimeMs: 2_000, nlink: 4 })));
  assert.ok(!fingerprintHolds(recorded, file(1_000, { ctimeMs: 2_000, nlink: 3 })));
  // Whatever the links did, other fields must be the recorded ones.
  for (const changed of [{ size: 4 }, { mtimeMs: 1_001 }, { ino: 8 }]) {
    assert.ok(!fingerprintHolds(recorded, file(1_000, { ctimeMs: 2_000, nlink: 1, ...changed })));
  }
  // A stat without a link count says nothing about links.
  const { nlink: _, ...unknown } = file(1_000, { ctimeMs: 2_000, nlink: 1 });
  assert.ok(!fingerprintHolds(recorded, unknown));
  // No inode number to go by: only the same stat holds.
  const noInode = statFingerprint(file(1_000, { ino: 0, nlink: 2 }));
  assert.ok(!fingerprintHolds(noInode, file(1_000, { ino: 0, ctimeMs: 2_000, nlink: 1 })));
  // A record from before link counts were kept holds unchanged only.
  assert.ok(fingerprintHolds("3:1000:1000:7", file(1_000, { nlink: 2 })));
  assert.ok(!fingerprintHolds("3:1000:1000:7", file(1_000, { ctimeMs: 2_000, nlink: 1 })));
  assert.ok(!fingerprintHolds(undefined, file(1_000)));
});
