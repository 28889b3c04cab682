import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_BUILD_SYSTEM, parseBuildSystem, readBuildSystem } from "./build_system.ts";
import { BuildError } from "./types.ts";

function invalid(text: string | undefined, pattern: RegExp, hasSetupPy?: boolean): void {
  assert.throws(
    () =>
      parseBuildSystem(text, {
        project: "demo",
        ...(hasSetupPy === undefined ? {} : { hasSetupPy }),
      }),
    (e) => e instanceof BuildError && e.code === "invalid-project" && pattern.test(e.message),
  );
}

Deno.test("parseBuildSystem() reads requires, build-backend and backend-path", () => {
  const bs = parseBuildSystem(`
[build-system]
requires = ["setuptools>=61", "wheel"]
build-backend = "backend:main.hooks"
backend-path = ["_custom"]

[project]
name = "Demo.Project"
`);
  assert.deepEqual(bs, {
    requires: ["setuptools>=61", "wheel"],
    backend: "backend:main.hooks",
    backendPath: ["_custom"],
    defaulted: false,
    projectName: "Demo.Project",
  });
});

Deno.test("parseBuildSystem() uses pip's default without a file, a table or a backend", () => {
  assert.equal(parseBuildSystem(undefined), DEFAULT_BUILD_SYSTEM);
  const noTable = parseBuildSystem('[project]\nname = "x"\n');
  assert.deepEqual(noTable.requires, ["setuptools>=40.8.0", "wheel"]);
  assert.equal(noTable.backend, "setuptools.build_meta:__legacy__");
  assert.equal(noTable.projectName, "x");
  // A table without build-backend keeps its own requires (pip does not add setuptools to them).
  const noBackend = parseBuildSystem('[build-system]\nrequires = ["setuptools>=64", "cython"]\n');
  assert.deepEqual([noBackend.requires, noBackend.backend, noBackend.defaulted], [
    ["setuptools>=64", "cython"],
    "setuptools.build_meta:__legacy__",
    true,
  ]);
});

Deno.test("parseBuildSystem() rejects what PEP 517 and 518 do not allow", () => {
  invalid("[build-system]\nbuild-backend = 'x'\n", /has no `requires`/);
  invalid("[build-system]\nrequires = 'setuptools'\n", /requires must be a list of strings/);
  invalid(
    "[build-system]\nrequires = ['setuptools >= = 3']\n",
    /invalid requirement "setuptools >= = 3"/,
  );
  invalid(
    "[build-system]\nrequires = []\nbuild-backend = 'not a module'\n",
    /build-backend "not a module" is invalid/,
  );
  invalid(
    "[build-system]\nrequires = []\nbackend-path = ['../up']\n",
    /backend-path "..\/up" is outside/,
  );
  invalid(
    "[build-system]\nrequires = []\nbackend-path = ['/abs']\n",
    /backend-path "\/abs" is outside/,
  );
  invalid("[build-system\nrequires = []\n", /is not valid TOML at line 1/);
  invalid(undefined, /neither pyproject.toml nor setup.py found/, false);
});

Deno.test("readBuildSystem() refuses a backend-path that leaves the tree through a link", async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), "wh-bs-"));
  try {
    const project = join(dir, "project");
    await fsp.mkdir(project);
    await fsp.symlink(dir, join(project, "escape"));
    await fsp.writeFile(
      join(project, "pyproject.toml"),
      '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["escape"]\n',
    );
    await assert.rejects(
      () => readBuildSystem(project, { project: "demo" }),
      (e) =>
        e instanceof BuildError && /backend-path "escape" is outside the project/.test(e.message),
    );
    await fsp.rm(join(project, "pyproject.toml"));
    await assert.rejects(
      () => readBuildSystem(project),
      (e) => e instanceof BuildError && /neither pyproject.toml nor setup.py/.test(e.message),
    );
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
