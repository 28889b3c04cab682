import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloneGit, parseGitUrl } from "./clone_git.ts";
import { runProcess } from "./run_process.ts";
import { BuildError, type RunProcess } from "./types.ts";

const haveGit =
  (await runProcess("git", ["--version"], { cwd: ".", env: { PATH: Deno.env.get("PATH") ?? "" } }))
    .kind === "exited";
if (!haveGit) console.warn("SKIPPING the cloneGit() tests that need git: git is not available");

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: [
      "-c",
      "user.name=T",
      "-c",
      "user.email=t@example.com",
      "-c",
      "init.defaultBranch=main",
      ...args,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

/** A repository with two commits on main (the first tagged v1), and a branch "dev". */
async function makeRepo(dir: string): Promise<{ repo: string; first: string; second: string }> {
  const repo = join(dir, "repo");
  await fsp.mkdir(join(repo, "pkg"), { recursive: true });
  await git(repo, "init", "--quiet");
  await fsp.writeFile(join(repo, "pkg", "version.txt"), "1\n");
  await git(repo, "add", ".");
  await git(repo, "commit", "--quiet", "-m", "one");
  await git(repo, "tag", "v1");
  const first = await git(repo, "rev-parse", "HEAD");
  await git(repo, "branch", "dev");
  await fsp.writeFile(join(repo, "pkg", "version.txt"), "2\n");
  await git(repo, "commit", "--quiet", "-am", "two");
  return { repo, first, second: await git(repo, "rev-parse", "HEAD") };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fsp.mkdtemp(join(tmpdir(), "wh-git-"));
  try {
    await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

Deno.test("parseGitUrl() splits pip's git URL syntax", () => {
  assert.deepEqual(parseGitUrl("git+https://github.com/pypa/pip.git@23.1#egg=pip"), {
    url: "https://github.com/pypa/pip.git",
    rev: "23.1",
  });
  assert.deepEqual(parseGitUrl("git+ssh://git@github.com/a/b.git"), {
    url: "ssh://git@github.com/a/b.git",
  });
  assert.deepEqual(parseGitUrl("git+file:///srv/repo@feature%2Fx#subdirectory=sub/pkg"), {
    url: "file:///srv/repo",
    rev: "feature/x",
    subdirectory: "sub/pkg",
  });
  assert.deepEqual(parseGitUrl("https://example.com/r.git"), { url: "https://example.com/r.git" });
});

Deno.test("cloneGit() without git is a one-line BuildError", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      () => cloneGit("git+file:///nowhere", "v1", { cacheDir: dir, git: "git-is-not-installed" }),
      (e) =>
        e instanceof BuildError && e.code === "git-missing" &&
        e.message === "Cannot run git: not found",
    );
  });
});

Deno.test({
  name: "cloneGit() checks out tags, branches, commits and HEAD, and returns the commit id",
  ignore: !haveGit,
  async fn() {
    await withDir(async (dir) => {
      const { repo, first, second } = await makeRepo(dir);
      const cacheDir = join(dir, "cache");
      const url = `git+file://${repo}`;
      const byTag = await cloneGit(`${url}@v1`, undefined, { cacheDir });
      assert.equal(byTag.commit, first);
      assert.equal(await fsp.readFile(join(byTag.root, "pkg", "version.txt"), "utf8"), "1\n");
      assert.equal((await cloneGit(url, "dev", { cacheDir })).commit, first);
      assert.equal((await cloneGit(url, undefined, { cacheDir })).commit, second);
      assert.equal((await cloneGit(url, "main", { cacheDir })).commit, second);
      assert.equal((await cloneGit(url, first.slice(0, 10), { cacheDir })).commit, first);
      const sub = await cloneGit(`${url}@${second}#subdirectory=pkg`, undefined, { cacheDir });
      assert.equal(sub.directory, join(sub.root, "pkg"));
      assert.equal(await fsp.readFile(join(sub.directory, "version.txt"), "utf8"), "2\n");
      // The checkout's origin is the real repository, for tools such as setuptools-scm.
      assert.equal(await git(sub.root, "remote", "get-url", "origin"), `file://${repo}`);
    });
  },
});

Deno.test({
  name: "cloneGit() fetches a moved branch but not a commit it already has",
  ignore: !haveGit,
  async fn() {
    await withDir(async (dir) => {
      const { repo, second } = await makeRepo(dir);
      const cacheDir = join(dir, "cache");
      const commands: string[] = [];
      const run: RunProcess = (cmd, args, options) => {
        commands.push(args.filter((a) => !a.startsWith("/")).join(" "));
        return runProcess(cmd, args, options);
      };
      await cloneGit(`file://${repo}`, "main", { cacheDir, run });
      await fsp.writeFile(join(repo, "pkg", "version.txt"), "3\n");
      await git(repo, "commit", "--quiet", "-am", "three");
      const third = await git(repo, "rev-parse", "HEAD");
      assert.equal((await cloneGit(`file://${repo}`, "main", { cacheDir, run })).commit, third);
      commands.length = 0;
      const again = await cloneGit(`file://${repo}`, second, { cacheDir, run });
      assert.equal(again.commit, second);
      assert.ok(!commands.some((c) => c.includes("fetch")), commands.join("\n"));
      assert.ok(!commands.some((c) => c.includes("clone")), "the checkout is reused");
    });
  },
});

Deno.test({
  name: "cloneGit() reports an unknown revision, a bad repository and a bad subdirectory",
  ignore: !haveGit,
  async fn() {
    await withDir(async (dir) => {
      const { repo } = await makeRepo(dir);
      const cacheDir = join(dir, "cache");
      await assert.rejects(
        () => cloneGit(`file://${repo}`, "no-such-tag", { cacheDir }),
        (e) => e instanceof BuildError && e.code === "git-failed" && /no-such-tag/.test(e.message),
      );
      await assert.rejects(
        () => cloneGit(`file://${dir}/missing-repo`, undefined, { cacheDir }),
        (e) =>
          e instanceof BuildError && e.code === "git-failed" &&
          /git fetch failed with exit code/.test(e.message),
      );
      await assert.rejects(
        () => cloneGit(`file://${repo}`, "v1", { cacheDir, subdirectory: "nope" }),
        (e) =>
          e instanceof BuildError && e.code === "invalid-project" &&
          /no subdirectory "nope"/.test(e.message),
      );
      await assert.rejects(
        () => cloneGit(`file://${repo}`, "v1", { cacheDir, subdirectory: "../.." }),
        (e) =>
          e instanceof BuildError && e.code === "invalid-project" &&
          /outside the repository/.test(e.message),
      );
    });
  },
});
