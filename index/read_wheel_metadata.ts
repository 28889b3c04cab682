/**
 * A wheel's `.dist-info/METADATA`, read from its central directory through random access: a few
 * small reads, never the whole file (what a server needs for PEP 658 files).
 *
 * @module
 */
import { listZip, type RangeSource, readZipEntry, type ZipEntry } from "./_zip_range.ts";

export type { RangeSource } from "./_zip_range.ts";
import { normalizeName } from "../pep/name.ts";

/** The METADATA entry of a wheel of `project`: the only one, or the one of that name. */
function pick(entries: readonly ZipEntry[], project: string): ZipEntry | undefined {
  const all = entries.filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  if (all.length <= 1) return all[0];
  return all.find((e) => {
    const dir = e.name.slice(0, e.name.indexOf(".dist-info/"));
    const dash = dir.lastIndexOf("-");
    return dash > 0 && normalizeName(dir.slice(0, dash)) === project;
  });
}

/**
 * Reads the METADATA of a wheel.
 *
 * @param source The wheel, at random access.
 * @param project Its normalised project name (to choose among several `.dist-info` folders).
 * @param maxBytes The largest METADATA accepted.
 * @returns The bytes, or undefined when the wheel has none.
 * @throws {Error} When the archive cannot be read (not a zip, truncated, bad CRC).
 * @example
 * ```ts
 * import { strToU8, zipSync } from "fflate";
 * import { readWheelMetadata } from "./read_wheel_metadata.ts";
 * const wheel = zipSync({ "a-1.0.dist-info/METADATA": strToU8("Metadata-Version: 2.1\nName: a\n") });
 * const source = {
 *   size: wheel.length,
 *   read: (start: number, end: number) => Promise.resolve(wheel.slice(start, end)),
 * };
 * const got = await readWheelMetadata(source, "a", 1 << 20);
 * if (new TextDecoder().decode(got).indexOf("Name: a") < 0) throw new Error("read");
 * ```
 */
export async function readWheelMetadata(
  source: RangeSource,
  project: string,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const entry = pick(await listZip(source), project);
  return entry === undefined ? undefined : await readZipEntry(source, entry, maxBytes);
}
