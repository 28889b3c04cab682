// The CLI outside Deno: the bundle (`dist/wheelhouse.mjs`) run by Node, and the Node single
// executable, each doing a real download from the test index, compared with the same run of the
// sources under Deno. Built once per run into a temp folder; skipped loudly without `node`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildSea, bundle } from "../scripts/build.ts";
import { servedFilesFromDir, startIndexServer } from "./index_server.ts";
import { indexArgs, LINUX_312, type Run } from "./_e2e_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const EXAMPLES = join(ROOT, "examples", "index");
const decoder = new TextDecoder();

async function haveNode(): Promise<boolean> {
  try {
    return (await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const HAVE_NODE = await haveNode();
if (!HAVE_NODE) console.error("SKIPPED: node is not installed; the Node bundle and SEA tests");

async function exec(cmd: string, args: string[], cwd: string): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function archives(dest: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dest)) {
    if (e.isFile && /\.(whl|tar\.gz|zip)$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/**
 * Runs `program` (a command and its leading arguments) for two targets against the example
 * index, and checks it gives exactly the files and side files the Deno run of the sources gives.
 */
async function downloadsLikeDeno(program: [string, ...string[]]): Promise<void> {
  const server = await startIndexServer({ projects: await servedFilesFromDir(EXAMPLES) });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-node-" });
  try {
    const args = (dest: string) => [
      "download",
      ...indexArgs(server.indexUrl, join(dir, `cache-${dest}`)),
      "-d",
      join(dir, dest),
      ...LINUX_312,
      "--python-platform",
      "x86_64-pc-windows-msvc",
      "-r",
      join(ROOT, "examples", "requirements.txt"),
    ];
    const [cmd, ...lead] = program;
    const other = await exec(cmd, [...lead, ...args("other")], dir);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, /Resolved \d+ packages .* Downloaded \d+ files/);
    const deno = await exec(
      Deno.execPath(),
      ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), ...args("deno")],
      dir,
    );
    assert.equal(deno.code, 0, deno.stderr);
    const files = await archives(join(dir, "other"));
    assert.ok(files.length > 3, files.join());
    assert.deepEqual(files, await archives(join(dir, "deno")));
    for (const side of ["index.html", "manifest.json", "pylock.toml"]) {
      await Deno.stat(join(dir, "other", side));
    }
    // Bad usage: one line and exit 2, as under Deno.
    const bad = await exec(cmd, [...lead, "download", "--no-such-option"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: .*no-such-option/);
    assert.doesNotMatch(bad.stderr, /at .*\.(m?js|ts):\d+/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "the bundle runs under Node: --version, and a real two-target download like Deno's",
  ignore: !HAVE_NODE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "wheelhouse-bundle-" });
    try {
      const file = await bundle(join(dir, "wheelhouse.mjs"));
      const version = await exec("node", [file, "--version"], dir);
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, /^wheelhouse \d+\.\d+\.\d+\n$/);
      await downloadsLikeDeno(["node", file]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the single executable (Node SEA) runs a real two-target download like Deno's",
  ignore: !HAVE_NODE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "wheelhouse-sea-" });
    try {
      const exe = await buildSea(join(dir, "wheelhouse"));
      const version = await exec(exe, ["--version"], dir);
      assert.equal(version.code, 0, version.stderr);
      assert.equal(version.stderr, "", "no experimental-feature warning");
      assert.match(version.stdout, /^wheelhouse \d+\.\d+\.\d+\n$/);
      await downloadsLikeDeno([exe]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the package's bin (npx wheelhouse) runs the CLI and passes its exit code on",
  ignore: !HAVE_NODE,
  fn: async () => {
    const bin = join(ROOT, "bin", "wheelhouse.mjs");
    const version = await exec("node", [bin, "--version"], ROOT);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^wheelhouse \d+\.\d+\.\d+\n$/);
    const nothing = await exec("node", [bin, "download"], ROOT);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /^error: Nothing to download/);
  },
});
