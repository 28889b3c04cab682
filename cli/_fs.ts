// Small file helpers of the CLI, for files outside the wheelhouse folder (the report, the host
// facts); files inside the folder go through WheelhouseStore.writeFile.
import * as fsp from "node:fs/promises";
import { dirname } from "node:path";

/** Writes a text file through a temp file and a rename, so readers never see half of it. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await fsp.writeFile(temp, text);
    await fsp.rename(temp, path);
  } catch (e) {
    await fsp.rm(temp, { force: true }).catch(() => {});
    throw e;
  }
}
