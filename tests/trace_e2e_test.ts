// WHEELHOUSE_TRACE (issue 18): the CLI writes its own events with their times, for bench/'s
// critical-path account; without the variable nothing is written.
import assert from "node:assert/strict";
import { join } from "node:path";
import { download, LINUX_312, withServer } from "./_e2e_helpers.ts";

Deno.test("WHEELHOUSE_TRACE writes the run's events in time order, from start-up to the end", () =>
  withServer(async (server, dir) => {
    const trace = join(dir, "trace.jsonl");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../cli/main.ts", import.meta.url).pathname,
        "download",
        "--index-url",
        server.indexUrl,
        "--cache-dir",
        join(dir, "cache"),
        "--progress",
        "off",
        "-d",
        join(dir, "wh"),
        "example-app",
      ],
      cwd: dir,
      env: { WHEELHOUSE_TRACE: trace, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const events = (await Deno.readTextFile(trace)).trim().split("\n").map((l) =>
      JSON.parse(l) as { t: number; kind: string }
    );
    const kinds = events.map((e) => e.kind);
    for (const k of ["cli-start", "host-start", "host-done", "resolving", "resolved", "done"]) {
      assert.ok(kinds.includes(k), `${k} in ${kinds.join(",")}`);
    }
    assert.ok(kinds.includes("transfer-start") && kinds.includes("transfer-done"));
    assert.equal(kinds[0], "cli-start");
    assert.equal(kinds.at(-1), "done");
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.t >= events[i - 1]!.t);
    // Without the variable, no trace.
    const plain = await download(server, dir, [
      "-d",
      join(dir, "wh2"),
      ...LINUX_312,
      "example-app",
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".jsonl")).length, 1);
  }));
