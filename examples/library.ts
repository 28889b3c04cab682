/**
 * wheelhouse as a library: one call resolves requirements for two targets against an index,
 * downloads the files into the cache and lays them out as a wheelhouse folder with its
 * requirements.txt, pylock.toml and manifest — what `wheelhouse download` does.
 *
 * Run it against the example index: `deno run -A examples/library.ts`, or against another index:
 * `deno run -A examples/library.ts https://pypi.org/simple/ requests`.
 *
 * @module
 */
import { join } from "node:path";
import { download, targetFromPreset } from "../mod.ts";
import { servedFilesFromDir, startIndexServer } from "../tests/index_server.ts";

/**
 * Resolves and downloads `requirements` from `indexUrl` into `dest` for Linux and Windows.
 *
 * @returns The file names now in `dest`.
 */
export async function downloadTo(
  indexUrl: string,
  requirements: string[],
  dest: string,
  cacheDir: string,
): Promise<string[]> {
  const result = await download({
    dest,
    cacheDir,
    indexUrl,
    requirements,
    targets: [
      targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" }),
      targetFromPreset("x86_64-pc-windows-msvc", { pythonVersion: "3.12" }),
    ],
    // Progress and messages are events; a program shows them as it likes.
    reporter: { event: (e) => e.kind === "warning" && console.warn(e.message) },
  });
  return result.files.map((f) => f.filename);
}

if (import.meta.main) {
  const [indexArg, ...reqArgs] = Deno.args;
  const server = indexArg === undefined
    ? await startIndexServer({
      projects: await servedFilesFromDir(join(import.meta.dirname ?? ".", "index")),
    })
    : undefined;
  const work = await Deno.makeTempDir({ prefix: "wheelhouse-library-" });
  try {
    const names = await downloadTo(
      server?.indexUrl ?? indexArg!,
      reqArgs.length > 0 ? reqArgs : ["example-app[fast]"],
      join(work, "wheelhouse"),
      join(work, "cache"),
    );
    console.log(`Downloaded into ${join(work, "wheelhouse")}:\n  ${names.join("\n  ")}`);
  } finally {
    await server?.close();
  }
}
