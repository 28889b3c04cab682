import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./main.ts";
import { type CliIo, type MemorySink, memorySink } from "./io.ts";
import { LocalDirStore } from "../cache/local_dir_store.ts";

function io(cwd: string, env: Record<string, string> = {}): CliIo & {
  stdout: MemorySink;
  stderr: MemorySink;
} {
  return {
    stdout: memorySink(),
    stderr: memorySink(),
    env: (k) => env[k],
    cwd,
    fetch: () => Promise.reject(new Error("no network in this test")),
    now: Date.now,
  };
}

async function withCache(fn: (dir: string, store: LocalDirStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-cache-cmd-" });
  try {
    const store = new LocalDirStore(join(dir, "c"));
    const enc = new TextEncoder();
    await store.put({ bytes: enc.encode("six wheel") }, {
      filename: "six-1.16.0-py2.py3-none-any.whl",
    });
    await store.put({ bytes: enc.encode("idna wheel") }, { filename: "idna-3.7-py3-none-any.whl" });
    await store.httpStorage().put("https://pypi.org/simple/six/", enc.encode("<html>"), {});
    await fn(dir, store);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cache dir prints --cache-dir, else $WHEELHOUSE_CACHE_DIR, resolved against the cwd", async () => {
  const a = io("/work");
  assert.equal(await main(["cache", "dir", "--cache-dir", "c"], a), 0);
  assert.equal(a.stdout.text(), "/work/c\n");
  const b = io("/work", { WHEELHOUSE_CACHE_DIR: "/var/cache/wh", HOME: "/home/ada" });
  assert.equal(await main(["cache", "dir"], b), 0);
  assert.equal(b.stdout.text(), "/var/cache/wh\n");
});

Deno.test("cache info counts files, index pages and partial downloads", () =>
  withCache(async (dir) => {
    const out = io(dir);
    assert.equal(await main(["cache", "info", "--cache-dir", "c"], out), 0);
    assert.match(out.stdout.text(), /Files: 2 \(19 B\)/);
    assert.match(out.stdout.text(), /Index pages: 1 /);
  }));

Deno.test("cache clean PROJECT removes that project's files and pages only", () =>
  withCache(async (dir, store) => {
    const out = io(dir);
    assert.equal(await main(["cache", "clean", "Six", "--cache-dir", "c"], out), 0);
    assert.match(out.stdout.text(), /Removed 2 files/);
    const left = await store.list();
    assert.deepEqual(left.map((e) => e.filename), ["idna-3.7-py3-none-any.whl"]);
    assert.equal(await store.httpStorage().get("https://pypi.org/simple/six/"), undefined);
  }));

Deno.test("cache clean rejects what is not a project name, before removing anything", () =>
  withCache(async (dir, store) => {
    const out = io(dir);
    assert.equal(
      await main(["cache", "clean", "six", "127.0.0.1:8911", "--cache-dir", "c"], out),
      2,
    );
    assert.match(out.stderr.text(), /not project names: "127\.0\.0\.1:8911"/);
    assert.equal((await store.list()).length, 2);
  }));

Deno.test("cache prune removes a corrupt entry and cache clean empties the cache", () =>
  withCache(async (dir, store) => {
    const [entry] = await store.list();
    await Deno.writeTextFile(store.pathOf(entry!.sha256), "tampered");
    const pruned = io(dir);
    assert.equal(await main(["cache", "prune", "--cache-dir", "c"], pruned), 0);
    assert.match(pruned.stdout.text(), /Pruned 1 file /);
    const cleaned = io(dir);
    assert.equal(await main(["cache", "clean", "--cache-dir", "c"], cleaned), 0);
    assert.equal((await store.list()).length, 0);
  }));

Deno.test("cache info, clean and prune refuse a --cache-dir that is a file, and leave it alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-cache-cmd-" });
  try {
    await Deno.writeTextFile(join(dir, "file"), "keep");
    for (const action of ["info", "clean", "prune"]) {
      const out = io(dir);
      assert.equal(await main(["cache", action, "--cache-dir", "file"], out), 2, action);
      assert.equal(out.stdout.text(), "");
      assert.match(out.stderr.text(), /^error: The cache ".*file" exists and is not a folder\n$/);
    }
    assert.equal(await Deno.readTextFile(join(dir, "file")), "keep");
    // A cache that does not exist yet is an empty one.
    const missing = io(dir);
    assert.equal(await main(["cache", "info", "--cache-dir", "none"], missing), 0);
    assert.match(missing.stdout.text(), /Files: 0 /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
