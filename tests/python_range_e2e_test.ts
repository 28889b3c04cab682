// Targets as ranges (issue 15): `--python-version 3.11` means every 3.11.x release, `3.11.9` that
// release alone. The CLI as a subprocess against a test index with the redis case from the issue
// (a dependency only below 3.11.3) and a project whose newest version needs 3.11.4; pip on this
// machine installs what the range folder pins for its own Python.
import assert from "node:assert/strict";
import { join } from "node:path";
import { archives, indexArgs, wheelhouse } from "./_e2e_helpers.ts";
import { freshVenv, havePip, pipFreeze, runPython } from "./_python.ts";
import { buildWheel } from "./wheel_factory.ts";
import { startIndexServer } from "./index_server.ts";
import { parsePylock } from "../pep/pylock.ts";
import { MarkerSet } from "../pep/marker_set.ts";

const LINUX = ["--python-platform", "x86_64-manylinux_2_28"];
/** Every 3.11.x release: what `--python-version 3.11` covers (its pre-releases are not among them). */
const RELEASES_311 = MarkerSet.parse(
  "python_full_version >= '3.11' and python_full_version < '3.12'",
);

async function withIndex(fn: (indexUrl: string, dir: string) => Promise<void>): Promise<void> {
  const server = await startIndexServer({
    projects: [
      await buildWheel({
        name: "redis",
        version: "8.1.0",
        requiresDist: ['async-timeout>=4.0.3 ; python_full_version < "3.11.3"'],
      }),
      await buildWheel({ name: "async-timeout", version: "4.0.3" }),
      await buildWheel({ name: "patchy", version: "1.0", requiresPython: ">=3.8" }),
      await buildWheel({ name: "patchy", version: "2.0", requiresPython: ">=3.11.4" }),
    ],
  });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-range-" });
  try {
    await fn(server.indexUrl, dir);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The requirement lines of a requirements file, without hashes and comments. */
async function pins(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => /^[a-z]/.test(l)).map((l) => l.replace(/ \\$/, ""));
}

Deno.test("--python-version 3.11 covers every 3.11.x: a dependency of 3.11.0-3.11.2 comes with its marker; 3.11.9 is one release", () =>
  withIndex(async (indexUrl, dir) => {
    const cache = join(dir, "cache");
    const range = join(dir, "range");
    const out = await wheelhouse(
      [
        "download",
        ...indexArgs(indexUrl, cache),
        "-d",
        range,
        "--python-version",
        "3.11",
        ...LINUX,
        "redis",
      ],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(await archives(range), [
      "async_timeout-4.0.3-py3-none-any.whl",
      "redis-8.1.0-py3-none-any.whl",
    ]);
    const lines = await pins(join(range, "requirements.txt"));
    assert.equal(lines.length, 2, lines.join("\n"));
    const [name, marker] = lines[0]!.split(" ; ");
    assert.equal(name, "async-timeout==4.0.3");
    assert.ok(
      MarkerSet.parse(marker!).intersect(RELEASES_311).equals(
        MarkerSet.parse("python_full_version >= '3.11' and python_full_version < '3.11.3'"),
      ),
      marker,
    );
    assert.equal(lines[1], "redis==8.1.0");
    // The lock says the folder serves every 3.11.x, and where async-timeout is installed.
    const lock = parsePylock(await Deno.readTextFile(join(range, "pylock.toml")));
    assert.match(lock.environments![0]!.toString(), /python_version == ['"]3\.11['"]/);
    const timeout = lock.packages.find((p) => p.normalizedName === "async-timeout")!;
    const env = (v: string) => ({
      implementation_name: "cpython",
      implementation_version: v,
      os_name: "posix",
      platform_machine: "x86_64",
      platform_python_implementation: "CPython",
      platform_release: "",
      platform_system: "Linux",
      platform_version: "",
      python_full_version: v,
      python_version: "3.11",
      sys_platform: "linux",
    });
    assert.equal(timeout.marker!.evaluate(env("3.11.2")), true);
    assert.equal(timeout.marker!.evaluate(env("3.11.3")), false);

    // A point: only what 3.11.9 installs, and a lock that says 3.11.9.
    const point = join(dir, "point");
    const again = await wheelhouse(
      [
        "download",
        ...indexArgs(indexUrl, cache),
        "-d",
        point,
        "--python-version",
        "3.11.9",
        ...LINUX,
        "redis",
      ],
      dir,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await archives(point), ["redis-8.1.0-py3-none-any.whl"]);
    const pointLock = parsePylock(await Deno.readTextFile(join(point, "pylock.toml")));
    assert.match(pointLock.environments![0]!.toString(), /python_full_version == ['"]3\.11\.9['"]/);
  }));

Deno.test("a version that needs 3.11.4 splits a 3.11 target: both versions, each with its releases, and pip takes the one for its Python", () =>
  withIndex(async (indexUrl, dir) => {
    const dest = join(dir, "wh");
    const out = await wheelhouse(
      [
        "download",
        ...indexArgs(indexUrl, join(dir, "cache")),
        "-d",
        dest,
        "--python-version",
        "3.11",
        ...LINUX,
        "patchy",
      ],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(await archives(dest), [
      "patchy-1.0-py3-none-any.whl",
      "patchy-2.0-py3-none-any.whl",
    ]);
    const lines = await pins(join(dest, "requirements.txt"));
    assert.equal(lines.length, 2, lines.join("\n"));
    const where = new Map(lines.map((l) => l.split(" ; ") as [string, string]));
    const within = (m: string) => MarkerSet.parse(m).intersect(RELEASES_311);
    assert.ok(
      within(where.get("patchy==1.0")!).equals(
        // Not `< '3.11.4'`, which leaves out 3.11.4's pre-releases: 2.0 does not install there.
        RELEASES_311.intersect(MarkerSet.parse("python_full_version >= '3.11.4'").negate()),
      ),
      lines.join("\n"),
    );
    assert.ok(
      within(where.get("patchy==2.0")!).equals(
        MarkerSet.parse("python_full_version >= '3.11.4' and python_full_version < '3.12'"),
      ),
      lines.join("\n"),
    );
    if (!(await havePip("pip installing a range folder"))) return;
    const host = await runPython(["-c", "import platform; print(platform.python_version())"], dir);
    const version = host!.stdout.trim();
    if (!version.startsWith("3.11.")) {
      console.warn(`SKIPPING the pip install of a 3.11 range folder: this Python is ${version}`);
      return;
    }
    const python = await freshVenv(join(dir, "venv"));
    const install = await runPython(
      [
        "-m",
        "pip",
        "install",
        "--no-index",
        "--find-links",
        dest,
        "-r",
        join(dest, "requirements.txt"),
      ],
      dir,
      python,
    );
    assert.equal(install?.code, 0, `${install?.stdout}${install?.stderr}`);
    const got = await pipFreeze(python);
    const patch = Number(version.split(".")[2]);
    assert.match(got, patch >= 4 ? /^patchy==2\.0$/m : /^patchy==1\.0$/m);
  }));
