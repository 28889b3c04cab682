import assert from "node:assert/strict";
import fc from "fast-check";
import {
  backoffBound,
  backoffDelay,
  DEFAULT_BACKOFF,
  isRetryableStatus,
  parseRetryAfter,
} from "./_backoff.ts";
import type { BackoffPolicy } from "./types.ts";

const policyArb: fc.Arbitrary<BackoffPolicy> = fc.record({
  baseMs: fc.integer({ min: 1, max: 5000 }),
  maxDelayMs: fc.integer({ min: 1, max: 600_000 }),
  maxRetryAfterMs: fc.integer({ min: 0, max: 600_000 }),
});
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

Deno.test("backoffDelay() without Retry-After lies in [0, min(cap, base * 2^(n-1))]", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2000 }), randomArb, policyArb, (attempt, r, policy) => {
      const d = backoffDelay(attempt, undefined, r, policy);
      assert.ok(d >= 0);
      assert.ok(d <= Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (attempt - 1)));
      assert.ok(d <= policy.maxDelayMs);
    }),
  );
});

Deno.test("backoffDelay() never waits less than a Retry-After within the clamp", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 1_000_000 }),
      randomArb,
      policyArb,
      (attempt, retryAfter, r, policy) => {
        const d = backoffDelay(attempt, retryAfter, r, policy);
        assert.ok(d >= Math.min(retryAfter, policy.maxRetryAfterMs));
        assert.ok(d <= Math.max(backoffBound(attempt, policy), policy.maxRetryAfterMs));
      },
    ),
  );
});

Deno.test("backoffBound() grows monotonically up to the cap", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100 }), policyArb, (attempt, policy) => {
      assert.ok(backoffBound(attempt + 1, policy) >= backoffBound(attempt, policy));
    }),
  );
  assert.equal(backoffBound(1), DEFAULT_BACKOFF.baseMs);
  assert.equal(backoffBound(2), DEFAULT_BACKOFF.baseMs * 2);
  assert.equal(backoffBound(1000), DEFAULT_BACKOFF.maxDelayMs);
});

Deno.test("backoffDelay() uses the whole jitter range (full jitter, not equal jitter)", () => {
  assert.equal(backoffDelay(3, undefined, 0), 0);
  assert.equal(backoffDelay(3, undefined, 0.5), Math.floor(0.5 * 1000));
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("7", 0), 7000);
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

Deno.test("isRetryableStatus() retries timeouts, 429 and transient 5xx only", () => {
  const retryable = [408, 429, 500, 502, 503, 504];
  for (let s = 100; s < 600; s++) assert.equal(isRetryableStatus(s), retryable.includes(s), `${s}`);
});
