import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import type { FetchStrategy } from "../fetcher/types.ts";
import { SimpleIndexClient } from "../index/simple_index_client.ts";
import { startIndexServer } from "../tests/index_server.ts";
import { sha256Hex } from "../tests/wheel_factory.ts";
import { UpstreamSource } from "./upstream_source.ts";

/** A proxy whose transfers, once their bytes are all in, wait for `release` before they end. */
async function proxyWithHeldTransfers(sha256?: string) {
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
  const upstream = await startIndexServer({
    projects: [{
      filename: "a-1.0-py3-none-any.whl",
      bytes,
      ...(sha256 !== undefined ? { sha256 } : {}),
    }],
    // Slow enough that the proxy streams from the partial file while it grows.
    bytesPerSecond: 1_000_000,
  });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-upstream-" });
  const store = new LocalDirStore(join(dir, "cache"));
  const real = new HttpFetchStrategy({ partialDir: store.partialDir });
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let transferred!: () => void;
  const bytesIn = new Promise<void>((r) => transferred = r);
  const fetcher: FetchStrategy = {
    // The real transfer, and then a pause before the cache may publish (a slow disk, a busy
    // machine): the partial file is whole all that time.
    fetch: async (request, options) => {
      const outcome = await real.fetch(request, options).then(
        (r) => ({ r }),
        (e: unknown) => ({ e }),
      );
      transferred();
      await released;
      if ("e" in outcome) throw outcome.e;
      return outcome.r;
    },
  };
  const source = new UpstreamSource({
    client: () => new SimpleIndexClient({ indexes: [upstream.indexUrl] }),
    store,
    fetcher,
    partialPathOf: (url) => real.partialPath(url, ""),
    description: upstream.indexUrl,
    pollMs: 5,
  });
  const close = async () => {
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { bytes, store, source, release, bytesIn, close };
}

/** Reads a body, counting what has arrived so far. */
function reader(body: ReadableStream<Uint8Array>) {
  const got = { bytes: 0, ended: false };
  const all = (async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of body) {
      chunks.push(c);
      got.bytes += c.length;
    }
    got.ended = true;
    const out = new Uint8Array(got.bytes);
    let at = 0;
    for (const c of chunks) out.set(c, (at += c.length) - c.length);
    return out;
  })();
  return { got, all };
}

Deno.test("UpstreamSource: a client's body ends only once the cache has published the checked file", async () => {
  const p = await proxyWithHeldTransfers();
  try {
    const found = await p.source.project("a");
    assert.equal(found.kind, "found");
    if (found.kind !== "found") return;
    const opened = await p.source.open(found.files[0]!);
    assert.equal(opened.kind, "opened");
    if (opened.kind !== "opened") return;
    const r = reader(opened.body);
    await p.bytesIn;
    // Every byte is in the partial file; the publish is held. Give the stream many polls.
    await new Promise((t) => setTimeout(t, 150));
    assert.equal(r.got.ended, false, "the body ended before the file was in the cache");
    assert.ok(r.got.bytes < p.bytes.length);
    p.release();
    assert.deepEqual(await r.all, p.bytes);
    // The moment the client has its file, the cache has it too (a proxy stopped now keeps it).
    assert.equal((await p.store.get(await sha256Hex(p.bytes))).kind, "hit");
    const listed = (await p.store.catalogue("a")).files.map((f) => f.filename);
    assert.deepEqual(listed, ["a-1.0-py3-none-any.whl"]);
  } finally {
    p.release();
    await p.close();
  }
});

Deno.test("UpstreamSource: a file that fails its hash never reaches a client whole", async () => {
  const p = await proxyWithHeldTransfers("0".repeat(64));
  try {
    const found = await p.source.project("a");
    if (found.kind !== "found") throw new Error("not found");
    const opened = await p.source.open(found.files[0]!);
    if (opened.kind !== "opened") throw new Error(opened.kind);
    const r = reader(opened.body);
    await p.bytesIn;
    await new Promise((t) => setTimeout(t, 100));
    p.release();
    await assert.rejects(r.all, /sha256|hash/i);
    assert.ok(r.got.bytes < p.bytes.length, "the client got every byte of a bad file");
  } finally {
    p.release();
    await p.close();
  }
});
