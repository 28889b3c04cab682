// `download --universal` end to end (issue 15): the CLI as a subprocess against a test index whose
// projects have platform wheels, marker-conditional dependencies and a dependency that forks on
// the Python version. One universal run must download what the per-target runs download together
// (for the platforms it is narrowed to), write requirements.txt and pylock.toml with a marker per
// package, and those must install with pip; bad combinations are usage errors. A real set from
// the machine's mirror is installed with pip 26 from the universal pylock.toml.
import assert from "node:assert/strict";
import { join } from "node:path";
import { archives, indexArgs, wheelhouse } from "./_e2e_helpers.ts";
import { freshVenv, havePip, pipFreeze, runPython } from "./_python.ts";
import { buildSdist, buildWheel, type BuiltDist } from "./wheel_factory.ts";
import { startIndexServer } from "./index_server.ts";
import { MarkerSet } from "../pep/marker_set.ts";
import { parsePylock } from "../pep/pylock.ts";

const PLATFORMS = ["x86_64-manylinux_2_28", "windows", "macos"];
const PYTHONS = ["3.11", "3.12"];
const SYS_PLATFORM: Record<string, string> = {
  "x86_64-manylinux_2_28": "linux",
  windows: "win32",
  macos: "darwin",
};

function platformOf(preset: string): MarkerSet {
  return MarkerSet.parse(`sys_platform == '${SYS_PLATFORM[preset]}'`);
}

/** Wheels of `native` for the three platforms (and musllinux) and both Pythons, and an sdist. */
async function projects(): Promise<BuiltDist[]> {
  const out: BuiltDist[] = [];
  out.push(
    await buildWheel({
      name: "app",
      version: "1.0",
      requiresDist: [
        "native>=1",
        "colorama ; sys_platform == 'win32'",
        "tomli ; python_version < '3.12'",
        "numpyish<2 ; python_version < '3.12'",
        "numpyish>=2 ; python_version >= '3.12'",
      ],
    }),
  );
  for (const py of ["cp311", "cp312"]) {
    for (
      const plat of [
        "manylinux_2_17_x86_64",
        "musllinux_1_2_x86_64",
        "win_amd64",
        "macosx_11_0_arm64",
      ]
    ) {
      out.push(await buildWheel({ name: "native", version: "1.0", tags: `${py}-${py}-${plat}` }));
    }
  }
  out.push(await buildSdist({ name: "native", version: "1.0" }));
  out.push(await buildWheel({ name: "colorama", version: "0.4.6" }));
  out.push(await buildWheel({ name: "tomli", version: "2.0.1" }));
  out.push(await buildWheel({ name: "numpyish", version: "1.26.4", requiresPython: ">=3.9" }));
  out.push(await buildWheel({ name: "numpyish", version: "2.1.0", requiresPython: ">=3.10" }));
  return out;
}

async function withIndex(fn: (indexUrl: string, dir: string) => Promise<void>): Promise<void> {
  const server = await startIndexServer({ projects: await projects() });
  const dir = await Deno.makeTempDir({ prefix: "wheelhouse-universal-" });
  try {
    await fn(server.indexUrl, dir);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function pythons(): string[] {
  return PYTHONS.flatMap((p) => ["--python-version", p]);
}

Deno.test("--universal narrowed to three platforms downloads what the six per-target runs download together", () =>
  withIndex(async (indexUrl, dir) => {
    const cache = join(dir, "cache");
    const union = new Set<string>();
    for (const platform of PLATFORMS) {
      for (const python of PYTHONS) {
        const dest = join(dir, `t-${platform}-${python}`);
        const out = await wheelhouse(
          [
            "download",
            ...indexArgs(indexUrl, cache),
            "-d",
            dest,
            "--python-platform",
            platform,
            "--python-version",
            python,
            "app",
          ],
          dir,
        );
        assert.equal(out.code, 0, out.stderr);
        for (const name of await archives(dest)) union.add(name);
      }
    }
    const dest = join(dir, "universal");
    const out = await wheelhouse(
      [
        "download",
        ...indexArgs(indexUrl, cache),
        "-d",
        dest,
        "--universal",
        ...pythons(),
        ...PLATFORMS.flatMap((p) => ["--python-platform", p]),
        "app",
      ],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(await archives(dest), [...union].sort());
    // Both numpyish versions, each with the Python it serves; colorama only on Windows.
    const lock = parsePylock(await Deno.readTextFile(join(dest, "pylock.toml")));
    const where = new Map(
      lock.packages.map((p) => [`${p.normalizedName}==${p.version}`, p.marker?.toString() ?? ""]),
    );
    // "3.11" is every 3.11.x release (not 3.12's pre-releases, which python_version admits).
    const py311 = MarkerSet.parse("python_full_version >= '3.11' and python_full_version < '3.12'");
    const py312 = MarkerSet.parse("python_full_version >= '3.12' and python_full_version < '3.13'");
    assert.equal(lock.environments?.length, 1, "the lock states the region it is valid for");
    const region = MarkerSet.fromMarker(lock.environments![0]!);
    const set = (key: string) => MarkerSet.parse(where.get(key) ?? "").intersect(region);
    assert.ok(
      set("numpyish==1.26.4").equals(region.intersect(py311)),
      where.get("numpyish==1.26.4"),
    );
    assert.ok(set("numpyish==2.1.0").equals(region.intersect(py312)), where.get("numpyish==2.1.0"));
    assert.ok(set("tomli==2.0.1").equals(region.intersect(py311)), where.get("tomli==2.0.1"));
    assert.ok(region.intersect(py311.union(py312).negate()).isEmpty);
    for (const p of PLATFORMS) assert.ok(!region.intersect(platformOf(p)).isEmpty, p);
    assert.ok(region.intersect(MarkerSet.parse("sys_platform == 'freebsd'")).isEmpty);
    assert.ok(
      set("colorama==0.4.6").equals(region.intersect(MarkerSet.parse("sys_platform == 'win32'"))),
      where.get("colorama==0.4.6"),
    );
    const requirements = await Deno.readTextFile(join(dest, "requirements.txt"));
    assert.match(requirements, /^colorama==0\.4\.6 ; sys_platform == "win32"/m);
    assert.match(requirements, /^native==1\.0 \\\n( {4}--hash=sha256:[0-9a-f]{64}( \\\n)?)+/m);
  }));

Deno.test("--universal alone takes every platform's wheels, the sdist where none fits, and pip installs it here", () =>
  withIndex(async (indexUrl, dir) => {
    const dest = join(dir, "all");
    const out = await wheelhouse(
      [
        "download",
        ...indexArgs(indexUrl, join(dir, "cache")),
        "-d",
        dest,
        "--universal",
        ...pythons(),
        "--report",
        join(dir, "report.json"),
        "app",
      ],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    // pip's report: only the root requirement is `requested`; the metadata is what was read.
    const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    type Item = { requested: boolean; metadata: { name: string; requires_dist?: string[] } };
    const items: Item[] = report.install;
    assert.deepEqual([...new Set(items.filter((i) => i.requested).map((i) => i.metadata.name))], [
      "app",
    ]);
    const app = items.find((i) => i.metadata.name === "app")!;
    assert.ok(
      app.metadata.requires_dist?.includes("colorama ; sys_platform == 'win32'"),
      JSON.stringify(app.metadata),
    );
    const names = await archives(dest);
    // Every native wheel, the musllinux ones too (no platform was named), and the sdist: no
    // wheel serves the rest (PyPy, Linux on ARM, FreeBSD, …).
    assert.equal(names.filter((n) => n.startsWith("native-")).length, 9, names.join("\n"));
    assert.ok(names.includes("native-1.0.tar.gz"));
    assert.ok(names.includes("numpyish-1.26.4-py3-none-any.whl"));
    assert.ok(names.includes("numpyish-2.1.0-py3-none-any.whl"));
    // Only Python 3.11 and 3.12 are covered: a platform-less run for 3.13 needs the sdist.
    const wider = join(dir, "wider");
    const again = await wheelhouse(
      [
        "download",
        ...indexArgs(indexUrl, join(dir, "cache")),
        "-d",
        wider,
        "--universal",
        "--python-version",
        "3.13",
        "native",
      ],
      dir,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await archives(wider), ["native-1.0.tar.gz"]);
    if (!(await havePip("pip installing a universal folder"))) return;
    const host = await runPython(
      [
        "-c",
        "import sys, platform; print(f'{sys.version_info[0]}.{sys.version_info[1]}', platform.machine())",
      ],
      ".",
    );
    if (host?.stdout.trim() !== "3.11 x86_64") {
      console.warn(`SKIPPING the pip install of a universal folder: host is ${host?.stdout}`);
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
    const listed = await pipFreeze(python);
    assert.match(listed, /^numpyish==1\.26\.4$/m);
    assert.match(listed, /^tomli==2\.0\.1$/m);
    assert.doesNotMatch(listed, /colorama/);
  }));

Deno.test("--universal refuses what it cannot mean, with one line and exit 2", () =>
  withIndex(async (indexUrl, dir) => {
    const base = ["download", ...indexArgs(indexUrl, join(dir, "cache")), "-d", join(dir, "w")];
    const cases: [string[], RegExp][] = [
      [
        ["--environment", "sys_platform == 'linux'", "app"],
        /--environment only applies with --universal/,
      ],
      [["--universal", "--lock", join(dir, "pylock.toml")], /--universal resolves requirements/],
      [["--universal", "--platform", "win_amd64", "app"], /--python-platform presets/],
      [
        ["--universal", "--python-version", "3.11", "--environment", "sys_platform = 'x'", "app"],
        /Not a PEP 508 marker/,
      ],
      [
        [
          "--universal",
          "--python-version",
          "3.11",
          "--environment",
          "python_version >= '3.12'",
          "app",
        ],
        /no environment in common/,
      ],
      [[
        "--universal",
        "--python-version",
        "3.11",
        "--environment",
        "sys_platform == 'win32'",
        "--python-platform",
        "linux",
        "app",
      ], /None of the platforms given/],
    ];
    for (const [args, message] of cases) {
      const out = await wheelhouse([...base, ...args], dir);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, message);
      // The message, and for usage errors the pointer to --help; never a stack trace.
      const lines = out.stderr.trim().split("\n").filter((l) => !/--help" for usage/.test(l));
      assert.equal(lines.length, 1, out.stderr);
    }
  }));

const MIRROR = "/opt/pypi/simple";
const PIP26 = await (async () => {
  try {
    for await (const e of Deno.readDir("/opt/pypi/files")) {
      if (/^pip-26\.[\d.]+-py3-none-any\.whl$/.test(e.name)) return join("/opt/pypi/files", e.name);
    }
  } catch { /* no mirror */ }
  return undefined;
})();
if (PIP26 === undefined) {
  console.warn(
    "SKIPPING the pip 26 install of a universal pylock.toml: no mirror with pip 26 in /opt/pypi",
  );
}

Deno.test({
  name: "pip 26 installs a real set from the universal pylock.toml, offline",
  ignore: PIP26 === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "wheelhouse-universal-real-" });
    try {
      const dest = join(dir, "wh");
      const out = await wheelhouse(
        [
          "download",
          ...indexArgs(`file://${MIRROR}/`, join(dir, "cache")),
          "-d",
          dest,
          "--universal",
          "--python-version",
          "3.11",
          "requests",
          "httpx",
          "rich",
        ],
        dir,
      );
      assert.equal(out.code, 0, out.stderr);
      const python = await freshVenv(join(dir, "venv"));
      const pip = await runPython(
        ["-m", "pip", "install", "-q", "--no-index", PIP26!],
        dir,
        python,
      );
      assert.equal(pip?.code, 0, pip?.stderr);
      const install = await runPython(
        ["-m", "pip", "install", "--no-index", "-r", "pylock.toml"],
        dest,
        python,
      );
      assert.equal(install?.code, 0, `${install?.stdout}${install?.stderr}`);
      const check = await runPython(
        ["-c", "import requests, httpx, rich; print('ok')"],
        dir,
        python,
      );
      assert.equal(check?.stdout.trim(), "ok", check?.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
