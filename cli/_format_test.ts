import assert from "node:assert/strict";
import { formatBytes, formatDuration } from "./_format.ts";

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
