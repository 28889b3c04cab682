import assert from "node:assert/strict";
import { Semaphore } from "./_semaphore.ts";

Deno.test("Semaphore admits at most its limit and serves waiters in order", async () => {
  const s = new Semaphore(2);
  const order: number[] = [];
  const r1 = await s.acquire();
  const r2 = await s.acquire();
  const third = s.acquire().then((r) => (order.push(3), r));
  const fourth = s.acquire().then((r) => (order.push(4), r));
  await Promise.resolve();
  assert.deepEqual(order, []);
  r1();
  r1(); // A second release of the same permit is ignored.
  const r3 = await third;
  assert.deepEqual(order, [3]);
  r2();
  (await fourth)();
  r3();
  assert.deepEqual(order, [3, 4]);
  // All permits are back: two can be taken at once again.
  const [a, b] = await Promise.all([s.acquire(), s.acquire()]);
  a();
  b();
});

Deno.test("Semaphore stops waiting when the signal aborts, keeping the permit count", async () => {
  const s = new Semaphore(1);
  const held = await s.acquire();
  const controller = new AbortController();
  const waiting = s.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  await assert.rejects(s.acquire(controller.signal), /stop/);
  held();
  const again = await s.acquire();
  again();
});
