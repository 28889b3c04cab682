import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import {
  ensureEnvironment,
  type EnvironmentContext,
  normalizeRequirements,
  unsatisfied,
} from "./_environment.ts";
import { BuildError, type InterpreterInfo } from "./types.ts";

const enc = new TextEncoder();

const INTERPRETER: InterpreterInfo = {
  command: "python3",
  executable: "/usr/bin/python3",
  version: "3.12.1",
  pythonVersion: "3.12",
  implementation: "cpython",
  platform: "linux-x86_64",
  soabi: "cpython-312-x86_64-linux-gnu",
  extSuffix: ".cpython-312-x86_64-linux-gnu.so",
  interpreterTag: "cp312",
  abiTag: "cp312",
  platformTag: "linux_x86_64",
  libc: { name: "glibc", version: "2.36" },
  pointerBits: 64,
  markerEnvironment: {
    implementation_name: "cpython",
    implementation_version: "3.12.1",
    os_name: "posix",
    platform_machine: "x86_64",
    platform_release: "6.1",
    platform_system: "Linux",
    platform_version: "#1",
    python_full_version: "3.12.1",
    platform_python_implementation: "CPython",
    python_version: "3.12",
    sys_platform: "linux",
  },
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fsp.mkdtemp(join(tmpdir(), "wh-env-"));
  try {
    await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function wheel(
  dir: string,
  name: string,
  version: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const path = join(dir, `${name}-${version}-py3-none-any.whl`);
  const files: Record<string, Uint8Array> = {
    [`${name}/__init__.py`]: enc.encode(""),
    [`${name}-${version}.dist-info/METADATA`]: enc.encode(
      `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
    ),
  };
  for (const [k, v] of Object.entries(extra)) files[k] = enc.encode(v);
  await fsp.writeFile(path, zipSync(files));
  return path;
}

function context(
  dir: string,
  wheels: () => Promise<string[]>,
  calls: string[][] = [],
): EnvironmentContext {
  return {
    cacheDir: join(dir, "cache"),
    provider: {
      installRequirements: async (reqs) => {
        calls.push([...reqs]);
        return await wheels();
      },
    },
    interpreter: INTERPRETER,
    random: Math.random,
    now: Date.now,
    signal: undefined,
    reporter: undefined,
    project: "demo",
  };
}

Deno.test("normalizeRequirements() normalises, deduplicates and sorts, and rejects bad ones", () => {
  assert.deepEqual(normalizeRequirements(["wheel", "Setuptools >= 61", "wheel"], "demo"), [
    "Setuptools>=61",
    "wheel",
  ]);
  assert.throws(
    () => normalizeRequirements(["setup tools"], "demo"),
    (e) =>
      e instanceof BuildError && e.code === "invalid-project" &&
      /invalid build requirement "setup tools"/.test(e.message),
  );
});

Deno.test("unsatisfied() checks versions and markers against what the environment holds", () => {
  const env = {
    key: "k",
    prefix: "/p",
    site: "/p/site",
    boot: "/p/boot",
    bin: "/p/bin",
    requirements: [],
    installed: [{
      name: "setuptools",
      version: "80.9.0",
      wheel: "setuptools-80.9.0-py3-none-any.whl",
    }],
  };
  assert.deepEqual(unsatisfied(env, ["setuptools>=61", "Setuptools<81"], INTERPRETER), []);
  assert.deepEqual(
    unsatisfied(env, ["setuptools>=81", "wheel", "tomli; python_version < '3.11'"], INTERPRETER),
    [
      "setuptools>=81",
      "wheel",
    ],
  );
  assert.deepEqual(unsatisfied(env, ["setuptools[core]"], INTERPRETER), ["setuptools[core]"]);
});

Deno.test("ensureEnvironment() publishes one environment per key and reuses it", async () => {
  await withDir(async (dir) => {
    const a = await wheel(dir, "alpha", "1.0", { "alpha-1.0.data/headers/alpha.h": "int x;" });
    const calls: string[][] = [];
    const ctx = context(dir, () => Promise.resolve([a]), calls);
    const env = await ensureEnvironment(["alpha>=1"], ctx);
    assert.deepEqual(env.installed, [{
      name: "alpha",
      version: "1.0",
      wheel: "alpha-1.0-py3-none-any.whl",
    }]);
    assert.ok(await fsp.stat(join(env.prefix, "include", "alpha", "alpha.h")));
    const again = await ensureEnvironment(["alpha>=1"], ctx);
    assert.equal(again.prefix, env.prefix);
    assert.equal(calls.length, 1);
    // Another interpreter (other tags) gets its own environment.
    const other = await ensureEnvironment(["alpha>=1"], {
      ...ctx,
      interpreter: { ...INTERPRETER, abiTag: "cp312t" },
    });
    assert.notEqual(other.prefix, env.prefix);
  });
});

Deno.test("concurrent makers of one environment in a process make it once", async () => {
  await withDir(async (dir) => {
    const a = await wheel(dir, "alpha", "1.0");
    const calls: string[][] = [];
    const slow = () => new Promise<string[]>((r) => setTimeout(() => r([a]), 20));
    const [x, y] = await Promise.all([
      ensureEnvironment(["alpha"], context(dir, slow, calls)),
      ensureEnvironment(["alpha"], context(dir, slow, calls)),
    ]);
    assert.equal(x.prefix, y.prefix);
    assert.equal(calls.length, 1);
    assert.equal((await fsp.readdir(join(dir, "cache", "build-v1", "envs"))).length, 1);
    assert.deepEqual(await fsp.readdir(join(dir, "cache", "build-v1", "tmp")), []);
  });
});

Deno.test("a process killed with SIGKILL while making an environment leaves no entry", async () => {
  await withDir(async (dir) => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 4000; i++) files[`big/m${i}.py`] = `X = ${i}\n`;
    const big = await wheel(dir, "big", "1.0", files);
    const script = join(dir, "make.ts");
    await fsp.writeFile(
      script,
      `import { ensureEnvironment } from ${
        JSON.stringify(new URL("./_environment.ts", import.meta.url).href)
      };
const interpreter = ${JSON.stringify(INTERPRETER)};
await ensureEnvironment(["big"], {
  cacheDir: ${JSON.stringify(join(dir, "cache"))},
  provider: { installRequirements: () => Promise.resolve([${JSON.stringify(big)}]) },
  interpreter, random: Math.random, now: Date.now, signal: undefined, reporter: undefined, project: "demo",
});
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        script,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const tmp = join(dir, "cache", "build-v1", "tmp");
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    let seen = false;
    for (let i = 0; i < 800 && !seen && !exited; i++) {
      const names = await fsp.readdir(tmp).catch(() => [] as string[]);
      seen = names.some((n) => n.startsWith("env-"));
      if (!seen) await new Promise((r) => setTimeout(r, 25));
    }
    if (!exited) child.kill("SIGKILL");
    const end = await status;
    if (!seen || end.signal !== "SIGKILL") {
      console.warn(
        `SKIPPING the SIGKILL check: the child ended (${end.code}) before it could be killed`,
      );
      return;
    }
    const envs = await fsp.readdir(join(dir, "cache", "build-v1", "envs")).catch(() =>
      [] as string[]
    );
    for (const e of envs) {
      assert.ok(await fsp.stat(join(dir, "cache", "build-v1", "envs", e, "env.json")));
    }
    const env = await ensureEnvironment(["big"], context(dir, () => Promise.resolve([big])));
    assert.ok(await fsp.stat(join(env.site, "big", "m3999.py")));
  });
});

Deno.test("what a killed run leaves behind does not break the next one", async () => {
  await withDir(async (dir) => {
    const a = await wheel(dir, "alpha", "1.0");
    const ctx = context(dir, () => Promise.resolve([a]));
    const env = await ensureEnvironment(["alpha"], ctx);
    // A half-made temp folder (killed before its rename), and a damaged published entry.
    await fsp.mkdir(join(dir, "cache", "build-v1", "tmp", "env-123-half", "site"), {
      recursive: true,
    });
    await fsp.rm(join(env.prefix, "env.json"));
    const remade = await ensureEnvironment(["alpha"], ctx);
    assert.equal(remade.prefix, env.prefix);
    assert.ok(await fsp.stat(join(remade.prefix, "env.json")));
  });
});

Deno.test("ensureEnvironment() refuses unusable wheels from the provider", async () => {
  await withDir(async (dir) => {
    const a1 = await wheel(dir, "alpha", "1.0");
    await fsp.mkdir(join(dir, "v2"));
    const a2 = await wheel(join(dir, "v2"), "alpha", "2.0");
    const evil = join(dir, "evil-1.0-py3-none-any.whl");
    await fsp.writeFile(evil, zipSync({ "../../escape.py": enc.encode("") }));
    const notZip = join(dir, "broken-1.0-py3-none-any.whl");
    await fsp.writeFile(notZip, "not a zip");
    const cases: [string[], RegExp][] = [
      [[a1, a2], /two wheels of alpha/],
      [[evil], /unsafe member "..\/..\/escape.py"/],
      [[notZip], /cannot be read/],
      [[join(dir, "README.txt")], /no valid wheel file name/],
    ];
    for (const [wheels, pattern] of cases) {
      await assert.rejects(
        () => ensureEnvironment(["x"], context(dir, () => Promise.resolve(wheels))),
        (e) =>
          e instanceof BuildError && e.code === "environment-failed" && pattern.test(e.message),
      );
    }
    assert.deepEqual(await fsp.readdir(join(dir, "cache", "build-v1", "tmp")), []);
  });
});
