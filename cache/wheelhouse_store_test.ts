import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { MemoryFs } from "../fetcher/memory_fs.ts";
import type { FetchRequest, FetchResult, FetchStrategy } from "../fetcher/types.ts";
import { LocalDirStore } from "./local_dir_store.ts";
import { CacheError } from "./types.ts";
import {
  escapeHtml,
  parseManifest,
  planWheelhouse,
  renderFindLinksPage,
  renderSimpleTree,
  type WantedFile,
  WheelhouseStore,
} from "./wheelhouse_store.ts";

const enc = new TextEncoder();

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const hexArb = fc.constantFrom("a", "b", "c", "d").map((c) => c.repeat(64));
const nameArb = fc.constantFrom(
  "a-1.0-py3-none-any.whl",
  "b-2.0.tar.gz",
  "c-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
  "d-0.1.zip",
);

Deno.test("planWheelhouse() keeps good files, links cached ones, fetches the rest, and lists extras", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.record({ filename: nameArb, sha256: hexArb }), {
        selector: (f) => f.filename,
      }),
      fc.array(
        fc.tuple(
          fc.oneof(nameArb, fc.constant("old-0.1-py3-none-any.whl")),
          fc.option(hexArb, { nil: undefined }),
        ),
      ),
      fc.array(hexArb),
      (files, presentList, cachedList) => {
        const wanted: WantedFile[] = files.map((f) => ({ ...f, url: `https://x/${f.filename}` }));
        const present = new Map<string, { size: number; sha256?: string }>(
          presentList.map(([n, h]) => [n, h === undefined ? { size: 1 } : { size: 1, sha256: h }]),
        );
        const cached = new Set(cachedList);
        const plan = planWheelhouse(wanted, { present, cached });
        assert.deepEqual(
          plan.actions.map((a) => a.file.filename),
          wanted.map((w) => w.filename).sort(),
        );
        for (const action of plan.actions) {
          const p = present.get(action.file.filename);
          const good = p?.sha256 === action.file.sha256;
          if (action.kind === "keep") assert.ok(good);
          else {
            assert.ok(!good);
            assert.equal(action.kind, cached.has(action.file.sha256) ? "link" : "fetch");
            assert.equal(action.replace, p !== undefined);
          }
        }
        assert.deepEqual(
          plan.extra,
          [...present.keys()].filter((n) => !files.some((f) => f.filename === n)).sort(),
        );
      },
    ),
  );
});

Deno.test("planWheelhouse() merges targets of one file and rejects one name with two hashes", () => {
  const f = { filename: "a-1.0-py3-none-any.whl", sha256: "a".repeat(64), url: "https://x/a" };
  const plan = planWheelhouse(
    [{ ...f, targets: ["linux"] }, { ...f, targets: ["macos", "linux"] }],
    {
      present: new Map(),
      cached: new Set(),
    },
  );
  assert.equal(plan.actions.length, 1);
  assert.deepEqual(plan.actions[0]?.file.targets, ["linux", "macos"]);
  assert.throws(
    () =>
      planWheelhouse([f, { ...f, sha256: "b".repeat(64), url: "https://u:pw@y/a" }], {
        present: new Map(),
        cached: new Set(),
      }),
    (e: unknown) => e instanceof CacheError && e.code === "conflict" && !e.message.includes("pw"),
  );
  assert.throws(
    () =>
      planWheelhouse([{ ...f, filename: "../evil.whl" }], {
        present: new Map(),
        cached: new Set(),
      }),
    (e: unknown) => e instanceof CacheError && e.code === "conflict",
  );
});

Deno.test("escapeHtml() leaves no markup characters and round-trips", () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const escaped = escapeHtml(text);
      assert.ok(!/[<>"']/.test(escaped));
      const back = escaped.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
      assert.equal(back, text);
    }),
  );
});

Deno.test("renderFindLinksPage() links every file once with its sha256 fragment, escaped", () => {
  const entries = [
    {
      filename: "x-1.0+a&b-py3-none-any.whl",
      project: "x",
      sha256: "e".repeat(64),
      size: 3,
      url: "u",
      targets: [],
      requiresPython: '>=3.8,!="3.9"',
    },
    {
      filename: "y-1.0.tar.gz",
      project: "y",
      sha256: "f".repeat(64),
      size: 3,
      url: "u",
      targets: [],
    },
  ];
  const html = renderFindLinksPage(entries);
  assert.ok(html.includes(`href="x-1.0%2Ba%26b-py3-none-any.whl#sha256=${"e".repeat(64)}"`));
  assert.ok(html.includes(">x-1.0+a&amp;b-py3-none-any.whl</a>"));
  assert.ok(html.includes('data-requires-python="&gt;=3.8,!=&quot;3.9&quot;"'));
  assert.equal(html.match(/<a /g)?.length, 2);
  const tree = renderSimpleTree(entries, new Map([[entries[0]!.filename, "d".repeat(64)]]));
  // PEP 503 HTML and PEP 691 JSON (for a static server to choose by Accept) per page.
  assert.deepEqual([...tree.keys()].sort(), [
    "simple/index.html",
    "simple/index.json",
    "simple/x/index.html",
    "simple/x/index.json",
    "simple/y/index.html",
    "simple/y/index.json",
  ]);
  const list = JSON.parse(tree.get("simple/index.json")!);
  assert.deepEqual(list.projects, [{ name: "x" }, { name: "y" }]);
  const page = JSON.parse(tree.get(`simple/${entries[0]!.project}/index.json`)!);
  assert.equal(page.meta["api-version"], "1.1");
  const file = page.files.find((f: { filename: string }) => f.filename === entries[0]!.filename);
  assert.deepEqual(file["core-metadata"], { sha256: "d".repeat(64) });
  assert.equal(file.url, `../../${encodeURIComponent(entries[0]!.filename)}`);
  assert.equal(file.size, entries[0]!.size);
  const html2 = tree.get(`simple/${entries[0]!.project}/index.html`)!;
  assert.ok(html2.includes(`data-core-metadata="sha256=${"d".repeat(64)}"`), html2);
  assert.ok(html2.includes(`data-dist-info-metadata="sha256=${"d".repeat(64)}"`), html2);
});

function fakeFetcher(fs: MemoryFs, files: Map<string, Uint8Array>, calls: string[]): FetchStrategy {
  return {
    async fetch(request: FetchRequest): Promise<FetchResult> {
      calls.push(request.url);
      const bytes = files.get(request.url);
      if (!bytes) throw new Error(`no ${request.url}`);
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
}

Deno.test("WheelhouseStore.sync() is incremental: good files stay, bad ones are replaced, extras are left alone", async () => {
  const fs = new MemoryFs();
  const cache = new LocalDirStore("/cache", { fs });
  await fs.mkdir("/cache/partial", { recursive: true });
  const a = enc.encode("wheel a");
  const b = enc.encode("sdist b");
  const remote = new Map([["https://u:pw@x/a-1.0-py3-none-any.whl", a], [
    "https://x/b-2.0.tar.gz",
    b,
  ]]);
  const calls: string[] = [];
  const fetcher = fakeFetcher(fs, remote, calls);
  const wanted: WantedFile[] = [
    {
      filename: "a-1.0-py3-none-any.whl",
      sha256: sha256(a),
      url: "https://u:pw@x/a-1.0-py3-none-any.whl",
      targets: ["linux"],
    },
    {
      filename: "b-2.0.tar.gz",
      sha256: sha256(b),
      url: "https://x/b-2.0.tar.gz",
      targets: ["linux", "macos"],
    },
  ];
  const house = new WheelhouseStore("/wh", { fs });
  await fs.mkdir("/wh", { recursive: true });
  await (await fs.open("/wh/mine-0.1-py3-none-any.whl", "w")).close();

  const first = await house.sync(wanted, { cache, fetcher, simple: true });
  assert.deepEqual(first.fetched.sort(), ["a-1.0-py3-none-any.whl", "b-2.0.tar.gz"]);
  assert.deepEqual(await fs.readFile("/wh/a-1.0-py3-none-any.whl"), a);
  const manifest = parseManifest(new TextDecoder().decode(await fs.readFile("/wh/manifest.json")));
  assert.deepEqual(
    manifest?.files.map((f) => [f.filename, f.project, f.sha256, f.size, f.url, f.targets]),
    [
      [
        "a-1.0-py3-none-any.whl",
        "a",
        sha256(a),
        a.length,
        "https://u:***@x/a-1.0-py3-none-any.whl",
        ["linux"],
      ],
      ["b-2.0.tar.gz", "b", sha256(b), b.length, "https://x/b-2.0.tar.gz", ["linux", "macos"]],
    ],
  );
  assert.ok(
    new TextDecoder().decode(await fs.readFile("/wh/simple/b/index.html")).includes(
      "../../b-2.0.tar.gz#sha256=",
    ),
  );

  const second = await house.sync(wanted, { cache, fetcher });
  assert.deepEqual(second.kept, ["a-1.0-py3-none-any.whl", "b-2.0.tar.gz"]);
  assert.equal(calls.length, 2);

  // A damaged file of the right size is caught with verify, and re-linked from the cache.
  fs.disk.files.set("/wh/b-2.0.tar.gz", { data: enc.encode("sdist X"), mtimeMs: 0 });
  const third = await house.sync(wanted, { cache, fetcher, verify: true });
  assert.deepEqual(third.replaced, ["b-2.0.tar.gz"]);
  assert.deepEqual(third.linked, ["b-2.0.tar.gz"]);
  assert.deepEqual(await fs.readFile("/wh/b-2.0.tar.gz"), b);
  assert.equal(calls.length, 2);
  assert.ok(await fs.stat("/wh/mine-0.1-py3-none-any.whl"));

  // Dropping b with prune removes it (it was ours), but never the user's own file.
  const fourth = await house.sync(wanted.slice(0, 1), { cache, fetcher, prune: true });
  assert.deepEqual(fourth.removed, ["b-2.0.tar.gz"]);
  assert.ok(await fs.stat("/wh/mine-0.1-py3-none-any.whl"));
  assert.deepEqual([...fs.disk.files.keys()].filter((p) => p.includes(".tmp-")), []);
});

Deno.test("WheelhouseStore.sync() without a cache fetches straight into the directory", async () => {
  const fs = new MemoryFs();
  const a = enc.encode("a");
  const calls: string[] = [];
  const house = new WheelhouseStore("/wh", { fs });
  const report = await house.sync(
    [{ filename: "a-1.0-py3-none-any.whl", sha256: sha256(a), url: "https://x/a" }],
    { fetcher: fakeFetcher(fs, new Map([["https://x/a", a]]), calls) },
  );
  assert.deepEqual(report.fetched, ["a-1.0-py3-none-any.whl"]);
  assert.deepEqual(await fs.readFile("/wh/a-1.0-py3-none-any.whl"), a);
});

Deno.test("WheelhouseStore.sync() says what is missing when it has neither cache entry nor fetcher", async () => {
  const house = new WheelhouseStore("/wh", { fs: new MemoryFs() });
  await assert.rejects(
    house.sync([{
      filename: "a-1.0-py3-none-any.whl",
      sha256: "a".repeat(64),
      url: "https://x/a",
    }]),
    (e: unknown) =>
      e instanceof CacheError && e.code === "not-found" &&
      e.message.includes("a-1.0-py3-none-any.whl"),
  );
});

Deno.test("WheelhouseStore copies from the cache when hard links are not possible", async () => {
  const fs = new MemoryFs({ fault: (op) => (op === "link" ? "EXDEV" : undefined) });
  const cache = new LocalDirStore("/cache", { fs });
  const a = enc.encode("a");
  await cache.put({ bytes: a });
  const report = await new WheelhouseStore("/wh", { fs }).sync(
    [{ filename: "a-1.0-py3-none-any.whl", sha256: sha256(a), url: "https://x/a" }],
    { cache },
  );
  assert.deepEqual(report.copied, ["a-1.0-py3-none-any.whl"]);
  assert.deepEqual(await fs.readFile("/wh/a-1.0-py3-none-any.whl"), a);
});

Deno.test("linking a cache entry into a folder keeps it trusted: the next folder links it without hashing it again", async () => {
  // A clock with sub-second times, as ctime has under Node (and most file systems).
  let clock = 1_700_000_000_123.25;
  const reads: string[] = [];
  const fs = new MemoryFs({
    now: () => (clock += 1.5),
    fault: (op, path) => {
      if (op === "read" && path.includes("/archives-v1/")) reads.push(path);
      return undefined;
    },
  });
  const cache = new LocalDirStore("/cache", { fs, now: () => clock });
  const bytes = new TextEncoder().encode("wheel bytes");
  await fs.mkdir("/src", { recursive: true });
  const f = await fs.open("/src/a-1.0-py3-none-any.whl", "w");
  await f.write(bytes);
  await f.close();
  await cache.put({ path: "/src/a-1.0-py3-none-any.whl" }, { filename: "a-1.0-py3-none-any.whl" });
  const wanted = [{
    filename: "a-1.0-py3-none-any.whl",
    sha256: sha256(bytes),
    url: "https://x/a-1.0-py3-none-any.whl",
  }];
  clock += 5000;
  const first = await new WheelhouseStore("/wh1", { fs }).sync(wanted, { cache });
  assert.deepEqual(first.linked, ["a-1.0-py3-none-any.whl"]);
  reads.length = 0;
  clock += 5000;
  const second = await new WheelhouseStore("/wh2", { fs }).sync(wanted, { cache });
  assert.deepEqual(second.linked, ["a-1.0-py3-none-any.whl"]);
  // The first folder's link changed the entry's ctime, not its bytes: no second hashing.
  assert.deepEqual(reads, []);
  // Damage is still found: the bytes change (ctime moves), and the next lookup hashes them.
  const entry = cache.pathOf(sha256(bytes));
  const w = await fs.open(entry, "w");
  await w.write(new TextEncoder().encode("wheel bytez"));
  await w.close();
  clock += 5000;
  assert.equal((await cache.get(sha256(bytes), { verify: "changed" })).kind, "miss");
});

Deno.test("a folder's files are not hashed again because the cache linked them into another folder since", async () => {
  // Exact ctime (Linux's multigrain timestamps): every change, a link included, moves it.
  let clock = 1_700_000_000_123.25;
  const reads: string[] = [];
  const fs = new MemoryFs({
    now: () => (clock += 1.5),
    ctimeExact: true,
    fault: (op, path) => {
      if (op === "read" && path.endsWith(".whl")) reads.push(path);
      return undefined;
    },
  });
  const bytes = enc.encode("wheel bytes");
  const wanted = [{
    filename: "a-1.0-py3-none-any.whl",
    sha256: sha256(bytes),
    url: "https://x/a-1.0-py3-none-any.whl",
  }];
  const cache = new LocalDirStore("/cache", { fs, now: () => clock });
  await cache.put({ bytes }, { filename: "a-1.0-py3-none-any.whl" });
  assert.deepEqual((await new WheelhouseStore("/wh1", { fs }).sync(wanted, { cache })).linked, [
    "a-1.0-py3-none-any.whl",
  ]);
  // Another run links the same entry into another folder: the shared inode's ctime moves.
  const later = new LocalDirStore("/cache", { fs, now: () => clock });
  await new WheelhouseStore("/wh2", { fs }).sync(wanted, { cache: later });
  // The next run into the first folder: its own record is stale, the cache's is not.
  reads.length = 0;
  const next = new LocalDirStore("/cache", { fs, now: () => clock });
  const present = await new WheelhouseStore("/wh1", { fs }).scan({ cache: next });
  assert.deepEqual(present.get("a-1.0-py3-none-any.whl"), { size: 11, sha256: sha256(bytes) });
  assert.deepEqual(reads, []);
  // Same-size damage through the other name, mtime put back: the shared inode's ctime moves,
  // so neither record vouches and the file is hashed.
  const inode = fs.disk.files.get("/wh2/a-1.0-py3-none-any.whl")!;
  inode.data = enc.encode("wheel bytez");
  inode.ctimeMs = clock += 1.5;
  const damaged = await new WheelhouseStore("/wh1", { fs }).scan({
    cache: new LocalDirStore("/cache", { fs, now: () => clock }),
  });
  assert.equal(damaged.get("a-1.0-py3-none-any.whl")?.sha256, sha256(enc.encode("wheel bytez")));
  assert.ok(reads.length > 0);
});

Deno.test("a folder's files are not hashed again because another folder of links to them was removed", async () => {
  // `rm -rf` of an older folder changes the shared inode's ctime and link count, not its bytes.
  let clock = 1_700_000_000_123.25;
  const reads: string[] = [];
  const fs = new MemoryFs({
    now: () => (clock += 1.5),
    ctimeExact: true,
    fault: (op, path) => {
      if (op === "read" && path.endsWith(".whl")) reads.push(path);
      return undefined;
    },
  });
  const bytes = enc.encode("wheel bytes");
  const wanted = [{
    filename: "a-1.0-py3-none-any.whl",
    sha256: sha256(bytes),
    url: "https://x/a-1.0-py3-none-any.whl",
  }];
  const cache = new LocalDirStore("/cache", { fs, now: () => clock });
  await cache.put({ bytes }, { filename: "a-1.0-py3-none-any.whl" });
  await new WheelhouseStore("/old", { fs }).sync(wanted, { cache });
  await new WheelhouseStore("/wh", { fs }).sync(wanted, { cache });
  await fs.rm("/old", { recursive: true });
  reads.length = 0;
  const next = new LocalDirStore("/cache", { fs, now: () => clock });
  const present = await new WheelhouseStore("/wh", { fs }).scan({ cache: next });
  assert.deepEqual(present.get("a-1.0-py3-none-any.whl"), { size: 11, sha256: sha256(bytes) });
  assert.equal((await next.get(sha256(bytes), { verify: "changed" })).kind, "hit");
  assert.deepEqual(reads, []);
});

Deno.test("a new folder's files are linked in place; a file in the way is replaced through a temporary name", async () => {
  // A hard link appears whole or not at all: a temporary name and a rename per file were spent
  // for nothing (and a freed inode name each).
  const ops: string[] = [];
  const fs = new MemoryFs({
    fault: (op, path) => {
      // A link is entered with its source (the cache entry), a rename with its old name.
      if (op === "link" || op === "rename") ops.push(`${op} ${path.replace(/.*\//, "")}`);
      return undefined;
    },
  });
  const bytes = enc.encode("wheel bytes");
  const wanted = [{
    filename: "a-1.0-py3-none-any.whl",
    sha256: sha256(bytes),
    url: "https://x/a-1.0-py3-none-any.whl",
  }];
  const cache = new LocalDirStore("/cache", { fs });
  await cache.put({ bytes }, { filename: "a-1.0-py3-none-any.whl" });
  ops.length = 0;
  const report = await new WheelhouseStore("/wh", { fs }).sync(wanted, { cache });
  assert.deepEqual(report.linked, ["a-1.0-py3-none-any.whl"]);
  assert.deepEqual(report.manifest.files.map((f) => f.size), [11]);
  assert.deepEqual(ops.filter((o) => o.startsWith("link ") || o.endsWith(".whl")), [
    `link ${sha256(bytes)}`,
  ]);
  assert.equal(
    fs.disk.files.get("/wh/a-1.0-py3-none-any.whl"),
    fs.disk.files.get(cache.pathOf(sha256(bytes))),
  );
  // A damaged file there: replaced by a temporary link renamed over it.
  fs.disk.files.set("/wh/a-1.0-py3-none-any.whl", {
    data: enc.encode("wheel bytez"),
    mtimeMs: 1,
    ctimeMs: 1,
    ino: 99,
  });
  ops.length = 0;
  const again = await new WheelhouseStore("/wh", { fs }).sync(wanted, { cache });
  assert.deepEqual(again.replaced, ["a-1.0-py3-none-any.whl"]);
  assert.ok(ops.some((o) => o.startsWith("rename ") && o.endsWith(".whl")), ops.join("\n"));
  assert.deepEqual(await fs.readFile("/wh/a-1.0-py3-none-any.whl"), bytes);
});

Deno.test("a sync that changes nothing rewrites none of the side files; one that changes them does", async () => {
  const fs = new MemoryFs();
  const cache = new LocalDirStore("/cache", { fs });
  const a = enc.encode("wheel a");
  const b = enc.encode("wheel b");
  await cache.put({ bytes: a }, { filename: "a-1.0-py3-none-any.whl" });
  await cache.put({ bytes: b }, { filename: "b-1.0-py3-none-any.whl" });
  const file = (name: string, bytes: Uint8Array) => ({
    filename: name,
    sha256: sha256(bytes),
    url: `https://x/${name}`,
  });
  const wh = new WheelhouseStore("/wh", { fs });
  await wh.sync([file("a-1.0-py3-none-any.whl", a)], { cache });
  await wh.writeFile("requirements.txt", "a==1.0\n");
  const sides = ["manifest.json", "index.html", ".wheelhouse-state.json", "requirements.txt"];
  const inodes = async () =>
    await Promise.all(sides.map(async (n) => (await fs.stat(`/wh/${n}`)).ino));
  const before = await inodes();
  await new WheelhouseStore("/wh", { fs }).sync([file("a-1.0-py3-none-any.whl", a)], { cache });
  await wh.writeFile("requirements.txt", "a==1.0\n");
  assert.deepEqual(await inodes(), before, "same bytes: nothing replaced");
  await wh.sync([file("a-1.0-py3-none-any.whl", a), file("b-1.0-py3-none-any.whl", b)], { cache });
  await wh.writeFile("requirements.txt", "a==1.0\nb==1.0\n");
  const after = await inodes();
  // The state holds only what this clock lets it record, so it may well be the same.
  for (const [i, name] of sides.entries()) {
    if (name !== ".wheelhouse-state.json") assert.notEqual(after[i], before[i], name);
  }
  assert.match(new TextDecoder().decode(await fs.readFile("/wh/index.html")), /b-1\.0-py3/);
});

Deno.test("renderFindLinksPage() and renderSimpleTree() list files in code-point order, whatever the locale", () => {
  // Collation would put "pillow-10.0" before "Pillow-9.0" (letters first, case later) and
  // "attrs" before "Pillow"; code points put every capital first. The order must not depend on
  // the machine that wrote the folder, and comparing by code point needs no collator (whose
  // set-up cost every run 7-10 ms).
  const names = [
    "pillow-10.0-cp311-cp311-manylinux_2_28_x86_64.whl",
    "attrs-23.1-py3-none-any.whl",
    "Pillow-9.0.tar.gz",
  ];
  const entries = names.map((filename) => ({
    filename,
    project: filename.startsWith("attrs") ? "attrs" : "pillow",
    sha256: "a".repeat(64),
    size: 1,
    url: "u",
    targets: [],
  }));
  const order = (html: string) =>
    [...html.matchAll(/>([^<>]+\.(?:whl|tar\.gz))<\/a>/g)].map((m) => m[1]);
  assert.deepEqual(order(renderFindLinksPage(entries)), [
    "Pillow-9.0.tar.gz",
    "attrs-23.1-py3-none-any.whl",
    "pillow-10.0-cp311-cp311-manylinux_2_28_x86_64.whl",
  ]);
  const tree = renderSimpleTree(entries);
  assert.deepEqual(order(tree.get("simple/pillow/index.html")!), [
    "Pillow-9.0.tar.gz",
    "pillow-10.0-cp311-cp311-manylinux_2_28_x86_64.whl",
  ]);
  const json = JSON.parse(tree.get("simple/pillow/index.json")!);
  assert.deepEqual(json.files.map((f: { filename: string }) => f.filename), [
    "Pillow-9.0.tar.gz",
    "pillow-10.0-cp311-cp311-manylinux_2_28_x86_64.whl",
  ]);
});
