/**
 * wheelhouse as a library: resolve requirements for two targets against an index, download the
 * files into the cache, and lay them out as a wheelhouse folder — the same steps the CLI composes.
 *
 * Run it against the example index: `deno run -A examples/library.ts`, or against another index:
 * `deno run -A examples/library.ts https://pypi.org/simple/ requests`.
 *
 * @module
 */
import { join } from "node:path";
import {
  HttpFetchStrategy,
  IndexProvider,
  LocalDirStore,
  Requirement,
  resolveTargets,
  SimpleIndexClient,
  targetFromPreset,
  WheelhouseStore,
} from "../mod.ts";
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
  const store = new LocalDirStore(cacheDir);
  const client = new SimpleIndexClient({ indexes: [indexUrl], cache: store.httpStorage() });
  const targets = [
    targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" }),
    targetFromPreset("x86_64-pc-windows-msvc", { pythonVersion: "3.12" }),
  ];
  const { files } = await resolveTargets(requirements.map((r) => Requirement.parse(r)), targets, {
    provider: new IndexProvider(client),
  });
  const fetcher = new HttpFetchStrategy({ partialDir: store.partialDir });
  const wanted = await Promise.all(files.map(async (f) => {
    // Downloads run concurrently (the fetcher bounds them); each lands in the cache verified.
    const got = await store.obtain(fetcher, {
      url: f.file.url,
      filename: f.file.filename,
      project: f.name,
      ...(f.file.hashes["sha256"] !== undefined ? { sha256: f.file.hashes["sha256"] } : {}),
      headers: client.authHeaders(f.file.url),
    });
    return {
      filename: f.file.filename,
      sha256: got.sha256,
      url: f.file.url,
      project: f.name,
      targets: [...f.targets],
    };
  }));
  const report = await new WheelhouseStore(dest).sync(wanted, { cache: store });
  return report.manifest.files.map((m) => m.filename);
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
