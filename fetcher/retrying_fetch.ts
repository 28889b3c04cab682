/**
 * A `fetch` that retries what a flaky network gets wrong — connection resets, timeouts and
 * 408/429/5xx answers — with the same back-off policy as file transfers (full jitter, a cap on
 * attempts and delay, `Retry-After` honoured). Index pages and metadata requests go through it,
 * so the index client stays free of retry logic and tests can inject any policy.
 *
 * @module
 */
import { backoffDelay, DEFAULT_BACKOFF, isRetryableStatus, parseRetryAfter } from "./_backoff.ts";
import type { BackoffPolicy } from "./types.ts";

/** Options of {@linkcode retryingFetch}. */
export interface RetryingFetchOptions {
  /** Attempts in all, the first included. Default 6 (five retries). */
  maxAttempts?: number;
  /** Delay policy. */
  backoff?: Partial<BackoffPolicy>;
  /** Waits; rejects when `signal` aborts. Default: a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** The clock, for `Retry-After` dates. Default `Date.now`. */
  now?: () => number;
  /**
   * Longest wait for a response's headers per attempt, in ms; a slower server counts as a timeout
   * (retried). The body is not limited by it. Default: no limit.
   */
  timeoutMs?: number;
  /**
   * Read each answer's body inside the retry loop, up to this many bytes, with `timeoutMs` as the
   * longest silence between two chunks: a body that stalls or breaks mid-way is retried like a
   * failed request instead of hanging its reader. A body larger than this is handed on as a stream
   * (the caller's own size cap then applies). Default 0: bodies are the caller's to read.
   */
  bufferBodyBytes?: number;
  /** Told about every retry (for -v output). */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** Statuses whose responses cannot carry a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * Reads up to `max` bytes of a body, failing when no chunk arrives for `idleMs`. Returns the
 * whole body, or (past `max`) a stream of what was read followed by the rest.
 */
async function bufferBody(
  response: Response,
  max: number,
  idleMs: number | undefined,
  controller: AbortController,
): Promise<Response> {
  const body = response.body;
  if (body === null || NULL_BODY.has(response.status)) return response;
  const reader = body.getReader();
  // Each read waits at most `idleMs` for data; then the request is aborted and the read fails
  // (a cancelled read would look like the end of a whole body).
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    if (idleMs === undefined) return await reader.read();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new Error(`the body stalled: no data for ${idleMs} ms`);
        // Rejected first, so the race sees the stall before the cancelled read ends.
        reject(e);
        controller.abort(e);
        reader.cancel(e).catch(() => {});
      }, idleMs);
    });
    try {
      return await Promise.race([reader.read(), stalled]);
    } finally {
      clearTimeout(timer);
    }
  };
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const step = await read();
    if (step.done) break;
    chunks.push(step.value);
    total += step.value.length;
    if (total > max) {
      // Too large to hold: the caller reads on (and applies its own cap).
      const rest = new ReadableStream<Uint8Array>({
        start(c) {
          for (const chunk of chunks) c.enqueue(chunk);
        },
        async pull(c) {
          const next = await read();
          if (next.done) c.close();
          else c.enqueue(next.value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(rest, response);
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return new Response(out, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function urlOf(input: RequestInfo | URL): string {
  return input instanceof Request ? input.url : String(input);
}

/**
 * Wraps `fetch` with retries. Only requests without a body are retried (index clients send GETs);
 * the last answer or error is returned as `fetch` would.
 *
 * @param inner The `fetch` to wrap.
 * @param options Attempts, back-off and injected effects.
 * @returns A `fetch` with the same signature.
 * @example
 * ```ts
 * import { retryingFetch } from "./retrying_fetch.ts";
 * let calls = 0;
 * const flaky: typeof fetch = () =>
 *   Promise.resolve(new Response("ok", { status: ++calls < 3 ? 503 : 200 }));
 * const f = retryingFetch(flaky, { sleep: () => Promise.resolve() });
 * const res = await f("https://example.org/simple/a/");
 * if (res.status !== 200 || calls !== 3) throw new Error(`${res.status} after ${calls}`);
 * ```
 */
export function retryingFetch(
  inner: typeof globalThis.fetch,
  options: RetryingFetchOptions = {},
): typeof globalThis.fetch {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  const policy: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.backoff };
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  return async (input, init) => {
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const hasBody = init?.body !== undefined && init.body !== null;
    for (let attempt = 1;; attempt++) {
      let reason: string;
      let retryAfter: number | undefined;
      // Each attempt gets its own controller: the caller's signal cancels it, and so does the
      // header timeout, which is cleared once headers arrive so a long body can finish.
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(signal?.reason);
      if (signal?.aborted) controller.abort(signal.reason);
      else signal?.addEventListener("abort", onAbort, { once: true });
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(
        () => controller.abort(new Error(`no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      try {
        const response = await inner(input, { ...init, signal: controller.signal });
        clearTimeout(timer);
        if (hasBody || attempt >= maxAttempts || !isRetryableStatus(response.status)) {
          const buffer = options.bufferBodyBytes ?? 0;
          if (hasBody || buffer <= 0) return response;
          return await bufferBody(response, buffer, options.timeoutMs, controller);
        }
        reason = `server returned ${response.status}`;
        retryAfter = parseRetryAfter(response.headers.get("retry-after"), now());
        // Free the connection before waiting.
        await response.body?.cancel().catch(() => {});
      } catch (error) {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        // Our own timeouts abort with an Error that says what happened; report that one.
        const own = !signal?.aborted && controller.signal.aborted &&
            controller.signal.reason instanceof Error
          ? controller.signal.reason
          : undefined;
        if (signal?.aborted || hasBody || attempt >= maxAttempts) throw own ?? error;
        reason = controller.signal.aborted && controller.signal.reason instanceof Error
          ? controller.signal.reason.message
          : error instanceof Error
          ? error.message
          : String(error);
      }
      const delayMs = backoffDelay(attempt, retryAfter, random(), policy);
      options.onRetry?.({ url: urlOf(input), attempt, delayMs, reason });
      await sleep(delayMs, signal ?? undefined);
    }
  };
}
