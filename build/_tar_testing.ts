// Test helper: writes tar archives byte by byte (ustar headers, pax and GNU long-name records),
// including the malformed and hostile ones the reader must refuse.

/** One member to write. */
export interface TarSpec {
  name: string;
  /** "0" file (default), "5" dir, "2" symlink, "1" hardlink, "3" char device, ... */
  type?: string;
  data?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  mtime?: number;
  /** Store the name in a pax `path` record (the header gets a truncated one). */
  pax?: boolean;
  /** Store the name in a GNU `L` record. */
  gnuLongName?: boolean;
  /** Split the name into ustar's prefix and name fields at the last "/". */
  ustarPrefix?: boolean;
  /** Corrupt the header checksum. */
  badChecksum?: boolean;
}

const encoder = new TextEncoder();

function put(block: Uint8Array, offset: number, length: number, text: string): void {
  block.set(encoder.encode(text).subarray(0, length), offset);
}

function octal(n: number, length: number): string {
  return n.toString(8).padStart(length - 1, "0") + "\0";
}

function header(
  name: string,
  type: string,
  size: number,
  opts: {
    linkname?: string;
    mode?: number;
    mtime?: number;
    prefix?: string;
    badChecksum?: boolean;
  },
): Uint8Array {
  const block = new Uint8Array(512);
  put(block, 0, 100, name);
  put(block, 100, 8, octal(opts.mode ?? 0o644, 8));
  put(block, 108, 8, octal(0, 8));
  put(block, 116, 8, octal(0, 8));
  put(block, 124, 12, octal(size, 12));
  put(block, 136, 12, octal(opts.mtime ?? 1_700_000_000, 12));
  put(block, 148, 8, "        ");
  put(block, 156, 1, type);
  put(block, 157, 100, opts.linkname ?? "");
  put(block, 257, 6, "ustar\0");
  put(block, 263, 2, "00");
  if (opts.prefix) put(block, 345, 155, opts.prefix);
  let sum = 0;
  for (const b of block) sum += b;
  if (opts.badChecksum) sum += 1;
  put(block, 148, 8, octal(sum, 7) + " ");
  return block;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 512) * 512);
  out.set(data);
  return out;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/** An uncompressed tar archive of `specs`, with the two zero blocks at the end. */
export function makeTar(specs: readonly TarSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of specs) {
    const data = typeof s.data === "string" ? encoder.encode(s.data) : s.data ?? new Uint8Array();
    const type = s.type ?? "0";
    let name = s.name;
    let prefix: string | undefined;
    if (s.pax) {
      const record = encoder.encode(paxRecord("path", s.name));
      parts.push(header("PaxHeader", "x", record.length, {}), padded(record));
      name = s.name.slice(0, 99);
    } else if (s.gnuLongName) {
      const long = encoder.encode(`${s.name}\0`);
      parts.push(header("././@LongLink", "L", long.length, {}), padded(long));
      name = s.name.slice(0, 99);
    } else if (s.ustarPrefix) {
      const cut = s.name.lastIndexOf("/");
      prefix = s.name.slice(0, cut);
      name = s.name.slice(cut + 1);
    }
    parts.push(
      header(name, type, type === "0" ? data.length : 0, {
        ...(s.linkname !== undefined ? { linkname: s.linkname } : {}),
        ...(s.mode !== undefined ? { mode: s.mode } : {}),
        ...(s.mtime !== undefined ? { mtime: s.mtime } : {}),
        ...(prefix !== undefined ? { prefix } : {}),
        ...(s.badChecksum ? { badChecksum: true } : {}),
      }),
    );
    if (type === "0") parts.push(padded(data));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
