import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseRequirementsFile,
  type RequirementsFileErrorCode,
  type RequirementsFileReader,
} from "./requirements_file.ts";
import { RequirementsFileError } from "./requirements_file.ts";

function memory(files: Record<string, string>): RequirementsFileReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile(path: string): Promise<string> {
      reads.push(path);
      const text = files[path];
      return text === undefined
        ? Promise.reject(new Error(`ENOENT: ${path}`))
        : Promise.resolve(text);
    },
  };
}

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);

async function rejects(
  promise: Promise<unknown>,
  code: RequirementsFileErrorCode,
  check: (e: RequirementsFileError) => void = () => {},
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof RequirementsFileError, String(e));
    assert.ok(e instanceof SyntaxError);
    assert.equal(e.code, code, e.message);
    check(e);
    return true;
  });
}

Deno.test("parseRequirementsFile() expands nested -r files in place, relative to the including file", async () => {
  const reader = memory({
    "/p/requirements.txt": "first\n-r sub/dev.txt\nlast\n",
    "/p/sub/dev.txt": "--requirement ../common.txt\ndev-tool\n",
    "/p/common.txt": "common\n",
  });
  const parsed = await parseRequirementsFile("/p/requirements.txt", { reader });
  assert.deepEqual(parsed.requirements.map((r) => r.requirement.name), [
    "first",
    "common",
    "dev-tool",
    "last",
  ]);
  assert.deepEqual(parsed.requirements[1]?.source, { file: "/p/common.txt", line: 1 });
  assert.deepEqual(parsed.files, ["/p/requirements.txt", "/p/sub/dev.txt", "/p/common.txt"]);
});

Deno.test("parseRequirementsFile() puts -c files in constraints and still reads their options", async () => {
  const reader = memory({
    "/p/r.txt": "-c constraints.txt\nrequests\n",
    "/p/constraints.txt": "--pre\nurllib3<2\n",
  });
  const parsed = await parseRequirementsFile("/p/r.txt", { reader });
  assert.deepEqual(parsed.requirements.map((r) => r.requirement.name), ["requests"]);
  assert.deepEqual(parsed.constraints.map((r) => r.requirement.toString()), ["urllib3<2"]);
  assert.equal(parsed.pre, true);
});

Deno.test("parseRequirementsFile() reports a cycle of -r includes with the chain", async () => {
  const reader = memory({
    "/p/a.txt": "x\n-r b.txt\n",
    "/p/b.txt": "-r ./a.txt\n",
  });
  await rejects(parseRequirementsFile("/p/a.txt", { reader }), "cycle", (e) => {
    assert.equal(e.file, "/p/b.txt");
    assert.equal(e.line, 1);
    assert.match(e.message, /\/p\/a\.txt -> \/p\/b\.txt -> \/p\/a\.txt/);
  });
});

Deno.test("parseRequirementsFile() allows the same file to be included twice outside a cycle", async () => {
  const reader = memory({
    "/p/a.txt": "-r c.txt\n-r b.txt\n",
    "/p/b.txt": "-r c.txt\n",
    "/p/c.txt": "shared\n",
  });
  const parsed = await parseRequirementsFile("/p/a.txt", { reader });
  assert.equal(parsed.requirements.length, 2);
});

Deno.test("parseRequirementsFile() expands only ${UPPER_CASE} variables that are set and not empty", async () => {
  const reader = memory({
    "/p/r.txt": [
      "--index-url https://${USER}:${TOKEN}@example.org/simple",
      "--extra-index-url https://${EMPTY}x.org/simple",
      "pkg @ https://example.org/$HOME/${lower}/pkg-1.0-py3-none-any.whl",
    ].join("\n"),
  });
  const parsed = await parseRequirementsFile("/p/r.txt", {
    reader,
    env: { USER: "me", TOKEN: "s3cret", EMPTY: "", lower: "nope" },
  });
  assert.equal(parsed.indexUrl, "https://me:s3cret@example.org/simple");
  assert.deepEqual(parsed.extraIndexUrls, ["https://${EMPTY}x.org/simple"]);
  assert.equal(
    parsed.requirements[0]?.requirement.url,
    "https://example.org/$HOME/${lower}/pkg-1.0-py3-none-any.whl",
  );
});

Deno.test("parseRequirementsFile() collects several --hash options across continuation lines", async () => {
  const reader = memory({
    "/p/r.txt":
      `# pinned\nattrs==23.1.0 \\\n    --hash=sha256:${SHA_A} \\\n    --hash sha256:${SHA_B}\nsix==1.16.0\n`,
  });
  const parsed = await parseRequirementsFile("/p/r.txt", { reader });
  assert.equal(parsed.requirements.length, 2);
  assert.deepEqual(parsed.requirements[0]?.hashes, [`sha256:${SHA_A}`, `sha256:${SHA_B}`]);
  assert.deepEqual(parsed.requirements[0]?.source, { file: "/p/r.txt", line: 2 });
  assert.deepEqual(parsed.requirements[1]?.source.line, 5);
  assert.deepEqual(parsed.requirements[1]?.hashes, []);
});

Deno.test("parseRequirementsFile() rejects a weak or malformed --hash", async () => {
  for (const hash of [`md5:${"a".repeat(32)}`, "sha256:abc", `sha256${SHA_A}`]) {
    const reader = memory({ "/p/r.txt": `x==1 --hash=${hash}\n` });
    await rejects(parseRequirementsFile("/p/r.txt", { reader }), "invalid-hash");
  }
});

Deno.test("parseRequirementsFile() strips comments only at line start or after whitespace", async () => {
  const reader = memory({
    "/p/r.txt":
      "  # whole line\nfoo>=1 # trailing\nbar @ https://example.org/bar-1.0-py3-none-any.whl#sha256=00\n\n",
  });
  const parsed = await parseRequirementsFile("/p/r.txt", { reader });
  assert.deepEqual(parsed.requirements.map((r) => r.requirement.name), ["foo", "bar"]);
  assert.equal(parsed.requirements[0]?.requirement.specifier.toString(), ">=1");
  assert.equal(
    parsed.requirements[1]?.requirement.url,
    "https://example.org/bar-1.0-py3-none-any.whl#sha256=00",
  );
});

Deno.test("parseRequirementsFile() rejects editable requirements with the line number", async () => {
  const reader = memory({ "/p/r.txt": "ok\n-e ./src/pkg\n" });
  await rejects(parseRequirementsFile("/p/r.txt", { reader }), "unsupported-editable", (e) => {
    assert.equal(e.line, 2);
    assert.match(e.message, /line 2: editable requirements are not supported/);
  });
  const long = memory({ "/p/r.txt": "--editable=git+https://example.org/x.git#egg=x\n" });
  await rejects(parseRequirementsFile("/p/r.txt", { reader: long }), "unsupported-editable");
});

Deno.test("parseRequirementsFile() reads index, find-links and binary options like pip", async () => {
  const reader = memory({
    "/p/r.txt": [
      "-i https://first.example/simple",
      "--index-url=https://second.example/simple",
      "--extra-index-url https://extra.example/simple",
      "--extra-index-url https://extra.example/simple",
      "-f ./wheels",
      "--find-links https://example.org/links/",
      "--no-binary :all:",
      "--only-binary Foo_Bar,baz",
      "--no-binary baz",
      "--prefer-binary --require-hashes",
      "--trusted-host example.org",
      "--no-index",
    ].join("\n"),
  });
  const parsed = await parseRequirementsFile("/p/r.txt", { reader });
  assert.equal(parsed.indexUrl, "https://second.example/simple");
  assert.deepEqual(parsed.extraIndexUrls, ["https://extra.example/simple"]);
  assert.deepEqual(parsed.findLinks, ["/p/wheels", "https://example.org/links/"]);
  assert.deepEqual(parsed.onlyBinary, ["foo-bar"]);
  // pip's handle_mutual_excludes: a name does not remove ":all:" from the other set.
  assert.deepEqual(parsed.noBinary, [":all:", "baz"]);
  assert.equal(parsed.preferBinary, true);
  assert.equal(parsed.requireHashes, true);
  assert.deepEqual(parsed.trustedHosts, ["example.org"]);
  assert.equal(parsed.noIndex, true);
});

Deno.test("parseRequirementsFile() turns URLs and archive paths into named URL requirements", async () => {
  const reader = memory({
    "/p/r.txt": [
      "https://example.org/dl/pkg.tar.gz#egg=pkg_name[extra1]",
      "https://example.org/dl/Some_Pkg-2.0-py3-none-any.whl; python_version >= '3.8'",
      "./dist/local_pkg-1.0-py3-none-any.whl",
      "git+https://example.org/repo.git@v1#egg=from-git",
    ].join("\n"),
  });
  const parsed = await parseRequirementsFile("/p/r.txt", { reader });
  const reqs = parsed.requirements.map((r) => r.requirement);
  assert.deepEqual(reqs.map((r) => r.name), ["pkg_name", "Some_Pkg", "local_pkg", "from-git"]);
  assert.deepEqual(reqs[0]?.extras, ["extra1"]);
  assert.equal(reqs[1]?.url, "https://example.org/dl/Some_Pkg-2.0-py3-none-any.whl");
  assert.equal(reqs[1]?.marker?.toString(), 'python_version >= "3.8"');
  assert.equal(reqs[2]?.url, "file:///p/dist/local_pkg-1.0-py3-none-any.whl");
  assert.equal(reqs[3]?.url, "git+https://example.org/repo.git@v1#egg=from-git");
});

Deno.test("parseRequirementsFile() refuses a bare sdist URL whose name it cannot know", async () => {
  const reader = memory({ "/p/r.txt": "https://example.org/dl/thing-1.0.tar.gz\n" });
  await rejects(parseRequirementsFile("/p/r.txt", { reader }), "unnamed-requirement", (e) => {
    assert.match(e.message, /#egg=<name>/);
  });
});

Deno.test("parseRequirementsFile() reports an invalid requirement with its line and column", async () => {
  const reader = memory({ "/p/r.txt": "good\n\nfoo >= = 1\n" });
  await rejects(parseRequirementsFile("/p/r.txt", { reader }), "invalid-requirement", (e) => {
    assert.equal(e.line, 3);
    assert.ok(e.column > 1, `column ${e.column}`);
    assert.ok(e.cause instanceof SyntaxError);
  });
});

Deno.test("parseRequirementsFile() names the file it cannot read and rejects unknown options", async () => {
  await rejects(
    parseRequirementsFile("/p/r.txt", { reader: memory({ "/p/r.txt": "-r missing.txt\n" }) }),
    "read-failed",
    (e) => {
      assert.match(e.message, /missing\.txt/);
      assert.equal(e.line, 1);
    },
  );
  await rejects(
    parseRequirementsFile("/p/r.txt", { reader: memory({ "/p/r.txt": "--frobnicate\n" }) }),
    "unknown-option",
  );
  await rejects(
    parseRequirementsFile("/p/r.txt", { reader: memory({ "/p/r.txt": "--index-url\n" }) }),
    "missing-value",
  );
});

Deno.test("parseRequirementsFile() resolves -r inside a URL-loaded file against that URL", async () => {
  const reader = memory({
    "https://example.org/reqs/main.txt": "-r extra.txt\nmain\n",
    "https://example.org/reqs/extra.txt": "extra\n",
  });
  const parsed = await parseRequirementsFile("https://example.org/reqs/main.txt", { reader });
  assert.deepEqual(parsed.requirements.map((r) => r.requirement.name), ["extra", "main"]);
});

Deno.test("parseRequirementsFile() reads back any list of pinned names in order, whatever the layout", async () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(name, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 10 }),
      async (entries) => {
        const lines = entries.map(([n, comment, continued]) =>
          `${n}==1.0${continued ? " \\\n  " : " "}${comment ? "  # note" : ""}`
        );
        const reader = memory({ "/p/r.txt": lines.join("\n") + "\n" });
        const parsed = await parseRequirementsFile("/p/r.txt", { reader });
        assert.deepEqual(
          parsed.requirements.map((r) => r.requirement.name),
          entries.map(([n]) => n),
        );
      },
    ),
  );
});

Deno.test("parseRequirementsFile() refuses index and find-links URLs it could not use, with file and line", async () => {
  const cases: [string, RegExp][] = [
    [
      "six\n--index-url not-a-url\n",
      /^\/r\.txt line 2: --index-url expects an http\(s\):\/\/ or file:\/\/ URL, got "not-a-url"$/,
    ],
    ["-i ${UNSET}/simple\n", /^\/r\.txt line 1: --index-url expects .*got "\$\{UNSET\}\/simple"$/],
    [
      "--extra-index-url ftp://example.org/simple\n",
      /^\/r\.txt line 1: --extra-index-url expects .*got a ftp: URL$/,
    ],
    [
      "-f gopher://example.org/wheels\n",
      /^\/r\.txt line 1: --find-links expects .*got a gopher: URL$/,
    ],
    ["--index-url https://user:secret@[bad/simple\n", /got "https:\/\/\*\*\*@\[bad\/simple"/],
  ];
  for (const [text, message] of cases) {
    await rejects(
      parseRequirementsFile("/r.txt", { reader: memory({ "/r.txt": text }) }),
      "invalid-option",
      (e) => assert.match(e.message, message),
    );
  }
  // Paths, drive letters and the three schemes pass (a path's existence is the caller's to check).
  const ok = await parseRequirementsFile("/r.txt", {
    reader: memory({
      "/r.txt":
        "-f wheels\n-f C:/wheels\n-f file:///srv/wheels\n--extra-index-url http://127.0.0.1:1/simple\n",
    }),
  });
  assert.equal(ok.findLinks.length, 3);
  assert.equal(ok.findLinks[2], "file:///srv/wheels");
});
