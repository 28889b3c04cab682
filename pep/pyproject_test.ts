import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePyproject, PyprojectError, selectPyprojectRequirements } from "./pyproject.ts";
import { assertThrowsCode } from "./_helpers_testing.ts";

const ECOSYSTEM =
  new URL("../tests/data/third_party/lockfiles/uv-ecosystem", import.meta.url).pathname;

Deno.test("parsePyproject() reads the real projects' pyproject.toml files", () => {
  const cov = parsePyproject(Deno.readTextFileSync(`${ECOSYSTEM}/pytest-cov/pyproject.toml`));
  assert.equal(cov.name, "pytest-cov");
  assert.equal(cov.version, "7.1.0");
  assert.equal(cov.requiresPython?.toString(), ">=3.9");
  assert.deepEqual(cov.dependencies.map((r) => r.name), ["coverage", "pytest", "pluggy"]);
  assert.deepEqual(cov.dependencies[0]?.extras, ["toml"]);
  assert.deepEqual(cov.optionalDependencies.get("testing")?.map((r) => r.name), [
    "process-tests",
    "pytest-xdist",
    "virtualenv",
  ]);
  assert.deepEqual(cov.dynamic, ["readme"]);
  for (const dir of ["httpx", "github-wikidata-bot"]) {
    const p = parsePyproject(Deno.readTextFileSync(`${ECOSYSTEM}/${dir}/pyproject.toml`));
    assert.ok(p.dependencies.length > 0, dir);
  }
});

Deno.test("parsePyproject() resolves include-group transitively with normalised names", () => {
  const p = parsePyproject(`
[dependency-groups]
Test_Utils = ["pytest>=8", "coverage"]
typing = ["mypy"]
dev = [{include-group = "test-utils"}, {include-group = "TYPING"}, "ruff"]
all = [{include-group = "dev"}]
`);
  assert.deepEqual([...p.dependencyGroups.keys()], ["test-utils", "typing", "dev", "all"]);
  assert.deepEqual(p.dependencyGroups.get("all")?.map((r) => r.name), [
    "pytest",
    "coverage",
    "mypy",
    "ruff",
  ]);
});

Deno.test("parsePyproject() reports an include-group cycle with its path", () => {
  for (
    const [text, cycle] of [
      ['[dependency-groups]\na = [{include-group = "a"}]\n', "a -> a"],
      [
        '[dependency-groups]\na = ["x", {include-group = "b"}]\nb = [{include-group = "C"}]\nc = [{include-group = "a"}]\n',
        "a -> b -> c -> a",
      ],
    ] as const
  ) {
    assert.throws(
      () => parsePyproject(text, { path: "proj/pyproject.toml" }),
      (e: unknown) =>
        e instanceof PyprojectError && e instanceof SyntaxError && e.code === "group-cycle" &&
        e.message.startsWith("proj/pyproject.toml: ") && e.message.includes(cycle),
    );
  }
});

Deno.test("parsePyproject() rejects unknown includes, duplicate names, bad entries and bad TOML", () => {
  const cases: [string, string][] = [
    ['[dependency-groups]\na = [{include-group = "missing"}]\n', "unknown-group"],
    ["[dependency-groups]\nfoo_bar = []\nFoo-Bar = []\n", "duplicate-name"],
    ["[dependency-groups]\na = [{include = 1}]\n", "invalid-value"],
    ['[dependency-groups]\na = ["not a requirement !"]\n', "invalid-requirement"],
    ['[project]\ndependencies = "x"\n', "invalid-value"],
    ['[project]\nname = "x"\nrequires-python = ">=banana"\n', "invalid-value"],
    ['[project]\nname = "x\n', "toml"],
  ];
  for (const [text, code] of cases) {
    assert.throws(
      () => parsePyproject(text),
      (e: unknown) => e instanceof PyprojectError && e.code === code,
      text,
    );
  }
  assert.throws(
    () => parsePyproject('[project]\nname = "ok"\n\n[project\n'),
    (e: unknown) => e instanceof PyprojectError && e.line === 4 && e.column !== undefined,
  );
});

Deno.test("parsePyproject() appends uv's tool.uv.dev-dependencies to the dev group", () => {
  const p = parsePyproject(
    '[dependency-groups]\ndev = ["ruff"]\n[tool.uv]\ndev-dependencies = ["pytest"]\n',
  );
  assert.deepEqual(p.dependencyGroups.get("dev")?.map((r) => r.name), ["ruff", "pytest"]);
});

Deno.test("selectPyprojectRequirements() combines dependencies, extras and groups", () => {
  const p = parsePyproject(`
[project]
name = "demo"
dependencies = ["a"]
[project.optional-dependencies]
Fast = ["b"]
cli = ["c", "a"]
[dependency-groups]
dev = ["d"]
`);
  const names = (o: Parameters<typeof selectPyprojectRequirements>[1]) =>
    selectPyprojectRequirements(p, o).map((r) => r.name);
  assert.deepEqual(names({}), ["a"]);
  assert.deepEqual(names({ extras: ["FAST"] }), ["a", "b"]);
  assert.deepEqual(names({ extras: "all", groups: ["dev"] }), ["a", "b", "c", "d"]);
  assertThrowsCode(() => names({ extras: ["nope"] }), PyprojectError, "unknown-extra");
  assertThrowsCode(() => names({ groups: ["nope"] }), PyprojectError, "unknown-group");
});

Deno.test("parsePyproject() expands a chain of include-groups into the union of its members", () => {
  // Law: in a chain g0 <- g1 <- ... (each includes the previous), group k holds the
  // requirements of groups 0..k in order.
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 6 }),
      (pkgs) => {
        const lines = pkgs.map((pkg, i) =>
          i === 0 ? `g0 = ["${pkg}"]` : `g${i} = [{include-group = "g${i - 1}"}, "${pkg}"]`
        );
        const p = parsePyproject(`[dependency-groups]\n${lines.join("\n")}\n`);
        pkgs.forEach((_, k) => {
          assert.deepEqual(
            p.dependencyGroups.get(`g${k}`)?.map((r) => r.name),
            pkgs.slice(0, k + 1),
          );
        });
      },
    ),
  );
});
