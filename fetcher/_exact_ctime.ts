/**
 * Whether a file system gives every change of a file a ctime later than the one last read, even
 * a change a microsecond later: Linux's multigrain timestamps (kernel 6.13 and later, on ext4,
 * xfs, btrfs and tmpfs) do, by switching to a fine-grained clock for an inode once its ctime has
 * been read. Elsewhere ctime comes from a coarse clock that ticks every 1-10 ms, so a change in
 * the same tick as a read can leave ctime as it was (git calls such a file "racy").
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { platform, release } from "node:os";

// statfs(2) f_type of the file systems with multigrain timestamps since Linux 6.13.
const MULTIGRAIN = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
]);

let kernel: boolean | undefined;
const byDevice = new Map<string, Promise<boolean>>();

/** Whether this is Linux 6.13 or later (false where the release cannot be read). */
function multigrainKernel(): boolean {
  if (kernel !== undefined) return kernel;
  try {
    const m = platform() === "linux" ? /^(\d+)\.(\d+)/.exec(release()) : null;
    kernel = m !== null && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 13));
  } catch {
    kernel = false;
  }
  return kernel;
}

/**
 * Whether `path`'s file system has change-exact ctime, asked once per device.
 *
 * @param device A key for the file's device (any string unique per device).
 * @param path A path on that device.
 */
export function exactCtime(device: string, path: string): Promise<boolean> {
  if (!multigrainKernel()) return Promise.resolve(false);
  let known = byDevice.get(device);
  if (known === undefined) {
    known = fsp.statfs(path).then((s) => MULTIGRAIN.has(Number(s.type)), () => false);
    byDevice.set(device, known);
  }
  return known;
}
