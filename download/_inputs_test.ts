import assert from "node:assert/strict";
import { gatherInputs, type InputOptions } from "./_inputs.ts";
import { DownloadError } from "./types.ts";

function notFound(path: string): Error {
  return Object.assign(new Error(`no ${path}`), { code: "ENOENT" });
}

/** gatherInputs() in the folder /p over these files, with no environment. */
function gather(options: InputOptions, files: Record<string, string>) {
  return gatherInputs(options, {
    cwd: "/p",
    read: (path) => path in files ? Promise.resolve(files[path]!) : Promise.reject(notFound(path)),
    env: () => undefined,
  });
}

Deno.test("gatherInputs() merges requirement files' index options; the command line's index wins", async () => {
  const files = {
    "/p/reqs.txt":
      "--index-url https://file.example/simple\n--extra-index-url https://extra/simple\n" +
      "-f wheels\n--pre\nsix==1.16.0 --hash=sha256:" + "a".repeat(64) + "\n-c cons.txt\n",
    "/p/cons.txt": "idna<4\n",
  };
  const fromFile = await gather({ requirementFiles: ["reqs.txt"] }, files);
  assert.equal(fromFile.indexUrl, "https://file.example/simple");
  assert.deepEqual(fromFile.extraIndexUrls, ["https://extra/simple"]);
  assert.deepEqual(fromFile.findLinks, ["/p/wheels"]);
  assert.equal(fromFile.pre, true);
  assert.deepEqual([...fromFile.hashes.get("six")!], ["sha256:" + "a".repeat(64)]);
  assert.deepEqual(fromFile.constraints.map(String), ["idna<4"]);
  const cli = await gather(
    { requirementFiles: ["reqs.txt"], indexUrl: "https://cli.example/simple" },
    files,
  );
  assert.equal(cli.indexUrl, "https://cli.example/simple");
});

Deno.test("gatherInputs() refuses constraints with extras, remote requirement files and stray --extra", async () => {
  const files = { "/p/cons.txt": "six[x]>=1\n" };
  const cases: [InputOptions, RegExp][] = [
    [{ constraintFiles: ["cons.txt"], requirements: ["six"] }, /Constraints cannot have extras/],
    [{ requirementFiles: ["https://example.org/reqs.txt"] }, /URLs are not fetched/],
    [{ extras: ["fast"], requirements: ["six"] }, /need a project/],
    [{ requirementFiles: ["missing.txt"] }, /missing\.txt: cannot read it: no such file/],
    [{ requirements: ["six >=="] }, /Invalid requirement "six >=="/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(
      () => gather(options, files),
      (e: unknown) => {
        assert.ok(e instanceof DownloadError || e instanceof SyntaxError, String(e));
        assert.match((e as Error).message, message);
        return true;
      },
    );
  }
});

Deno.test("gatherInputs() reads a project's dependencies, extras and groups", async () => {
  const files = {
    "/p/pyproject.toml": '[project]\nname = "x"\ndependencies = ["a"]\n' +
      '[project.optional-dependencies]\nfast = ["b"]\n[dependency-groups]\ntest = ["c"]\n',
  };
  const inputs = await gather({ project: ".", extras: ["fast"], groups: ["test"] }, files);
  assert.deepEqual(inputs.requirements.map((r) => r.name), ["a", "b", "c"]);
});
