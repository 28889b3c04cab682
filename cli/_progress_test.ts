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
  assert.match(drawn, /Downloading [█░]+ 512 B\/2\.0 KiB · 0\/2 files/);
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
  assert.match(out.text(), /1\.0 KiB\/2\.0 KiB .*· 1\/2 files/);
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

Deno.test("TerminalProgress shows the resolver's progress, then counts transfers started early in the overall bar, with rate and time left", () => {
  const out = memorySink(true);
  let now = 0;
  const p = new TerminalProgress(out, undefined, () => now);
  p.resolving(2);
  p.resolveProgress(3, "numpy");
  assert.match(out.text(), /Resolving for 2 targets: 0 packages decided/);
  now += 150;
  p.resolveProgress(4, "scipy");
  assert.match(out.text(), /Resolving for 2 targets: 4 packages decided · scipy/);
  // An early download, before the plan's totals are known.
  p.start("a", { url: "https://x/a-1.0-py3-none-any.whl", total: 10_000 });
  for (let i = 1; i <= 5; i++) {
    now += 150;
    p.progress("a", { done: i * 1000, total: 10_000 });
  }
  assert.match(
    out.text(),
    /Downloading [█░]+ 4\.9 KiB\/9\.8 KiB · [\d.]+ KiB\/s · \d+s left · 0\/1 files/,
  );
  p.planned({ files: 2, bytes: 30_000 });
  now += 150;
  p.progress("a", { done: 6000, total: 10_000 });
  assert.match(out.text(), /5\.9 KiB\/29\.3 KiB .* 0\/2 files/);
  assert.doesNotMatch(out.text().split("\x1b[0J").at(-1)!, /Resolving/);
});
