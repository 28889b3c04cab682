import assert from "node:assert/strict";
import { gatherInputs } from "./_inputs.ts";
import { parseDownloadArgs } from "./_options.ts";
import { InputError } from "./_errors.ts";

function reader(files: Record<string, string>): (path: string) => Promise<string> {
  return (path) =>
    path in files
      ? Promise.resolve(files[path]!)
      : Promise.reject(new Deno.errors.NotFound(`no ${path}`));
}

const noEnv = (): undefined => undefined;

Deno.test("gatherInputs() merges requirement files' index options; the command line's index wins", async () => {
  const files = {
    "/p/reqs.txt":
      "--index-url https://file.example/simple\n--extra-index-url https://extra/simple\n" +
      "-f wheels\n--pre\nsix==1.16.0 --hash=sha256:" + "a".repeat(64) + "\n-c cons.txt\n",
    "/p/cons.txt": "idna<4\n",
  };
  const fromFile = await gatherInputs(
    parseDownloadArgs(["-r", "reqs.txt"]),
    "/p",
    reader(files),
    noEnv,
  );
  assert.equal(fromFile.indexUrl, "https://file.example/simple");
  assert.deepEqual(fromFile.extraIndexUrls, ["https://extra/simple"]);
  assert.deepEqual(fromFile.findLinks, ["/p/wheels"]);
  assert.equal(fromFile.pre, true);
  assert.deepEqual([...fromFile.hashes.get("six")!], ["sha256:" + "a".repeat(64)]);
  assert.deepEqual(fromFile.constraints.map(String), ["idna<4"]);
  const cli = await gatherInputs(
    parseDownloadArgs(["-r", "reqs.txt", "-i", "https://cli.example/simple"]),
    "/p",
    reader(files),
    noEnv,
  );
  assert.equal(cli.indexUrl, "https://cli.example/simple");
});

Deno.test("gatherInputs() refuses constraints with extras, remote requirement files and stray --extra", async () => {
  const files = { "/p/cons.txt": "six[x]>=1\n" };
  const cases: [string[], RegExp][] = [
    [["-c", "cons.txt", "six"], /Constraints cannot have extras/],
    [["-r", "https://example.org/reqs.txt"], /URLs are not fetched/],
    [["--extra", "fast", "six"], /need a project/],
    [["-r", "missing.txt"], /missing\.txt: cannot read it: no such file/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      () => gatherInputs(parseDownloadArgs(args), "/p", reader(files), noEnv),
      (e: unknown) => {
        assert.ok(e instanceof InputError || e instanceof SyntaxError, String(e));
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
  const inputs = await gatherInputs(
    parseDownloadArgs(["--project", ".", "--extra", "fast", "--group", "test"]),
    "/p",
    reader(files),
    noEnv,
  );
  assert.deepEqual(inputs.requirements.map((r) => r.name), ["a", "b", "c"]);
});
