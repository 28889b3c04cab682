import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { backoffBound, DEFAULT_BACKOFF } from "./_backoff.ts";
import { HttpFetchStrategy } from "./http_fetch_strategy.ts";
import { MemoryFs } from "./memory_fs.ts";
import { FetchError, type Reporter } from "./types.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

type Step =
  | { kind: "status"; status: number; retryAfter?: number | undefined }
  | { kind: "network" }
  | { kind: "cut"; fraction: number; ignoreRange: boolean };
type Terminal = { kind: "ok"; ignoreRange: boolean } | { kind: "fatal"; status: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constantFrom(408, 429, 500, 502, 503, 504),
    retryAfter: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
  }, { requiredKeys: ["kind", "status"] }),
  fc.constant({ kind: "network" as const }),
  fc.record({
    kind: fc.constant("cut" as const),
    fraction: fc.double({ min: 0, max: 0.99, noNaN: true }),
    ignoreRange: fc.boolean(),
  }),
);
const terminalArb: fc.Arbitrary<Terminal> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("ok" as const), ignoreRange: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fatal" as const),
      status: fc.constantFrom(400, 401, 403, 404, 410),
    }),
  },
);

/** A scripted server: each request consumes one step; it checks what the client asked for. */
function scriptedServer(data: Uint8Array, steps: Step[], terminal: Terminal) {
  const etag = '"v1"';
  let kept = 0; // bytes the client should hold in its partial file
  const log: { range: string | null; ifRange: string | null; expectedOffset: number }[] = [];
  const fetch = (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    log.push({
      range: headers.get("range"),
      ifRange: headers.get("if-range"),
      expectedOffset: kept,
    });
    const step: Step | Terminal = steps[log.length - 1] ?? terminal;
    const range = /^bytes=(\d+)-$/.exec(headers.get("range") ?? "");
    const from = range ? Number(range[1]) : 0;
    const ok = (body: Uint8Array, start: number, cutAt?: number): Response => {
      let sent = false;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent) {
            sent = true;
            const slice = cutAt === undefined ? body : body.subarray(0, cutAt);
            if (slice.length > 0) return controller.enqueue(slice);
          }
          if (cutAt === undefined) controller.close();
          else controller.error(new TypeError("connection reset by peer"));
        },
      });
      const h = new Headers({ etag, "content-length": String(body.length) });
      if (start > 0) h.set("content-range", `bytes ${start}-${data.length - 1}/${data.length}`);
      return new Response(stream, { status: start > 0 ? 206 : 200, headers: h });
    };
    switch (step.kind) {
      case "status": {
        const h = new Headers();
        if (step.retryAfter !== undefined) h.set("retry-after", String(step.retryAfter));
        return Promise.resolve(new Response("busy", { status: step.status, headers: h }));
      }
      case "network":
        return Promise.reject(new TypeError("error sending request: connection refused"));
      case "cut": {
        // A server that ignores Range answers 200 from zero; the client must restart cleanly.
        const start = step.ignoreRange ? 0 : from;
        const body = data.subarray(start);
        const n = Math.floor(body.length * step.fraction);
        kept = start + n;
        return Promise.resolve(ok(body, start, n));
      }
      case "ok": {
        const start = step.ignoreRange ? 0 : from;
        kept = data.length;
        return Promise.resolve(ok(data.subarray(start), start));
      }
      case "fatal":
        return Promise.resolve(new Response("no", { status: step.status }));
    }
  };
  return { fetch, log };
}

Deno.test("fetch() retries within the cap, waits within the jittered bound, and resumes at the right offset", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 0, maxLength: 20_000, size: "max" }),
      fc.array(stepArb, { maxLength: 8 }),
      terminalArb,
      fc.integer({ min: 1, max: 6 }),
      fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
      fc.boolean(),
      async (data, steps, terminal, maxAttempts, randoms, withHash) => {
        const server = scriptedServer(data, steps, terminal);
        const fs = new MemoryFs();
        const delays: number[] = [];
        const draws: number[] = [];
        const rng = randoms[Symbol.iterator]();
        const fetcher = new HttpFetchStrategy({
          fetch: server.fetch,
          fs,
          resumableFromBytes: 0,
          maxAttempts,
          now: () => 0,
          sleep: (ms) => {
            delays.push(ms);
            return Promise.resolve();
          },
          random: () => {
            const r = rng.next().value as number;
            draws.push(r);
            return r;
          },
        });
        const request = {
          url: "https://files.example/p/x-1.0-py3-none-any.whl",
          destination: "/out/x-1.0-py3-none-any.whl",
          ...(withHash ? { sha256: sha256(data) } : {}),
        };
        const outcome = await fetcher.fetch(request).then((r) => r, (e: unknown) => e);

        // Attempts never exceed the cap.
        assert.ok(server.log.length <= maxAttempts);
        // Each resumed request asks for exactly the bytes already kept, with If-Range.
        for (const entry of server.log) {
          if (entry.expectedOffset > 0) {
            assert.equal(entry.range, `bytes=${entry.expectedOffset}-`);
            assert.equal(entry.ifRange, '"v1"');
          } else {
            assert.equal(entry.range, null);
          }
        }
        // Each delay lies within the jittered bound and respects Retry-After.
        assert.equal(delays.length, server.log.length - 1);
        delays.forEach((delay, i) => {
          const step = steps[i];
          const retryAfter = step?.kind === "status" && step.retryAfter !== undefined
            ? step.retryAfter * 1000
            : 0;
          const floor = Math.min(retryAfter, DEFAULT_BACKOFF.maxRetryAfterMs);
          assert.ok(delay >= floor, `delay ${delay} < Retry-After ${floor}`);
          assert.ok(delay <= Math.max(floor, backoffBound(i + 1)), `delay ${delay} above bound`);
        });

        const failures = steps.length;
        if (failures >= maxAttempts) {
          assert.ok(outcome instanceof FetchError);
          assert.equal(outcome.attempts, maxAttempts);
          assert.match(outcome.message, new RegExp(`after ${maxAttempts} attempts?$`));
          assert.equal(server.log.length, maxAttempts);
        } else if (terminal.kind === "fatal") {
          // Non-retryable errors are not retried.
          assert.ok(outcome instanceof FetchError);
          assert.equal(outcome.status, terminal.status);
          assert.equal(server.log.length, failures + 1);
        } else {
          // Success after k < max failures yields exactly the served bytes.
          assert.ok(!(outcome instanceof Error), String(outcome));
          const result = outcome as Awaited<ReturnType<typeof fetcher.fetch>>;
          assert.equal(result.attempts, failures + 1);
          assert.equal(result.sha256, sha256(data));
          assert.equal(result.size, data.length);
          assert.deepEqual(await fs.readFile(request.destination), data);
          assert.deepEqual(
            [...fs.disk.files.keys()].filter((p) => p.endsWith(".part") || p.endsWith(".json")),
            [],
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("fetch() deletes the file and names both hashes and the URL on a hash mismatch", async () => {
  const fs = new MemoryFs();
  const fetcher = new HttpFetchStrategy({
    fs,
    fetch: () => Promise.resolve(new Response("tampered")),
  });
  const expected = "0".repeat(64);
  const error = await fetcher.fetch({
    url: "https://user:pw@files.example/x.whl",
    destination: "/out/x.whl",
    sha256: expected,
  }).catch((e: unknown) => e);
  assert.ok(error instanceof FetchError);
  assert.equal(error.code, "hash-mismatch");
  assert.match(
    error.message,
    /^Cannot fetch "https:\/\/user:\*\*\*@files\.example\/x\.whl": sha256 mismatch/,
  );
  assert.ok(error.message.includes(expected));
  assert.ok(error.message.includes(sha256(new TextEncoder().encode("tampered"))));
  assert.ok(!error.message.includes("pw"));
  assert.deepEqual([...fs.disk.files.keys()], []);
});

Deno.test("fetch() starts the largest waiting file first when every slot is taken", async () => {
  const started: string[] = [];
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((r) => (releaseFirst = r));
  const fetcher = new HttpFetchStrategy({
    fs: new MemoryFs(),
    concurrency: 1,
    fetch: async (input) => {
      const name = String(input).split("/").pop()!;
      started.push(name);
      if (name === "first.whl") await firstHeld;
      return new Response("x".repeat(Number(/-(\d+)/.exec(name)?.[1] ?? 1)));
    },
  });
  const get = (name: string, size: number) =>
    fetcher.fetch({ url: `https://h/${name}`, destination: `/o/${name}`, size });
  const first = get("first.whl", 1);
  // Queued while the one slot is busy, smallest first: the order they are asked in.
  const rest = [get("a-1.whl", 1), get("b-30.whl", 30), get("c-5.whl", 5), get("d-30.whl", 30)];
  await new Promise((r) => setTimeout(r, 0));
  releaseFirst();
  await Promise.all([first, ...rest]);
  assert.deepEqual(started, ["first.whl", "b-30.whl", "d-30.whl", "c-5.whl", "a-1.whl"]);
});

Deno.test("fetch() checks the expected size", async () => {
  const fetcher = new HttpFetchStrategy({
    fs: new MemoryFs(),
    fetch: () => Promise.resolve(new Response("abc")),
  });
  await assert.rejects(
    fetcher.fetch({ url: "https://h/x.whl", destination: "/o/x.whl", size: 4 }),
    (e: unknown) => e instanceof FetchError && e.code === "size-mismatch",
  );
});

Deno.test("fetch() restarts from zero once when a resumed file does not match its hash", async () => {
  const fs = new MemoryFs();
  const good = new TextEncoder().encode("0123456789");
  // A stale partial from another version of the file, with a validator the server accepts.
  await fs.mkdir("/o", { recursive: true });
  const p = await fs.open("/o/x.whl.part", "w");
  await p.write(new TextEncoder().encode("XXXX"));
  await p.close();
  const m = await fs.open("/o/x.whl.part.json", "w");
  await m.write(new TextEncoder().encode(JSON.stringify({ url: "https://h/x.whl", etag: '"e"' })));
  await m.close();
  const ranges: (string | null)[] = [];
  const fetcher = new HttpFetchStrategy({
    fs,
    fetch: (_u, init) => {
      const range = new Headers(init?.headers).get("range");
      ranges.push(range);
      if (range === "bytes=4-") {
        return Promise.resolve(
          new Response(good.subarray(4), {
            status: 206,
            headers: { "content-range": "bytes 4-9/10" },
          }),
        );
      }
      return Promise.resolve(new Response(good, { headers: { etag: '"e"' } }));
    },
  });
  const result = await fetcher.fetch({
    url: "https://h/x.whl",
    destination: "/o/x.whl",
    sha256: sha256(good),
  });
  assert.deepEqual(ranges, ["bytes=4-", null]);
  assert.equal(result.resumedBytes, 0);
  assert.equal(result.attempts, 2);
  assert.deepEqual(await fs.readFile("/o/x.whl"), good);
});

Deno.test("fetch() shares one transfer between concurrent identical requests", async () => {
  let calls = 0;
  const fetcher = new HttpFetchStrategy({
    fs: new MemoryFs(),
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("same"));
    },
  });
  const request = { url: "https://h/x.whl", destination: "/o/x.whl" };
  const [a, b] = await Promise.all([fetcher.fetch(request), fetcher.fetch(request)]);
  assert.equal(calls, 1);
  assert.equal(a.sha256, b.sha256);
});

Deno.test("fetch() reports start, progress and done without printing", async () => {
  const events: string[] = [];
  const reporter: Reporter = {
    start: (id) => events.push(`start ${id}`),
    progress: (_id, { done }) => events.push(`progress ${done}`),
    done: (id, { result }) => events.push(`done ${id} ${result?.size}`),
  };
  const fetcher = new HttpFetchStrategy({
    fs: new MemoryFs(),
    reporter,
    fetch: () => Promise.resolve(new Response("12345")),
  });
  await fetcher.fetch({ url: "https://h/x.whl", destination: "/o/x.whl" });
  assert.deepEqual(events, ["start /o/x.whl", "progress 5", "done /o/x.whl 5"]);
});

Deno.test("fetch() stops at once when the signal is already aborted", async () => {
  let calls = 0;
  const fetcher = new HttpFetchStrategy({
    fs: new MemoryFs(),
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("x"));
    },
  });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    fetcher.fetch({ url: "https://h/x.whl", destination: "/o/x.whl" }, {
      signal: controller.signal,
    }),
    (e: unknown) => e instanceof FetchError && e.code === "aborted",
  );
  assert.equal(calls, 0);
});

Deno.test("fetch() rejects unsupported URLs with a clear error", async () => {
  const fetcher = new HttpFetchStrategy({ fs: new MemoryFs() });
  await assert.rejects(
    fetcher.fetch({ url: "ftp://h/x.whl", destination: "/o/x.whl" }),
    (e: unknown) =>
      e instanceof FetchError && e.code === "unsupported-url" && /ftp:/.test(e.message),
  );
  await assert.rejects(
    fetcher.fetch({ url: "not a url", destination: "/o/x.whl" }),
    (e: unknown) => e instanceof FetchError && e.code === "unsupported-url",
  );
});

Deno.test("fetch() keeps partial downloads in the partial area, named after the URL", async () => {
  const fs = new MemoryFs();
  const fetcher = new HttpFetchStrategy({
    fs,
    partialDir: "/cache/partial",
    maxAttempts: 1,
    fetch: () => {
      let sent = false;
      return Promise.resolve(
        new Response(
          new ReadableStream({
            pull(c) {
              if (!sent) {
                sent = true;
                return c.enqueue(new Uint8Array([1, 2, 3]));
              }
              c.error(new TypeError("reset"));
            },
          }),
          { headers: { etag: '"a"' } },
        ),
      );
    },
  });
  await assert.rejects(fetcher.fetch({ url: "https://h/x.whl", destination: "/o/x.whl" }));
  const part = fetcher.partialPath("https://h/x.whl", "/o/x.whl");
  assert.match(part, /^\/cache\/partial\/[0-9a-f]{32}\.part$/);
  assert.equal((await fs.stat(part)).size, 3);
});

Deno.test("fetch() does not write into a partial file another process is downloading to", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/o", { recursive: true });
  // The other process: a lock and a growing partial file.
  await (await fs.open("/o/x.whl.part.lock", "wx")).close();
  const other = await fs.open("/o/x.whl.part", "w");
  await other.write(new TextEncoder().encode("theirs"));
  const ranges: (string | null)[] = [];
  const fetcher = new HttpFetchStrategy({
    fs,
    fetch: (_u, init) => {
      ranges.push(new Headers(init?.headers).get("range"));
      return Promise.resolve(new Response("mine!", { headers: { etag: '"e"' } }));
    },
  });
  const result = await fetcher.fetch({ url: "https://h/x.whl", destination: "/o/x.whl" });
  assert.deepEqual(ranges, [null]);
  assert.equal(result.size, 5);
  assert.equal(new TextDecoder().decode(await fs.readFile("/o/x.whl.part")), "theirs");
  assert.deepEqual([...fs.disk.files.keys()].sort(), [
    "/o/x.whl",
    "/o/x.whl.part",
    "/o/x.whl.part.lock",
  ]);
});

Deno.test("fetch() asks stillNeeded once it holds the lock, and asks for no byte when it says no", async () => {
  const fs = new MemoryFs();
  const asked: boolean[] = [];
  let requests = 0;
  const fetcher = new HttpFetchStrategy({
    fs,
    partialDir: "/p",
    fetch: () => {
      requests++;
      return Promise.resolve(new Response("data"));
    },
  });
  const lockHeld = () => [...fs.disk.files.keys()].some((k) => k.endsWith(".lock"));
  await assert.rejects(
    fetcher.fetch({
      url: "https://h/x.whl",
      destination: "/o/x.whl",
      stillNeeded: () => {
        asked.push(lockHeld());
        return Promise.resolve(false);
      },
    }),
    (e: unknown) => e instanceof FetchError && e.code === "satisfied",
  );
  assert.deepEqual(asked, [true], "asked once, with the lock held");
  assert.equal(requests, 0);
  assert.ok(!lockHeld(), "the lock is let go");
  const ok = await fetcher.fetch({
    url: "https://h/x.whl",
    destination: "/o/x.whl",
    stillNeeded: () => Promise.resolve(true),
  });
  assert.equal(ok.size, 4);
  assert.equal(requests, 1);
});

Deno.test("fetch() keeps a resume side-car only for files of 1 MiB and more (or of unknown size)", async () => {
  const made: string[] = [];
  const fs = new MemoryFs({
    fault: (op, path) => {
      if (op === "open" && path.endsWith(".part.json")) made.push(path.replace(/.*\//, ""));
      return undefined;
    },
  });
  const big = new Uint8Array(1024 * 1024).fill(7);
  const fetcher = new HttpFetchStrategy({
    fs,
    partialDir: "/p",
    fetch: (u) =>
      Promise.resolve(
        new Response(String(u).endsWith("big.whl") ? big : "small", {
          headers: { etag: '"e"' },
        }),
      ),
  });
  // Small, size known: fetched again whole after a crash, so no side-car is made.
  await fetcher.fetch({ url: "https://h/small.whl", destination: "/o/small.whl", size: 5 });
  assert.deepEqual(made, []);
  // Big, or of unknown size: resumable.
  await fetcher.fetch({ url: "https://h/big.whl", destination: "/o/big.whl", size: big.length });
  await fetcher.fetch({ url: "https://h/unknown.whl", destination: "/o/unknown.whl" });
  assert.equal(made.length, 2);
  assert.deepEqual([...fs.disk.files.keys()].filter((k) => k.startsWith("/p/")), []);
});

Deno.test("fetch() takes over a partial file whose lock is stale", async () => {
  const fs = new MemoryFs({ now: () => 0 });
  await fs.mkdir("/o", { recursive: true });
  await (await fs.open("/o/x.whl.part.lock", "wx")).close();
  const fetcher = new HttpFetchStrategy({
    fs,
    now: () => 60 * 60 * 1000,
    fetch: () => Promise.resolve(new Response("data")),
  });
  await fetcher.fetch({ url: "https://h/x.whl", destination: "/o/x.whl" });
  assert.deepEqual([...fs.disk.files.keys()], ["/o/x.whl"]);
});

Deno.test("fetch() copies file:// URLs with the same verification and reports a missing file", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/src", { recursive: true });
  const f = await fs.open("/src/a.whl", "w");
  await f.write(new TextEncoder().encode("local"));
  await f.close();
  const fetcher = new HttpFetchStrategy({ fs });
  const ok = await fetcher.fetch({ url: "file:///src/a.whl", destination: "/o/a.whl" });
  assert.equal(ok.sha256, sha256(new TextEncoder().encode("local")));
  await assert.rejects(
    fetcher.fetch({ url: "file:///src/a.whl", destination: "/o/b.whl", sha256: "0".repeat(64) }),
    (e: unknown) => e instanceof FetchError && e.code === "hash-mismatch",
  );
  await assert.rejects(
    fetcher.fetch({ url: "file:///src/missing.whl", destination: "/o/c.whl" }),
    (e: unknown) => e instanceof FetchError && e.code === "not-found",
  );
  assert.deepEqual([...fs.disk.files.keys()].sort(), ["/o/a.whl", "/src/a.whl"]);
});
