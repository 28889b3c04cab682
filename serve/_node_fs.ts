// The real ServeFileSystem, over node:fs/promises. Files are opened with O_NOFOLLOW, so a name
// swapped for a symlink after the containment check is refused (ELOOP) rather than followed.
import { constants } from "node:fs";
import * as fsp from "node:fs/promises";
import type { ServeFileHandle, ServeFileSystem, ServeStat } from "./types.ts";

// Windows has no O_NOFOLLOW; the realpath check before opening is what protects there.
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

function statOf(s: import("node:fs").Stats): ServeStat {
  return { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
}

export const nodeServeFs: ServeFileSystem = {
  stat: async (path) => statOf(await fsp.stat(path)),
  realpath: (path) => fsp.realpath(path),
  async readFile(path) {
    const b = await fsp.readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  async open(path): Promise<ServeFileHandle> {
    const handle = await fsp.open(path, READ_NO_FOLLOW);
    return {
      stat: async () => statOf(await handle.stat()),
      async read(buffer, position) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        return bytesRead;
      },
      close: () => handle.close(),
    };
  },
};
