/**
 * Builds the distributable forms of the CLI:
 *
 * - `bundle`: `dist/wheelhouse.mjs`, one ES module that runs under Node (>= 20) and Deno:
 *   `node dist/wheelhouse.mjs download …`.
 * - `sea`: `dist/wheelhouse`, a single executable (Node's single executable applications): a
 *   CommonJS bundle injected into a copy of the `node` binary with `postject`. Needs no network.
 *
 * Usage: `deno run -A scripts/build.ts bundle|sea [OUT]` (or `npm run bundle`, `npm run sea`).
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import process from "node:process";

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const ENTRY = join(ROOT, "cli", "main.ts");
/** The fuse postject flips so Node knows a blob is there (Node's documented sentinel). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

async function run(cmd: string, args: string[], what: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${what} failed (exit ${out.code}):\n${text.trim()}`);
  }
}

/**
 * Bundles the CLI into one file.
 *
 * @param output The file to write.
 * @param format `esm` for Node and Deno, `cjs` for a single executable (which cannot load ESM).
 * @returns The path written.
 */
export async function bundle(output: string, format: "esm" | "cjs" = "esm"): Promise<string> {
  await fsp.mkdir(dirname(output), { recursive: true });
  await run(
    Deno.execPath(),
    ["bundle", "--quiet", "--format", format, "--output", output, ENTRY],
    "deno bundle",
  );
  return output;
}

/**
 * Builds a Node single executable of the CLI.
 *
 * @param output The executable to write.
 * @param node The `node` binary to copy (its version runs the program); default the one on PATH.
 * @returns The path written.
 */
export async function buildSea(output: string, node = "node"): Promise<string> {
  const work = await fsp.mkdtemp(join(dirname(resolve(output)), ".sea-"));
  try {
    const script = await bundle(join(work, "wheelhouse.cjs"), "cjs");
    const blob = join(work, "sea.blob");
    const config = join(work, "sea-config.json");
    await fsp.writeFile(
      config,
      JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }),
    );
    await run(node, ["--experimental-sea-config", config], "node --experimental-sea-config");
    const execPath = await nodeExecPath(node);
    const temp = join(work, "wheelhouse");
    await fsp.copyFile(execPath, temp);
    await fsp.chmod(temp, 0o755);
    const postject = join(ROOT, "node_modules", "postject", "dist", "cli.js");
    await run(
      node,
      [postject, temp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE],
      "postject",
    );
    await fsp.rename(temp, output);
    return output;
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

async function nodeExecPath(node: string): Promise<string> {
  const out = await new Deno.Command(node, {
    args: ["-p", "process.execPath"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`Cannot run ${node}`);
  return new TextDecoder().decode(out.stdout).trim();
}

if (import.meta.main) {
  const [what, out] = Deno.args;
  try {
    if (what === "bundle") {
      console.error(`Wrote ${await bundle(resolve(out ?? join(ROOT, "dist", "wheelhouse.mjs")))}`);
    } else if (what === "sea") {
      console.error(`Wrote ${await buildSea(resolve(out ?? join(ROOT, "dist", "wheelhouse")))}`);
    } else {
      console.error("usage: deno run -A scripts/build.ts bundle|sea [OUT]");
      process.exit(2);
    }
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
