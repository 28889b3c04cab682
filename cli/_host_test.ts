import assert from "node:assert/strict";
import {
  detectHost,
  detectHostCached,
  FALLBACK_PYTHON,
  hostFingerprint,
  hostPreset,
  hostTarget,
  type RunCommand,
} from "./_host.ts";

function fakeRun(answers: Record<string, string>): RunCommand {
  return (cmd, args) => Promise.resolve(answers[`${cmd} ${args[0]}`]);
}

Deno.test("detectHost() reads glibc and the Python version on Linux", async () => {
  const facts = await detectHost(
    fakeRun({ "python3 -c": "3.13.1\n", "getconf GNU_LIBC_VERSION": "glibc 2.31\n" }),
    { os: "linux", arch: "aarch64" },
  );
  assert.deepEqual(facts.glibc, [2, 31]);
  assert.equal(facts.pythonFullVersion, "3.13.1");
  assert.equal(hostPreset(facts), "aarch64-manylinux_2_31");
  const t = hostTarget(facts);
  assert.equal(t.pythonFullVersion, "3.13.1");
  assert.equal(t.tags[0], "cp313-cp313-manylinux_2_31_aarch64");
});

Deno.test("detectHost() recognises musl and falls back to a default Python", async () => {
  const facts = await detectHost(
    fakeRun({ "ldd --version": "musl libc (x86_64)\nVersion 1.2.4" }),
    {
      os: "linux",
      arch: "x86_64",
    },
  );
  assert.equal(facts.musl, true);
  const t = hostTarget(facts);
  assert.equal(t.pythonVersion, FALLBACK_PYTHON);
  assert.ok(t.tags[0]!.includes("musllinux"), t.tags[0]);
});

Deno.test("hostTarget() names macOS and Windows hosts by preset", async () => {
  const mac = await detectHost(fakeRun({ "sw_vers -productVersion": "14.5\n" }), {
    os: "darwin",
    arch: "aarch64",
  });
  assert.equal(hostPreset(mac), "aarch64-apple-darwin");
  assert.ok(hostTarget(mac, "3.12").tags[0]!.endsWith("macosx_14_0_arm64"));
  const win = await detectHost(fakeRun({}), { os: "windows", arch: "x86_64" });
  assert.equal(hostTarget(win, "3.12").markerEnvironment.sys_platform, "win32");
});

Deno.test("hostTarget() refuses a CPU no preset describes", async () => {
  const facts = await detectHost(fakeRun({}), { os: "linux", arch: "mips" });
  assert.throws(() => hostTarget(facts), /Cannot describe this machine/);
});

Deno.test("detectHost() does not start Python when told the run names its versions", async () => {
  const asked: string[] = [];
  const run: RunCommand = (cmd, args) => {
    asked.push(`${cmd} ${args[0]}`);
    return Promise.resolve(cmd === "getconf" ? "glibc 2.35\n" : "3.9.0\n");
  };
  const facts = await detectHost(run, { os: "linux", arch: "x86_64" }, { python: false });
  assert.deepEqual(asked, ["getconf GNU_LIBC_VERSION"]);
  assert.equal(facts.pythonFullVersion, undefined);
  assert.deepEqual(facts.glibc, [2, 35]);
});

Deno.test("detectHostCached() asks the host once, again when what decides Python changes or a day passes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let detections = 0;
    const facts = {
      os: "linux",
      arch: "x86_64",
      glibc: [2, 36] as [number, number],
      musl: false,
      macosVersion: undefined,
      pythonFullVersion: "3.12.1",
    };
    const env: Record<string, string> = { PATH: "/nowhere", HOME: dir };
    let now = 1_000_000;
    const options = {
      file: `${dir}/cache/host-v1.json`,
      env: (k: string) => env[k],
      cwd: dir,
      now: () => now,
      detect: () => {
        detections++;
        return Promise.resolve(facts);
      },
    };
    assert.equal((await detectHostCached(options)).pythonFullVersion, "3.12.1");
    assert.equal((await detectHostCached(options)).pythonFullVersion, "3.12.1");
    assert.equal(detections, 1);
    env["PYENV_VERSION"] = "3.11.9";
    await detectHostCached(options);
    assert.equal(detections, 2, "a different PYENV_VERSION is another Python");
    await Deno.writeTextFile(`${dir}/.python-version`, "3.13\n");
    await detectHostCached(options);
    assert.equal(detections, 3, "a .python-version file in the folder is another Python");
    await detectHostCached(options);
    assert.equal(detections, 3);
    await Deno.writeTextFile(`${dir}/.tool-versions`, "python 3.11.4\n");
    await detectHostCached(options);
    assert.equal(detections, 4, "asdf's .tool-versions picks another Python too");
    now += 25 * 60 * 60 * 1000;
    await detectHostCached(options);
    assert.equal(detections, 5, "answers expire after a day");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hostFingerprint() names the first python3 in PATH order, then python, with its mtime", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const d of ["a", "b", "c"]) await Deno.mkdir(`${dir}/${d}`);
    await Deno.writeTextFile(`${dir}/b/python3`, "");
    await Deno.writeTextFile(`${dir}/c/python3`, "");
    await Deno.writeTextFile(`${dir}/a/python`, "");
    await Deno.mkdir(`${dir}/a/python3`); // a folder is not the interpreter
    const env: Record<string, string> = { PATH: `${dir}/a::${dir}/b:${dir}/c`, HOME: dir };
    const print = () => hostFingerprint((k) => env[k], dir);
    const first = await print();
    assert.match(first, new RegExp(`^python3=${dir}/b/python3@\\d+$`, "m"));
    assert.doesNotMatch(first, /c\/python3|a\/python@/);
    await Deno.utime(`${dir}/b/python3`, 1, 1);
    assert.notEqual(await print(), first, "an upgrade in place changes the fingerprint");
    env["PATH"] = `${dir}/a`;
    assert.match(await print(), new RegExp(`^python=${dir}/a/python@\\d+$`, "m"));
    // Version files up the tree count, nearest first, each with its content.
    await Deno.mkdir(`${dir}/w/x`, { recursive: true });
    await Deno.writeTextFile(`${dir}/w/.python-version`, "3.12\n");
    await Deno.writeTextFile(`${dir}/.tool-versions`, "python 3.11\n");
    const lines = (await hostFingerprint((k) => env[k], `${dir}/w/x`)).split("\n");
    const w = lines.indexOf(`${dir}/w/.python-version=3.12`);
    const top = lines.indexOf(`${dir}/.tool-versions=python 3.11`);
    assert.ok(w !== -1 && top !== -1 && w < top, lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
