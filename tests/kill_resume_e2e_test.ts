// After kill -9 (issue 12, item 9): the next run tells the dead owner of a partial download's lock
// from a live one, resumes its partial file with a Range request instead of starting over, and
// leaves nothing behind; `cache prune` removes what dead processes left. A slow index of our own
// (one big wheel, PEP 658 metadata, Range, 64 KiB every 10 ms) makes the kill land mid-transfer.
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildWheel } from "./wheel_factory.ts";
import { indexArgs, LINUX_312, wheelhouse } from "./_e2e_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface SlowIndex {
  url: string;
  ranges: string[];
  gets: number;
  close(): Promise<void>;
}

async function slowIndex(): Promise<SlowIndex & { sha256: string; filename: string }> {
  const wheel = await buildWheel({ name: "big", version: "1.0", padding: 6 * 1024 * 1024 });
  const ranges: string[] = [];
  const state = { gets: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/simple/big/") {
      return new Response(
        `<!DOCTYPE html><html><body><a href="/files/${wheel.filename}#sha256=${wheel.sha256}" ` +
          `data-core-metadata="true">${wheel.filename}</a></body></html>`,
        { headers: { "content-type": "text/html" } },
      );
    }
    if (path === `/files/${wheel.filename}.metadata`) return new Response(wheel.metadata);
    if (path !== `/files/${wheel.filename}`) return new Response("no", { status: 404 });
    state.gets++;
    const range = req.headers.get("range");
    let start = 0;
    if (range !== null) {
      ranges.push(range);
      start = Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);
    }
    const bytes = wheel.bytes.subarray(start);
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (at >= bytes.length) return c.close();
        await new Promise((r) => setTimeout(r, 10));
        c.enqueue(bytes.subarray(at, at + 64 * 1024));
        at += 64 * 1024;
      },
    });
    const headers: Record<string, string> = {
      "content-length": String(bytes.length),
      "accept-ranges": "bytes",
      "etag": `"${wheel.sha256}"`,
    };
    if (start > 0) {
      headers["content-range"] = `bytes ${start}-${wheel.bytes.length - 1}/${wheel.bytes.length}`;
    }
    return new Response(body, { status: start > 0 ? 206 : 200, headers });
  });
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/simple/`,
    ranges,
    get gets() {
      return state.gets;
    },
    sha256: wheel.sha256,
    filename: wheel.filename,
    close: () => server.shutdown(),
  };
}

function downloadArgs(index: string, dir: string, dest: string): string[] {
  return [
    "download",
    ...indexArgs(index, join(dir, "cache")),
    "-d",
    join(dir, dest),
    ...LINUX_312,
    "big==1.0",
  ];
}

/** Starts a download and kills it with SIGKILL once its partial file has some bytes. */
async function killMidTransfer(index: string, dir: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), ...downloadArgs(index, dir, "a")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const partial = join(dir, "cache", "partial");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const sizes: number[] = [];
    for (const name of await namesIn(partial)) {
      if (name.endsWith(".part")) {
        sizes.push((await Deno.stat(join(partial, name)).catch(() => ({ size: 0 }))).size);
      }
    }
    if (sizes.some((n) => n > 256 * 1024)) break;
    assert.ok(Date.now() < deadline, "the transfer never started");
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
}

/** The names in a folder; none when it does not exist. */
async function namesIn(folder: string): Promise<string[]> {
  try {
    const out: string[] = [];
    for await (const e of Deno.readDir(folder)) out.push(e.name);
    return out.sort();
  } catch {
    return [];
  }
}

function partialNames(dir: string): Promise<string[]> {
  return namesIn(join(dir, "cache", "partial"));
}

Deno.test("after kill -9 the next run resumes the dead owner's partial file and leaves nothing behind", async () => {
  const index = await slowIndex();
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-kill-" });
  try {
    await killMidTransfer(index.url, dir);
    const left = await partialNames(dir);
    assert.ok(left.some((n) => n.endsWith(".part.lock")), `the dead owner's lock: ${left}`);
    const r = await wheelhouse(downloadArgs(index.url, dir, "b"), dir, {}, 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(index.ranges.length, 1, "one resumed request");
    assert.match(index.ranges[0]!, /^bytes=[1-9]\d*-$/);
    assert.deepEqual(await partialNames(dir), [], "no partial, lock or side-car left");
  } finally {
    await index.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache prune removes what a killed download left: its lock, its partial and side-car", async () => {
  const index = await slowIndex();
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-kill-" });
  try {
    await killMidTransfer(index.url, dir);
    assert.notDeepEqual(await partialNames(dir), []);
    const r = await wheelhouse(["cache", "prune", "--cache-dir", join(dir, "cache")], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Pruned [1-9]\d* files? \([1-9]/);
    assert.deepEqual(await partialNames(dir), []);
  } finally {
    await index.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("four processes on one cold cache transfer the file once, and all four folders are right", async () => {
  const index = await slowIndex();
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-four-" });
  try {
    const runs = await Promise.all(
      ["a", "b", "c", "d"].map((dest) =>
        wheelhouse(downloadArgs(index.url, dir, dest), dir, {}, 90_000)
      ),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(index.gets, 1, "one transfer of the file in all");
    for (const dest of ["a", "b", "c", "d"]) {
      const names = await namesIn(join(dir, dest));
      assert.ok(names.includes(index.filename), `${dest}: ${names}`);
    }
    assert.deepEqual(await partialNames(dir), []);
  } finally {
    await index.close();
    await Deno.remove(dir, { recursive: true });
  }
});
