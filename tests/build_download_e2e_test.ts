// Building from source in a download (issue 14): an sdist without static metadata is built for
// it and resolution goes on; --build-wheels puts a wheel beside the sdist; --build-deps brings
// what building needs, so pip builds it offline; git references are pinned to their commit;
// failures say the hook, the package, the output's tail and the log. Real backends (setuptools
// and wheel from the machine's wheel mirror), real builds, no network; pip is the consumer.
import assert from "node:assert/strict";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { indexArgs, pipInstallOfflineArgs, wheelhouse } from "./_e2e_helpers.ts";
import { havePip, runPython } from "./_python.ts";
import { buildWheel, ustar } from "./wheel_factory.ts";
import { type IndexServer, servedFilesFromDir, startIndexServer } from "./index_server.ts";

const MIRROR = "/opt/pypi/files";
const BACKENDS = [
  "setuptools-84.0.0-py3-none-any.whl",
  "wheel-0.46.3-py3-none-any.whl",
  "packaging-26.3-py3-none-any.whl",
];
const TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"];
const HAVE_PIP = await havePip("pip install of built wheels and sdists");

async function haveMirror(): Promise<boolean> {
  for (const f of BACKENDS) {
    try {
      await Deno.stat(join(MIRROR, f));
    } catch {
      console.warn(`SKIPPED: building needs the wheel mirror (${join(MIRROR, f)} is absent)`);
      return false;
    }
  }
  if ((await runPython(["-c", "print(1)"], "."))?.code !== 0) {
    console.warn("SKIPPED: building needs python3");
    return false;
  }
  return true;
}
const READY = await haveMirror();

const enc = new TextEncoder();

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A setuptools sdist whose metadata is dynamic (setup.py, PKG-INFO 2.1). */
async function setupPySdist(
  name: string,
  version: string,
  setupBody: string,
): Promise<{ filename: string; bytes: Uint8Array }> {
  const root = `${name}-${version}`;
  const files: [string, Uint8Array][] = [
    [`${root}/PKG-INFO`, enc.encode(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`)],
    [`${root}/${name}.py`, enc.encode(`VALUE = ${JSON.stringify(name)}\n`)],
    [`${root}/setup.py`, enc.encode(setupBody)],
  ];
  return { filename: `${root}.tar.gz`, bytes: await gzip(ustar(files)) };
}

interface World {
  dir: string;
  cache: string;
  server: IndexServer;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-build-" });
  const mirror = join(dir, "mirror");
  await mkdir(mirror);
  for (const f of BACKENDS) await copyFile(join(MIRROR, f), join(mirror, f));
  const dyn = await setupPySdist(
    "dynproj",
    "1.0",
    'from setuptools import setup\nsetup(name="dynproj", version="1.0", py_modules=["dynproj"], install_requires=["dep>=1.0"])\n',
  );
  const broken = await setupPySdist(
    "brokenproj",
    "1.0",
    'import sys\nprint("configuring brokenproj")\nsys.exit("brokenproj: this package cannot be built here")\n',
  );
  const server = await startIndexServer({
    projects: [
      ...(await servedFilesFromDir(mirror)),
      await buildWheel({ name: "dep", version: "1.2" }),
      dyn,
      broken,
    ],
  });
  try {
    await fn({ dir, cache: join(dir, "cache"), server });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function run(w: World, args: string[]): Promise<import("./_e2e_helpers.ts").Run> {
  return wheelhouse(
    ["download", ...indexArgs(w.server.indexUrl, w.cache), ...TARGET, ...args],
    w.dir,
  );
}

Deno.test({
  name:
    "an sdist with dynamic metadata is built for it, and resolution goes on with its setup.py dependencies",
  ignore: !READY,
  fn: () =>
    withWorld(async (w) => {
      const r = await run(w, ["-v", "-d", "wh", "dynproj"]);
      assert.equal(r.code, 0, r.stderr);
      const names = [...Deno.readDirSync(join(w.dir, "wh"))].map((e) => e.name);
      assert.ok(names.includes("dynproj-1.0.tar.gz"), names.join());
      assert.ok(names.includes("dep-1.2-py3-none-any.whl"), "the dependency setup.py declares");
      assert.match(r.stderr, /dynproj 1\.0: metadata from its build backend on this host/);
      const again = await run(w, ["-v", "-d", "wh2", "dynproj"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /metadata from its build backend on this host \(.*cached\)/);
    }),
});

Deno.test({
  name:
    "--build-wheels puts a wheel beside the sdist for the host's target, and pip installs it offline",
  ignore: !READY,
  fn: () =>
    withWorld(async (w) => {
      const r = await run(w, ["-d", "wh", "--build-wheels", "dynproj"]);
      assert.equal(r.code, 0, r.stderr);
      const names = [...Deno.readDirSync(join(w.dir, "wh"))].map((e) => e.name);
      assert.ok(names.includes("dynproj-1.0.tar.gz"));
      assert.ok(names.includes("dynproj-1.0-py3-none-any.whl"), names.join());
      const manifest = JSON.parse(await Deno.readTextFile(join(w.dir, "wh", "manifest.json")));
      const wheel = manifest.files.find((f: { filename: string }) =>
        f.filename === "dynproj-1.0-py3-none-any.whl"
      );
      assert.deepEqual(wheel.targets.length, 1);
      if (!HAVE_PIP) return;
      const pip = await runPython(
        pipInstallOfflineArgs(join(w.dir, "wh"), join(w.dir, "site"), [
          "--only-binary",
          ":all:",
          "-r",
          join(w.dir, "wh", "requirements.txt"),
        ]),
        w.dir,
      );
      assert.equal(pip?.code, 0, pip?.stderr);
    }),
});

Deno.test({
  name: "--build-deps brings setuptools and wheel, so a fresh venv builds the sdist offline",
  ignore: !READY || !HAVE_PIP,
  fn: () =>
    withWorld(async (w) => {
      const r = await run(w, ["-d", "wh", "--build-deps", "dynproj"]);
      assert.equal(r.code, 0, r.stderr);
      const manifest = JSON.parse(await Deno.readTextFile(join(w.dir, "wh", "manifest.json")));
      const deps = manifest.files.filter((f: { buildDependencyOf?: string[] }) =>
        f.buildDependencyOf?.includes("dynproj-1.0.tar.gz")
      ).map((f: { filename: string }) => f.filename);
      assert.ok(deps.some((f: string) => f.startsWith("setuptools-")), deps.join());
      assert.ok(deps.some((f: string) => f.startsWith("wheel-")), deps.join());
      const reqs = await Deno.readTextFile(join(w.dir, "wh", "requirements.txt"));
      assert.doesNotMatch(reqs, /setuptools/, "build requirements are not installed");
      // pip builds the sdist in isolation, its build requirements found in the folder only.
      const pip = await runPython(
        pipInstallOfflineArgs(join(w.dir, "wh"), join(w.dir, "site"), ["dynproj"]),
        w.dir,
      );
      assert.equal(pip?.code, 0, pip?.stderr);
    }),
});

Deno.test({
  name:
    "a git+file:// reference at a tag resolves to its commit, builds, and the commit is in the report and pylock.toml",
  ignore: !READY,
  fn: () =>
    withWorld(async (w) => {
      const repo = join(w.dir, "gitproj");
      await mkdir(repo);
      const git = (...args: string[]) =>
        new Deno.Command("git", {
          args,
          cwd: repo,
          env: {
            GIT_AUTHOR_NAME: "t",
            GIT_AUTHOR_EMAIL: "t@example.org",
            GIT_COMMITTER_NAME: "t",
            GIT_COMMITTER_EMAIL: "t@example.org",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const write = (version: string) =>
        Promise.all([
          Deno.writeTextFile(
            join(repo, "pyproject.toml"),
            `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "gitproj"\nversion = "${version}"\ndependencies = ["dep>=1.0"]\n`,
          ),
          Deno.writeTextFile(join(repo, "gitproj.py"), `VERSION = "${version}"\n`),
        ]);
      await git("init", "-q");
      await write("1.0");
      await git("add", ".");
      await git("commit", "-q", "-m", "one");
      await git("tag", "v1.0");
      const tagged = new TextDecoder().decode((await git("rev-parse", "HEAD")).stdout).trim();
      await write("2.0");
      await git("commit", "-q", "-am", "two");
      const r = await run(w, [
        "-d",
        "wh",
        "--report",
        "report.json",
        `gitproj @ git+file://${repo}@v1.0`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const names = [...Deno.readDirSync(join(w.dir, "wh"))].map((e) => e.name);
      assert.ok(names.includes("gitproj-1.0.tar.gz"), names.join());
      assert.ok(names.includes("dep-1.2-py3-none-any.whl"));
      const report = await Deno.readTextFile(join(w.dir, "report.json"));
      assert.ok(report.includes(tagged), "the commit id is in the report");
      const pylock = await Deno.readTextFile(join(w.dir, "wh", "pylock.toml"));
      assert.match(pylock, new RegExp(`commit-id = "${tagged}"`));
    }),
});

Deno.test({
  name:
    "a failing backend names the hook, the package, the output's tail, the exit code and the log; a missing interpreter is one line; --no-build lists and fails",
  ignore: !READY,
  fn: () =>
    withWorld(async (w) => {
      const bad = await run(w, ["-d", "wh", "brokenproj"]);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(
        bad.stderr,
        /(get_requires_for_build_wheel|prepare_metadata_for_build_wheel) of build backend/,
      );
      assert.match(bad.stderr, /brokenproj/);
      assert.match(bad.stderr, /this package cannot be built here/);
      assert.match(bad.stderr, /exit code|exited/);
      const log = /(\/\S+\.log)/.exec(bad.stderr)?.[1];
      assert.ok(log !== undefined, bad.stderr);
      assert.match(await Deno.readTextFile(log), /configuring brokenproj/);
      assert.doesNotMatch(bad.stderr, /^\s+at /m);
      const noPython = await run(w, ["-d", "wh", "--python", "python9", "dynproj"]);
      assert.equal(noPython.code, 1, noPython.stderr);
      assert.match(noPython.stderr, /^error: Cannot run Python "python9": not found$/m);
      const noBuild = await run(w, ["-d", "wh", "--no-build", "dynproj"]);
      assert.equal(noBuild.code, 1, noBuild.stderr);
      assert.match(
        noBuild.stderr,
        /--no-build: this needs a build to be resolved:\n {2}dynproj 1\.0/,
      );
    }),
});

Deno.test({
  name:
    "--build-wheels builds a C extension for the host's platform only: built for 1 of 2 targets, the other keeps the sdist",
  ignore: !READY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "wheelhouse-build-c-" });
    const mirror = join(dir, "mirror");
    await mkdir(mirror);
    for (const f of BACKENDS) await copyFile(join(MIRROR, f), join(mirror, f));
    const root = "cext-1.0";
    const sdist = {
      filename: `${root}.tar.gz`,
      bytes: await gzip(ustar([
        [`${root}/PKG-INFO`, enc.encode("Metadata-Version: 2.1\nName: cext\nVersion: 1.0\n")],
        [
          `${root}/setup.py`,
          enc.encode(
            'from setuptools import Extension, setup\nsetup(name="cext", version="1.0", ext_modules=[Extension("cext", ["cext.c"])])\n',
          ),
        ],
        [
          `${root}/cext.c`,
          enc.encode(
            '#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "cext", NULL, -1, NULL};\nPyMODINIT_FUNC PyInit_cext(void) { return PyModule_Create(&m); }\n',
          ),
        ],
      ])),
    };
    const server = await startIndexServer({
      projects: [...(await servedFilesFromDir(mirror)), sdist],
    });
    try {
      const r = await wheelhouse([
        "download",
        ...indexArgs(server.indexUrl, join(dir, "cache")),
        "--python-version",
        "3.11",
        "--python-platform",
        "x86_64-manylinux_2_28",
        "--python-platform",
        "x86_64-pc-windows-msvc",
        "-d",
        "wh",
        "--build-wheels",
        "cext",
      ], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /cext-1\.0-cp311-cp311-linux_x86_64\.whl: built for 1 of 2 targets; the others install the sdist/,
      );
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, "wh", "manifest.json")));
      const byName = new Map(
        manifest.files.map((f: { filename: string; targets: string[] }) => [f.filename, f.targets]),
      );
      assert.equal((byName.get("cext-1.0-cp311-cp311-linux_x86_64.whl") as string[]).length, 1);
      assert.equal((byName.get("cext-1.0.tar.gz") as string[]).length, 2);
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a project folder on the command line (./proj) is built into an sdist, named from its pyproject.toml",
  ignore: !READY,
  fn: () =>
    withWorld(async (w) => {
      const proj = join(w.dir, "localproj");
      await mkdir(proj);
      await Deno.writeTextFile(
        join(proj, "pyproject.toml"),
        `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "localproj"\nversion = "0.3"\ndependencies = ["dep"]\n`,
      );
      await Deno.writeTextFile(join(proj, "localproj.py"), "X = 1\n");
      const r = await run(w, ["-d", "wh", "./localproj"]);
      assert.equal(r.code, 0, r.stderr);
      const names = [...Deno.readDirSync(join(w.dir, "wh"))].map((e) => e.name);
      assert.ok(names.includes("localproj-0.3.tar.gz"), names.join());
      assert.ok(names.includes("dep-1.2-py3-none-any.whl"), names.join());
      const empty = join(w.dir, "noname");
      await mkdir(empty);
      const bad = await run(w, ["-d", "wh2", "./noname"]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /Cannot tell the project name of the folder "\.\/noname"/);
    }),
});

Deno.test({
  name:
    "a pylock.toml's git entry (at its commit) and folder entry are built into sdists, the commit kept in the folder's pylock.toml",
  ignore: !READY,
  fn: () =>
    withWorld(async (w) => {
      const repo = join(w.dir, "lockgit");
      await mkdir(repo);
      const git = (...args: string[]) =>
        new Deno.Command("git", {
          args,
          cwd: repo,
          env: {
            GIT_AUTHOR_NAME: "t",
            GIT_AUTHOR_EMAIL: "t@example.org",
            GIT_COMMITTER_NAME: "t",
            GIT_COMMITTER_EMAIL: "t@example.org",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
      await Deno.writeTextFile(
        join(repo, "pyproject.toml"),
        `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "lockgit"\nversion = "0.5"\n`,
      );
      await Deno.writeTextFile(join(repo, "lockgit.py"), "X = 1\n");
      await git("init", "-q");
      await git("add", ".");
      await git("commit", "-q", "-m", "one");
      const commit = new TextDecoder().decode((await git("rev-parse", "HEAD")).stdout).trim();
      const lib = join(w.dir, "lib");
      await mkdir(lib);
      await Deno.writeTextFile(
        join(lib, "pyproject.toml"),
        `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "lib"\nversion = "1.1"\n`,
      );
      await Deno.writeTextFile(join(lib, "lib.py"), "Y = 2\n");
      await Deno.writeTextFile(
        join(w.dir, "pylock.toml"),
        `lock-version = "1.0"
created-by = "test"
[[packages]]
name = "lockgit"
version = "0.5"
vcs = { type = "git", url = "file://${repo}", commit-id = "${commit}" }
[[packages]]
name = "lib"
version = "1.1"
directory = { path = "lib" }
`,
      );
      const r = await wheelhouse([
        "download",
        "--lock",
        "pylock.toml",
        ...indexArgs(w.server.indexUrl, w.cache),
        ...TARGET,
        "-d",
        "wh",
      ], w.dir);
      assert.equal(r.code, 0, r.stderr);
      const names = [...Deno.readDirSync(join(w.dir, "wh"))].map((e) => e.name);
      assert.ok(names.includes("lockgit-0.5.tar.gz"), names.join());
      assert.ok(names.includes("lib-1.1.tar.gz"), names.join());
      const pylock = await Deno.readTextFile(join(w.dir, "wh", "pylock.toml"));
      assert.match(pylock, new RegExp(`commit-id = "${commit}"`));
    }),
});
