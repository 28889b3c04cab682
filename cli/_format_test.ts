import assert from "node:assert/strict";
import { formatBytes, formatDuration, plural } from "./_format.ts";

Deno.test("formatBytes() uses binary units with one decimal", () => {
  assert.equal(formatBytes(17), "17 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(312 * 1024 * 1024), "312.0 MiB");
});

Deno.test("formatDuration() switches to minutes past a minute", () => {
  assert.equal(formatDuration(900), "0.90s");
  assert.equal(formatDuration(12_340), "12.3s");
  assert.equal(formatDuration(125_000), "2m05s");
});

Deno.test("plural() adds an s unless the count is one", () => {
  assert.equal(plural(1, "file"), "1 file");
  assert.equal(plural(0, "file"), "0 files");
  assert.equal(plural(40, "package"), "40 packages");
});
