/**
 * The one `Deno.*` adapter of the library: a `stat` with nanosecond ctime under Deno on Linux.
 *
 * Deno reports ctime in whole seconds (`node:fs` `stat`, its `bigint` form and `Deno.stat` alike),
 * which makes every file changed in the current second "racy" for the cache's fingerprints (a hard
 * link into a folder sets ctime, so every entry a run linked had to be hashed again by the next
 * run). Linux's `statx(2)` has the full timestamp; this calls it through Deno's FFI, only where
 * the process already holds the FFI permission (never prompts), and gives up quietly anywhere
 * else (Node, another OS, no permission, an old libc): callers then use `node:fs`.
 *
 * @module
 */

import type { FileStat } from "./types.ts";

/** A stat, and a key for the file's device. */
export interface PreciseStat {
  /** The file's stat, ctime to the nanosecond. */
  stat: FileStat;
  /** Its device, as `major:minor`. */
  device: string;
}

type Statx = (path: string) => Promise<PreciseStat | undefined>;

const AT_FDCWD = -100;
// STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME
const MASK = 0x1 | 0x2 | 0x4 | 0x100 | 0x200 | 0x40 | 0x80;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

interface DenoFfi {
  build: { os: string };
  permissions: { querySync(d: { name: "ffi" }): { state: string } };
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string; nonblocking?: boolean }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
}

let loaded: Statx | null | undefined;

/**
 * `statx(2)` of `path` (following links, like `stat`), or undefined when it failed for any
 * reason, including the file's absence: the caller asks `node:fs`, which throws the right error.
 * Undefined from {@linkcode preciseStat} itself (not a function) means the call is unavailable.
 */
export function preciseStat(): Statx | undefined {
  if (loaded === undefined) loaded = load() ?? null;
  return loaded ?? undefined;
}

function load(): Statx | undefined {
  const deno = (globalThis as { Deno?: DenoFfi }).Deno;
  try {
    if (deno?.build.os !== "linux") return undefined;
    if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
    const lib = deno.dlopen("libc.so.6", {
      statx: {
        parameters: ["i32", "buffer", "i32", "u32", "buffer"],
        result: "i32",
        nonblocking: true,
      },
    });
    const call = lib.symbols.statx as (
      dir: number,
      path: Uint8Array,
      flags: number,
      mask: number,
      out: Uint8Array,
    ) => Promise<number>;
    const encoder = new TextEncoder();
    return async (path: string): Promise<PreciseStat | undefined> => {
      const out = new Uint8Array(256);
      const rc = await call(AT_FDCWD, encoder.encode(`${path}\0`), 0, MASK, out);
      if (rc !== 0) return undefined;
      return decode(out);
    };
  } catch {
    return undefined;
  }
}

// struct statx (linux/stat.h): stx_mask u32 @0, stx_nlink u32 @16, stx_mode u16 @28, stx_ino u64 @32,
// stx_size u64 @40, stx_ctime @96 and stx_mtime @112 as { i64 tv_sec; u32 tv_nsec; },
// stx_dev_major u32 @136, stx_dev_minor u32 @140.
function decode(out: Uint8Array): PreciseStat | undefined {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const got = view.getUint32(0, true);
  if ((got & MASK) !== MASK) return undefined;
  const mode = view.getUint16(28, true) & S_IFMT;
  const ms = (at: number): number =>
    Number(view.getBigInt64(at, true)) * 1000 + view.getUint32(at + 8, true) / 1e6;
  return {
    stat: {
      size: Number(view.getBigUint64(40, true)),
      isFile: mode === S_IFREG,
      isDirectory: mode === S_IFDIR,
      mtimeMs: ms(112),
      ctimeMs: ms(96),
      ino: Number(view.getBigUint64(32, true)),
      nlink: view.getUint32(16, true),
    },
    device: `${view.getUint32(136, true)}:${view.getUint32(140, true)}`,
  };
}
