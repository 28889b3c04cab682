import assert from "node:assert/strict";
import { join } from "node:path";
import { downloadTo } from "./library.ts";
import { servedFilesFromDir, startIndexServer } from "../tests/index_server.ts";

Deno.test("the library example resolves for Linux and Windows and fills a wheelhouse", async () => {
  const server = await startIndexServer({
    projects: await servedFilesFromDir(join(import.meta.dirname!, "index")),
  });
  const work = await Deno.makeTempDir();
  try {
    const names = await downloadTo(
      server.indexUrl,
      ["example-app[fast]"],
      join(work, "wh"),
      join(work, "cache"),
    );
    assert.ok(names.includes("example_speedups-0.3.1-cp312-cp312-win_amd64.whl"), names.join());
    assert.ok(
      names.includes("example_color-0.4.6-py2.py3-none-any.whl"),
      "Windows-only dependency",
    );
    assert.ok(
      names.includes(
        "example_speedups-0.3.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
      ),
    );
    const index = await Deno.readTextFile(join(work, "wh", "index.html"));
    assert.match(index, /example_app-1\.1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}/);
  } finally {
    await server.close();
    await Deno.remove(work, { recursive: true });
  }
});
