import assert from "node:assert/strict";
import { type IndexServerOptions, startIndexServer } from "./index_server.ts";
import { buildSdist, buildWheel, sha256Hex } from "./wheel_factory.ts";
import { parseWheelFilename } from "../pep/filename.ts";
import { SimpleIndexClient } from "../index/simple_index_client.ts";
import { MemoryHttpCacheStorage } from "../index/http_cache_storage.ts";
import { IndexError } from "../index/index_error.ts";
import type { DistFile, ProjectFilesOutcome } from "../index/types.ts";

async function withServer(
  options: IndexServerOptions,
  fn: (s: Awaited<ReturnType<typeof startIndexServer>>) => Promise<void>,
): Promise<void> {
  const server = await startIndexServer(options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function found(o: ProjectFilesOutcome): DistFile[] {
  if (o.kind !== "found") throw new Error(`expected found, got ${o.kind}`);
  return o.files;
}

function byName(files: DistFile[], filename: string): DistFile {
  const f = files.find((x) => x.filename === filename);
  if (!f) throw new Error(`no ${filename}`);
  return f;
}

const demoWheel = await buildWheel({
  name: "Demo.Pkg",
  version: "1.0",
  requiresDist: ["idna>=3", 'tomli; python_version < "3.11"'],
  requiresPython: ">=3.8",
});
const demoSdist = await buildSdist({ name: "Demo.Pkg", version: "1.0", requiresDist: ["idna>=3"] });
const bigWheel = await buildWheel({
  name: "big",
  version: "2.0",
  padding: 1_500_000,
  requiresDist: ["six"],
});

for (const format of ["html", "json"] as const) {
  Deno.test(`projectFiles() reads a ${format} page once for concurrent asks`, async () => {
    await withServer({ projects: [demoWheel, demoSdist], format }, async (s) => {
      const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
      const [a, b] = await Promise.all([
        client.projectFiles("demo_pkg"),
        client.projectFiles("Demo.Pkg"),
      ]);
      assert.deepEqual(found(a), found(b));
      await client.projectFiles("DEMO-pkg");
      const pages = s.requests.filter((r) => r.path.startsWith("/simple/"));
      assert.equal(pages.length, 1);
      const wheel = byName(found(a), demoWheel.filename);
      assert.equal(wheel.hashes.sha256, demoWheel.sha256);
      assert.equal(wheel.requiresPython, ">=3.8");
      assert.equal(wheel.url, `${s.url}files/${demoWheel.filename}`);
      assert.equal(wheel.parsed.kind, "wheel");
      assert.notEqual(wheel.coreMetadata, false);
      if (format === "json") assert.equal(wheel.size, demoWheel.bytes.length);
    });
  });
}

Deno.test("metadata() uses PEP 658 with one request per file, hash checked", async () => {
  await withServer({ projects: [demoWheel] }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
    const file = found(await client.projectFiles("demo-pkg"))[0]!;
    const [m1, m2] = await Promise.all([client.metadata(file), client.metadata(file)]);
    await client.metadata(file);
    assert.equal(m1.kind, "found");
    if (m1.kind !== "found") return;
    assert.equal(m1.via, "pep658");
    assert.equal(m1.metadata.requiresDist.length, 2);
    assert.equal(m1, m2);
    assert.equal(s.requests.filter((r) => r.path.startsWith("/files/")).length, 1);
    // A lying hash is a hash mismatch.
    const liar = new SimpleIndexClient({ indexes: [s.indexUrl] });
    await assert.rejects(
      liar.metadata({ ...file, coreMetadata: { hashes: { sha256: "00".repeat(32) } } }),
      (e: unknown) => e instanceof IndexError && e.code === "hash-mismatch",
    );
  });
});

Deno.test("metadata() reads a 1.5 MB wheel by range requests transferring under 5%", async () => {
  await withServer({ projects: [bigWheel], pep658: false }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
    const file = found(await client.projectFiles("big"))[0]!;
    assert.equal(file.coreMetadata, false);
    const m = await client.metadata(file);
    assert.equal(m.kind, "found");
    if (m.kind !== "found") return;
    assert.equal(m.via, "range");
    assert.equal(m.metadata.requiresDist[0]?.name, "six");
    const sent = s.requests.filter((r) => r.path.startsWith("/files/"))
      .reduce((n, r) => n + r.bytesSent, 0);
    assert.ok(sent < bigWheel.bytes.length * 0.05, `${sent} bytes of ${bigWheel.bytes.length}`);
  });
});

Deno.test("metadata() detects a server that ignores Range and uses the whole file once", async () => {
  await withServer({ projects: [bigWheel], pep658: false, range: false }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
    const file = found(await client.projectFiles("big"))[0]!;
    const m = await client.metadata(file);
    assert.equal(m.kind === "found" && m.via, "download");
    assert.equal(s.requests.filter((r) => r.path.startsWith("/files/")).length, 1);
  });
});

Deno.test("metadata() reads static sdist PKG-INFO and asks for a build otherwise", async () => {
  const old = await buildSdist({ name: "old", version: "1.0", metadataVersion: "2.1" });
  const dyn = await buildSdist({ name: "dyn", version: "1.0", dynamic: ["Requires-Dist"] });
  await withServer({ projects: [demoSdist, old, dyn] }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
    const m = await client.metadata(found(await client.projectFiles("demo-pkg"))[0]!);
    assert.equal(m.kind === "found" && m.via, "sdist-pkg-info");
    const o = await client.metadata(found(await client.projectFiles("old"))[0]!);
    assert.equal(o.kind, "needs-build");
    const d = await client.metadata(found(await client.projectFiles("dyn"))[0]!);
    assert.equal(d.kind === "needs-build" && /Dynamic/.test(d.reason), true);
  });
});

Deno.test("first-index takes a project from the first index that has it; best-match merges", async () => {
  const evil = await buildWheel({ name: "internal", version: "99.0" });
  const good = await buildWheel({ name: "internal", version: "1.0" });
  const other = await buildWheel({ name: "other", version: "1.0" });
  await withServer({ projects: [good] }, async (first) => {
    await withServer({ projects: [evil, other] }, async (second) => {
      const strict = new SimpleIndexClient({ indexes: [first.indexUrl, second.indexUrl] });
      const files = found(await strict.projectFiles("internal"));
      assert.deepEqual(files.map((f) => f.filename), [good.filename]);
      assert.equal(second.requests.length, 0);
      const o = await strict.projectFiles("other");
      assert.equal(o.kind === "found" && o.index, second.indexUrl);
      const loose = new SimpleIndexClient({
        indexes: [first.indexUrl, second.indexUrl],
        strategy: "unsafe-best-match",
      });
      const all = found(await loose.projectFiles("internal")).map((f) => f.filename).sort();
      assert.deepEqual(all, [evil.filename, good.filename].sort());
      const missing = await strict.projectFiles("nothing-here");
      assert.deepEqual(missing, {
        kind: "not-found",
        project: "nothing-here",
        indexes: [first.indexUrl, second.indexUrl],
      });
    });
  });
});

Deno.test("credentials go only to their host and are redacted everywhere", async () => {
  const basicAuth = { username: "alice", password: "s3cret-pw" };
  await withServer({ projects: [] }, async (files) => {
    await files.addFile(demoWheel);
    await withServer(
      { projects: [demoWheel], basicAuth, filesBaseUrl: `${files.url}files/`, pep658: false },
      async (s) => {
        const withCreds = s.indexUrl.replace("http://", "http://alice:s3cret-pw@");
        const client = new SimpleIndexClient({ indexes: [withCreds] });
        const out = await client.projectFiles("demo-pkg");
        assert.equal(
          out.kind === "found" && out.index,
          s.indexUrl.replace("http://", "http://alice:***@"),
        );
        assert.ok(!JSON.stringify(out).includes("s3cret"));
        const m = await client.metadata(found(out)[0]!);
        assert.equal(m.kind, "found");
        assert.ok(files.requests.length > 0);
        assert.ok(files.requests.every((r) => !r.authorized), "no credentials to the file host");
        assert.deepEqual(client.authHeaders(`${files.url}files/x.whl`), {});
        // Environment-style credentials given as an IndexSpec work too; wrong ones fail redacted.
        const spec = new SimpleIndexClient({ indexes: [{ url: s.indexUrl, ...basicAuth }] });
        assert.equal((await spec.projectFiles("demo-pkg")).kind, "found");
        const wrong = new SimpleIndexClient({
          indexes: [s.indexUrl.replace("http://", "http://a:leak@")],
        });
        await assert.rejects(wrong.projectFiles("demo-pkg"), (e: unknown) => {
          assert.ok(e instanceof IndexError && e.code === "http-status" && e.status === 401);
          assert.ok(
            !e.message.includes("leak") && e.message.includes("/simple/demo-pkg/"),
            e.message,
          );
          return true;
        });
      },
    );
  });
});

Deno.test("credentials are not sent after a redirect to another host", async () => {
  await withServer({ projects: [demoWheel] }, async (target) => {
    await withServer(
      { projects: [], redirects: { "/simple/demo-pkg/": `${target.indexUrl}demo-pkg/` } },
      async (s) => {
        const client = new SimpleIndexClient({
          indexes: [s.indexUrl.replace("http://", "http://bob:pw@")],
        });
        const out = await client.projectFiles("demo-pkg");
        assert.equal(found(out).length, 1);
        assert.equal(s.requests[0]?.authorized, true);
        assert.ok(target.requests.every((r) => !r.authorized));
      },
    );
  });
});

Deno.test("the HTTP cache serves fresh pages, revalidates stale ones, and works offline", async () => {
  let now = 1_000_000;
  const cache = new MemoryHttpCacheStorage();
  await withServer({ projects: [demoWheel], cacheControl: "max-age=60" }, async (s) => {
    const make = (extra = {}): SimpleIndexClient =>
      new SimpleIndexClient({ indexes: [s.indexUrl], cache, now: () => now, ...extra });
    await make().projectFiles("demo-pkg");
    assert.equal(s.requests.length, 1);
    await make().projectFiles("demo-pkg"); // fresh: no request
    assert.equal(s.requests.length, 1);
    now += 61_000;
    const again = await make().projectFiles("demo-pkg"); // stale: revalidated, 304
    assert.equal(found(again).length, 1);
    assert.equal(s.requests.at(-1)?.status, 304);
    await make({ refresh: true }).projectFiles("demo-pkg");
    assert.equal(s.requests.at(-1)?.status, 200);
    const count = s.requests.length;
    const offline = make({ offline: true });
    assert.equal(found(await offline.projectFiles("demo-pkg")).length, 1);
    assert.deepEqual(await offline.projectFiles("never-seen"), {
      kind: "offline-miss",
      project: "never-seen",
    });
    const md = await offline.metadata(found(await offline.projectFiles("demo-pkg"))[0]!);
    assert.equal(md.kind, "offline-miss");
    assert.equal(s.requests.length, count);
  });
});

Deno.test("find-links directories and --no-index list local files; metadata is local", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/${demoWheel.filename}`, demoWheel.bytes);
    await Deno.writeFile(`${dir}/${demoSdist.filename}`, demoSdist.bytes);
    await Deno.writeTextFile(`${dir}/not-a-dist.txt`, "x");
    const client = new SimpleIndexClient({ noIndex: true, findLinks: [dir] });
    const files = found(await client.projectFiles("demo-pkg"));
    assert.deepEqual(
      files.map((f) => f.filename).sort(),
      [demoSdist.filename, demoWheel.filename].sort(),
    );
    const m = await client.metadata(byName(files, demoWheel.filename));
    assert.equal(m.kind === "found" && m.via, "local");
    assert.equal((await client.projectFiles("absent")).kind, "not-found");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file:// index reads <project>/index.html", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/simple/demo-pkg`, { recursive: true });
    await Deno.writeFile(`${dir}/${demoWheel.filename}`, demoWheel.bytes);
    await Deno.writeTextFile(
      `${dir}/simple/demo-pkg/index.html`,
      `<a href="../../${demoWheel.filename}#sha256=${demoWheel.sha256}">x</a>`,
    );
    const client = new SimpleIndexClient({ indexes: [`file://${dir}/simple`] });
    const files = found(await client.projectFiles("Demo_Pkg"));
    assert.equal(files[0]?.url, `file://${dir}/${demoWheel.filename}`);
    assert.equal((await client.metadata(files[0]!)).kind, "found");
    assert.equal((await client.projectFiles("other")).kind, "not-found");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server errors, oversized and malformed pages fail with the URL named", async () => {
  await withServer({ projects: [demoWheel], failures: { "/simple/broken/": 503 } }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
    await assert.rejects(client.projectFiles("broken"), /503/);
    const small = new SimpleIndexClient({ indexes: [s.indexUrl], maxPageBytes: 100 });
    await assert.rejects(
      small.projectFiles("demo-pkg"),
      (e: unknown) => e instanceof IndexError && e.code === "too-large",
    );
  });
  const bad = new SimpleIndexClient({
    indexes: ["https://u:pw@i.example/simple/"],
    fetch: () =>
      Promise.resolve(
        new Response("{not json", {
          headers: { "content-type": "application/vnd.pypi.simple.v1+json" },
        }),
      ),
  });
  await assert.rejects(bad.projectFiles("x"), (e: unknown) => {
    assert.ok(e instanceof IndexError && e.code === "malformed-page");
    assert.ok(e.message.includes("i.example/simple/x/") && !e.message.includes(":pw@"), e.message);
    return true;
  });
  const v2 = new SimpleIndexClient({
    indexes: ["https://i.example/simple/"],
    fetch: () =>
      Promise.resolve(
        new Response(JSON.stringify({ meta: { "api-version": "2.0" }, files: [] }), {
          headers: { "content-type": "application/vnd.pypi.simple.v1+json" },
        }),
      ),
  });
  await assert.rejects(
    v2.projectFiles("x"),
    (e: unknown) => e instanceof IndexError && e.code === "unsupported-api-version",
  );
});

Deno.test("pages are requested with gzip and q-valued Accept, falling back to HTML", async () => {
  await withServer({ projects: [demoWheel], format: "html" }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
    assert.equal(found(await client.projectFiles("demo-pkg")).length, 1);
    assert.match(
      s.requests[0]?.accept ?? "",
      /application\/vnd\.pypi\.simple\.v1\+json, .*text\/html;q=0\.01/,
    );
  });
});

/** A fetch over fixed routes (path → response factory); everything else is a 404. */
function routes(
  table: Record<string, (init: RequestInit | undefined) => Response>,
  log: string[] = [],
): typeof globalThis.fetch {
  return (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    log.push(url);
    const make = table[url];
    return Promise.resolve(make ? make(init) : new Response("missing", { status: 404 }));
  };
}

function html(body: string): () => Response {
  return () => new Response(body, { headers: { "content-type": "text/html" } });
}

/** Whole-file hand-overs seen by `onWholeFile`: file name and sha256 of the bytes. */
function recordWholeFiles(): {
  seen: { filename: string; sha256: string }[];
  onWholeFile: (file: DistFile, bytes: Uint8Array) => Promise<void>;
} {
  const seen: { filename: string; sha256: string }[] = [];
  return {
    seen,
    onWholeFile: async (file, bytes) => {
      seen.push({ filename: file.filename, sha256: await sha256Hex(bytes) });
    },
  };
}

Deno.test("metadata() hands a wheel read whole from a server that ignores Range to onWholeFile", async () => {
  await withServer({ projects: [bigWheel], pep658: false, range: false }, async (s) => {
    const { seen, onWholeFile } = recordWholeFiles();
    const client = new SimpleIndexClient({ indexes: [s.indexUrl], onWholeFile });
    const file = found(await client.projectFiles("big"))[0]!;
    const [m] = await Promise.all([client.metadata(file), client.metadata(file)]);
    assert.equal(m.kind === "found" && m.via, "download");
    assert.deepEqual(seen, [{ filename: bigWheel.filename, sha256: bigWheel.sha256 }]);
    // One request for the file: the 200 answer to the range request is the download.
    assert.equal(s.requests.filter((r) => r.path.startsWith("/files/")).length, 1);
  });
});

Deno.test("metadata() hands sdists and wheels read without range requests to onWholeFile", async () => {
  await withServer({ projects: [demoSdist, bigWheel], pep658: false }, async (s) => {
    const { seen, onWholeFile } = recordWholeFiles();
    const client = new SimpleIndexClient({
      indexes: [s.indexUrl],
      rangeRequests: false,
      onWholeFile,
    });
    const sdist = await client.metadata(found(await client.projectFiles("demo-pkg"))[0]!);
    assert.equal(sdist.kind === "found" && sdist.via, "sdist-pkg-info");
    const wheel = await client.metadata(found(await client.projectFiles("big"))[0]!);
    assert.equal(wheel.kind === "found" && wheel.via, "download");
    assert.deepEqual(seen, [
      { filename: demoSdist.filename, sha256: demoSdist.sha256 },
      { filename: bigWheel.filename, sha256: bigWheel.sha256 },
    ]);
  });
});

Deno.test("onWholeFile is not called for PEP 658 or range reads, nor with mismatching bytes", async () => {
  const { seen, onWholeFile } = recordWholeFiles();
  await withServer({ projects: [demoWheel] }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl], onWholeFile });
    const m = await client.metadata(found(await client.projectFiles("demo-pkg"))[0]!);
    assert.equal(m.kind === "found" && m.via, "pep658");
  });
  await withServer({ projects: [bigWheel], pep658: false }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl], onWholeFile });
    const m = await client.metadata(found(await client.projectFiles("big"))[0]!);
    assert.equal(m.kind === "found" && m.via, "range");
  });
  await withServer({ projects: [bigWheel, demoSdist], pep658: false, range: false }, async (s) => {
    const client = new SimpleIndexClient({ indexes: [s.indexUrl], onWholeFile });
    const lying = (f: DistFile): DistFile => ({ ...f, hashes: { sha256: "00".repeat(32) } });
    for (const project of ["big", "demo-pkg"]) {
      const file = lying(found(await client.projectFiles(project))[0]!);
      await assert.rejects(
        client.metadata(file),
        (e: unknown) => e instanceof IndexError && e.code === "hash-mismatch",
      );
    }
  });
  assert.deepEqual(seen, []);
});

Deno.test("a failing onWholeFile does not change the metadata result", async () => {
  await withServer({ projects: [bigWheel, demoSdist], pep658: false, range: false }, async (s) => {
    let calls = 0;
    const client = new SimpleIndexClient({
      indexes: [s.indexUrl],
      onWholeFile: (file) => {
        calls++;
        if (file.parsed.kind === "wheel") return Promise.reject(new Error("disk full"));
        throw new Error("synchronous failure");
      },
    });
    const wheel = await client.metadata(found(await client.projectFiles("big"))[0]!);
    assert.equal(wheel.kind === "found" && wheel.metadata.requiresDist[0]?.name, "six");
    const sdist = await client.metadata(found(await client.projectFiles("demo-pkg"))[0]!);
    assert.equal(sdist.kind === "found" && sdist.via, "sdist-pkg-info");
    assert.equal(calls, 2);
  });
});

Deno.test("at most maxConcurrentWholeFiles whole files are held at once (default 4)", async () => {
  const wheels = await Promise.all(
    Array.from({ length: 16 }, (_, i) => buildWheel({ name: `w${i}`, version: "1.0" })),
  );
  for (const limit of [undefined, 2]) {
    let held = 0;
    let most = 0;
    const table: Record<string, () => Response> = {};
    for (const w of wheels) {
      table[`https://i.example/files/${w.filename}`] = () => {
        let sent = false;
        // Counted from the first read of the body (highWaterMark 0: nothing is read before).
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent) return controller.close();
            sent = true;
            most = Math.max(most, ++held);
            controller.enqueue(w.bytes);
          },
        }, { highWaterMark: 0 });
        return new Response(body, { status: 200 }); // Range ignored.
      };
    }
    const client = new SimpleIndexClient({
      indexes: ["https://i.example/simple/"],
      fetch: routes(table),
      ...(limit === undefined ? {} : { maxConcurrentWholeFiles: limit }),
      onWholeFile: async () => {
        await new Promise((r) => setTimeout(r, 5));
        held--; // Released right after: the bytes are not needed beyond the metadata.
      },
    });
    const files: DistFile[] = wheels.map((w) => ({
      filename: w.filename,
      url: `https://i.example/files/${w.filename}`,
      hashes: { sha256: w.sha256 },
      yanked: false,
      coreMetadata: false,
      index: "https://i.example/simple/",
      parsed: parseWheelFilename(w.filename),
    }));
    const out = await Promise.all(files.map((f) => client.metadata(f)));
    assert.ok(out.every((m) => m.kind === "found" && m.via === "download"));
    assert.equal(most, limit ?? 4);
  }
});

Deno.test("a 200 answer to a range request is read up to maxDownloadBytes only", async () => {
  let pulled = 0;
  const chunk = new Uint8Array(64 * 1024);
  const { seen, onWholeFile } = recordWholeFiles();
  const url = `https://i.example/files/${bigWheel.filename}`;
  const client = new SimpleIndexClient({
    indexes: ["https://i.example/simple/"],
    maxDownloadBytes: 256 * 1024,
    onWholeFile,
    fetch: routes({
      // An endless body without Content-Length, whatever the Range header says.
      [url]: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulled += chunk.length;
              controller.enqueue(chunk);
            },
          }, { highWaterMark: 0 }),
        ),
    }),
  });
  const file: DistFile = {
    filename: bigWheel.filename,
    url,
    hashes: {},
    yanked: false,
    coreMetadata: false,
    index: "https://i.example/simple/",
    parsed: parseWheelFilename(bigWheel.filename),
  };
  await assert.rejects(
    client.metadata(file),
    (e: unknown) => e instanceof IndexError && e.code === "too-large",
  );
  assert.ok(pulled <= 256 * 1024 + chunk.length, `${pulled} bytes read`);
  // A size on the page above the cap fails before the file is asked for.
  const log: string[] = [];
  const sized = new SimpleIndexClient({
    indexes: ["https://i.example/simple/"],
    maxDownloadBytes: 1024,
    rangeRequests: false,
    fetch: routes({}, log),
  });
  await assert.rejects(
    sized.metadata({ ...file, size: 4096 }),
    (e: unknown) => e instanceof IndexError && e.code === "too-large",
  );
  assert.deepEqual(log, []);
  assert.deepEqual(seen, []);
});

Deno.test("an empty project page on the only index is not-found naming that index", async () => {
  for (
    const [format, page] of [
      ["html", html("<!DOCTYPE html><html><body><h1>Links for requests</h1></body></html>")],
      ["html without parsable links", html('<a href="/f/setup.py">setup.py</a>')],
      ["json", () =>
        new Response(
          JSON.stringify({ meta: { "api-version": "1.1" }, name: "requests", files: [] }),
          { headers: { "content-type": "application/vnd.pypi.simple.v1+json" } },
        )],
    ] as const
  ) {
    const client = new SimpleIndexClient({
      indexes: ["https://u:pw@mirror.example/simple/"],
      fetch: routes({ "https://mirror.example/simple/requests/": page }),
    });
    assert.deepEqual(await client.projectFiles("Requests"), {
      kind: "not-found",
      project: "requests",
      indexes: ["https://u:***@mirror.example/simple/"],
      emptyIndexes: ["https://u:***@mirror.example/simple/"],
    }, format);
  }
});

Deno.test("first-index stops at an empty page on the first index; best-match looks further", async () => {
  await withServer({ projects: [demoWheel] }, async (second) => {
    const log: string[] = [];
    const first = "https://internal.example/simple/";
    const emptyFirst = routes({ [`${first}demo-pkg/`]: html("<html></html>") }, log);
    // The project exists on the first index: a public one must not supply it.
    const strict = new SimpleIndexClient({
      indexes: [first, second.indexUrl],
      fetch: (input, init) =>
        String(input).startsWith(first) ? emptyFirst(input, init) : fetch(input, init),
    });
    assert.deepEqual(await strict.projectFiles("demo-pkg"), {
      kind: "not-found",
      project: "demo-pkg",
      indexes: [first],
      emptyIndexes: [first],
    });
    assert.equal(second.requests.length, 0);
    // Absent from the first index (404): the second one is asked and named.
    const absent = await strict.projectFiles("absent");
    assert.deepEqual(absent, {
      kind: "not-found",
      project: "absent",
      indexes: [first, second.indexUrl],
    });
    const loose = new SimpleIndexClient({
      indexes: [first, second.indexUrl],
      strategy: "unsafe-best-match",
      fetch: (input, init) =>
        String(input).startsWith(first) ? emptyFirst(input, init) : fetch(input, init),
    });
    const out = await loose.projectFiles("demo-pkg");
    assert.equal(out.kind === "found" && out.index, second.indexUrl);
    assert.deepEqual(found(out).map((f) => f.filename), [demoWheel.filename]);
  });
});

Deno.test("a 401 or 403 says where credentials go, naming the host's variables, never the secret", async () => {
  for (const status of [401, 403]) {
    const client = new SimpleIndexClient({
      indexes: ["https://me:t0ps3cret@pkgs.example-1.com:8443/org/simple/"],
      fetch: () => Promise.resolve(new Response("no", { status })),
    });
    await assert.rejects(client.projectFiles("private-pkg"), (e: unknown) => {
      assert.ok(e instanceof IndexError && e.code === "http-status" && e.status === status);
      assert.ok(
        e.message.includes(
          "add them to the URL, to ~/.netrc, or set WHEELHOUSE_INDEX_PKGS_EXAMPLE_1_COM_USERNAME " +
            "and WHEELHOUSE_INDEX_PKGS_EXAMPLE_1_COM_PASSWORD",
        ),
        e.message,
      );
      assert.ok(e.message.includes("pkgs.example-1.com:8443/org/simple/private-pkg/"), e.message);
      assert.ok(!e.message.includes("t0ps3cret"), e.message);
      return true;
    });
  }
  // The real server's 401, for the metadata file too.
  await withServer(
    { projects: [demoWheel], basicAuth: { username: "a", password: "b" } },
    async (s) => {
      const client = new SimpleIndexClient({ indexes: [s.indexUrl] });
      await assert.rejects(
        client.projectFiles("demo-pkg"),
        /401 \(credentials missing or rejected: .*WHEELHOUSE_INDEX_127_0_0_1_PASSWORD\)/,
      );
      const file: DistFile = {
        filename: demoWheel.filename,
        url: `${s.url}files/${demoWheel.filename}`,
        hashes: {},
        yanked: false,
        coreMetadata: { hashes: {} },
        index: s.indexUrl,
        parsed: parseWheelFilename(demoWheel.filename),
      };
      await assert.rejects(client.metadata(file), /WHEELHOUSE_INDEX_127_0_0_1_USERNAME/);
    },
  );
});
