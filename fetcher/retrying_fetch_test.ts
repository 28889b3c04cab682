import assert from "node:assert/strict";
import fc from "fast-check";
import { retryingFetch } from "./retrying_fetch.ts";
import { backoffBound, DEFAULT_BACKOFF } from "./_backoff.ts";

type Step = { kind: "status"; status: number; retryAfter?: number } | { kind: "reset" };

function scripted(steps: Step[]): { fetch: typeof fetch; calls: () => number } {
  let i = 0;
  return {
    fetch: () => {
      const step = steps[Math.min(i++, steps.length - 1)]!;
      if (step.kind === "reset") return Promise.reject(new TypeError("connection reset"));
      const headers: Record<string, string> = step.retryAfter === undefined
        ? {}
        : { "retry-after": String(step.retryAfter) };
      return Promise.resolve(new Response(`body ${i}`, { status: step.status, headers }));
    },
    calls: () => i,
  };
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: "reset" }),
  fc.constantFrom(408, 429, 500, 502, 503, 504).map((status): Step => ({ kind: "status", status })),
  fc.record({ s: fc.constantFrom(429, 503), r: fc.integer({ min: 0, max: 5 }) }).map((
    { s, r },
  ): Step => ({ kind: "status", status: s, retryAfter: r })),
);

Deno.test("retryingFetch() never exceeds the attempt cap and waits within the jittered bound", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArb, { maxLength: 8 }),
      fc.integer({ min: 1, max: 6 }),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
      async (failures, maxAttempts, r) => {
        const script = scripted([...failures, { kind: "status", status: 200 }]);
        const delays: number[] = [];
        const f = retryingFetch(script.fetch, {
          maxAttempts,
          random: () => r,
          sleep: (ms) => {
            delays.push(ms);
            return Promise.resolve();
          },
        });
        let status: number | "error";
        try {
          status = (await f("https://i.example/simple/a/")).status;
        } catch {
          status = "error";
        }
        assert.ok(script.calls() <= maxAttempts);
        if (failures.length < maxAttempts) {
          assert.equal(status, 200);
          assert.equal(script.calls(), failures.length + 1);
        } else {
          assert.equal(script.calls(), maxAttempts);
        }
        delays.forEach((d, k) => {
          const step = failures[k]!;
          const floor = step.kind === "status" && step.retryAfter !== undefined
            ? step.retryAfter * 1000
            : 0;
          assert.ok(d >= Math.min(floor, DEFAULT_BACKOFF.maxRetryAfterMs), `${d} < ${floor}`);
          assert.ok(d <= Math.max(backoffBound(k + 1), floor), `${d} too long`);
        });
      },
    ),
    { numRuns: 200, seed: 7 },
  );
});

Deno.test("retryingFetch() does not retry other 4xx answers", async () => {
  const script = scripted([{ kind: "status", status: 404 }]);
  const f = retryingFetch(script.fetch, { sleep: () => Promise.resolve() });
  assert.equal((await f("https://i.example/simple/missing/")).status, 404);
  assert.equal(script.calls(), 1);
});

Deno.test("retryingFetch() stops waiting when the signal aborts", async () => {
  const controller = new AbortController();
  const script = scripted([{ kind: "reset" }]);
  const f = retryingFetch(script.fetch, {
    sleep: (_ms, signal) => {
      controller.abort(new Error("stop"));
      return Promise.reject(signal?.reason);
    },
  });
  await assert.rejects(() => f("https://i.example/", { signal: controller.signal }), /stop/);
  assert.equal(script.calls(), 1);
});

Deno.test("retryingFetch() retries a server that does not answer within the timeout", async () => {
  let calls = 0;
  const slowThenFast: typeof fetch = (_input, init) => {
    calls++;
    if (calls === 1) {
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
      });
    }
    return Promise.resolve(new Response("ok"));
  };
  const reasons: string[] = [];
  const f = retryingFetch(slowThenFast, {
    timeoutMs: 20,
    sleep: () => Promise.resolve(),
    onRetry: (info) => reasons.push(info.reason),
  });
  assert.equal(await (await f("https://i.example/")).text(), "ok");
  assert.equal(calls, 2);
  assert.match(reasons[0]!, /no answer within 20 ms/);
});

/** A response that sends `head` and then nothing, ever (until cancelled). */
function stalling(head: string): Response {
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(head));
      },
    }),
    { status: 200 },
  );
}

Deno.test("retryingFetch() retries a body that stalls mid-way, when it reads bodies itself", async () => {
  let calls = 0;
  const inner: typeof fetch = () =>
    Promise.resolve(++calls === 1 ? stalling("<html>half") : new Response("<html>whole</html>"));
  const retries: string[] = [];
  const f = retryingFetch(inner, {
    timeoutMs: 50,
    bufferBodyBytes: 1024,
    sleep: () => Promise.resolve(),
    onRetry: (r) => retries.push(r.reason),
  });
  const res = await f("https://example.org/simple/a/");
  assert.equal(await res.text(), "<html>whole</html>");
  assert.equal(calls, 2);
  assert.match(retries[0]!, /stalled: no data for 50 ms/);
});

Deno.test("retryingFetch() gives up on a body that keeps stalling with an error that says so", async () => {
  const f = retryingFetch(() => Promise.resolve(stalling("x")), {
    maxAttempts: 2,
    timeoutMs: 30,
    bufferBodyBytes: 1024,
    sleep: () => Promise.resolve(),
  });
  await assert.rejects(() => f("https://example.org/simple/a/"), /stalled: no data for 30 ms/);
});

Deno.test("retryingFetch() streams a body past its buffer and still times out a stall there", async () => {
  const big = "y".repeat(100);
  const f = retryingFetch(() => Promise.resolve(stalling(big)), {
    maxAttempts: 1,
    timeoutMs: 30,
    bufferBodyBytes: 10,
    sleep: () => Promise.resolve(),
  });
  const res = await f("https://example.org/a.whl");
  await assert.rejects(() => res.arrayBuffer());
});
