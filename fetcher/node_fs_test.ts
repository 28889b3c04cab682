import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fsp from "node:fs/promises";
import { platform, release, tmpdir } from "node:os";
import { join } from "node:path";
import { LocalDirStore } from "../cache/local_dir_store.ts";
import { nodeFs } from "./node_fs.ts";
import type { FileSystem } from "./types.ts";

const linux = platform() === "linux";

Deno.test({
  name: "nodeFs.stat() has ctime to the nanosecond (GNU stat's), inode, link count, size and mtime",
  ignore: !linux,
  fn: async () => {
    const dir = await fsp.mkdtemp(join(tmpdir(), "wh-stat-"));
    try {
      for (let i = 0; i < 5; i++) {
        const path = join(dir, `f${i}`);
        await fsp.writeFile(path, "x".repeat(i));
        for (let l = 0; l < i % 3; l++) await fsp.link(path, `${path}.link${l}`);
        const st = await nodeFs.stat(path);
        const [ctime, mtime, ino, size, links] = execFileSync("stat", [
          "-c",
          "%.9Z %.9Y %i %s %h",
          path,
        ]).toString().trim().split(" ");
        assert.equal(st.nlink, Number(links));
        assert.equal(st.nlink, 1 + (i % 3));
        assert.ok(Math.abs(st.ctimeMs! - Number(ctime) * 1000) < 0.001, `${st.ctimeMs} ${ctime}`);
        assert.ok(Math.abs(st.mtimeMs - Number(mtime) * 1000) < 0.001, `${st.mtimeMs} ${mtime}`);
        assert.equal(st.ino, Number(ino));
        assert.equal(st.size, Number(size));
        assert.equal(st.isFile, true);
      }
      assert.equal((await nodeFs.stat(dir)).isDirectory, true);
      await assert.rejects(nodeFs.stat(join(dir, "absent")), (e: { code?: string }) => {
        return e.code === "ENOENT";
      });
    } finally {
      await fsp.rm(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a cache entry written a moment ago is trusted by the next process where ctime is exact",
  ignore: !linux,
  fn: async () => {
    const dir = await fsp.mkdtemp(join(tmpdir(), "wh-exact-"));
    try {
      const reads: string[] = [];
      const fs: FileSystem = {
        ...nodeFs,
        read: (path, options) => {
          reads.push(path);
          return nodeFs.read(path, options);
        },
      };
      const bytes = new TextEncoder().encode("just downloaded");
      const entry = await new LocalDirStore(dir, { fs }).put({ bytes }, { filename: "a.whl" });
      const st = await nodeFs.stat(new LocalDirStore(dir).pathOf(entry.sha256));
      const m = /^(\d+)\.(\d+)/.exec(release());
      const multigrain = m !== null && Number(m[1]) * 1000 + Number(m[2]) >= 6013;
      // Linux 6.13+ on ext4, xfs, btrfs and tmpfs: this machine's temp folder is one of them.
      const fsType = execFileSync("stat", ["-f", "-c", "%t", dir]).toString().trim();
      const expected = multigrain && ["ef53", "58465342", "9123683e", "1021994"].includes(fsType);
      assert.equal(st.ctimeExact === true, expected);
      reads.length = 0;
      const hit = await new LocalDirStore(dir, { fs }).get(entry.sha256, { verify: "changed" });
      assert.equal(hit.kind, "hit");
      // Not racy: recorded when written, so the next process does not hash it again.
      assert.equal(reads.length, expected ? 0 : 1);
    } finally {
      await fsp.rm(dir, { recursive: true });
    }
  },
});
