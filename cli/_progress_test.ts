import assert from "node:assert/strict";
import { LineProgress, TerminalProgress } from "./_progress.ts";
import { memorySink } from "./io.ts";

Deno.test("TerminalProgress draws an overall bar and one line per transfer, then clears them", () => {
  const out = memorySink(true);
  let now = 0;
  const p = new TerminalProgress(out, { files: 2, bytes: 2048 }, () => now);
  p.start("a", { url: "https://files.example/a-1.0-py3-none-any.whl", total: 1024 });
  now += 200;
  p.progress("a", { done: 512, total: 1024 });
  const drawn = out.text();
  assert.match(drawn, /Downloading .* 0\/2 files, 512 B/);
  assert.match(drawn, /a-1\.0-py3-none-any\.whl 512 B\/1\.0 KiB/);
  p.done("a", {
    result: {
      url: "https://files.example/a-1.0-py3-none-any.whl",
      path: "/c/a",
      sha256: "0".repeat(64),
      size: 1024,
      resumedBytes: 0,
      attempts: 1,
    },
  });
  assert.match(out.text(), /1\/2 files, 1\.0 KiB/);
  p.finish();
  assert.ok(out.text().endsWith("\x1b[0J"), "the drawing is cleared at the end");
});

Deno.test("TerminalProgress redraws at most ten times a second", () => {
  const out = memorySink(true);
  const p = new TerminalProgress(out, { files: 1, bytes: 100 }, () => 1000);
  p.start("a", { url: "https://x/a.whl", total: 100 });
  const before = out.text().length;
  for (let i = 0; i < 50; i++) p.progress("a", { done: i, total: 100 });
  assert.equal(out.text().length, before, "no redraw within the same 100 ms");
});

Deno.test("LineProgress prints plain lines without escape codes", () => {
  const out = memorySink(false);
  const p = new LineProgress(out);
  p.retry!("a", { attempt: 1, delayMs: 250, reason: "server returned 503" });
  assert.equal(out.text(), "Retrying (attempt 2) in 250 ms: server returned 503\n");
  assert.ok(!out.text().includes("\x1b"));
});
