/**
 * The main job on a fresh machine with no internet (`npm start`): serves the example index in
 * `examples/index/` on 127.0.0.1 and downloads from it into `./wheelhouse`, for this machine and
 * for two more targets, the way a user would run `wheelhouse download` against PyPI.
 *
 * Afterwards `pip install --no-index --find-links wheelhouse -r wheelhouse/requirements-….txt`
 * installs from the folder offline.
 *
 * @module
 */
import { join } from "node:path";
import { main } from "../cli/main.ts";
import { processIo } from "../cli/io.ts";
import { servedFilesFromDir, startIndexServer } from "../tests/index_server.ts";

const here = import.meta.dirname ?? ".";
const server = await startIndexServer({
  projects: await servedFilesFromDir(join(here, "index")),
});
const args = [
  "download",
  "--index-url",
  server.indexUrl,
  "--dest",
  "wheelhouse",
  "--python-platform",
  "x86_64-manylinux_2_28",
  "--python-platform",
  "aarch64-apple-darwin",
  "--python-platform",
  "x86_64-pc-windows-msvc",
  "--python-version",
  "3.12",
  "-r",
  join(here, "requirements.txt"),
  ...Deno.args,
];
console.error(`Example index on ${server.indexUrl}`);
console.error(`$ wheelhouse ${args.join(" ")}`);
let code: number;
try {
  code = await main(args, processIo());
} finally {
  await server.close();
}
if (code === 0) {
  console.error(
    "\nDone. The folder ./wheelhouse now holds the files; install from it offline with:",
  );
  console.error(
    "  pip install --no-index --find-links wheelhouse -r wheelhouse/requirements-cp312-x86_64-manylinux_2_28.txt",
  );
}
Deno.exit(code);
