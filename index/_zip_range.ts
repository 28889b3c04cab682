/**
 * Reading single members of a zip archive through a random-access source, so that a wheel's
 * `METADATA` can be read with HTTP range requests: the end-of-central-directory record (and the
 * zip64 locator and record), the central directory, one local header, then inflate.
 *
 * @module
 */

/** Random access to an archive of known size. */
export interface RangeSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads bytes [start, end) (end exclusive, clamped to size by callers). */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** One central-directory entry. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** Thrown for archives that cannot be read; the caller wraps it with the URL. */
export class ZipFormatError extends Error {
  /** @param message What is wrong with the archive. */
  constructor(message: string) {
    super(message);
    this.name = "ZipFormatError";
  }
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

/** How many bytes at the end of an archive hold the EOCD, its comment and the zip64 locator. */
export const EOCD_SEARCH_SPAN: number = EOCD_MIN + MAX_COMMENT + 20;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError("a zip64 field is too large");
  return Number(v);
}

/** Where the central directory is. */
export interface CentralDirectoryLocation {
  offset: number;
  size: number;
  entries: number;
}

/**
 * Finds the central directory from the archive's tail.
 *
 * @param tail The last bytes of the archive.
 * @param tailStart Offset of `tail[0]` in the archive.
 * @param source For reading the zip64 record when it is not in `tail`.
 */
export async function locateCentralDirectory(
  tail: Uint8Array,
  tailStart: number,
  source: RangeSource,
): Promise<CentralDirectoryLocation> {
  const dv = view(tail);
  let at = -1;
  for (let i = tail.length - EOCD_MIN; i >= 0 && i >= tail.length - EOCD_MIN - MAX_COMMENT; i--) {
    if (
      dv.getUint32(i, true) === EOCD_SIG && i + EOCD_MIN + dv.getUint16(i + 20, true) <= tail.length
    ) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new ZipFormatError("no end-of-central-directory record (not a zip file?)");
  let entries = dv.getUint16(at + 10, true);
  let size = dv.getUint32(at + 12, true);
  let offset = dv.getUint32(at + 16, true);
  const needs64 = entries === 0xffff || size === 0xffffffff || offset === 0xffffffff;
  const loc = at - 20;
  if (loc >= 0 && dv.getUint32(loc, true) === ZIP64_LOCATOR_SIG) {
    const recordOffset = u64(dv, loc + 8);
    let record: Uint8Array;
    if (recordOffset >= tailStart && recordOffset + 56 <= tailStart + tail.length) {
      record = tail.subarray(recordOffset - tailStart, recordOffset - tailStart + 56);
    } else {
      if (recordOffset + 56 > source.size) throw new ZipFormatError("zip64 record out of range");
      record = await source.read(recordOffset, recordOffset + 56);
    }
    const rv = view(record);
    if (record.length < 56 || rv.getUint32(0, true) !== ZIP64_EOCD_SIG) {
      throw new ZipFormatError("bad zip64 end-of-central-directory record");
    }
    entries = u64(rv, 32);
    size = u64(rv, 40);
    offset = u64(rv, 48);
  } else if (needs64) {
    throw new ZipFormatError("zip64 archive without a zip64 locator");
  }
  if (offset + size > source.size) {
    throw new ZipFormatError("central directory lies outside the archive");
  }
  return { offset, size, entries };
}

/**
 * Parses central-directory entries.
 *
 * @param cd The central directory bytes.
 * @param expected The entry count from the EOCD.
 */
export function parseCentralDirectory(cd: Uint8Array, expected: number): ZipEntry[] {
  const dv = view(cd);
  const out: ZipEntry[] = [];
  const decoder = new TextDecoder();
  let p = 0;
  while (out.length < expected) {
    if (p + 46 > cd.length || dv.getUint32(p, true) !== CENTRAL_SIG) {
      throw new ZipFormatError(`bad central directory entry ${out.length}`);
    }
    const method = dv.getUint16(p + 10, true);
    const crc32 = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let uncompressedSize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) {
      throw new ZipFormatError(`truncated central directory entry ${out.length}`);
    }
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extended information: only the fields that are saturated appear, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw new ZipFormatError(`short zip64 extra field in ${name}`);
          const v = u64(dv, q);
          q += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + len;
    }
    out.push({ name, method, crc32, compressedSize, uncompressedSize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/**
 * Lists an archive's entries, reading only its tail and central directory.
 *
 * @param source The archive.
 * @param tail Optionally, bytes already read from the end.
 */
export async function listZip(
  source: RangeSource,
  tail?: Uint8Array,
): Promise<ZipEntry[]> {
  const t = tail ??
    await source.read(Math.max(0, source.size - EOCD_SEARCH_SPAN), source.size);
  const loc = await locateCentralDirectory(t, source.size - t.length, source);
  const cd = await source.read(loc.offset, loc.offset + loc.size);
  return parseCentralDirectory(cd, loc.entries);
}

/**
 * Reads and decompresses one entry, checking its size cap and CRC-32.
 *
 * @param source The archive.
 * @param entry The entry from {@linkcode listZip}.
 * @param maxBytes Largest uncompressed size accepted.
 */
export async function readZipEntry(
  source: RangeSource,
  entry: ZipEntry,
  maxBytes: number,
): Promise<Uint8Array> {
  if (entry.uncompressedSize > maxBytes) {
    throw new ZipFormatError(
      `${entry.name} is ${entry.uncompressedSize} bytes, more than the ${maxBytes}-byte limit`,
    );
  }
  // One read for header and data, guessing a small local extra field; a second only if needed.
  const guess = 30 + 4 * 1024 + entry.compressedSize + entry.name.length;
  const start = entry.localHeaderOffset;
  let chunk = await source.read(start, Math.min(source.size, start + guess));
  const dv = view(chunk);
  if (chunk.length < 30 || dv.getUint32(0, true) !== LOCAL_SIG) {
    throw new ZipFormatError(`bad local header for ${entry.name}`);
  }
  const dataStart = 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > chunk.length) {
    if (start + dataEnd > source.size) throw new ZipFormatError(`${entry.name} is truncated`);
    chunk = await source.read(start, start + dataEnd);
  }
  const raw = chunk.subarray(dataStart, dataEnd);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    // Loaded when first needed: fflate builds its tables as it loads (about 7 ms of every start).
    const { inflateSync } = await import("fflate");
    try {
      data = inflateSync(raw, { out: new Uint8Array(entry.uncompressedSize) });
    } catch (cause) {
      throw new ZipFormatError(`cannot inflate ${entry.name}: ${String(cause)}`);
    }
  } else {
    throw new ZipFormatError(`${entry.name} uses unsupported compression method ${entry.method}`);
  }
  if (data.length !== entry.uncompressedSize) {
    throw new ZipFormatError(`${entry.name} has the wrong size`);
  }
  if (crc32(data) !== entry.crc32) throw new ZipFormatError(`${entry.name} fails its CRC-32 check`);
  return data;
}

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (IEEE) of bytes, as zip stores it.
 *
 * @param data The bytes.
 */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of data) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A source over bytes already in memory.
 *
 * @param bytes The whole archive.
 */
export function bytesSource(bytes: Uint8Array): RangeSource {
  return {
    size: bytes.length,
    read: (start, end) => Promise.resolve(bytes.subarray(start, Math.min(end, bytes.length))),
  };
}
