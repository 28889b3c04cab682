// The resolver's likely pick for a dependency starts downloading before the decision (issue 18:
// long transfers overlap resolution); a decision for another version cancels that guess at once,
// and the folder holds exactly what was decided.
import assert from "node:assert/strict";
import { join } from "node:path";
import { wheelhouse } from "./_e2e_helpers.ts";
import { startIndexServer } from "./index_server.ts";
import { buildWheel } from "./wheel_factory.ts";

interface TraceEntry {
  t: number;
  kind: string;
  file?: string;
  error?: string;
}

Deno.test("a guessed file that a later decision overrules is cancelled then, and never reaches the folder", async () => {
  // app needs b (any: the likely pick is b 2.0, the newest); c needs d, which needs b<2. After
  // b is decided (1.0) the resolution goes on for e, b 1.0's dependency, a few round trips.
  const projects = [
    await buildWheel({ name: "app", version: "1.0", requiresDist: ["b"] }),
    await buildWheel({ name: "c", version: "1.0", requiresDist: ["d"] }),
    await buildWheel({ name: "d", version: "1.0", requiresDist: ["b<2"] }),
    await buildWheel({ name: "b", version: "1.0", requiresDist: ["e"] }),
    await buildWheel({ name: "e", version: "1.0" }),
    // Big and slow: would still be in flight when the resolution ends.
    await buildWheel({ name: "b", version: "2.0", padding: 3_000_000 }),
  ];
  const server = await startIndexServer({ projects, latencyMs: 100, bytesPerSecond: 1_000_000 });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-likely-" });
  try {
    const trace = join(dir, "trace.jsonl");
    const out = await wheelhouse(
      ["download", "-q", "-i", server.indexUrl, "-d", "wh", "--cache-dir", "cache", "app", "c"],
      dir,
      { WHEELHOUSE_TRACE: trace },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "");
    const files = [];
    for await (const e of Deno.readDir(join(dir, "wh"))) {
      if (e.name.endsWith(".whl")) files.push(e.name);
    }
    assert.deepEqual(files.sort(), [
      "app-1.0-py3-none-any.whl",
      "b-1.0-py3-none-any.whl",
      "c-1.0-py3-none-any.whl",
      "d-1.0-py3-none-any.whl",
      "e-1.0-py3-none-any.whl",
    ]);
    const events = (await Deno.readTextFile(trace)).trim().split("\n").map((l) =>
      JSON.parse(l) as TraceEntry
    );
    const guess = "b-2.0-py3-none-any.whl";
    const started = events.find((e) => e.kind === "transfer-start" && e.file === guess);
    const ended = events.find((e) => e.kind === "transfer-done" && e.file === guess);
    const resolved = events.find((e) => e.kind === "resolved");
    // The guess was made (from app's dependency, before b was decided) and cancelled when b was
    // decided, while the resolution still had e to go, not when it ended.
    assert.ok(started && ended && resolved, JSON.stringify(events.map((e) => e.kind)));
    assert.equal(ended.error, "aborted");
    assert.ok(ended.t < resolved.t, `cancelled at ${ended.t} ms, resolved at ${resolved.t} ms`);
    // Every file the folder holds was asked for once.
    const gets = server.requests.filter((r) =>
      r.path.startsWith("/files/") && r.path.endsWith(".whl")
    );
    for (const f of files) assert.equal(gets.filter((g) => g.path === `/files/${f}`).length, 1, f);
    // The cancelled transfer left no archive in the cache (at most a partial file to resume).
    const listed = await wheelhouse(["cache", "list", "--cache-dir", "cache"], dir);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /b-2\.0/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
