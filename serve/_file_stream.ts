// Reading an open file for a server: a byte range as a stream (released on cancel or end), and a
// wheel's core metadata from its central directory. Shared by the folder and cache sources.
import { createHash } from "node:crypto";
import { readWheelMetadata } from "../index/read_wheel_metadata.ts";
import type { ByteRange, CoreMetadataFile, ServeFileHandle, SourceFile } from "./types.ts";

const CHUNK = 256 * 1024;

/** The bytes `range` of an open file of `file.size` bytes, as a stream that closes the file. */
export function streamHandle(
  handle: ServeFileHandle,
  file: SourceFile,
  range?: ByteRange,
): ReadableStream<Uint8Array> {
  const end = Math.min(range?.end ?? file.size, file.size);
  let position = Math.max(0, range?.start ?? 0);
  let closed = false;
  const release = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      if (position >= end) {
        await release();
        controller.close();
        return;
      }
      try {
        const buffer = new Uint8Array(Math.min(CHUNK, end - position));
        const n = await handle.read(buffer, position);
        if (n === 0) throw new Error(`${file.filename} became shorter while being read`);
        position += n;
        controller.enqueue(n === buffer.length ? buffer : buffer.subarray(0, n));
      } catch (e) {
        await release();
        controller.error(e);
      }
    },
    cancel: release,
  }, { highWaterMark: 0 });
}

/**
 * A wheel's `.dist-info/METADATA` read through an open file, with its sha256; undefined when the
 * wheel has none. The handle stays open (the caller closes it).
 *
 * @throws What reading the file throws (a truncated or unreadable zip).
 */
export async function metadataOfHandle(
  handle: ServeFileHandle,
  file: SourceFile,
  maxBytes: number,
): Promise<CoreMetadataFile | undefined> {
  const bytes = await readWheelMetadata(
    {
      size: file.size,
      async read(start: number, end: number): Promise<Uint8Array> {
        const hi = Math.min(end, file.size);
        const buffer = new Uint8Array(Math.max(0, hi - start));
        let filled = 0;
        while (filled < buffer.length) {
          const n = await handle.read(buffer.subarray(filled), start + filled);
          if (n === 0) throw new Error("the file is shorter than listed");
          filled += n;
        }
        return buffer;
      },
    },
    file.project,
    maxBytes,
  );
  if (bytes === undefined) return undefined;
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}
