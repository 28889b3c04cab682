// A small tar reader for sdists: ustar, POSIX pax (`path`, `linkpath`, `size`) and GNU long names
// (`L`, `K`), in memory. It only reads; what may be written where is decided in _archive.ts.

import { BuildError } from "./types.ts";

/** One member of a tar archive. */
export interface TarMember {
  /** The path as stored (pax and GNU long names applied), `/`-separated. */
  path: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  /** The type flag as stored (for messages about `other`). */
  typeFlag: string;
  /** Permission bits. */
  mode: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Contents of a file (a view into the archive). */
  data: Uint8Array;
  /** Target of a symlink or hardlink. */
  linkTarget: string;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function bad(why: string): BuildError {
  return new BuildError("invalid-archive", `Cannot read the tar archive: ${why}`);
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul === -1 ? field : field.subarray(0, nul));
}

// Numeric fields are octal text, or (GNU, for values too big for octal) base-256 with the high bit
// of the first byte set.
function number(block: Uint8Array, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field.length > 0 && ((field[0] ?? 0) & 0x80) !== 0) {
    let n = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const t = text(block, start, length).trim();
  if (t === "") return 0;
  if (!/^[0-7]+$/.test(t)) throw bad(`bad numeric field "${t}"`);
  return parseInt(t, 8);
}

function checksumOk(block: Uint8Array): boolean {
  const stored = number(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i] ?? 0;
  return sum === stored;
}

// A pax record is "LEN KEY=VALUE\n", LEN counting the whole record in bytes.
function parsePax(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    let j = i;
    while (j < data.length && data[j] !== 0x20) j++;
    const len = parseInt(decoder.decode(data.subarray(i, j)), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.length) break;
    const record = decoder.decode(data.subarray(j + 1, i + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

/**
 * Reads every member of an (uncompressed) tar archive.
 *
 * @throws {BuildError} `invalid-archive` on a bad header checksum, a bad number or a truncated file.
 */
export function readTar(bytes: Uint8Array): TarMember[] {
  const members: TarMember[] = [];
  let offset = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end of archive
    if (!checksumOk(header)) throw bad(`bad header checksum at byte ${offset}`);
    const flag = String.fromCharCode(header[156] ?? 0);
    const size = pax.has("size") ? Number(pax.get("size")) : number(header, 124, 12);
    const start = offset + BLOCK;
    if (!Number.isSafeInteger(size) || size < 0 || start + size > bytes.length) {
      throw bad(`member at byte ${offset} is truncated`);
    }
    const data = bytes.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === "x") {
      pax = parsePax(data);
      continue;
    }
    if (flag === "g") continue; // global pax headers hold nothing a member's path depends on
    if (flag === "L") {
      longName = decoder.decode(data).replace(/\0+$/, "");
      continue;
    }
    if (flag === "K") {
      longLink = decoder.decode(data).replace(/\0+$/, "");
      continue;
    }
    let path = text(header, 0, 100);
    const magic = text(header, 257, 6);
    if (magic.startsWith("ustar")) {
      const prefix = text(header, 345, 155);
      if (prefix !== "") path = `${prefix}/${path}`;
    }
    path = pax.get("path") ?? longName ?? path;
    const linkTarget = pax.get("linkpath") ?? longLink ?? text(header, 157, 100);
    const type = flag === "0" || flag === "\0" || flag === "7"
      ? "file"
      : flag === "5"
      ? "dir"
      : flag === "2"
      ? "symlink"
      : flag === "1"
      ? "hardlink"
      : "other";
    members.push({
      path,
      type: type === "file" && path.endsWith("/") ? "dir" : type,
      typeFlag: flag,
      mode: number(header, 100, 8) & 0o7777,
      mtime: pax.has("mtime") ? Math.floor(Number(pax.get("mtime"))) : number(header, 136, 12),
      data,
      linkTarget,
    });
    pax = new Map();
    longName = undefined;
    longLink = undefined;
  }
  return members;
}
