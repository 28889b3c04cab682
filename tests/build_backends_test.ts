// Real back ends, real builds, offline: small projects made here are built with setuptools
// (setup.py with dynamic install_requires, and a C extension), hatchling, flit_core and
// poetry_core, each in an isolated environment made of wheels from the machine's mirror (see
// build/_mirror_testing.ts). All tests share one cache, so each environment is made once. Tests
// skip, loudly, where python3 or the mirror is missing; git tests also where git is.

import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { BuildError, type BuildEvent, BuildFrontend, type InterpreterInfo } from "../build/mod.ts";
import { haveMirror, MirrorProvider, testInterpreter } from "../build/_mirror_testing.ts";

const interpreter: InterpreterInfo | undefined = await testInterpreter(
  "the real build back-end tests",
);
const mirror = interpreter !== undefined && await haveMirror("the real build back-end tests");
const ignore = !mirror;
const haveGit = await new Deno.Command("git", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);
if (!haveGit) console.warn("SKIPPING the git build tests: git is not available");

const root = await Deno.makeTempDir({ prefix: "wh-build-backends-" });
const cacheDir = join(root, "cache");
const provider = new MirrorProvider();
const events: BuildEvent[] = [];
const frontend = new BuildFrontend({
  cacheDir,
  environments: provider,
  reporter: { event: (e) => events.push(e) },
});
const timings: string[] = [];

/** A pure wheel of `stem`: back ends differ in tagging them `py3` or `py2.py3`. */
function pureWheel(stem: string): RegExp {
  return new RegExp(`^${stem.replaceAll(".", "\\.")}-(py3|py2\\.py3)-none-any\\.whl$`);
}

function includes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
}

async function buildError(work: () => Promise<unknown>): Promise<BuildError> {
  try {
    await work();
  } catch (e) {
    if (e instanceof BuildError) return e;
    throw e;
  }
  throw new Error("expected a BuildError");
}

async function writeTree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    const full = join(dir, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return dir;
}

function wheelFile(wheelPath: string, suffix: string): string {
  const files = unzipSync(Deno.readFileSync(wheelPath), { filter: (f) => f.name.endsWith(suffix) });
  const first = Object.values(files)[0];
  assert.ok(first !== undefined, `${wheelPath} has no *${suffix}`);
  return new TextDecoder().decode(first);
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await work();
  timings.push(`${label}: ${Math.round(performance.now() - t0)} ms`);
  return out;
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: [
      "-c",
      "user.name=Test",
      "-c",
      "user.email=test@example.com",
      "-c",
      "init.defaultBranch=main",
      ...args,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

const SETUP_PY_PROJECT = {
  "setup.py": `import importlib.util
import setuptools

# What the build sees, recorded in the metadata: the isolated setuptools, and no pip.
seen = "setuptools=%s pip=%s" % (setuptools.__version__, importlib.util.find_spec("pip") is not None)
setuptools.setup(
    name="demo-setuppy",
    version="1.0",
    packages=["demo_setuppy"],
    install_requires=["attrs>=20", "idna; python_version >= '3'"],
    description=seen,
)
`,
  "demo_setuppy/__init__.py": "VALUE = 1\n",
};

Deno.test({
  name:
    "a setup.py project's dynamic install_requires come out of prepare_metadata_for_build_wheel",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "setuppy"), SETUP_PY_PROJECT);
    const meta = await timed(
      "setuptools metadata (cold env)",
      () => frontend.prepareMetadata({ kind: "directory", path: dir }),
    );
    assert.deepEqual(meta.via, "hook");
    assert.deepEqual(meta.cached, false);
    includes(meta.metadata, "Name: demo-setuppy");
    includes(meta.metadata, "Requires-Dist: attrs>=20");
    assert.match(meta.metadata, /Requires-Dist: idna; python_version >= "3"/);
    // Isolated: the mirror's setuptools 8x, not the interpreter's own, and no pip.
    assert.match(meta.metadata, /Summary: setuptools=8\d\.\d+\.\d+ pip=False/);
  },
});

Deno.test({
  name: "a setup.py project builds a wheel, and the second build is a cache hit",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "setuppy"), SETUP_PY_PROJECT);
    const wheel = await timed(
      "setuptools wheel",
      () => frontend.buildWheel({ kind: "directory", path: dir }),
    );
    assert.deepEqual(wheel.filename, "demo_setuppy-1.0-py3-none-any.whl");
    assert.deepEqual(wheel.cached, false);
    includes(wheelFile(wheel.path, ".dist-info/METADATA"), "Requires-Dist: attrs>=20");
    assert.ok(wheel.logPath !== undefined);
    includes(await Deno.readTextFile(wheel.logPath), "==> build_wheel");
    const again = await timed(
      "setuptools wheel (cache hit)",
      () => frontend.buildWheel({ kind: "directory", path: dir }),
    );
    assert.deepEqual(again.cached, true);
    assert.deepEqual(again.path, wheel.path);
    // The isolated setuptools environment was made once for both builds.
    const made = events.filter((e) =>
      e.kind === "environment-created" && e.requirements.join() === "setuptools>=40.8.0,wheel"
    );
    assert.deepEqual(made.length, 1);
  },
});

const PROBE_BACKEND = `import importlib.util, os

def _seen():
    spec = importlib.util.find_spec("setuptools")
    return "pip=%s setuptools=%s" % (
        importlib.util.find_spec("pip") is not None,
        "none" if spec is None else os.path.dirname(spec.origin),
    )

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name = "probe-1.dist-info"
    os.mkdir(os.path.join(metadata_directory, name))
    with open(os.path.join(metadata_directory, name, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: probe\\nVersion: 1\\nSummary: %s\\n" % _seen())
    return name
`;

Deno.test({
  name: "an isolated build sees none of the interpreter's packages, and noBuildIsolation sees them",
  ignore,
  async fn() {
    const own = await new Deno.Command("python3", {
      args: [
        "-c",
        "import importlib.util as u, os; s = u.find_spec('setuptools'); " +
        "print('pip=%s setuptools=%s' % (u.find_spec('pip') is not None, " +
        "'none' if s is None else os.path.dirname(s.origin)))",
      ],
      stdout: "piped",
    }).output();
    const hostSees = new TextDecoder().decode(own.stdout).trim();
    const dir = await writeTree(join(root, "probe"), {
      "pyproject.toml": `[build-system]
requires = []
build-backend = "probe"
backend-path = ["."]
`,
      "probe.py": PROBE_BACKEND,
    });
    const isolated = await frontend.prepareMetadata({ kind: "directory", path: dir });
    includes(isolated.metadata, "Summary: pip=False setuptools=none");
    const plain = new BuildFrontend({ cacheDir, noBuildIsolation: true });
    const own2 = await plain.prepareMetadata({ kind: "directory", path: dir });
    includes(own2.metadata, `Summary: ${hostSees}`);
  },
});

Deno.test({
  name: "hatchling builds a wheel with its metadata from pyproject.toml",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "hatch"), {
      "pyproject.toml": `[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "demo-hatch"
version = "0.1.0"
dependencies = ["packaging>=20"]
`,
      "src/demo_hatch/__init__.py": "",
    });
    const wheel = await timed(
      "hatchling wheel (cold env)",
      () => frontend.buildWheel({ kind: "directory", path: dir }),
    );
    assert.match(wheel.filename, pureWheel("demo_hatch-0.1.0"));
    assert.deepEqual(wheel.source.project, "demo-hatch");
    includes(wheelFile(wheel.path, ".dist-info/METADATA"), "Requires-Dist: packaging>=20");
    includes(wheelFile(wheel.path, ".dist-info/WHEEL"), "Generator: hatchling");
    // hatchling's own dependencies came with it.
    const call = provider.calls.find((c) => c.includes("hatchling"));
    assert.ok(call !== undefined);
  },
});

Deno.test({
  name: "flit_core builds a wheel and an sdist",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "flit"), {
      "pyproject.toml": `[build-system]
requires = ["flit_core>=3.2,<5"]
build-backend = "flit_core.buildapi"

[project]
name = "demo_flit"
version = "0.3"
description = "A flit demo"
dependencies = ["idna"]
`,
      "demo_flit/__init__.py": '"""A flit demo."""\n',
    });
    const wheel = await timed(
      "flit_core wheel (cold env)",
      () => frontend.buildWheel({ kind: "directory", path: dir }),
    );
    assert.match(wheel.filename, pureWheel("demo_flit-0.3"));
    const sdist = await timed(
      "flit_core sdist",
      () => frontend.buildSdist({ kind: "directory", path: dir }),
    );
    assert.deepEqual(sdist.filename, "demo_flit-0.3.tar.gz");
    assert.deepEqual(sdist.cached, false);
  },
});

Deno.test({
  name: "poetry_core builds a wheel",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "poetry"), {
      "pyproject.toml": `[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"

[project]
name = "demo-poetry"
version = "0.2.0"
description = "A poetry demo"
dependencies = ["attrs>=20"]

[tool.poetry]
packages = [{ include = "demo_poetry" }]
`,
      "demo_poetry/__init__.py": "",
    });
    const wheel = await timed(
      "poetry_core wheel (cold env)",
      () => frontend.buildWheel({ kind: "directory", path: dir }),
    );
    assert.match(wheel.filename, pureWheel("demo_poetry-0.2.0"));
    includes(wheelFile(wheel.path, ".dist-info/METADATA"), "Requires-Dist: attrs");
  },
});

Deno.test({
  name: "a setuptools C extension builds a wheel with the host's platform tag that imports",
  ignore,
  async fn() {
    assert.ok(interpreter !== undefined);
    const dir = await writeTree(join(root, "ext"), {
      "pyproject.toml": `[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "demo-ext"
version = "1.0"
`,
      "setup.py": `from setuptools import Extension, setup
setup(packages=["demo_ext"], ext_modules=[Extension("demo_ext._speed", ["src/speed.c"])])
`,
      "demo_ext/__init__.py": "from ._speed import add\n",
      "src/speed.c": `#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "Adds two numbers."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
`,
    });
    const wheel = await timed(
      "setuptools C extension wheel",
      () => frontend.buildWheel({ kind: "directory", path: dir }),
    );
    const tag = `${interpreter.interpreterTag}-${interpreter.abiTag}-${interpreter.platformTag}`;
    assert.deepEqual(wheel.filename, `demo_ext-1.0-${tag}.whl`);
    includes(wheelFile(wheel.path, ".dist-info/WHEEL"), "Root-Is-Purelib: false");
    // The extension really works: unpack the wheel and import it.
    const site = join(root, "ext-site");
    for (const [name, data] of Object.entries(unzipSync(Deno.readFileSync(wheel.path)))) {
      if (name.endsWith("/")) continue;
      await Deno.mkdir(join(site, name, ".."), { recursive: true });
      await Deno.writeFile(join(site, name), data);
    }
    const run = await new Deno.Command(interpreter.executable, {
      args: ["-c", "import demo_ext; print(demo_ext.add(2, 3))"],
      env: { PYTHONPATH: site },
      stdout: "piped",
    }).output();
    assert.deepEqual(new TextDecoder().decode(run.stdout).trim(), "5");
  },
});

Deno.test({
  name: "an sdist built from a folder builds a wheel, and its second build is a cache hit",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "sdist-src"), {
      "pyproject.toml": `[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "demo-from-sdist"
version = "2.1"
dependencies = ["idna>=2"]
`,
      "demo_from_sdist/__init__.py": "",
    });
    const sdist = await timed(
      "setuptools sdist",
      () => frontend.buildSdist({ kind: "directory", path: dir }),
    );
    assert.deepEqual(sdist.filename, "demo_from_sdist-2.1.tar.gz");
    const copy = join(root, sdist.filename);
    await Deno.copyFile(sdist.path, copy);
    const wheel = await timed(
      "setuptools wheel from sdist",
      () => frontend.buildWheel({ kind: "archive", path: copy }),
    );
    assert.deepEqual(wheel.filename, "demo_from_sdist-2.1-py3-none-any.whl");
    assert.deepEqual(wheel.source.kind, "archive");
    assert.match(wheel.source.identity, /^sha256:[0-9a-f]{64}$/);
    includes(wheelFile(wheel.path, ".dist-info/METADATA"), "Requires-Dist: idna>=2");
    const again = await timed(
      "wheel from sdist (cache hit)",
      () => frontend.buildWheel({ kind: "archive", path: copy }),
    );
    assert.deepEqual(again.cached, true);
    // A cache hit on an sdist needs no Python: metadata comes from the cached wheel.
    const meta = await frontend.prepareMetadata({ kind: "archive", path: copy });
    assert.deepEqual([meta.cached, meta.via], [true, "wheel"]);
  },
});

Deno.test({
  name: "a git repository builds from git+file://…@tag, returning the tag's commit",
  ignore: ignore || !haveGit,
  async fn() {
    const repo = join(root, "repo");
    await Deno.mkdir(repo, { recursive: true });
    await git(repo, "init", "--quiet");
    const project = (version: string) => ({
      "pkg/pyproject.toml": `[build-system]
requires = ["flit_core>=3.2,<5"]
build-backend = "flit_core.buildapi"

[project]
name = "demo_git"
version = "${version}"
description = "From git"
`,
      "pkg/demo_git/__init__.py": "",
    });
    await writeTree(repo, project("1.0"));
    await git(repo, "add", ".");
    await git(repo, "commit", "--quiet", "-m", "first");
    await git(repo, "tag", "v1.0");
    const tagged = await git(repo, "rev-parse", "v1.0^{commit}");
    await writeTree(repo, project("2.0"));
    await git(repo, "commit", "--quiet", "-am", "second");
    const head = await git(repo, "rev-parse", "HEAD");

    const url = `git+file://${repo}@v1.0#subdirectory=pkg`;
    const wheel = await timed(
      "flit_core wheel from git",
      () => frontend.buildWheel({ kind: "git", url }),
    );
    assert.deepEqual(wheel.source.commit, tagged);
    assert.match(wheel.filename, pureWheel("demo_git-1.0"));
    const latest = await frontend.buildWheel({
      kind: "git",
      url: `git+file://${repo}`,
      subdirectory: "pkg",
    });
    assert.deepEqual(latest.source.commit, head);
    assert.match(latest.filename, pureWheel("demo_git-2.0"));
    // By commit id: the checkout and the wheel are both in the cache already.
    const byCommit = await frontend.buildWheel({
      kind: "git",
      url: `git+file://${repo}@${tagged}#subdirectory=pkg`,
    });
    assert.deepEqual([byCommit.cached, byCommit.path], [true, wheel.path]);
  },
});

const FAILING_BACKEND = `import sys

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    for i in range(1, 41):
        print("line %d of the backend's output" % i)
    if (config_settings or {}).get("exit"):
        sys.exit(int(config_settings["exit"]))
    raise RuntimeError("the compiler exploded")

def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("no sdist today")
`;

Deno.test({
  name:
    "a failing backend's error gives the hook, the project, its last lines, the exit code and the log",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "failing"), {
      "pyproject.toml": `[build-system]
requires = []
build-backend = "failing"
backend-path = ["_backend"]

[project]
name = "demo-fail"
version = "1"
`,
      "_backend/failing.py": FAILING_BACKEND,
    });
    const e = await buildError(() => frontend.buildWheel({ kind: "directory", path: dir }));
    assert.deepEqual([e.code, e.hook, e.project, e.exitCode], [
      "backend-failed",
      "build_wheel",
      "demo-fail",
      1,
    ]);
    includes(
      e.message,
      'Cannot build a wheel for "demo-fail": build_wheel of build backend "failing" failed with exit code 1',
    );
    includes(e.message, "line 40 of the backend's output");
    includes(e.message, "RuntimeError: the compiler exploded");
    assert.ok(!e.message.includes("line 5 of"), "only the last 30 lines");
    assert.ok(e.logPath !== undefined);
    includes(e.message, `Full log: ${e.logPath}`);
    assert.ok(e.logPath.startsWith(cacheDir));
    includes(await Deno.readTextFile(e.logPath), "line 1 of the backend's output");

    const exited = await buildError(() =>
      frontend.buildWheel({ kind: "directory", path: dir }, { configSettings: { exit: "3" } })
    );
    assert.deepEqual([exited.code, exited.exitCode], ["backend-failed", 3]);
    includes(exited.message, "failed with exit code 3");
  },
});

Deno.test({
  name: "a backend that cannot be imported and a missing hook are reported as such",
  ignore,
  async fn() {
    const dir = await writeTree(join(root, "nobackend"), {
      "pyproject.toml": `[build-system]
requires = []
build-backend = "no_such_backend.api"
`,
    });
    const e = await buildError(() => frontend.buildWheel({ kind: "directory", path: dir }));
    assert.deepEqual(e.code, "backend-unavailable");
    includes(e.message, "ModuleNotFoundError: No module named 'no_such_backend'");
    includes(e.message, "[build-system] requires");

    const partial = await writeTree(join(root, "wheel-only"), {
      "pyproject.toml": `[build-system]
requires = []
build-backend = "wheel_only"
backend-path = ["."]

[project]
name = "wheel-only"
version = "1"
`,
      "wheel_only.py": `import os, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "wheel_only-1-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        z.writestr("wheel_only-1.dist-info/METADATA", "Metadata-Version: 2.1\\nName: wheel-only\\nVersion: 1\\n")
        z.writestr("wheel_only-1.dist-info/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
        z.writestr("wheel_only-1.dist-info/RECORD", "")
    return name
`,
    });
    const missing = await buildError(() =>
      frontend.buildSdist({ kind: "directory", path: partial })
    );
    assert.deepEqual([missing.code, missing.hook], ["hook-missing", "build_sdist"]);
    // Without prepare_metadata_for_build_wheel the metadata comes from the wheel, as pip does,
    // and that wheel is then cached.
    const meta = await frontend.prepareMetadata({ kind: "directory", path: partial });
    assert.deepEqual([meta.via, meta.cached], ["wheel", false]);
    includes(meta.metadata, "Name: wheel-only");
    assert.deepEqual(
      (await frontend.buildWheel({ kind: "directory", path: partial })).cached,
      true,
    );
  },
});

Deno.test("a missing interpreter is a one-line BuildError", async () => {
  const missing = new BuildFrontend({ cacheDir, python: "python9", environments: provider });
  const e = await buildError(() => missing.buildWheel({ kind: "directory", path: root }));
  assert.deepEqual(e.code, "interpreter-missing");
  assert.deepEqual(e.message, 'Cannot run Python "python9": not found');
});

Deno.test({
  name: "the build times are reported, and the temp folder is removed",
  async fn() {
    if (timings.length > 0) console.log(`build times:\n  ${timings.join("\n  ")}`);
    const leftovers = await Array.fromAsync(Deno.readDir(join(cacheDir, "build-v1", "tmp"))).catch(
      () => [],
    );
    assert.deepEqual(leftovers.map((e) => e.name), []);
    await Deno.remove(root, { recursive: true });
  },
});
