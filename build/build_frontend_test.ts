// BuildFrontend with a scripted Python: the injected RunProcess answers the interpreter probe and
// plays the hook runner's side of the protocol (input.json in, output.json out, output to the
// log), so caching, environments, fallbacks and error messages are tested fast and without
// Python. The real back ends are in tests/build_backends_test.ts.

import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { gzipSync, zipSync } from "fflate";
import { BuildFrontend } from "./build_frontend.ts";
import { makeTar } from "./_tar_testing.ts";
import {
  BuildError,
  type BuildEvent,
  type HookName,
  type InterpreterInfo,
  type RunProcess,
  type RunProcessOptions,
} from "./types.ts";

const enc = new TextEncoder();

const PROBE = {
  executable: "/fake/bin/python3.11",
  version: "3.11.9",
  major: 3,
  minor: 11,
  implementation: "cpython",
  implementationVersion: "3.11.9",
  platform: "linux-x86_64",
  soabi: "cpython-311-x86_64-linux-gnu",
  extSuffix: ".cpython-311-x86_64-linux-gnu.so",
  gilDisabled: false,
  pointerBits: 64,
  libc: ["glibc", "2.36"],
  markers: {
    implementation_name: "cpython",
    implementation_version: "3.11.9",
    os_name: "posix",
    platform_machine: "x86_64",
    platform_release: "6.1",
    platform_system: "Linux",
    platform_version: "#1",
    python_full_version: "3.11.9",
    platform_python_implementation: "CPython",
    python_version: "3.11",
    sys_platform: "linux",
  },
};

/** What a scripted hook does: its output lines, and its outcome (or an exit without one). */
type HookOutcome =
  | { value: unknown; output?: string[] }
  | { status: string; message?: string; exit?: number; output?: string[] }
  | { crash: number; output?: string[] };
type HookScript = (call: HookCall) => HookOutcome | Promise<HookOutcome>;

interface HookCall {
  hook: HookName;
  kwargs: Record<string, unknown>;
  backend: string;
  cwd: string;
  env: Readonly<Record<string, string>>;
}

/** A fake Python whose back end is `hooks`; counts every process it is asked to start. */
function fakePython(hooks: Partial<Record<HookName, HookScript>>) {
  const calls: HookCall[] = [];
  let probes = 0;
  const run: RunProcess = async (_cmd, args, options: RunProcessOptions) => {
    if (args[0] === "-I") {
      probes++;
      return { kind: "exited", code: 0, signal: null, stdout: JSON.stringify(PROBE), stderr: "" };
    }
    const [, hook, control] = args as [string, HookName, string];
    const input = JSON.parse(await fsp.readFile(join(control, "input.json"), "utf8"));
    const call: HookCall = {
      hook,
      kwargs: input.kwargs,
      backend: input.backend,
      cwd: options.cwd,
      env: options.env,
    };
    calls.push(call);
    const script = hooks[hook];
    const result = script ? await script(call) : { status: "hook-missing" };
    if (result.output && options.logFile) {
      await fsp.appendFile(options.logFile, result.output.map((l) => `${l}\n`).join(""));
    }
    const write = (o: unknown) => fsp.writeFile(join(control, "output.json"), JSON.stringify(o));
    if ("crash" in result) {
      return { kind: "exited", code: result.crash, signal: null, stdout: "", stderr: "" };
    }
    if ("value" in result) {
      await write({ status: "ok", value: result.value });
      return { kind: "exited", code: 0, signal: null, stdout: "", stderr: "" };
    }
    await write({ status: result.status, message: result.message });
    return {
      kind: "exited",
      code: result.exit ?? (result.status === "hook-missing" ? 0 : 1),
      signal: null,
      stdout: "",
      stderr: "",
    };
  };
  return { run, calls, probes: () => probes };
}

/** A build_wheel script that writes a minimal wheel named `filename`. */
function writesWheel(filename: string): HookScript {
  return async ({ kwargs }) => {
    const [name, version] = filename.split("-");
    const distInfo = `${name}-${version}.dist-info`;
    await fsp.writeFile(
      join(kwargs["wheel_directory"] as string, filename),
      zipSync({
        [`${distInfo}/METADATA`]: enc.encode(
          `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
        ),
        [`${distInfo}/WHEEL`]: enc.encode("Wheel-Version: 1.0\n"),
      }),
    );
    return { value: filename, output: ["building the wheel"] };
  };
}

/** A wheel file of a build requirement, with a script and a header in its .data folder. */
async function requirementWheel(dir: string, name: string, version: string): Promise<string> {
  const path = join(dir, `${name}-${version}-py3-none-any.whl`);
  await fsp.writeFile(
    path,
    zipSync({
      [`${name}/__init__.py`]: enc.encode(`VERSION = "${version}"\n`),
      [`${name}-${version}.dist-info/METADATA`]: enc.encode(
        `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
      ),
      [`${name}-${version}.data/scripts/${name}-tool`]: enc.encode("#!python\nprint('hi')\n"),
      [`${name}-${version}.data/platlib/_${name}_native.py`]: enc.encode(""),
    }),
  );
  return path;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fsp.mkdtemp(join(tmpdir(), "wh-frontend-"));
  try {
    await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function project(dir: string, pyproject: string): Promise<string> {
  const path = join(dir, "project");
  await fsp.mkdir(path, { recursive: true });
  await fsp.writeFile(join(path, "pyproject.toml"), pyproject);
  return path;
}

const DEMO = `[build-system]
requires = ["fakebackend>=1"]
build-backend = "fakebackend.api"

[project]
name = "demo"
version = "1.0"
`;

async function rejectsWith(work: () => Promise<unknown>, code: string): Promise<BuildError> {
  try {
    await work();
  } catch (e) {
    if (e instanceof BuildError && e.code === code) return e;
    throw e;
  }
  throw new Error(`expected a BuildError ${code}`);
}

Deno.test("BuildFrontend.buildWheel() builds once, then answers from the cache without Python", async () => {
  await withDir(async (dir) => {
    const fake = fakePython({ build_wheel: writesWheel("demo-1.0-py3-none-any.whl") });
    const wheel = await requirementWheel(dir, "fakebackend", "1.2");
    const asked: string[][] = [];
    const events: BuildEvent[] = [];
    const options = {
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: { PATH: "/usr/bin" },
      environments: {
        installRequirements: (reqs: readonly string[], info: InterpreterInfo) => {
          assert.equal(info.abiTag, "cp311");
          asked.push([...reqs]);
          return Promise.resolve([wheel]);
        },
      },
      reporter: { event: (e: BuildEvent) => events.push(e) },
    };
    const src = await project(dir, DEMO);
    const built = await new BuildFrontend(options).buildWheel({ kind: "directory", path: src });
    assert.equal(built.filename, "demo-1.0-py3-none-any.whl");
    assert.equal(built.cached, false);
    assert.ok(built.path.startsWith(join(dir, "cache", "build-v1", "wheels")));
    assert.deepEqual(asked, [["fakebackend>=1"]]);
    assert.deepEqual(fake.calls.map((c) => c.hook), [
      "get_requires_for_build_wheel",
      "build_wheel",
    ]);
    assert.equal(fake.calls[1]?.backend, "fakebackend.api");
    assert.equal(fake.calls[1]?.cwd, src);

    // A new front end on the same cache: one probe, no hook, no environment.
    const again = new BuildFrontend(options);
    const hit = await again.buildWheel({ kind: "directory", path: src });
    assert.deepEqual([hit.cached, hit.path], [true, built.path]);
    assert.equal(fake.calls.length, 2);
    assert.deepEqual(asked.length, 1);
    assert.ok(events.some((e) => e.kind === "cache-hit" && e.what === "wheel"));
    // The tree hash ignores what builds leave in the tree.
    await fsp.mkdir(join(src, "build", "lib"), { recursive: true });
    await fsp.mkdir(join(src, "demo.egg-info"));
    assert.equal((await again.buildWheel({ kind: "directory", path: src })).cached, true);
    // A changed source is a new build.
    await fsp.writeFile(join(src, "README"), "changed");
    assert.equal((await again.buildWheel({ kind: "directory", path: src })).cached, false);
  });
});

Deno.test("BuildFrontend isolates the hooks in an environment made of the provider's wheels", async () => {
  await withDir(async (dir) => {
    const fake = fakePython({ build_wheel: writesWheel("demo-1.0-py3-none-any.whl") });
    const wheel = await requirementWheel(dir, "fakebackend", "1.2");
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: { PATH: "/usr/bin", PYTHONPATH: "/users/own/path", HOME: "/home/me" },
      environments: { installRequirements: () => Promise.resolve([wheel]) },
    });
    await frontend.buildWheel({ kind: "directory", path: await project(dir, DEMO) });
    const env = fake.calls[0]?.env ?? {};
    const boot = env["PYTHONPATH"] ?? "";
    assert.match(boot, /build-v1\/envs\/[0-9a-f]{32}\/boot$/);
    const prefix = join(boot, "..");
    assert.equal(env["PYTHONNOUSERSITE"], "1");
    assert.equal(env["HOME"], "/home/me");
    assert.equal(env["PATH"], `${join(prefix, "bin")}:/usr/bin`);
    assert.match(await fsp.readFile(join(boot, "sitecustomize.py"), "utf8"), /addsitedir/);
    assert.equal(
      await fsp.readFile(join(prefix, "site", "fakebackend", "__init__.py"), "utf8"),
      'VERSION = "1.2"\n',
    );
    assert.ok(await fsp.stat(join(prefix, "site", "_fakebackend_native.py")));
    assert.ok(await fsp.stat(join(prefix, "site", "fakebackend-1.2.dist-info", "METADATA")));
    const script = join(prefix, "bin", "fakebackend-tool");
    assert.equal(await fsp.readFile(script, "utf8"), "#!/fake/bin/python3.11\nprint('hi')\n");
    assert.equal((await fsp.stat(script)).mode & 0o111, 0o111);
  });
});

Deno.test("BuildFrontend adds unmet get_requires_for_build_wheel requirements to a new environment", async () => {
  await withDir(async (dir) => {
    const backendWheel = await requirementWheel(dir, "fakebackend", "1.2");
    const extraWheel = await requirementWheel(dir, "helper", "3.0");
    const fake = fakePython({
      get_requires_for_build_wheel: ({ kwargs }) => ({
        value: kwargs["config_settings"] &&
            (kwargs["config_settings"] as Record<string, string>)["extra"]
          ? ["fakebackend>=1.1", "helper>=2", "ignored; python_version < '3'"]
          : ["fakebackend>=1.1"],
      }),
      build_wheel: writesWheel("demo-1.0-py3-none-any.whl"),
    });
    const asked: string[][] = [];
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      environments: {
        installRequirements: (reqs) => {
          asked.push([...reqs]);
          return Promise.resolve(
            reqs.some((r) => r.startsWith("helper")) ? [backendWheel, extraWheel] : [backendWheel],
          );
        },
      },
    });
    const src = await project(dir, DEMO);
    // Satisfied by the first environment: no second one.
    await frontend.buildWheel({ kind: "directory", path: src });
    assert.deepEqual(asked, [["fakebackend>=1"]]);
    await frontend.buildWheel({ kind: "directory", path: src }, { configSettings: { extra: "1" } });
    assert.deepEqual(asked, [["fakebackend>=1"], [
      "fakebackend>=1",
      "fakebackend>=1.1",
      "helper>=2",
      'ignored; python_version < "3"',
    ]]);
    const last = fake.calls[fake.calls.length - 1];
    assert.deepEqual(last?.kwargs["config_settings"], { extra: "1" });
    const prefix = join(last?.env["PYTHONPATH"] ?? "", "..");
    assert.ok(await fsp.stat(join(prefix, "site", "helper", "__init__.py")));
  });
});

Deno.test("BuildFrontend.prepareMetadata() falls back to the wheel, which is then cached", async () => {
  await withDir(async (dir) => {
    const fake = fakePython({ build_wheel: writesWheel("demo-1.0-py3-none-any.whl") });
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    });
    const src = await project(dir, DEMO);
    const meta = await frontend.prepareMetadata({ kind: "directory", path: src });
    assert.deepEqual([meta.via, meta.cached, basename(meta.distInfoDir)], [
      "wheel",
      false,
      "demo-1.0.dist-info",
    ]);
    assert.match(meta.metadata, /^Name: demo$/m);
    assert.deepEqual(fake.calls.map((c) => c.hook), [
      "get_requires_for_build_wheel",
      "prepare_metadata_for_build_wheel",
      "build_wheel",
    ]);
    const wheel = await frontend.buildWheel({ kind: "directory", path: src });
    const again = await frontend.prepareMetadata({ kind: "directory", path: src });
    assert.deepEqual([wheel.cached, again.cached], [true, true]);
    assert.equal(fake.calls.length, 3);
  });
});

Deno.test("BuildFrontend.prepareMetadata() uses the hook when the backend has it", async () => {
  await withDir(async (dir) => {
    const fake = fakePython({
      prepare_metadata_for_build_wheel: async ({ kwargs }) => {
        const out = join(kwargs["metadata_directory"] as string, "demo-1.0.dist-info");
        await fsp.mkdir(out);
        await fsp.writeFile(
          join(out, "METADATA"),
          "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna\n",
        );
        return { value: "demo-1.0.dist-info" };
      },
    });
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    });
    const src = await project(dir, DEMO);
    const meta = await frontend.prepareMetadata({ kind: "directory", path: src });
    assert.deepEqual([meta.via, meta.cached], ["hook", false]);
    assert.match(meta.metadata, /Requires-Dist: idna/);
    assert.equal((await frontend.prepareMetadata({ kind: "directory", path: src })).cached, true);
    assert.equal(fake.calls.length, 2);
  });
});

Deno.test("BuildFrontend builds a wheel from an sdist unpacked into a temp folder", async () => {
  await withDir(async (dir) => {
    const fake = fakePython({ build_wheel: writesWheel("demo-1.0-py3-none-any.whl") });
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    });
    const sdist = join(dir, "demo-1.0.tar.gz");
    await fsp.writeFile(
      sdist,
      gzipSync(makeTar([{ name: "demo-1.0/pyproject.toml", data: DEMO }])),
    );
    const wheel = await frontend.buildWheel({ kind: "archive", path: sdist });
    assert.equal(wheel.source.project, "demo");
    assert.match(wheel.source.identity, /^sha256:/);
    const cwd = fake.calls[0]?.cwd ?? "";
    assert.match(cwd, /build-v1\/tmp\/.*\/src\/demo-1\.0$/);
    // The unpacked tree is gone; so is every temp folder.
    await assert.rejects(() => fsp.stat(cwd));
    assert.deepEqual(await fsp.readdir(join(dir, "cache", "build-v1", "tmp")), []);
  });
});

Deno.test("a backend that exits without a result shows the last 30 lines and keeps the log", async () => {
  await withDir(async (dir) => {
    const fake = fakePython({
      build_wheel: () => ({
        crash: 2,
        output: Array.from({ length: 50 }, (_, i) => `output line ${i + 1}`),
      }),
    });
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    });
    const e = await rejectsWith(
      () => frontend.buildWheel({ kind: "directory", path: join(dir, "missing") }),
      "invalid-project",
    );
    assert.match(e.message, /is not a folder/);
    const src = await project(dir, DEMO);
    const failed = await rejectsWith(
      () => frontend.buildWheel({ kind: "directory", path: src }),
      "backend-failed",
    );
    assert.deepEqual([failed.hook, failed.project, failed.exitCode], ["build_wheel", "demo", 2]);
    const lines = failed.message.split("\n");
    assert.equal(
      lines[0],
      'Cannot build a wheel for "demo": build_wheel of build backend "fakebackend.api" exited with exit code 2 without a result.',
    );
    assert.equal(lines[1], "Its output (last 30 lines):");
    assert.equal(lines[2], "  | output line 21");
    assert.equal(lines[31], "  | output line 50");
    assert.equal(lines[32], `Full log: ${failed.logPath}`);
    assert.ok(failed.logPath?.startsWith(join(dir, "cache", "build-v1", "logs")));
    const log = await fsp.readFile(failed.logPath ?? "", "utf8");
    assert.match(log, /^==> get_requires_for_build_wheel/m);
    assert.match(log, /^output line 1$/m);
  });
});

Deno.test("BuildFrontend tells hook outcomes apart: missing, unsupported, unavailable, invalid", async () => {
  await withDir(async (dir) => {
    const src = await project(dir, DEMO);
    const make = (hooks: Partial<Record<HookName, HookScript>>) =>
      new BuildFrontend({
        cacheDir: join(dir, "cache"),
        run: fakePython(hooks).run,
        env: {},
        noBuildIsolation: true,
      });
    const missing = await rejectsWith(
      () => make({}).buildSdist({ kind: "directory", path: src }),
      "hook-missing",
    );
    assert.equal(
      missing.message,
      'Cannot build an sdist for "demo": build backend "fakebackend.api" has no build_sdist hook',
    );
    await rejectsWith(
      () =>
        make({
          build_sdist: () => ({ status: "unsupported", message: "UnsupportedOperation: no" }),
        })
          .buildSdist({ kind: "directory", path: src }),
      "hook-unsupported",
    );
    const unavailable = await rejectsWith(
      () =>
        make({
          get_requires_for_build_wheel: () => ({
            status: "backend-unavailable",
            message: "ModuleNotFoundError: No module named 'fakebackend'",
          }),
        }).buildWheel({ kind: "directory", path: src }),
      "backend-unavailable",
    );
    assert.match(
      unavailable.message,
      /cannot import build backend "fakebackend.api": ModuleNotFoundError/,
    );
    assert.match(unavailable.message, /full log: .*\.log$/);
    await rejectsWith(
      () =>
        make({
          get_requires_for_build_wheel: () => ({ status: "backend-invalid", message: "x from y" }),
        })
          .buildWheel({ kind: "directory", path: src }),
      "invalid-project",
    );
    for (const value of ["../evil.whl", "missing-1.0-py3-none-any.whl", 42]) {
      await rejectsWith(
        () => make({ build_wheel: () => ({ value }) }).buildWheel({ kind: "directory", path: src }),
        "invalid-result",
      );
    }
    await rejectsWith(
      () =>
        make({ get_requires_for_build_wheel: () => ({ value: "setuptools" }) }).buildWheel({
          kind: "directory",
          path: src,
        }),
      "invalid-result",
    );
  });
});

Deno.test("a provider that fails is an environment-failed BuildError naming the requirements", async () => {
  await withDir(async (dir) => {
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fakePython({}).run,
      env: {},
      environments: {
        installRequirements: () =>
          Promise.reject(new Error("no version of fakebackend matches >=1")),
      },
    });
    const src = await project(dir, DEMO);
    const e = await rejectsWith(
      () => frontend.buildWheel({ kind: "directory", path: src }),
      "environment-failed",
    );
    assert.equal(
      e.message,
      'Cannot build "demo": cannot get the build requirements fakebackend>=1: no version of fakebackend matches >=1',
    );
  });
});

Deno.test("concurrent builds of one source share one build in a process and race safely across two", async () => {
  await withDir(async (dir) => {
    let started = 0;
    const fake = fakePython({
      build_wheel: async (call) => {
        started++;
        await new Promise((r) => setTimeout(r, 20));
        return await writesWheel("demo-1.0-py3-none-any.whl")(call);
      },
    });
    const options = {
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    };
    const src = await project(dir, DEMO);
    const one = new BuildFrontend(options);
    const [a, b] = await Promise.all([
      one.buildWheel({ kind: "directory", path: src }),
      one.buildWheel({ kind: "directory", path: src }),
    ]);
    assert.equal(started, 1);
    assert.equal(a.path, b.path);
    assert.deepEqual([a.cached, b.cached].sort(), [false, true]);

    // Two front ends (as two processes would) build the same new source at once: both succeed
    // and end with the same published wheel.
    await fsp.writeFile(join(src, "README"), "new");
    const [c, d] = await Promise.all([
      new BuildFrontend(options).buildWheel({ kind: "directory", path: src }),
      new BuildFrontend(options).buildWheel({ kind: "directory", path: src }),
    ]);
    assert.equal(started, 3);
    assert.equal(c.path, d.path);
    assert.ok(await fsp.stat(c.path));
    assert.deepEqual(await fsp.readdir(join(dir, "cache", "build-v1", "tmp")), []);
  });
});

Deno.test("leftovers of a killed run older than a day are swept; a fresh one is kept", async () => {
  await withDir(async (dir) => {
    const tmp = join(dir, "cache", "build-v1", "tmp");
    await fsp.mkdir(join(tmp, "env-old"), { recursive: true });
    await fsp.mkdir(join(tmp, "env-fresh"));
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await fsp.utimes(join(tmp, "env-old"), old, old);
    const fake = fakePython({ build_wheel: writesWheel("demo-1.0-py3-none-any.whl") });
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    });
    await frontend.buildWheel({ kind: "directory", path: await project(dir, DEMO) });
    assert.deepEqual(await fsp.readdir(tmp), ["env-fresh"]);
  });
});

Deno.test("an aborted build stops with an aborted BuildError", async () => {
  await withDir(async (dir) => {
    const controller = new AbortController();
    const fake = fakePython({
      build_wheel: () => {
        controller.abort();
        return { crash: 143 };
      },
    });
    const frontend = new BuildFrontend({
      cacheDir: join(dir, "cache"),
      run: fake.run,
      env: {},
      noBuildIsolation: true,
    });
    const src = await project(dir, DEMO);
    const e = await rejectsWith(
      () => frontend.buildWheel({ kind: "directory", path: src }, { signal: controller.signal }),
      "aborted",
    );
    assert.equal(e.hook, "build_wheel");
  });
});

Deno.test("BuildFrontend needs a provider unless build isolation is off", () => {
  assert.throws(() => new BuildFrontend({ cacheDir: "." }), TypeError);
  assert.ok(new BuildFrontend({ cacheDir: ".", noBuildIsolation: true }));
});
