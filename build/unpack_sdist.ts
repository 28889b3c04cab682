/**
 * Unpacking a source distribution into a folder, refusing members that would land outside it.
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { basename, join } from "node:path";
import { archiveRoot, readArchive, writeMembers } from "./_archive.ts";
import { BuildError } from "./types.ts";

/**
 * Unpacks an sdist (`.tar.gz`, `.tgz`, `.tar` or `.zip`, told apart by their bytes) into `dest`.
 * Nothing is written when a member is unsafe: absolute paths, `..` above the root, devices,
 * symbolic links leaving the root or passing through other links, hard links to anything but an
 * earlier file.
 *
 * @param archive Path of the sdist.
 * @param dest The folder to unpack into (created when missing).
 * @returns The project folder: the archive's single top folder (`dest/demo-1.0`), else `dest`.
 * @throws {BuildError} `invalid-archive` for unreadable, unsupported or unsafe archives.
 * @example
 * ```ts
 * import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { zipSync } from "fflate";
 * import { unpackSdist } from "./unpack_sdist.ts";
 * const dir = await mkdtemp(join(tmpdir(), "sdist-"));
 * const text = new TextEncoder().encode("[project]\nname = 'demo'\n");
 * await writeFile(join(dir, "demo-1.0.zip"), zipSync({ "demo-1.0/pyproject.toml": text }));
 * const root = await unpackSdist(join(dir, "demo-1.0.zip"), join(dir, "out"));
 * if (root !== join(dir, "out", "demo-1.0")) throw new Error(root);
 * if (!(await readFile(join(root, "pyproject.toml"), "utf8")).includes("demo")) throw new Error();
 * await rm(dir, { recursive: true });
 * ```
 */
export async function unpackSdist(archive: string, dest: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(archive);
  } catch (e) {
    throw new BuildError(
      "invalid-archive",
      `Cannot unpack "${archive}": ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
  const members = await readArchive(bytes, basename(archive));
  await fsp.mkdir(dest, { recursive: true });
  await writeMembers(members, dest);
  const root = archiveRoot(members);
  return root === "" ? dest : join(dest, root);
}
