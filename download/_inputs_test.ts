import assert from "node:assert/strict";
import { join } from "node:path";
import { gatherInputs, ignoredFindLinks, type InputOptions } from "./_inputs.ts";
import { MAX_INPUT_BYTES, readTextBounded } from "./_session.ts";
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

Deno.test("gatherInputs() names -r and -c files over the reader's size cap, and keeps file:line for included ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-inputs-" });
  try {
    await Deno.writeTextFile(join(dir, "big.txt"), "six\n".repeat(10));
    await Deno.writeTextFile(join(dir, "top.txt"), "idna\n-r big.txt\n");
    await Deno.writeTextFile(join(dir, "pyproject.toml"), "#".repeat(64));
    const read = (path: string) => readTextBounded(path, 32);
    const cases: [InputOptions, RegExp][] = [
      [{ requirementFiles: ["big.txt"] }, /^-r big\.txt: larger than .*; not a requirements file$/],
      [
        { constraintFiles: ["big.txt"], requirements: ["six"] },
        /^-c big\.txt: .*; not a constraints file$/,
      ],
      [{ requirementFiles: ["top.txt"] }, /top\.txt line 2: cannot read ".*big\.txt": larger than/],
      [{ project: "." }, /pyproject\.toml": larger than .*; not a pyproject\.toml$/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(
        () => gatherInputs(options, { cwd: dir, read, env: () => undefined }),
        (e: unknown) => {
          assert.ok(e instanceof DownloadError || e instanceof SyntaxError, String(e));
          assert.match((e as Error).message, message);
          return true;
        },
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readTextBounded() stops a file that never ends (/dev/zero) at the cap", async () => {
  await assert.rejects(() => readTextBounded("/dev/zero"), (e: unknown) => {
    assert.equal((e as { code?: unknown }).code, "ERR_FS_FILE_TOO_LARGE");
    assert.equal((e as Error).message, "larger than 16 MiB");
    return true;
  });
  assert.equal(MAX_INPUT_BYTES, 16 * 1024 * 1024);
});

Deno.test("gatherInputs() refuses --only-binary :all: in a file against --no-binary :all: given", async () => {
  const files = { "/p/reqs.txt": "--only-binary :all:\nsix\n" };
  await assert.rejects(
    () => gather({ requirementFiles: ["reqs.txt"], noBinary: [":all:"] }, files),
    /--only-binary :all: and --no-binary :all: contradict each other \(with the requirement files' options\)/,
  );
  // :all: on one side and names on the other is pip's "all but these".
  const some = await gather({ requirementFiles: ["reqs.txt"], noBinary: ["six"] }, files);
  assert.deepEqual(some.noBinary, ["six"]);
});

Deno.test("ignoredFindLinks() warns as pip does about missing paths and file: URLs, not about folders or http", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-links-" });
  try {
    const warnings = await ignoredFindLinks([
      dir,
      "/nonexistent",
      "file:///nonexistent",
      "https://example.org/wheels/",
      "/dev/null",
    ]);
    assert.deepEqual(warnings, [
      "Location '/nonexistent' is ignored: it is either a non-existing path or lacks a specific scheme.",
      "Location 'file:///nonexistent' is ignored: it is neither a file nor a directory.",
      "Location '/dev/null' is ignored: it is neither a file nor a directory.",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
