// Back-off policy: pure functions, no clock and no randomness of their own.
import type { BackoffPolicy } from "./types.ts";

export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseMs: 250,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** Upper bound of the jittered delay before retry number `attempt` (1-based). */
export function backoffBound(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, attempt - 1);
  // 2 ** 1100 is Infinity, which Math.min handles; no overflow concerns.
  return Math.min(policy.maxDelayMs, policy.baseMs * 2 ** exponent);
}

/**
 * Delay before retry number `attempt` (1-based): "full jitter" (a uniform draw in
 * [0, min(cap, base * 2^(attempt-1))]), but never shorter than what the server asked for with
 * `Retry-After` (clamped to `maxRetryAfterMs`).
 *
 * @param attempt 1 for the first retry.
 * @param retryAfterMs The server's `Retry-After`, in ms, if any.
 * @param random A number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  random: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const r = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0;
  const jittered = Math.floor(r * backoffBound(attempt, policy));
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
 *
 * @returns Milliseconds to wait, or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** HTTP statuses worth another try: timeouts, rate limits and transient server failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 ||
    status === 503 || status === 504;
}
