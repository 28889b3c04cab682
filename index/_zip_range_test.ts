import assert from "node:assert/strict";
import fc from "fast-check";
import { zipSync } from "fflate";
import { bytesSource, crc32, listZip, type RangeSource, readZipEntry } from "./_zip_range.ts";

const enc = new TextEncoder();

/** A source that counts the bytes it hands out. */
function counting(bytes: Uint8Array): RangeSource & { read_: number } {
  const s = {
    size: bytes.length,
    read_: 0,
    read(start: number, end: number): Promise<Uint8Array> {
      s.read_ += Math.min(end, bytes.length) - start;
      return Promise.resolve(bytes.subarray(start, end));
    },
  };
  return s;
}

/** Writes a stored-method zip in zip64 form: zip64 extras, zip64 EOCD record and locator. */
function zip64(files: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = enc.encode(name);
    const local = new Uint8Array(30 + n.length + 20);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 45, true);
    lv.setUint32(14, crc32(data), true);
    lv.setUint32(18, 0xffffffff, true);
    lv.setUint32(22, 0xffffffff, true);
    lv.setUint16(26, n.length, true);
    lv.setUint16(28, 20, true);
    local.set(n, 30);
    lv.setUint16(30 + n.length, 1, true);
    lv.setUint16(32 + n.length, 16, true);
    lv.setBigUint64(34 + n.length, BigInt(data.length), true);
    lv.setBigUint64(42 + n.length, BigInt(data.length), true);
    const c = new Uint8Array(46 + n.length + 28);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 45, true);
    cv.setUint32(16, crc32(data), true);
    cv.setUint32(20, 0xffffffff, true);
    cv.setUint32(24, 0xffffffff, true);
    cv.setUint16(28, n.length, true);
    cv.setUint16(30, 28, true);
    cv.setUint32(42, 0xffffffff, true);
    c.set(n, 46);
    cv.setUint16(46 + n.length, 1, true);
    cv.setUint16(48 + n.length, 24, true);
    cv.setBigUint64(50 + n.length, BigInt(data.length), true);
    cv.setBigUint64(58 + n.length, BigInt(data.length), true);
    cv.setBigUint64(66 + n.length, BigInt(offset), true);
    parts.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const cdOffset = offset;
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const rec = new Uint8Array(56);
  const rv = new DataView(rec.buffer);
  rv.setUint32(0, 0x06064b50, true);
  rv.setBigUint64(4, 44n, true);
  rv.setBigUint64(24, BigInt(files.length), true);
  rv.setBigUint64(32, BigInt(files.length), true);
  rv.setBigUint64(40, BigInt(cdSize), true);
  rv.setBigUint64(48, BigInt(cdOffset), true);
  const loc = new Uint8Array(20);
  const lv = new DataView(loc.buffer);
  lv.setUint32(0, 0x07064b50, true);
  lv.setBigUint64(8, BigInt(cdOffset + cdSize), true);
  lv.setUint32(16, 1, true);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 0xffff, true);
  ev.setUint16(10, 0xffff, true);
  ev.setUint32(12, 0xffffffff, true);
  ev.setUint32(16, 0xffffffff, true);
  const all = [...parts, ...central, rec, loc, eocd];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const a of all) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}

Deno.test("listZip() + readZipEntry() read any member of an fflate zip (law)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(
        fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8})?$/),
        fc.uint8Array({ maxLength: 3000 }),
        {
          minKeys: 1,
          maxKeys: 6,
        },
      ),
      fc.constantFrom(0, 6),
      async (files, level) => {
        const zip = zipSync(
          Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level }]])),
        );
        const source = bytesSource(zip);
        const entries = await listZip(source);
        assert.deepEqual(entries.map((e) => e.name).sort(), Object.keys(files).sort());
        for (const e of entries) {
          assert.deepEqual(
            await readZipEntry(source, e, 1 << 20),
            files[e.name],
          );
        }
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("listZip() reads zip64 archives (EOCD locator, zip64 record and extras)", async () => {
  const zip = zip64([["a.dist-info/WHEEL", enc.encode("Wheel-Version: 1.0\n")], [
    "a.dist-info/METADATA",
    enc.encode("Name: a\n"),
  ]]);
  const source = bytesSource(zip);
  const entries = await listZip(source);
  assert.deepEqual(entries.map((e) => e.name), ["a.dist-info/WHEEL", "a.dist-info/METADATA"]);
  assert.equal(new TextDecoder().decode(await readZipEntry(source, entries[1]!, 100)), "Name: a\n");
});

Deno.test("readZipEntry() reads only the tail and the member of a big archive", async () => {
  const big = crypto.getRandomValues(new Uint8Array(60_000));
  const zip = zipSync({
    "pad.bin": [new Uint8Array([...big, ...big, ...big, ...big]), { level: 0 }],
    "a.dist-info/METADATA": enc.encode("Name: a\n"),
  });
  const source = counting(zip);
  const tail = await source.read(Math.max(0, zip.length - 4096), zip.length);
  const entries = await listZip(source, tail);
  const md = entries.find((e) => e.name.endsWith("METADATA"))!;
  await readZipEntry(source, md, 100);
  assert.ok(source.read_ < 10_000, `${source.read_} bytes read of ${zip.length}`);
});

Deno.test("readZipEntry() rejects members over the cap, corrupt data and non-zips", async () => {
  const zip = zipSync({ m: enc.encode("x".repeat(1000)) });
  const source = bytesSource(zip);
  const [entry] = await listZip(source);
  await assert.rejects(readZipEntry(source, entry!, 999), /limit/);
  await assert.rejects(
    listZip(bytesSource(enc.encode("not a zip at all"))),
    /end-of-central-directory/,
  );
  const stored = zipSync({ m: [enc.encode("hello"), { level: 0 }] });
  const broken = stored.slice();
  broken[32] = broken[32]! ^ 0xff; // a data byte of "hello" (30-byte header + 1-byte name)
  const e2 = (await listZip(bytesSource(broken)))[0]!;
  await assert.rejects(readZipEntry(bytesSource(broken), e2, 100), /CRC-32/);
});
