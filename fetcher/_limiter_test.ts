import assert from "node:assert/strict";
import fc from "fast-check";
import { Limiter, OnceMap } from "./_limiter.ts";

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("Limiter never runs more than the global cap, nor more than the per-key cap per key", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 0, max: 3 })), {
        maxLength: 30,
      }),
      async (global, perKey, tasks) => {
        const limiter = new Limiter(global, perKey);
        let active = 0;
        const perKeyActive = new Map<string, number>();
        const results = await Promise.all(
          tasks.map(([key, ticks], i) =>
            limiter.run(key, async () => {
              active++;
              perKeyActive.set(key, (perKeyActive.get(key) ?? 0) + 1);
              assert.ok(active <= global);
              assert.ok((perKeyActive.get(key) ?? 0) <= perKey);
              for (let t = 0; t < ticks; t++) await tick();
              active--;
              perKeyActive.set(key, (perKeyActive.get(key) ?? 0) - 1);
              return i;
            })
          ),
        );
        assert.deepEqual(results, tasks.map((_, i) => i));
        assert.ok(limiter.peak <= global);
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("Limiter releases its slot when a task throws", async () => {
  const limiter = new Limiter(1);
  await assert.rejects(limiter.run("h", () => Promise.reject(new Error("boom"))));
  assert.equal(await limiter.run("h", () => Promise.resolve(7)), 7);
});

Deno.test("Limiter stops waiting when the signal aborts", async () => {
  const limiter = new Limiter(1);
  let release!: () => void;
  const first = limiter.run("h", () => new Promise<void>((r) => (release = r)));
  const controller = new AbortController();
  const second = limiter.run("h", () => Promise.resolve("ran"), controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(second, /stop/);
  release();
  await first;
  assert.equal(await limiter.run("h", () => Promise.resolve("ok")), "ok");
});

Deno.test("OnceMap shares one promise between concurrent callers of a key", async () => {
  const once = new OnceMap<string, number>();
  let calls = 0;
  const task = async (): Promise<number> => {
    calls++;
    await tick();
    return 42;
  };
  const [a, b] = await Promise.all([once.run("k", task), once.run("k", task)]);
  assert.equal(a, 42);
  assert.equal(b, 42);
  assert.equal(calls, 1);
  assert.equal(once.size, 0);
  await once.run("k", task);
  assert.equal(calls, 2);
});

Deno.test("Limiter.throttle() halves a key's cap as running tasks end, keeps it while the key is idle, never below 1", async () => {
  const limiter = new Limiter(8, 8);
  let active = 0;
  let startedAbove = 0;
  const gates: (() => void)[] = [];
  const task = (cap?: number) =>
    limiter.run("host", async () => {
      active++;
      if (cap !== undefined && active > cap) startedAbove++;
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
    });
  const first = Array.from({ length: 8 }, () => task());
  await tick();
  assert.equal(active, 8);
  assert.equal(limiter.throttle("host"), 4);
  // None of the eight running is stopped; queued work starts only while fewer than four run.
  const more = Array.from({ length: 8 }, () => task(4));
  await tick();
  assert.equal(active, 8);
  while (gates.length > 0) {
    gates.shift()!();
    await tick();
  }
  await Promise.all([...first, ...more]);
  assert.equal(startedAbove, 0);
  // Idle now: the lower cap stays for the limiter's life; other keys keep theirs.
  assert.equal(limiter.capOf("host"), 4);
  assert.equal(limiter.capOf("other"), 8);
  assert.equal(limiter.throttle("host"), 2);
  assert.equal(limiter.throttle("host"), 1);
  assert.equal(limiter.throttle("host"), 1);
});

Deno.test("Limiter gives free slots to the highest priority waiting, then to the earliest", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 3 }),
      async (priorities, global) => {
        const limiter = new Limiter(global);
        // Hold every slot so that all the tasks below wait, then free them at once.
        const holders: (() => void)[] = [];
        const held = Array.from(
          { length: global },
          () => limiter.run("h", () => new Promise<void>((r) => holders.push(r))),
        );
        const order: number[] = [];
        const waiting = priorities.map((p, i) =>
          limiter.run(
            "h",
            () => {
              order.push(i);
              return Promise.resolve();
            },
            undefined,
            p,
          )
        );
        while (holders.length < global) await tick();
        for (const release of holders) release();
        await Promise.all([...held, ...waiting]);
        const expected = priorities.map((p, i) => ({ p, i }))
          .sort((a, b) => b.p - a.p || a.i - b.i).map((x) => x.i);
        assert.deepEqual(order, expected);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("Limiter keeps the order of the others when a waiting task is cancelled", async () => {
  const limiter = new Limiter(1);
  let release!: () => void;
  const first = limiter.run("h", () => new Promise<void>((r) => (release = r)));
  const order: string[] = [];
  const task = (name: string) => () => {
    order.push(name);
    return Promise.resolve();
  };
  const controller = new AbortController();
  const small = limiter.run("h", task("small"), undefined, 1);
  const big = limiter.run("h", task("big"), controller.signal, 9);
  const medium = limiter.run("h", task("medium"), undefined, 5);
  controller.abort(new Error("gone"));
  await assert.rejects(big, /gone/);
  release();
  await Promise.all([first, small, medium]);
  assert.deepEqual(order, ["medium", "small"]);
});
