import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMsgpack, MsgpackError, type MsgValue } from "./_msgpack.ts";

// An independent encoder that picks the widest forms too, to exercise every decoder branch.
function encode(value: MsgValue, wide: boolean, out: number[] = []): number[] {
  const be = (n: number, bytes: number): void => {
    for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(n / 2 ** (8 * i)) & 0xff);
  };
  if (value === null) out.push(0xc0);
  else if (typeof value === "boolean") out.push(value ? 0xc3 : 0xc2);
  else if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      if (!wide && value < 128) out.push(value);
      else (out.push(0xce), be(value, 4));
    } else if (Number.isInteger(value) && value < 0 && value >= -(2 ** 31)) {
      if (!wide && value >= -32) out.push(value + 0x100);
      else (out.push(0xd2), be(value >>> 0, 4));
    } else {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, value);
      out.push(0xcb, ...b);
    }
  } else if (typeof value === "string") {
    const b = new TextEncoder().encode(value);
    if (!wide && b.length < 32) out.push(0xa0 | b.length);
    else (out.push(0xdb), be(b.length, 4));
    out.push(...b);
  } else if (value instanceof Uint8Array) {
    (out.push(0xc6), be(value.length, 4));
    out.push(...value);
  } else if (Array.isArray(value)) {
    if (!wide && value.length < 16) out.push(0x90 | value.length);
    else (out.push(0xdc), be(value.length, 2));
    for (const v of value) encode(v, wide, out);
  } else if (value instanceof Map) {
    if (!wide && value.size < 16) out.push(0x80 | value.size);
    else (out.push(0xde), be(value.size, 2));
    for (const [k, v] of value) (encode(k, wide, out), encode(v, wide, out));
  } else {
    throw new Error("unsupported in test encoder");
  }
  return out;
}

const { value: valueArb } = fc.letrec<{ value: MsgValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    fc.double({ noNaN: true }).map((d) => (d === 0 ? 0 : d)),
    fc.string(),
    fc.uint8Array({ maxLength: 20 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.uniqueArray(fc.tuple(fc.string(), tie("value")), { maxLength: 5, selector: ([k]) => k })
      .map((entries) => new Map<MsgValue, MsgValue>(entries)),
  ),
}));

Deno.test("decodeMsgpack() inverts an encoder in compact and wide forms", () => {
  fc.assert(
    fc.property(valueArb, fc.boolean(), (value, wide) => {
      const bytes = new Uint8Array(encode(value, wide));
      const decoded = decodeMsgpack(bytes);
      assert.equal(decoded.length, bytes.length);
      assert.deepEqual(decoded.value, value);
    }),
  );
});

Deno.test("decodeMsgpack() rejects truncated input with an error, never a crash", () => {
  fc.assert(
    fc.property(valueArb, (value) => {
      const bytes = new Uint8Array(encode(value, true));
      for (let cut = 0; cut < Math.min(bytes.length, 40); cut++) {
        assert.throws(() => decodeMsgpack(bytes.subarray(0, cut)), MsgpackError);
      }
    }),
  );
  assert.throws(() => decodeMsgpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])), MsgpackError);
  assert.throws(() => decodeMsgpack(new Uint8Array([0xc1])), /invalid MessagePack byte 0xc1/);
});
