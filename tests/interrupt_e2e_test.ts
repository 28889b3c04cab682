// Ctrl-C at any moment (issue 12, item 10): while index pages are being fetched, while the
// resolver works, while files transfer, the CLI prints one line and exits 130, never a stack
// trace. The index answers slowly so that each interrupt lands in a different phase.
import assert from "node:assert/strict";
import { join } from "node:path";
import { indexArgs, LINUX_312, withServer } from "./_e2e_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

Deno.test("Ctrl-C at several moments of a run always exits 130 with one line, never a stack trace", () =>
  withServer(async (server, dir) => {
    // Moments of the run, counted from its first request: a loaded machine can take longer than
    // these offsets just to start the process, and a signal before the CLI runs says nothing.
    for (const afterMs of [0, 250, 500, 750, 1000]) {
      const before = server.requests.length;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          join(ROOT, "cli", "main.ts"),
          "download",
          ...indexArgs(server.indexUrl, join(dir, `cache-${afterMs}`)),
          "-d",
          join(dir, `wh-${afterMs}`),
          ...LINUX_312,
          "example-app[fast]",
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const started = Date.now();
      while (server.requests.length === before && Date.now() - started < 20_000) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, afterMs));
      try {
        child.kill("SIGINT");
      } catch { /* it finished first: nothing to interrupt */ }
      const out = await child.output();
      const stderr = decoder.decode(out.stderr);
      assert.doesNotMatch(stderr, /Uncaught|^\s+at /m, `interrupt after ${afterMs} ms`);
      assert.ok(
        out.code === 130 || out.code === 0,
        `exit ${out.code} after ${afterMs} ms: ${stderr}`,
      );
      if (out.code === 130) assert.match(stderr, /^Interrupted; partial downloads are kept/m);
    }
  }, { latencyMs: 150 }));
