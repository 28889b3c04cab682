import assert from "node:assert/strict";
import { inspectInterpreter } from "./inspect_interpreter.ts";
import { BuildError, type ProcessOutcome, type RunProcess } from "./types.ts";

const MARKERS = {
  implementation_name: "cpython",
  implementation_version: "3.13.1",
  os_name: "posix",
  platform_machine: "x86_64",
  platform_release: "6.1",
  platform_system: "Linux",
  platform_version: "#1",
  python_full_version: "3.13.1",
  platform_python_implementation: "CPython",
  python_version: "3.13",
  sys_platform: "linux",
};

function answering(answer: Record<string, unknown>): RunProcess {
  const base = {
    executable: "/usr/bin/python3.13",
    version: "3.13.1",
    major: 3,
    minor: 13,
    implementation: "cpython",
    implementationVersion: "3.13.1",
    platform: "linux-x86_64",
    soabi: "cpython-313-x86_64-linux-gnu",
    extSuffix: ".cpython-313-x86_64-linux-gnu.so",
    gilDisabled: false,
    pointerBits: 64,
    libc: ["glibc", "2.36"],
    markers: MARKERS,
  };
  return (_cmd, args) => {
    assert.deepEqual(args.slice(0, 2), ["-I", "-c"]);
    return Promise.resolve({
      kind: "exited",
      code: 0,
      signal: null,
      stdout: `${JSON.stringify({ ...base, ...answer })}\n`,
      stderr: "",
    });
  };
}

const outcome = (o: ProcessOutcome): RunProcess => () => Promise.resolve(o);

Deno.test("inspectInterpreter() derives the tags a CPython builds with", async () => {
  const info = await inspectInterpreter("python3.13", { run: answering({}), env: {} });
  assert.deepEqual(
    [info.executable, info.pythonVersion, info.interpreterTag, info.abiTag, info.platformTag],
    ["/usr/bin/python3.13", "3.13", "cp313", "cp313", "linux_x86_64"],
  );
  assert.deepEqual(info.libc, { name: "glibc", version: "2.36" });
  assert.equal(info.markerEnvironment.python_version, "3.13");
  const ft = await inspectInterpreter("python3.13t", {
    run: answering({ gilDisabled: true }),
    env: {},
  });
  assert.equal(ft.abiTag, "cp313t");
  const mac = await inspectInterpreter("python3", {
    run: answering({ platform: "macosx-11.0-arm64" }),
    env: {},
  });
  assert.equal(mac.platformTag, "macosx_11_0_arm64");
});

Deno.test("inspectInterpreter() derives PyPy's tags from its SOABI", async () => {
  const info = await inspectInterpreter("pypy3", {
    run: answering({ implementation: "pypy", minor: 10, soabi: "pypy310-pp73-x86_64-linux-gnu" }),
    env: {},
  });
  assert.deepEqual([info.interpreterTag, info.abiTag], ["pp310", "pypy310_pp73"]);
});

Deno.test("inspectInterpreter() tells a missing interpreter from a broken one", async () => {
  await assert.rejects(
    () => inspectInterpreter("python9", { run: outcome({ kind: "not-found" }), env: {} }),
    (e) =>
      e instanceof BuildError && e.code === "interpreter-missing" &&
      e.message === 'Cannot run Python "python9": not found',
  );
  await assert.rejects(
    () =>
      inspectInterpreter("python2", {
        run: outcome({
          kind: "exited",
          code: 1,
          signal: null,
          stdout: "",
          stderr: "  File x\nSyntaxError: invalid syntax\n",
        }),
        env: {},
      }),
    (e) =>
      e instanceof BuildError && e.code === "interpreter-failed" &&
      e.message ===
        'Cannot ask Python "python2" what it is: exit code 1: SyntaxError: invalid syntax',
  );
  await assert.rejects(
    () =>
      inspectInterpreter("py", {
        run: outcome({ kind: "exited", code: 0, signal: null, stdout: "hello", stderr: "" }),
        env: {},
      }),
    (e) =>
      e instanceof BuildError && e.code === "interpreter-failed" &&
      /printed no answer/.test(e.message),
  );
});

Deno.test("inspectInterpreter() asks the real python3 in one run, where there is one", async () => {
  let runs = 0;
  const counting: RunProcess = async (cmd, args, options) => {
    runs++;
    const { runProcess } = await import("./run_process.ts");
    return runProcess(cmd, args, options);
  };
  let info;
  try {
    info = await inspectInterpreter("python3", { run: counting });
  } catch (e) {
    if (e instanceof BuildError && e.code === "interpreter-missing") {
      console.warn("SKIPPING the real-interpreter check: python3 is not available");
      return;
    }
    throw e;
  }
  assert.equal(runs, 1);
  assert.match(info.version, /^3\.\d+\.\d+/);
  assert.equal(info.markerEnvironment.python_full_version, info.version);
  assert.ok(info.executable.length > 0);
});
