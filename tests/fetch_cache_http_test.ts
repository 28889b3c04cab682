// Integration tests of the fetcher and the local cache against a real HTTP server on loopback
// that injects faults: resets mid-body, 503 with Retry-After, stalls, servers that ignore Range.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import { HttpFetchStrategy } from "../fetcher/http_fetch_strategy.ts";
import { FetchError } from "../fetcher/types.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function payload(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >>> 16;
  }
  return out;
}

type Fault =
  | { kind: "reset"; after: number }
  | { kind: "status"; status: number; retryAfter?: string }
  | { kind: "stall-headers"; ms: number }
  | { kind: "stall-body"; after: number; ms: number }
  | { kind: "ignore-range" };

interface TestServer {
  url: string;
  requests: { path: string; range: string | null; ifRange: string | null }[];
  faults: Fault[];
  peak: number;
  close(): Promise<void>;
}

function startServer(
  files: Record<string, Uint8Array>,
  options: { delayMs?: number } = {},
): TestServer {
  const etag = '"v1"';
  let active = 0;
  const state: TestServer = {
    url: "",
    requests: [],
    faults: [],
    peak: 0,
    close: () => Promise.resolve(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    state.requests.push({
      path,
      range: req.headers.get("range"),
      ifRange: req.headers.get("if-range"),
    });
    const data = files[path];
    if (!data) return new Response("missing", { status: 404 });
    active++;
    state.peak = Math.max(state.peak, active);
    const done = (): void => {
      active--;
    };
    try {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const fault = state.faults.shift();
      if (fault?.kind === "status") {
        done();
        const headers = new Headers();
        if (fault.retryAfter !== undefined) headers.set("retry-after", fault.retryAfter);
        return new Response("busy", { status: fault.status, headers });
      }
      if (fault?.kind === "stall-headers") await new Promise((r) => setTimeout(r, fault.ms));
      let start = 0;
      const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
      const ifRange = req.headers.get("if-range");
      if (range && fault?.kind !== "ignore-range" && (ifRange === null || ifRange === etag)) {
        start = Number(range[1]);
      }
      const body = data.subarray(start);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (fault?.kind === "stall-body" && sent >= fault.after) {
            await new Promise((r) => setTimeout(r, fault.ms));
          }
          if (fault?.kind === "reset" && sent >= fault.after) {
            controller.error(new Error("injected reset"));
            done();
            return;
          }
          const limit = fault?.kind === "reset" || fault?.kind === "stall-body"
            ? fault.after
            : body.length;
          const end = Math.min(body.length, sent < limit ? limit : body.length, sent + 64 * 1024);
          if (sent >= body.length) {
            controller.close();
            done();
            return;
          }
          controller.enqueue(body.slice(sent, end));
          sent = end;
        },
        cancel() {
          done();
        },
      });
      const headers = new Headers({
        etag,
        "content-length": String(body.length),
        "accept-ranges": "bytes",
      });
      if (start > 0) {
        headers.set("content-range", `bytes ${start}-${data.length - 1}/${data.length}`);
      }
      return new Response(stream, { status: start > 0 ? 206 : 200, headers });
    } catch (e) {
      done();
      throw e;
    }
  });
  const addr = server.addr as Deno.NetAddr;
  state.url = `http://127.0.0.1:${addr.port}`;
  state.close = async () => {
    await server.shutdown();
  };
  return state;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-fetch-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// These small files are resumed as big ones are (by default a file under 1 MiB is fetched again).
const fastRetry = { backoff: { baseMs: 1, maxDelayMs: 5 }, resumableFromBytes: 0 };

Deno.test("fetch() resumes a transfer cut mid-body with Range and If-Range, over real HTTP", async () => {
  const data = payload(300_000);
  const server = startServer({ "/a.whl": data });
  try {
    await withDir(async (dir) => {
      server.faults.push({ kind: "reset", after: 100_000 });
      const fetcher = new HttpFetchStrategy({ ...fastRetry });
      const result = await fetcher.fetch({
        url: `${server.url}/a.whl`,
        destination: `${dir}/a.whl`,
        sha256: sha256(data),
      });
      assert.equal(result.attempts, 2);
      assert.ok(result.resumedBytes >= 65_536, `resumed ${result.resumedBytes}`);
      assert.equal(server.requests[1]?.range, `bytes=${result.resumedBytes}-`);
      assert.equal(server.requests[1]?.ifRange, '"v1"');
      assert.deepEqual(await Deno.readFile(`${dir}/a.whl`), data);
      assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["a.whl"]);
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() restarts cleanly from zero when the server answers a range request with 200", async () => {
  const data = payload(200_000, 7);
  const server = startServer({ "/b.whl": data });
  try {
    await withDir(async (dir) => {
      server.faults.push({ kind: "reset", after: 70_000 }, { kind: "ignore-range" });
      const result = await new HttpFetchStrategy({ ...fastRetry }).fetch({
        url: `${server.url}/b.whl`,
        destination: `${dir}/b.whl`,
        sha256: sha256(data),
      });
      assert.equal(result.resumedBytes, 0);
      assert.ok(server.requests[1]?.range?.startsWith("bytes="));
      assert.deepEqual(await Deno.readFile(`${dir}/b.whl`), data);
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() honours Retry-After on 503 and gives up after the attempt cap with a clear message", async () => {
  const data = payload(1000);
  const server = startServer({ "/c.whl": data });
  try {
    await withDir(async (dir) => {
      const delays: number[] = [];
      const fetcher = new HttpFetchStrategy({
        maxAttempts: 3,
        sleep: (ms) => {
          delays.push(ms);
          return Promise.resolve();
        },
        random: () => 0,
      });
      server.faults.push({ kind: "status", status: 503, retryAfter: "2" });
      const ok = await fetcher.fetch({ url: `${server.url}/c.whl`, destination: `${dir}/c.whl` });
      assert.equal(ok.attempts, 2);
      assert.deepEqual(delays, [2000]);
      for (let i = 0; i < 3; i++) server.faults.push({ kind: "status", status: 503 });
      const error = await fetcher.fetch({
        url: `${server.url}/c.whl`,
        destination: `${dir}/c2.whl`,
      }).catch((e) => e);
      assert.ok(error instanceof FetchError);
      assert.equal(
        error.message,
        `Cannot fetch "${server.url}/c.whl": server returned 503 Service Unavailable after 3 attempts`,
      );
      const notFound = await fetcher.fetch({
        url: `${server.url}/nope.whl`,
        destination: `${dir}/n.whl`,
      }).catch((e) => e);
      assert.ok(
        notFound instanceof FetchError && notFound.code === "not-found" && notFound.attempts === 1,
      );
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() times out on a silent server (headers or body) and retries", async () => {
  const data = payload(150_000, 3);
  const server = startServer({ "/d.whl": data });
  try {
    await withDir(async (dir) => {
      server.faults.push({ kind: "stall-headers", ms: 400 }, {
        kind: "stall-body",
        after: 65_536,
        ms: 400,
      });
      const result = await new HttpFetchStrategy({
        ...fastRetry,
        connectTimeoutMs: 100,
        readTimeoutMs: 100,
      }).fetch({
        url: `${server.url}/d.whl`,
        destination: `${dir}/d.whl`,
        sha256: sha256(data),
      });
      assert.equal(result.attempts, 3);
      assert.ok(result.resumedBytes > 0);
      assert.deepEqual(await Deno.readFile(`${dir}/d.whl`), data);
      server.faults.push({ kind: "stall-headers", ms: 300 });
      const error = await new HttpFetchStrategy({ maxAttempts: 1, connectTimeoutMs: 50 })
        .fetch({ url: `${server.url}/d.whl`, destination: `${dir}/d2.whl` })
        .catch((e) => e);
      assert.ok(error instanceof FetchError && error.code === "timeout", String(error));
      assert.match(error.message, /no response within 50 ms after 1 attempt$/);
      await new Promise((r) => setTimeout(r, 300));
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() cancelled by an AbortSignal keeps the partial file, and the next run resumes it", async () => {
  const data = payload(400_000, 5);
  const server = startServer({ "/e.whl": data });
  try {
    await withDir(async (dir) => {
      const store = new LocalDirStore(`${dir}/cache`);
      const controller = new AbortController();
      let seen = 0;
      const fetcher = new HttpFetchStrategy({
        resumableFromBytes: 0,
        partialDir: store.partialDir,
        reporter: {
          progress: (_id, { done }) => {
            seen = done;
            if (done >= 100_000) controller.abort(new Error("user pressed ^C"));
          },
        },
      });
      server.faults.push({ kind: "stall-body", after: 131_072, ms: 200 });
      const error = await store.obtain(fetcher, {
        url: `${server.url}/e.whl`,
        sha256: sha256(data),
      }, { signal: controller.signal })
        .catch((e) => e);
      assert.ok(error instanceof FetchError && error.code === "aborted", String(error));
      assert.ok(seen >= 100_000);
      const partial = (await store.stats()).partialBytes;
      assert.ok(partial >= 100_000, `kept ${partial}`);
      const got = await store.obtain(new HttpFetchStrategy({ partialDir: store.partialDir }), {
        url: `${server.url}/e.whl`,
        sha256: sha256(data),
      });
      assert.equal(got.fetched, true);
      assert.ok(server.requests.at(-1)?.range?.startsWith("bytes="));
      assert.deepEqual(await Deno.readFile(got.path), data);
      assert.equal((await store.stats()).partialFiles, 0);
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() keeps to the per-host concurrency cap", async () => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 8; i++) files[`/f${i}.whl`] = payload(20_000, i + 1);
  const server = startServer(files, { delayMs: 30 });
  try {
    await withDir(async (dir) => {
      const fetcher = new HttpFetchStrategy({ concurrency: 16, perHostConcurrency: 2 });
      await Promise.all(
        Object.keys(files).map((p) =>
          fetcher.fetch({ url: `${server.url}${p}`, destination: `${dir}${p}` })
        ),
      );
      assert.ok(server.peak <= 2, `peak ${server.peak}`);
      assert.equal(server.peak, 2);
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() runs --concurrency transfers to one host by default, and fewer once the host answers 503", async () => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 24; i++) files[`/f${i}.whl`] = payload(20_000, i + 1);
  const server = startServer(files, { delayMs: 40 });
  try {
    await withDir(async (dir) => {
      // One index serves every file: the old fixed cap of 8 per host made 12 mean 8.
      const fetcher = new HttpFetchStrategy({ concurrency: 12, random: () => 0 });
      await Promise.all(
        Object.keys(files).slice(0, 12).map((p) =>
          fetcher.fetch({ url: `${server.url}${p}`, destination: `${dir}${p}` })
        ),
      );
      assert.equal(server.peak, 12);
      // Overloaded: the host says so twice; later transfers run at most a quarter as many.
      server.faults.push(
        { kind: "status", status: 503, retryAfter: "0" },
        { kind: "status", status: 429, retryAfter: "0" },
      );
      await fetcher.fetch({ url: `${server.url}/f12.whl`, destination: `${dir}/f12.whl` });
      server.peak = 0;
      await Promise.all(
        Object.keys(files).slice(13).map((p) =>
          fetcher.fetch({ url: `${server.url}${p}`, destination: `${dir}${p}` })
        ),
      );
      assert.equal(server.peak, 3);
    });
  } finally {
    await server.close();
  }
});

Deno.test("fetch() streams a large file without holding it in memory", async () => {
  const size = 96 * 1024 * 1024;
  const chunk = payload(1024 * 1024, 9);
  const expected = createHash("sha256");
  for (let i = 0; i < size / chunk.length; i++) expected.update(chunk);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    let sent = 0;
    return new Response(
      new ReadableStream({
        pull(c) {
          if (sent >= size) return c.close();
          c.enqueue(chunk);
          sent += chunk.length;
        },
      }),
      { headers: { "content-length": String(size) } },
    );
  });
  try {
    await withDir(async (dir) => {
      const before = Deno.memoryUsage().rss;
      let peak = before;
      const result = await new HttpFetchStrategy({
        reporter: { progress: () => (peak = Math.max(peak, Deno.memoryUsage().rss)) },
      }).fetch({
        url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/big.whl`,
        destination: `${dir}/big.whl`,
        sha256: expected.digest("hex"),
      });
      assert.equal(result.size, size);
      assert.ok(peak - before < 64 * 1024 * 1024, `rss grew by ${(peak - before) >> 20} MiB`);
    });
  } finally {
    await server.shutdown();
  }
});
