// Reading sdists (tar, tar.gz, zip) in memory and writing them out safely: every member must stay
// inside the destination, links included (the same rules as Python's tarfile "data" filter, done
// lexically and up front so nothing is written from an archive that breaks them).

import { promisify } from "node:util";
import * as fsp from "node:fs/promises";
import { dirname, join } from "node:path";
import { readTar } from "./_tar.ts";
import { errnoOf } from "./_util.ts";
import { BuildError } from "./types.ts";

/** A member with a checked, normalised, relative `/`-separated path. */
export interface ArchiveMember {
  path: string;
  type: "file" | "dir" | "symlink" | "hardlink";
  mode: number;
  /** Seconds since the epoch; 0 when unknown. */
  mtime: number;
  data: Uint8Array;
  /** Symlink: the target as stored (relative). Hardlink: the normalised member path it names. */
  linkTarget: string;
}

function bad(archive: string, why: string, cause?: unknown): BuildError {
  return new BuildError(
    "invalid-archive",
    `Cannot unpack "${archive}": ${why}`,
    cause === undefined ? {} : { cause },
  );
}

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

/**
 * Splits a stored path into its segments, or undefined when it is absolute or leaves the root.
 * `./a//b/` → `["a", "b"]`.
 */
export function segmentsOf(stored: string): string[] | undefined {
  if (stored.includes("\0")) return undefined;
  const path = stored.replaceAll("\\", "/");
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return undefined;
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out;
}

/**
 * Reads an sdist's members and checks them: no absolute paths, no `..` above the root, no
 * devices or fifos, symlinks only to places inside the root and never through another symlink,
 * hardlinks only to files earlier in the archive, no member below a symlink.
 *
 * @throws {BuildError} `invalid-archive`.
 */
export async function readArchive(bytes: Uint8Array, label: string): Promise<ArchiveMember[]> {
  const raw: {
    path: string;
    type: string;
    typeFlag?: string;
    mode: number;
    mtime: number;
    data: Uint8Array;
    linkTarget: string;
  }[] = [];
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    let files: Record<string, Uint8Array>;
    const { unzipSync } = await import("fflate");
    try {
      files = unzipSync(bytes);
    } catch (e) {
      throw bad(label, `not a valid zip archive (${e instanceof Error ? e.message : e})`, e);
    }
    for (const [name, data] of Object.entries(files)) {
      raw.push({
        path: name,
        type: name.endsWith("/") ? "dir" : "file",
        mode: 0o644,
        mtime: 0,
        data,
        linkTarget: "",
      });
    }
  } else {
    let tar = bytes;
    if (startsWith(bytes, [0x1f, 0x8b])) {
      try {
        // node:zlib is loaded when a gzip archive is first read, not when the CLI starts.
        const { gunzip } = await import("node:zlib");
        tar = new Uint8Array(await promisify(gunzip)(bytes));
      } catch (e) {
        throw bad(label, `not a valid gzip stream (${e instanceof Error ? e.message : e})`, e);
      }
    } else if (
      startsWith(bytes, [0x42, 0x5a, 0x68]) || startsWith(bytes, [0xfd, 0x37, 0x7a, 0x58, 0x5a])
    ) {
      throw bad(label, "bzip2 and xz archives are not supported (use .tar.gz or .zip)");
    } else if (!startsWith(bytes, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) {
      throw bad(label, "not a tar, tar.gz or zip archive");
    }
    try {
      raw.push(...readTar(tar));
    } catch (e) {
      if (e instanceof BuildError) {
        throw bad(label, e.message.replace(/^Cannot read the tar archive: /, ""), e);
      }
      throw e;
    }
  }

  const members: ArchiveMember[] = [];
  const symlinks = new Set<string>();
  for (const m of raw) {
    if (m.type === "symlink") {
      const segs = segmentsOf(m.path);
      if (segs !== undefined) symlinks.add(segs.join("/"));
    }
  }
  const throughLink = (segs: string[], upTo: number): boolean => {
    for (let i = 1; i <= upTo; i++) if (symlinks.has(segs.slice(0, i).join("/"))) return true;
    return false;
  };
  const files = new Set<string>();
  for (const m of raw) {
    const segs = segmentsOf(m.path);
    if (segs === undefined) throw bad(label, `member "${m.path}" is outside the archive's root`);
    if (segs.length === 0) continue; // "./" itself
    const path = segs.join("/");
    if (m.type === "other") {
      throw bad(label, `member "${m.path}" is a device or fifo (type "${m.typeFlag}")`);
    }
    if (throughLink(segs, segs.length - 1)) {
      throw bad(label, `member "${m.path}" is inside a symbolic link`);
    }
    let linkTarget = "";
    if (m.type === "symlink") {
      const target = m.linkTarget.replaceAll("\\", "/");
      if (target.startsWith("/") || /^[A-Za-z]:/.test(target)) {
        throw bad(label, `symbolic link "${m.path}" points to an absolute path`);
      }
      // Walk the target from the link's folder: it must not climb above the root, and must not
      // pass through another link (whose own target would make `..` mean something else).
      const here = segs.slice(0, -1);
      for (const part of target.split("/")) {
        if (part === "" || part === ".") continue;
        if (part === "..") {
          if (here.length === 0) {
            throw bad(label, `symbolic link "${m.path}" points outside the archive's root`);
          }
          here.pop();
          continue;
        }
        here.push(part);
        if (symlinks.has(here.join("/")) && here.join("/") !== path) {
          throw bad(label, `symbolic link "${m.path}" points through another link`);
        }
      }
      linkTarget = m.linkTarget;
    } else if (m.type === "hardlink") {
      const target = segmentsOf(m.linkTarget);
      if (target === undefined || !files.has(target.join("/"))) {
        throw bad(label, `hard link "${m.path}" does not name an earlier file of the archive`);
      }
      linkTarget = target.join("/");
    }
    if (m.type === "file" || m.type === "hardlink") files.add(path);
    members.push({
      path,
      type: m.type as ArchiveMember["type"],
      mode: m.mode,
      mtime: m.mtime,
      data: m.data,
      linkTarget,
    });
  }
  return members;
}

/**
 * The folder all members share (`demo-1.0`, as sdists have), or "" when they share none.
 */
export function archiveRoot(members: readonly ArchiveMember[]): string {
  let root: string | undefined;
  let deeper = false;
  for (const m of members) {
    const slash = m.path.indexOf("/");
    const first = slash === -1 ? m.path : m.path.slice(0, slash);
    if (slash !== -1) deeper = true;
    else if (m.type !== "dir") return "";
    if (root === undefined) root = first;
    else if (root !== first) return "";
  }
  return deeper && root !== undefined ? root : "";
}

/** The contents of a member by its path, or undefined. */
export function memberText(members: readonly ArchiveMember[], path: string): string | undefined {
  const m = members.find((x) => x.path === path && x.type === "file");
  return m === undefined ? undefined : new TextDecoder().decode(m.data);
}

/** Writes checked members below `dest` (which must exist). */
export async function writeMembers(members: readonly ArchiveMember[], dest: string): Promise<void> {
  const made = new Set<string>();
  const mkdirp = async (dir: string) => {
    if (made.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true });
    made.add(dir);
  };
  for (const m of members) {
    const target = join(dest, ...m.path.split("/"));
    if (m.type === "dir") {
      await mkdirp(target);
      continue;
    }
    await mkdirp(dirname(target));
    if (m.type === "symlink") {
      await fsp.rm(target, { force: true });
      await fsp.symlink(m.linkTarget, target);
      continue;
    }
    if (m.type === "hardlink") {
      await fsp.rm(target, { force: true });
      await fsp.copyFile(join(dest, ...m.linkTarget.split("/")), target);
      continue;
    }
    const mode = (m.mode & 0o111) !== 0 ? 0o755 : 0o644;
    // "wx" never follows a link that an earlier member of the same name left there.
    try {
      await fsp.writeFile(target, m.data, { flag: "wx", mode });
    } catch (e) {
      if (errnoOf(e) !== "EEXIST") throw e;
      await fsp.rm(target, { force: true });
      await fsp.writeFile(target, m.data, { flag: "wx", mode });
    }
    if (m.mtime > 0) await fsp.utimes(target, m.mtime, m.mtime);
  }
}
