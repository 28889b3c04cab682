/**
 * The real {@linkcode FileSystem}, over `node:fs/promises`.
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import type { FileStat, FileSystem, WritableFile } from "./types.ts";
import { preciseStat } from "./_deno_statx.ts";
import { exactCtime } from "./_exact_ctime.ts";

const CHUNK = 64 * 1024;

/**
 * The real file system, the default wherever a `fs` option is accepted.
 *
 * @example
 * ```ts
 * import { nodeFs } from "./node_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await nodeFs.open(`${dir}/a`, "w");
 * await file.write(new TextEncoder().encode("hello"));
 * await file.close();
 * if ((await nodeFs.stat(`${dir}/a`)).size !== 5) throw new Error();
 * await nodeFs.rm(dir, { recursive: true });
 * ```
 */
export const nodeFs: FileSystem = {
  async open(path: string, flags: "w" | "a" | "wx"): Promise<WritableFile> {
    const handle = await fsp.open(path, flags);
    return {
      async write(data: Uint8Array): Promise<void> {
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await handle.write(data, offset, data.length - offset);
          offset += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  async *read(path: string, options?: { start?: number }): AsyncIterable<Uint8Array> {
    const handle = await fsp.open(path, "r");
    try {
      let position = options?.start ?? 0;
      while (true) {
        const buffer = new Uint8Array(CHUNK);
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  },
  async readFile(path: string): Promise<Uint8Array> {
    const buffer = await fsp.readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  },
  async stat(path: string): Promise<FileStat> {
    // Under Deno, node:fs has ctime in whole seconds: statx has it to the nanosecond, which lets
    // the cache trust a file linked or written a moment ago (see _deno_statx.ts).
    const precise = await preciseStat()?.(path);
    if (precise) {
      const exact = await exactCtime(`x${precise.device}`, path);
      return exact ? { ...precise.stat, ctimeExact: true } : precise.stat;
    }
    const s = await fsp.stat(path);
    const stat: FileStat = {
      size: s.size,
      isFile: s.isFile(),
      isDirectory: s.isDirectory(),
      mtimeMs: s.mtimeMs,
      ctimeMs: s.ctimeMs,
      ino: s.ino,
      nlink: s.nlink,
    };
    // Whole-second ctime (Deno's node:fs) is never exact, whatever the file system keeps.
    const exact = s.ctimeMs % 1000 !== 0 && await exactCtime(`n${s.dev}`, path);
    return exact ? { ...stat, ctimeExact: true } : stat;
  },
  rename: (from: string, to: string) => fsp.rename(from, to),
  unlink: (path: string) => fsp.unlink(path),
  rm: (path: string, options?: { recursive?: boolean }) =>
    fsp.rm(path, { force: true, recursive: options?.recursive ?? false }),
  async mkdir(path: string, options?: { recursive?: boolean }): Promise<void> {
    await fsp.mkdir(path, { recursive: options?.recursive ?? false });
  },
  readdir: (path: string) => fsp.readdir(path),
  link: (existing: string, newPath: string) => fsp.link(existing, newPath),
  copyFile: (from: string, to: string) => fsp.copyFile(from, to),
};
