/**
 * Finds one member of a gzip-compressed tar stream without keeping the rest (for an sdist's
 * `PKG-INFO`), with caps on the member size and on how much is decompressed.
 *
 * @module
 */

/** Thrown for archives that cannot be read; the caller wraps it with the URL. */
export class TarFormatError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "TarFormatError";
  }
}

function field(block: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && block[end] !== 0) end++;
  return new TextDecoder().decode(block.subarray(start, end));
}

function octalField(block: Uint8Array, start: number, len: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256 size.
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + (block[i] ?? 0);
    return v;
  }
  const text = field(block, start, len).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad octal field "${text}"`);
  return parseInt(text, 8);
}

function paxPath(data: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(data);
  for (const line of text.split("\n")) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Streams a `.tar.gz` and returns the first regular file whose path `want` accepts.
 *
 * @param stream The compressed bytes.
 * @param want Chooses the member by path.
 * @param options `maxMember` caps the member's size, `maxTotal` the decompressed bytes scanned.
 * @returns The member's path and bytes, or undefined when none matched.
 * @throws {TarFormatError} For a malformed archive or a cap exceeded.
 */
export async function findTarGzMember(
  stream: ReadableStream<Uint8Array>,
  want: (path: string) => boolean,
  options: { maxMember: number; maxTotal: number },
): Promise<{ path: string; data: Uint8Array } | undefined> {
  const reader = stream.pipeThrough(
    new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
  ).getReader();
  let buf = new Uint8Array(0);
  let total = 0;
  let eof = false;
  const need = async (n: number): Promise<boolean> => {
    while (buf.length < n && !eof) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (cause) {
        throw new TarFormatError(`bad gzip data: ${String(cause)}`);
      }
      if (r.done) {
        eof = true;
        break;
      }
      total += r.value.length;
      if (total > options.maxTotal) {
        throw new TarFormatError(`more than ${options.maxTotal} bytes decompressed`);
      }
      const next = new Uint8Array(buf.length + r.value.length);
      next.set(buf);
      next.set(r.value, buf.length);
      buf = next;
    }
    return buf.length >= n;
  };
  const take = (n: number): Uint8Array => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  let longName: string | undefined;
  try {
    for (;;) {
      if (!(await need(512))) return undefined;
      const header = take(512);
      if (header.every((b) => b === 0)) return undefined;
      const size = octalField(header, 124, 12);
      const type = String.fromCharCode(header[156] ?? 0);
      const padded = Math.ceil(size / 512) * 512;
      const magic = field(header, 257, 6);
      const prefix = magic.startsWith("ustar") ? field(header, 345, 155) : "";
      let path = longName ??
        (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      longName = undefined;
      if (type === "L" || type === "x") {
        if (size > 64 * 1024) throw new TarFormatError("oversized long-name header");
        if (!(await need(padded))) throw new TarFormatError("truncated archive");
        const data = take(padded).slice(0, size);
        longName = type === "L" ? field(data, 0, size) : paxPath(data);
        continue;
      }
      path = path.replace(/^\.\//, "");
      const regular = type === "0" || type === "\0" || type === "7";
      if (regular && want(path)) {
        if (size > options.maxMember) {
          throw new TarFormatError(
            `${path} is ${size} bytes, more than the ${options.maxMember}-byte limit`,
          );
        }
        if (!(await need(size))) throw new TarFormatError("truncated archive");
        return { path, data: take(size).slice() };
      }
      // Skip the member without keeping it.
      let skip = padded;
      while (skip > 0) {
        if (buf.length === 0 && !(await need(1))) throw new TarFormatError("truncated archive");
        const n = Math.min(skip, buf.length);
        take(n);
        skip -= n;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
