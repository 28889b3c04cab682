import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import { CrashError, MemoryFs } from "../fetcher/memory_fs.ts";
import type { FetchRequest, FetchResult, FetchStrategy, FileSystem } from "../fetcher/types.ts";
import { nodeFs } from "../fetcher/node_fs.ts";
import { LocalDirStore } from "./local_dir_store.ts";
import { CacheError } from "./types.ts";

const enc = new TextEncoder();

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function noSleep(): Promise<void> {
  return Promise.resolve();
}

function store(
  fs: MemoryFs,
  extra: Partial<ConstructorParameters<typeof LocalDirStore>[1]> = {},
): LocalDirStore {
  return new LocalDirStore("/cache", { fs, sleep: noSleep, ...extra });
}

async function* chunked(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 7) yield bytes.slice(i, i + 7);
}

Deno.test("LocalDirStore.put() then get() returns the bytes under their sha256, with the side-car facts", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const bytes = enc.encode("some wheel bytes");
  const info = await s.put({ stream: chunked(bytes) }, {
    filename: "Demo_Pkg-1.0-py3-none-any.whl",
    url: "https://u:secret@files.example/demo.whl",
  });
  assert.equal(info.sha256, sha256(bytes));
  assert.equal(info.project, "demo-pkg");
  assert.equal(info.url, "https://u:***@files.example/demo.whl");
  const got = await s.get(info.sha256);
  assert.equal(got.kind, "hit");
  if (got.kind === "hit") {
    assert.deepEqual(await fs.readFile(got.path), bytes);
    assert.equal(got.info.filename, "Demo_Pkg-1.0-py3-none-any.whl");
    assert.equal(got.path, `/cache/archives-v1/${info.sha256.slice(0, 2)}/${info.sha256}`);
  }
  assert.deepEqual((await s.list()).map((e) => e.sha256), [info.sha256]);
});

Deno.test("LocalDirStore.put() refuses bytes that do not match the expected hash and publishes nothing", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const expected = "a".repeat(64);
  await assert.rejects(
    s.put({ bytes: enc.encode("x") }, { sha256: expected, filename: "x-1.whl" }),
    (e: unknown) =>
      e instanceof CacheError && e.code === "hash-mismatch" && e.message.includes(expected),
  );
  assert.deepEqual(await s.list(), []);
  assert.deepEqual([...fs.disk.files.keys()].filter((p) => p.includes(".tmp-")), []);
});

Deno.test("LocalDirStore.get() detects a corrupt entry by hash, removes it and reports a miss", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const info = await s.put({ bytes: enc.encode("good") });
  const entry = fs.disk.files.get(s.pathOf(info.sha256));
  assert.ok(entry);
  entry.data = enc.encode("evil");
  assert.deepEqual(await s.get(info.sha256), { kind: "miss", reason: "corrupt" });
  assert.equal(await s.has(info.sha256), false);
  // A later put of the right bytes repairs it.
  await s.put({ bytes: enc.encode("good") }, { sha256: info.sha256 });
  assert.equal((await s.get(info.sha256)).kind, "hit");
});

Deno.test("LocalDirStore rejects keys that are not sha256", async () => {
  const s = store(new MemoryFs());
  await assert.rejects(
    s.get("../../etc/passwd"),
    (e: unknown) => e instanceof CacheError && e.code === "invalid-key",
  );
  await assert.rejects(
    s.delete("abc"),
    (e: unknown) => e instanceof CacheError && e.code === "invalid-key",
  );
});

Deno.test("LocalDirStore retries a rename that fails with EBUSY/EACCES/EPERM, then succeeds", async () => {
  let failures = 0;
  const delays: number[] = [];
  const fs = new MemoryFs({
    fault: (op) => {
      if (op === "rename" && failures < 3) {
        failures++;
        return ["EBUSY", "EACCES", "EPERM"][failures - 1];
      }
      return undefined;
    },
  });
  const s = new LocalDirStore("/cache", {
    fs,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
  const info = await s.put({ bytes: enc.encode("held by antivirus") });
  assert.equal(failures, 3);
  assert.equal(delays.length, 3);
  assert.ok(delays[0]! < delays[2]!, `back-off grows: ${delays}`);
  assert.equal((await s.get(info.sha256)).kind, "hit");
});

Deno.test("LocalDirStore fails with a clear message when a rename keeps failing", async () => {
  const fs = new MemoryFs({ fault: (op) => (op === "rename" ? "EBUSY" : undefined) });
  const s = store(fs, { renameAttempts: 4 });
  await assert.rejects(
    s.put({ bytes: enc.encode("x") }),
    (e: unknown) =>
      e instanceof CacheError && e.code === "rename-failed" &&
      /EBUSY after 4 attempts/.test(e.message) &&
      /antivirus/.test(e.message),
  );
  assert.deepEqual([...fs.disk.files.keys()].filter((p) => p.includes(".tmp-")), []);
});

Deno.test("LocalDirStore.httpStorage() stores pages with metadata, keyed by URL", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const key = "https://pypi.example/simple/requests/";
  const http = s.httpStorage<{ etag: string; storedAt?: number }>();
  assert.equal(await http.get(key), undefined);
  await http.put(key, enc.encode("<html>"), { etag: '"1"', storedAt: 5 });
  await http.put(key, enc.encode("<html>v2"), { etag: '"2"' });
  const got = await http.get(key);
  assert.deepEqual(got?.meta, { etag: '"2"' });
  assert.equal(new TextDecoder().decode(got?.body), "<html>v2");
  assert.equal(await s.httpStorage().get("https://pypi.example/simple/other/"), undefined);
  assert.equal(await s.httpStorage().delete(key), true);
  assert.equal(await s.httpStorage().delete(key), false);
});

Deno.test("LocalDirStore.httpStorage() drops a torn page file instead of returning it", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const key = "https://pypi.example/simple/x/";
  await s.httpStorage().put(key, enc.encode("body"), null);
  const [path] = [...fs.disk.files.keys()].filter((p) => p.includes("/http-v1/"));
  assert.ok(path);
  fs.disk.files.get(path)!.data = enc.encode("WHC1\u0000\u0000\u0010");
  assert.equal(await s.httpStorage().get(key), undefined);
});

Deno.test("LocalDirStore.clean(project) removes only that project's files and pages", async () => {
  const s = store(new MemoryFs());
  const a = await s.put({ bytes: enc.encode("a") }, { filename: "Foo.Bar-1.0-py3-none-any.whl" });
  const b = await s.put({ bytes: enc.encode("b") }, { filename: "other-1.0.tar.gz" });
  await s.httpStorage().put("https://i.example/simple/foo-bar/", enc.encode("p"), null);
  await s.httpStorage().put("https://i.example/simple/other/", enc.encode("q"), null);
  const report = await s.clean("FOO_bar");
  assert.equal(report.removedFiles, 2);
  assert.equal(await s.has(a.sha256), false);
  assert.equal(await s.has(b.sha256), true);
  assert.equal(await s.httpStorage().get("https://i.example/simple/foo-bar/"), undefined);
  assert.ok(await s.httpStorage().get("https://i.example/simple/other/"));
  const all = await s.clean();
  assert.equal(all.removedFiles, 2);
  assert.deepEqual(await s.stats(), {
    root: "/cache",
    entries: 0,
    bytes: 0,
    httpEntries: 0,
    httpBytes: 0,
    partialFiles: 0,
    partialBytes: 0,
  });
});

Deno.test("LocalDirStore.clean(project) matches only a page's project segment and a metadata key's file name", async () => {
  const s = store(new MemoryFs());
  const http = s.httpStorage();
  const base = "http://127.0.0.1:8911";
  const keys = {
    legacyPage: `page:auto:${base}/simple/example-legacy/`,
    certsPage: `page:json:${base}/simple/Example.Certs/`,
    simplePage: `page:auto:${base}/simple/simple/`,
    legacyWheel: `metadata:${base}/files/example_legacy-1.0-py3-none-any.whl`,
    legacySdist: `metadata:${base}/files/example-legacy-1.0.tar.gz`,
    // Under a folder named after another project: the file name decides, not the folder.
    otherSdist: `metadata:${base}/packages/example-legacy/other-2.0.tar.gz`,
    // A longer name sharing the prefix is another project.
    legacyToolsSdist: `metadata:${base}/files/example-legacy-tools-1.0.tar.gz`,
  };
  for (const key of Object.values(keys)) await http.put(key, enc.encode(key), null);
  const present = async () => {
    const out: string[] = [];
    for (const [name, key] of Object.entries(keys)) if (await http.get(key)) out.push(name);
    return out.sort();
  };
  const all = Object.keys(keys).sort();

  // "simple" is a segment of every page URL, but only one page is the project "simple".
  assert.equal((await s.clean("simple")).removedFiles, 1);
  assert.deepEqual(await present(), all.filter((k) => k !== "simplePage"));

  for (const bad of ["127.0.0.1:8911", "a/b", "-x", ""]) {
    await assert.rejects(
      s.clean(bad),
      (e: unknown) =>
        e instanceof CacheError && e.code === "invalid-key" &&
        e.message.includes(`"${bad}"`) && e.message.includes("not a valid project name"),
    );
  }
  assert.deepEqual(await present(), all.filter((k) => k !== "simplePage"));

  assert.equal((await s.clean("Example_Legacy")).removedFiles, 3);
  assert.deepEqual(await present(), ["certsPage", "legacyToolsSdist", "otherSdist"]);
  assert.equal((await s.clean("example-certs")).removedFiles, 1);
  assert.deepEqual(await present(), ["legacyToolsSdist", "otherSdist"]);
});

Deno.test("LocalDirStore.prune() removes stale temps, orphan side-cars and partials nobody writes", async () => {
  let now = 1_000_000;
  let ownerRuns = true;
  const fs = new MemoryFs({ now: () => now });
  const s = store(fs, {
    now: () => now,
    staleTempMs: 100,
    stalePartialMs: 1000,
    ownerAlive: () => ownerRuns,
  });
  const kept = await s.put({ bytes: enc.encode("kept") });
  await fs.mkdir("/cache/archives-v1/ab", { recursive: true });
  for (
    const p of [
      "/cache/archives-v1/ab/.tmp-dead-x",
      `/cache/archives-v1/ab/${"ab".repeat(32)}.json`,
    ]
  ) {
    const f = await fs.open(p, "w");
    await f.write(enc.encode("junk"));
    await f.close();
  }
  await fs.mkdir("/cache/partial", { recursive: true });
  // A partial download whose lock names its (running) owner.
  await (await fs.open("/cache/partial/live.part", "w")).close();
  const lock = await fs.open("/cache/partial/live.part.lock", "w");
  await lock.write(enc.encode(JSON.stringify({ pid: 4242, host: "h" })));
  await lock.close();
  now += 50;
  assert.equal((await s.prune()).removedFiles, 0, "young files belong to live writers");
  now += 100;
  assert.equal((await s.prune()).removedFiles, 2, "stale temp and orphan side-car");
  assert.equal((await s.prune()).removedFiles, 0, "the owner still runs: its partial stays");
  ownerRuns = false;
  assert.equal((await s.prune()).removedFiles, 2, "a dead owner's lock and partial go");
  assert.equal((await s.get(kept.sha256)).kind, "hit");
});

Deno.test("LocalDirStore.obtain() fetches once, then serves from the cache", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const bytes = enc.encode("remote wheel");
  const calls: FetchRequest[] = [];
  const strategy: FetchStrategy = {
    async fetch(request: FetchRequest): Promise<FetchResult> {
      calls.push(request);
      const f = await fs.open(request.destination, "w");
      await f.write(bytes);
      await f.close();
      return {
        url: request.url,
        path: request.destination,
        sha256: sha256(bytes),
        size: bytes.length,
        resumedBytes: 0,
        attempts: 1,
      };
    },
  };
  const request = {
    url: "https://h/x-1.0-py3-none-any.whl",
    sha256: sha256(bytes),
    filename: "x-1.0-py3-none-any.whl",
  };
  await fs.mkdir("/cache/partial", { recursive: true });
  const [first, again] = await Promise.all([
    s.obtain(strategy, request),
    s.obtain(strategy, request),
  ]);
  assert.equal(first.fetched, true);
  assert.equal(again.sha256, first.sha256);
  const third = await s.obtain(strategy, request);
  assert.equal(third.fetched, false);
  assert.equal(calls.length, 1);
  assert.equal(third.project, "x");
  assert.deepEqual(await fs.readFile(third.path), bytes);
  assert.deepEqual([...fs.disk.files.keys()].filter((p) => p.startsWith("/cache/partial/")), []);
});

Deno.test("LocalDirStore.obtain() works on the real file system with a file:// source", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = enc.encode("file wheel");
    await Deno.writeFile(`${dir}/src.whl`, bytes);
    const s = new LocalDirStore(`${dir}/cache`);
    const fetcher = new HttpFetchStrategy({ partialDir: s.partialDir });
    const got = await s.obtain(fetcher, {
      url: new URL(`file://${dir}/src.whl`).href,
      sha256: sha256(bytes),
    });
    assert.deepEqual(await Deno.readFile(got.path), bytes);
    assert.equal((await s.stats()).entries, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Persistence under crashes and concurrent writers.

type Op =
  | { kind: "put"; item: number; via: "bytes" | "stream" | "move" }
  | { kind: "get"; item: number }
  | { kind: "delete"; item: number }
  | { kind: "prune" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      item: fc.nat(3),
      via: fc.constantFrom("bytes" as const, "stream" as const, "move" as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("get" as const), item: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), item: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("prune" as const) }) },
);

Deno.test("LocalDirStore survives crashes at every step and two interleaved writers without corruption", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 9000, size: "max" }), {
        minLength: 4,
        maxLength: 4,
      }),
      fc.array(opArb, { maxLength: 12 }),
      fc.array(opArb, { maxLength: 12 }),
      fc.option(fc.nat(150), { nil: undefined }),
      fc.option(fc.nat(150), { nil: undefined }),
      fc.array(fc.nat(3), { minLength: 16, maxLength: 16 }),
      fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
      async (items, opsA, opsB, crashA, crashB, yields, busy) => {
        const disk = new MemoryFs().disk;
        const published = new Set<string>();
        const deleteStarted = new Set<string>();
        const hashes = items.map(sha256);
        const clean = new MemoryFs({ disk });
        let moveCounter = 0;

        async function writer(ops: Op[], crashAt: number | undefined, salt: number): Promise<void> {
          const fs = new MemoryFs({
            disk,
            ...(crashAt === undefined ? {} : { crashAt }),
            yields: (step) => yields[(step + salt) % yields.length] ?? 0,
            fault: (
              op,
              _path,
              step,
            ) => (op === "rename" && busy[(step * 7 + salt) % busy.length] ? "EBUSY" : undefined),
          });
          const s = new LocalDirStore("/cache", { fs, sleep: noSleep, renameAttempts: 20 });
          for (const op of ops) {
            try {
              if (op.kind === "put") {
                const bytes = items[op.item]!;
                let info;
                if (op.via === "move") {
                  const path = `/cache/partial/src-${salt}-${moveCounter++}`;
                  await fs.mkdir("/cache/partial", { recursive: true });
                  const f = await fs.open(path, "w");
                  await f.write(bytes);
                  await f.close();
                  info = await s.put({ path, move: true }, { sha256: hashes[op.item]! });
                } else {
                  info = await s.put(op.via === "bytes" ? { bytes } : { stream: chunked(bytes) });
                }
                assert.equal(info.sha256, hashes[op.item]);
                published.add(info.sha256);
              } else if (op.kind === "get") {
                const got = await s.get(hashes[op.item]!);
                if (got.kind === "hit") {
                  const bytes = await clean.readFile(got.path).catch(() => undefined);
                  // A concurrent delete may have removed it; if bytes are there they are right.
                  if (bytes) assert.equal(sha256(bytes), hashes[op.item]);
                } else {
                  assert.equal(got.reason, "absent");
                }
              } else if (op.kind === "delete") {
                deleteStarted.add(hashes[op.item]!);
                await s.delete(hashes[op.item]!);
              } else {
                await s.prune();
              }
            } catch (e) {
              if (fs.crashed) return;
              throw e;
            }
          }
        }

        await Promise.all([writer(opsA, crashA, 0), writer(opsB, crashB, 5)]);

        // After a restart: every entry is whole and right, and none is a temp or partial file.
        const s = new LocalDirStore("/cache", { fs: clean, sleep: noSleep });
        const listed = await s.list();
        for (const entry of listed) {
          assert.ok(!entry.sha256.startsWith("."));
          assert.equal(sha256(await clean.readFile(s.pathOf(entry.sha256))), entry.sha256);
          assert.ok(hashes.includes(entry.sha256), "only put bytes become entries");
        }
        // Nothing published before a crash is lost (unless someone deleted it).
        for (const sha of published) {
          if (deleteStarted.has(sha)) continue;
          assert.equal((await s.get(sha)).kind, "hit", `published ${sha} was lost`);
        }
        // Puts are idempotent.
        const before = (await s.list()).length;
        const again = await s.put({ bytes: items[0]! });
        const again2 = await s.put({ bytes: items[0]! });
        assert.deepEqual(again.sha256, again2.sha256);
        assert.ok((await s.list()).length <= before + 1);
        // Leftovers of crashed writers are swept once stale.
        const later = new LocalDirStore("/cache", {
          fs: clean,
          sleep: noSleep,
          now: () => Date.now() + 1e10,
        });
        await later.prune();
        const leftovers = [...disk.files.keys()].filter((p) =>
          p.includes(".tmp-") || p.startsWith("/cache/partial/")
        );
        assert.deepEqual(leftovers, []);
        void CrashError;
      },
    ),
    { numRuns: 250 },
  );
});

Deno.test('get({ verify: "changed" }) trusts an untouched entry and hashes a rewritten one', async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = new LocalDirStore(root);
    const bytes = new TextEncoder().encode("wheel bytes");
    const info = await store.put({ bytes }, { filename: "a-1.0-py3-none-any.whl" });
    const hit = await store.get(info.sha256, { verify: "changed" });
    assert.equal(hit.kind, "hit");
    // Same size, different bytes, later mtime: the stat data no longer matches, so it is hashed.
    const path = store.pathOf(info.sha256);
    await new Promise((r) => setTimeout(r, 20));
    await Deno.writeTextFile(path, "WHEEL BYTES");
    const after = await store.get(info.sha256, { verify: "changed" });
    assert.deepEqual(after, { kind: "miss", reason: "corrupt" });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test('get({ verify: "changed" }) hashes an entry whose bytes changed under a restored mtime', async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Recorded "later" than the write, so the fingerprint is not racy on a whole-second ctime.
    const store = new LocalDirStore(`${dir}/cache`, { now: () => Date.now() + 5_000 });
    const info = await store.put({ bytes: enc.encode("wheel bytes") }, { filename: "a.whl" });
    const hit = await store.get(info.sha256, { verify: "changed" });
    assert.equal(hit.kind, "hit");
    const path = store.pathOf(info.sha256);
    const before = await Deno.stat(path);
    // Later damage (past the whole second that Deno's ctime resolves), same size, mtime put back.
    await new Promise((r) => setTimeout(r, 1_100));
    await Deno.writeFile(path, enc.encode("wheel bytez"), { create: false });
    await Deno.utime(path, before.atime!, before.mtime!);
    const after = await store.get(info.sha256, { verify: "changed" });
    assert.deepEqual(after, { kind: "miss", reason: "corrupt" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('get({ verify: "changed" }) trusts an entry whose only change is a folder of its links removed', async () => {
  // `rm -rf wheels && wheelhouse download -d wheels`: removing the old folder's hard links
  // changes every entry's ctime (its link count), not its bytes. Every warm run into a new
  // folder hashed all it linked (98 MB: 0.21 s became 0.40 s).
  const dir = await Deno.makeTempDir();
  try {
    const reads: string[] = [];
    const fs: FileSystem = {
      ...nodeFs,
      read: (path, options) => {
        reads.push(path);
        return nodeFs.read(path, options);
      },
    };
    const later = () => Date.now() + 5_000; // past any racy window
    const first = new LocalDirStore(`${dir}/cache`, { fs, now: later });
    const info = await first.put({ bytes: enc.encode("wheel bytes") }, { filename: "a.whl" });
    await Deno.mkdir(`${dir}/wheels`);
    await Deno.link(first.pathOf(info.sha256), `${dir}/wheels/a.whl`);
    await first.linked(info.sha256);
    await new Promise((r) => setTimeout(r, 1_100)); // ctime moves even where it has whole seconds
    await Deno.remove(`${dir}/wheels`, { recursive: true });
    reads.length = 0;
    const next = new LocalDirStore(`${dir}/cache`, { fs, now: later });
    assert.equal((await next.get(info.sha256, { verify: "changed" })).kind, "hit");
    assert.deepEqual(reads, [], "not hashed");
    // That lookup recorded the entry as it is now: bytes changed later under a restored mtime
    // (the link count staying put) are still seen.
    const path = next.pathOf(info.sha256);
    const before = await Deno.stat(path);
    await new Promise((r) => setTimeout(r, 1_100));
    await Deno.writeFile(path, enc.encode("wheel bytez"), { create: false });
    await Deno.utime(path, before.atime!, before.mtime!);
    const third = new LocalDirStore(`${dir}/cache`, { fs, now: later });
    assert.deepEqual(await third.get(info.sha256, { verify: "changed" }), {
      kind: "miss",
      reason: "corrupt",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lookups of an entry this process knows good read no side-car", async () => {
  // A warm run looked every entry up three times (early download, delivery, link record), and
  // each read the side-car again.
  const reads: string[] = [];
  const fs = new MemoryFs({
    ctimeExact: true,
    fault: (op, path) => {
      if ((op === "readFile" || op === "read") && path.startsWith("/cache/archives-v1/")) {
        reads.push(path);
      }
      return undefined;
    },
  });
  const first = new LocalDirStore("/cache", { fs });
  const entry = await first.put({ bytes: enc.encode("wheel") }, {
    filename: "a-1.0-py3-none-any.whl",
  });
  // A new process reads the side-car once, then knows the entry.
  const s = new LocalDirStore("/cache", { fs });
  reads.length = 0;
  const hit = await s.get(entry.sha256, { verify: "changed" });
  assert.equal(hit.kind, "hit");
  assert.deepEqual(reads, [`${s.pathOf(entry.sha256)}.json`]);
  await fs.mkdir("/wh", { recursive: true });
  await fs.link(s.pathOf(entry.sha256), "/wh/a-1.0-py3-none-any.whl");
  await s.linked(entry.sha256);
  const again = await s.get(entry.sha256, { verify: "changed" });
  assert.ok(again.kind === "hit" && hit.kind === "hit");
  assert.equal(again.path, hit.path);
  assert.equal(again.info.filename, "a-1.0-py3-none-any.whl");
  assert.equal(again.info.size, 5);
  assert.equal(reads.length, 1, reads.join("\n"));
  // What it knows is the entry as it is: a change of the bytes is hashed, and seen.
  const inode = fs.disk.files.get(s.pathOf(entry.sha256))!;
  inode.data = enc.encode("whee!");
  inode.ctimeMs = Date.now() + 1;
  assert.deepEqual(await s.get(entry.sha256, { verify: "changed" }), {
    kind: "miss",
    reason: "corrupt",
  });
});

Deno.test("the catalogue lists a project's archives from any origin, and the indexes whose page is kept", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  const a = enc.encode("private wheel");
  const b = enc.encode("index wheel");
  await s.put({ bytes: a }, {
    filename: "Private_Pkg-0.1-py3-none-any.whl",
    url: "file:///home/me/private_pkg-0.1-py3-none-any.whl",
    origin: "direct reference",
  });
  await s.put({ bytes: b }, {
    filename: "private_pkg-0.2-py3-none-any.whl",
    url: "https://user:secret@host/files/private_pkg-0.2-py3-none-any.whl",
    origin: "https://user:secret@host/simple/",
    requiresPython: ">=3.8",
  });
  await s.recordPage("private-pkg", "https://user:secret@host/simple/");
  const got = await s.catalogue("PRIVATE.pkg");
  assert.deepEqual(got.files.map((f) => [f.filename, f.sha256, f.origin]), [
    ["Private_Pkg-0.1-py3-none-any.whl", sha256(a), "direct reference"],
    ["private_pkg-0.2-py3-none-any.whl", sha256(b), "https://user:***@host/simple/"],
  ]);
  assert.equal(got.files[1]!.requiresPython, ">=3.8");
  assert.deepEqual(got.pages, ["https://user:***@host/simple/"]);
  assert.ok(
    ![...fs.disk.files.values()].some((f) => new TextDecoder().decode(f.data).includes("secret")),
  );
  assert.deepEqual(await s.catalogueProjects(), ["private-pkg"]);
  // A deleted archive leaves the catalogue; cleaning the project empties it.
  await s.delete(sha256(a));
  assert.deepEqual((await s.catalogue("private-pkg")).files.map((f) => f.sha256), [sha256(b)]);
  await s.clean("private-pkg");
  assert.deepEqual(await s.catalogue("private-pkg"), {
    project: "private-pkg",
    files: [],
    pages: [],
  });
});

Deno.test("the catalogue is built once from the side-cars of a cache written before it existed", async () => {
  const fs = new MemoryFs();
  const s = store(fs);
  await s.put({ bytes: enc.encode("x") }, { filename: "old-1.0-py3-none-any.whl" });
  for (const p of [...fs.disk.files.keys()]) {
    if (p.includes("/catalog-v1/")) fs.disk.files.delete(p);
  }
  assert.deepEqual((await store(fs.restart()).catalogue("old")).files.map((f) => f.filename), [
    "old-1.0-py3-none-any.whl",
  ]);
});

Deno.test("property: after a kill -9 at any step, the catalogue lists only whole archives, and every put that returned", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 0, max: 5 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat({ max: 400 }),
      async (puts, crashAt) => {
        const fs = new MemoryFs({ crashAt });
        const s = store(fs);
        const returned: string[] = [];
        for (const [project, n] of puts) {
          const bytes = enc.encode(`${project} ${n} ${"z".repeat(n * 13)}`);
          try {
            await s.put({ stream: chunked(bytes) }, {
              filename: `${project}-${n}.0-py3-none-any.whl`,
              origin: "https://i.example/simple/",
            });
            returned.push(`${project}-${n}.0-py3-none-any.whl`);
          } catch (e) {
            if (!(e instanceof CrashError) && !(e instanceof CacheError)) throw e;
            break;
          }
        }
        const after = store(fs.restart());
        const listed: string[] = [];
        for (const project of await after.catalogueProjects()) {
          for (const f of (await after.catalogue(project)).files) {
            const hit = await after.get(f.sha256);
            assert.equal(hit.kind, "hit", `${f.filename} is listed and must be whole`);
            listed.push(f.filename);
          }
        }
        // A put that returned before the crash may have lost its line only if the crash came
        // right after the archive published; the next put or prune writes it.
        await after.prune();
        const healed = new Set<string>();
        for (const project of await after.catalogueProjects()) {
          for (const f of (await after.catalogue(project)).files) healed.add(f.filename);
        }
        for (const name of returned) assert.ok(healed.has(name), `${name} is catalogued`);
        for (const name of listed) assert.ok(healed.has(name));
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("obtain() takes another process's finished file that moved into the cache between its lookup and its listing", async () => {
  // Process A finishes a transfer while B waits; A's finished file is in the partial area when
  // B's wait ends, and A moves it into the cache just before B lists the area. B must not fetch
  // the file again (it did: four CI runners transferred some files twice).
  const bytes = new TextEncoder().encode("the finished wheel");
  const hash = sha256(bytes);
  const url = "https://files.example/a-1.0-py3-none-any.whl";
  const root = "/cache";
  let listings = 0;
  let done = "";
  const fs: MemoryFs = new MemoryFs({
    fault: (op, path) => {
      if (op === "readdir" && path === `${root}/partial` && ++listings === 2) {
        // A publishes: one rename of its finished file into the archive store.
        const archive = new LocalDirStore(root, { fs }).pathOf(hash);
        const dir = archive.slice(0, archive.lastIndexOf("/"));
        for (let d = dir; d !== "/" && !fs.disk.dirs.has(d); d = d.slice(0, d.lastIndexOf("/"))) {
          fs.disk.dirs.add(d);
        }
        fs.disk.files.set(archive, fs.disk.files.get(done)!);
        fs.disk.files.delete(done);
      }
      return undefined;
    },
  });
  const b = new LocalDirStore(root, { fs });
  let fetches = 0;
  const strategy: FetchStrategy = {
    fetch: () => {
      fetches++;
      return Promise.reject(new Error("B must not transfer the file"));
    },
    waitForOthers: async () => {
      // A's transfer ends: its finished file lands in the partial area, its lock goes.
      await fs.mkdir(`${root}/partial`, { recursive: true });
      const hex = createHash("sha256").update(url).digest("hex").slice(0, 32);
      done = `${root}/partial/${hex}.a1b2c3.done`;
      const f = await fs.open(done, "wx");
      await f.write(bytes);
      await f.close();
    },
  };
  const got = await b.obtain(strategy, { url, sha256: hash, filename: "a-1.0-py3-none-any.whl" });
  assert.equal(fetches, 0);
  assert.equal(got.fetched, false);
  assert.equal(got.sha256, hash);
});

Deno.test("an entry this process just wrote is not hashed again, even where ctime has whole seconds", async () => {
  // Deno reports ctime in whole seconds: a file written this second has no fingerprint that a
  // later process may trust, but this one wrote (and hashed) it and knows its stat.
  const clock = 1_700_000_000_000; // a whole second: a "racy" fingerprint
  const reads: string[] = [];
  const fs = new MemoryFs({
    now: () => clock,
    fault: (op, path) => {
      if (op === "read" && path.includes("/archives-v1/")) reads.push(path);
      return undefined;
    },
  });
  const s = new LocalDirStore("/cache", { fs, now: () => clock });
  const bytes = new TextEncoder().encode("just downloaded");
  const entry = await s.put({ bytes }, { filename: "a-1.0-py3-none-any.whl" });
  assert.equal(entry.fingerprint, undefined, "racy: nothing recorded for later processes");
  assert.equal((await s.get(entry.sha256, { verify: "changed" })).kind, "hit");
  assert.deepEqual(reads, []);
  // Another process (a new store) has no such knowledge: it hashes.
  const other = new LocalDirStore("/cache", { fs, now: () => clock + 5000 });
  assert.equal((await other.get(entry.sha256, { verify: "changed" })).kind, "hit");
  assert.ok(reads.length > 0);
});

for (const where of ["in the cache", "still in the partial area"] as const) {
  Deno.test(`obtain() does not transfer a file another process finished just before this one took its lock (${where})`, async () => {
    // B looks (nothing), waits (no lock: A has not started or has just let go), looks again
    // (nothing yet); then A finishes and lets go of the lock, and B takes it. B must look once
    // more before asking for a byte: four CI runners on one cache transferred some files twice.
    const bytes = new TextEncoder().encode("the wheel A finished");
    const hash = sha256(bytes);
    const url = "https://files.example/a-1.0-py3-none-any.whl";
    const root = "/cache";
    const hex = createHash("sha256").update(url).digest("hex").slice(0, 32);
    const lock = `${root}/partial/${hex}.part.lock`;
    let spent = false;
    const fs: MemoryFs = new MemoryFs({
      fault: (op, path) => {
        if (spent || op !== "open" || path !== lock) return undefined;
        spent = true;
        // A's transfer ends the moment before B creates the lock: its bytes are in the cache,
        // or still its finished file in the partial area (A moves it in a moment later).
        const theirs = { data: bytes.slice(), mtimeMs: Date.now() };
        let at = `${root}/partial/${hex}.a1b2c3.done`;
        if (where === "in the cache") {
          at = new LocalDirStore(root, { fs }).pathOf(hash);
          const dir = at.slice(0, at.lastIndexOf("/"));
          for (let d = dir; d !== "/" && !fs.disk.dirs.has(d); d = d.slice(0, d.lastIndexOf("/"))) {
            fs.disk.dirs.add(d);
          }
        }
        fs.disk.files.set(at, theirs);
        return undefined;
      },
    });
    const b = new LocalDirStore(root, { fs });
    let requests = 0;
    const strategy = new HttpFetchStrategy({
      fs,
      partialDir: b.partialDir,
      fetch: () => {
        requests++;
        return Promise.resolve(new Response(bytes));
      },
    });
    const got = await b.obtain(strategy, {
      url,
      sha256: hash,
      filename: "a-1.0-py3-none-any.whl",
    });
    assert.equal(requests, 0, "no byte asked for");
    assert.equal(got.fetched, false);
    assert.equal(got.sha256, hash);
    assert.deepEqual(await fs.readFile(got.path), bytes);
    assert.ok(!fs.disk.files.has(lock), "the lock is let go");
  });
}

Deno.test("an entry's side-car is written once as a new file and then rewritten in place: no inode is freed", async () => {
  // A rename over the old side-car frees an inode per rewrite; on ext4 without a journal every
  // later file created then checks each recently freed inode (30-40% of a cold run's CPU).
  const ops: string[] = [];
  const fs = new MemoryFs({
    ctimeExact: true,
    fault: (op, path) => {
      if (path.startsWith("/cache/archives-v1/")) ops.push(`${op} ${path.replace(/.*\//, "")}`);
      return undefined;
    },
  });
  const s = new LocalDirStore("/cache", { fs });
  const bytes = new TextEncoder().encode("a wheel to link");
  const entry = await s.put({ bytes }, { filename: "a-1.0-py3-none-any.whl", project: "a" });
  const sideCar = `${s.pathOf(entry.sha256)}.json`;
  const before = fs.disk.files.get(sideCar);
  assert.ok(before !== undefined);
  await fs.mkdir("/dest", { recursive: true });
  await fs.link(s.pathOf(entry.sha256), "/dest/a-1.0-py3-none-any.whl");
  await s.linked(entry.sha256);
  const after = fs.disk.files.get(sideCar);
  assert.equal(after, before, "the same file, rewritten");
  assert.notEqual(new TextDecoder().decode(after!.data), "", "and not empty");
  // Two renames: the side-car's first write and the archive's publish; none after.
  assert.equal(ops.filter((o) => o.startsWith("rename ")).length, 2, ops.join("\n"));
  assert.deepEqual(ops.filter((o) => o.startsWith("rm ") || o.startsWith("unlink ")), []);
  // And the rewrite is what later lookups read: the linked entry is trusted without hashing.
  const reads: string[] = [];
  const later = new LocalDirStore("/cache", {
    fs: new MemoryFs({
      disk: fs.disk,
      fault: (op, path) => {
        if (op === "read" && !path.endsWith(".json")) reads.push(path);
        return undefined;
      },
    }),
  });
  assert.equal((await later.get(entry.sha256, { verify: "changed" })).kind, "hit");
  assert.deepEqual(reads, []);
});
