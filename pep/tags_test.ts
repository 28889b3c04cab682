import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatTag,
  InvalidTagError,
  InvalidTargetError,
  parseTag,
  PRESETS,
  tagRanker,
  type Target,
  targetFromPipOptions,
  targetFromPreset,
} from "./tags.ts";
import { macPlatforms, manylinuxPlatforms } from "./_tags_platforms.ts";
import { pythonImports, runPythonJson } from "./_helpers_testing.ts";

// ---------------------------------------------------------------------------------------------
// Unit tests

Deno.test("formatTag() joins the triple with dashes", () => {
  assert.equal(formatTag({ interpreter: "cp311", abi: "abi3", platform: "any" }), "cp311-abi3-any");
});

Deno.test("parseTag() expands compressed tag sets in written order and lowercases", () => {
  const tags = parseTag("CP311.cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64")
    .map(formatTag);
  assert.deepEqual(tags, [
    "cp311-abi3-manylinux_2_17_x86_64",
    "cp311-abi3-manylinux2014_x86_64",
    "cp312-abi3-manylinux_2_17_x86_64",
    "cp312-abi3-manylinux2014_x86_64",
  ]);
});

Deno.test("parseTag() rejects a tag without three parts or with an empty component", () => {
  assert.throws(() => parseTag("py3-none"), InvalidTagError);
  assert.throws(() => parseTag("py3-none-any-x"), InvalidTagError);
  assert.throws(() => parseTag("py3..py2-none-any"), InvalidTagError);
  assert.throws(() => parseTag("py3--any"), InvalidTagError);
});

Deno.test("manylinux platforms descend from the target glibc with legacy aliases in place", () => {
  const p = manylinuxPlatforms("x86_64", [2, 28]);
  assert.equal(p[0], "manylinux_2_28_x86_64");
  assert.equal(p.at(-1), "manylinux1_x86_64");
  assert.equal(p[p.indexOf("manylinux_2_17_x86_64") + 1], "manylinux2014_x86_64");
  assert.equal(p[p.indexOf("manylinux_2_12_x86_64") + 1], "manylinux2010_x86_64");
  assert.equal(p[p.indexOf("manylinux_2_5_x86_64") + 1], "manylinux1_x86_64");
  // Non-x86 architectures stop at glibc 2.17.
  const a = manylinuxPlatforms("aarch64", [2, 28]);
  assert.deepEqual(a.slice(-2), ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]);
});

Deno.test("macOS arm64 platforms start at 11.0 and fall back to universal2 for 10.x", () => {
  const p = macPlatforms([13, 0], "arm64");
  assert.deepEqual(p.slice(0, 6), [
    "macosx_13_0_arm64",
    "macosx_13_0_universal2",
    "macosx_12_0_arm64",
    "macosx_12_0_universal2",
    "macosx_11_0_arm64",
    "macosx_11_0_universal2",
  ]);
  assert.equal(p[6], "macosx_10_16_universal2");
  assert.ok(!p.some((t) => /^macosx_10_\d+_arm64$/.test(t)));
});

Deno.test("macOS x86_64 platforms include intel, fat and universal formats down to 10.0", () => {
  const p = macPlatforms([10, 9], "x86_64");
  assert.deepEqual(p.slice(0, 6), [
    "macosx_10_9_x86_64",
    "macosx_10_9_intel",
    "macosx_10_9_fat64",
    "macosx_10_9_fat32",
    "macosx_10_9_universal2",
    "macosx_10_9_universal",
  ]);
  // x86_64 binary formats only exist from 10.4.
  assert.equal(p.at(-1), "macosx_10_4_universal");
});

Deno.test("PRESETS lists uv's --python-platform names", () => {
  for (
    const name of [
      "linux",
      "windows",
      "macos",
      "x86_64-pc-windows-msvc",
      "i686-pc-windows-msvc",
      "aarch64-pc-windows-msvc",
      "x86_64-unknown-linux-gnu",
      "aarch64-unknown-linux-gnu",
      "x86_64-unknown-linux-musl",
      "aarch64-unknown-linux-musl",
      "aarch64-apple-darwin",
      "x86_64-apple-darwin",
      "x86_64-manylinux2014",
      "x86_64-manylinux_2_17",
      "x86_64-manylinux_2_28",
      "x86_64-manylinux_2_40",
      "aarch64-manylinux_2_17",
      "aarch64-manylinux_2_40",
    ]
  ) {
    assert.ok(PRESETS.includes(name), name);
    const t = targetFromPreset(name, { pythonVersion: "3.12" });
    assert.ok(t.tags.length > 0, name);
  }
  assert.equal(new Set(PRESETS).size, PRESETS.length);
});

Deno.test("targetFromPreset() fixes the marker environment of the platform", () => {
  const linux = targetFromPreset("aarch64-unknown-linux-gnu", { pythonVersion: "3.11.4" });
  assert.deepEqual(linux.markerEnvironment, {
    implementation_name: "cpython",
    implementation_version: "3.11.4",
    os_name: "posix",
    platform_machine: "aarch64",
    platform_python_implementation: "CPython",
    platform_release: "",
    platform_system: "Linux",
    platform_version: "",
    python_full_version: "3.11.4",
    python_version: "3.11",
    sys_platform: "linux",
  });
  assert.equal(linux.pythonVersion, "3.11");
  assert.equal(linux.pythonFullVersion, "3.11.4");
  const win = targetFromPreset("windows", { pythonVersion: "3.12" });
  assert.equal(win.markerEnvironment.os_name, "nt");
  assert.equal(win.markerEnvironment.sys_platform, "win32");
  assert.equal(win.markerEnvironment.platform_machine, "AMD64");
  assert.equal(win.pythonFullVersion, "3.12.0");
  assert.deepEqual(win.platforms, ["win_amd64"]);
  const arm = targetFromPreset("aarch64-pc-windows-msvc", { pythonVersion: "3.12" });
  assert.equal(arm.markerEnvironment.platform_machine, "ARM64");
  assert.deepEqual(arm.platforms, ["win_arm64"]);
  const mac = targetFromPreset("macos", { pythonVersion: "3.12" });
  assert.equal(mac.markerEnvironment.sys_platform, "darwin");
  assert.equal(mac.markerEnvironment.platform_system, "Darwin");
  assert.equal(mac.markerEnvironment.platform_machine, "arm64");
  assert.equal(mac.platforms[0], "macosx_13_0_arm64");
  const pypy = targetFromPreset("linux", { pythonVersion: "3.10", implementation: "pp" });
  assert.equal(pypy.markerEnvironment.implementation_name, "pypy");
  assert.equal(pypy.markerEnvironment.platform_python_implementation, "PyPy");
});

Deno.test("x86_64-unknown-linux-gnu is manylinux_2_28 like uv, and tag aliases are accepted", () => {
  const t = targetFromPreset("x86_64-unknown-linux-gnu", { pythonVersion: "3.12" });
  assert.equal(t.platforms[0], "manylinux_2_28_x86_64");
  assert.equal(t.platforms.at(-1), "linux_x86_64");
  const alias = targetFromPreset("manylinux_2_31_aarch64", { pythonVersion: "3.12" });
  assert.equal(alias.platforms[0], "manylinux_2_31_aarch64");
});

Deno.test("targetFromPreset() orders cpython tags as packaging does", () => {
  const t = targetFromPreset("x86_64-pc-windows-msvc", { pythonVersion: "3.12" });
  assert.deepEqual(t.tags.slice(0, 5), [
    "cp312-cp312-win_amd64",
    "cp312-abi3-win_amd64",
    "cp312-none-win_amd64",
    "cp311-abi3-win_amd64",
    "cp310-abi3-win_amd64",
  ]);
  assert.ok(t.tags.includes("cp32-abi3-win_amd64"));
  assert.ok(!t.tags.includes("cp31-abi3-win_amd64"));
  const i = t.tags.indexOf("py312-none-win_amd64");
  assert.equal(t.tags[i - 1], "cp32-abi3-win_amd64");
  assert.deepEqual(t.tags.slice(-3), ["py32-none-any", "py31-none-any", "py30-none-any"]);
  assert.ok(t.tags.indexOf("cp312-none-any") < t.tags.indexOf("py312-none-any"));
});

Deno.test("free-threaded targets use the cpXYt ABI and abi3t instead of abi3", () => {
  const t = targetFromPreset("linux", { pythonVersion: "3.13t" });
  assert.equal(t.tags[0], "cp313-cp313t-manylinux_2_28_x86_64");
  assert.ok(t.tags.includes("cp313-abi3t-manylinux_2_28_x86_64"));
  assert.ok(!t.tags.some((x) => x.includes("-abi3-")));
  assert.equal(t.name, "cp313t-linux");
});

Deno.test("old CPython versions get the pymalloc ABI flag", () => {
  const t = targetFromPreset("windows", { pythonVersion: "3.7" });
  assert.equal(t.tags[0], "cp37-cp37m-win_amd64");
});

Deno.test("targetFromPreset() rejects unknown presets, versions and implementations with codes", () => {
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof InvalidTargetError);
      assert.equal(e.name, "InvalidTargetError");
      return e.code;
    }
    throw new Error("did not throw");
  };
  assert.equal(
    code(() => targetFromPreset("solaris", { pythonVersion: "3.11" })),
    "unknown-preset",
  );
  assert.equal(
    code(() => targetFromPreset("linux", { pythonVersion: "three" })),
    "bad-python-version",
  );
  assert.equal(code(() => targetFromPreset("linux", { pythonVersion: "3" })), "bad-python-version");
  assert.equal(code(() => targetFromPreset("linux", { pythonVersion: "" })), "bad-python-version");
  assert.equal(
    code(() => targetFromPreset("linux", { pythonVersion: "3.11", implementation: "zz" })),
    "bad-implementation",
  );
  assert.equal(
    code(() => targetFromPreset("linux", { pythonVersion: "3.13t", implementation: "pp" })),
    "bad-python-version",
  );
  assert.equal(
    code(() => targetFromPipOptions({ platforms: [], pythonVersion: "3.11" })),
    "bad-platform",
  );
  assert.equal(
    code(() => targetFromPipOptions({ platforms: ["linux-x86_64"], pythonVersion: "3.11" })),
    "bad-platform",
  );
  assert.equal(
    code(() => targetFromPipOptions({ platforms: ["any"], pythonVersion: "3.11" })),
    "bad-platform",
  );
  assert.equal(
    code(() =>
      targetFromPipOptions({ platforms: ["win_amd64"], pythonVersion: "3.11", abis: ["cp-311"] })
    ),
    "bad-abi",
  );
});

Deno.test("targetFromPipOptions() does not expand PEP 600 manylinux tags, as pip does not", () => {
  const t = targetFromPipOptions({ platforms: ["manylinux_2_28_x86_64"], pythonVersion: "311" });
  assert.deepEqual(t.platforms, ["manylinux_2_28_x86_64"]);
  assert.equal(t.pythonVersion, "3.11");
  assert.equal(t.name, "cp311-manylinux_2_28_x86_64");
  assert.equal(t.markerEnvironment.sys_platform, "linux");
});

Deno.test("targetFromPipOptions() expands a macOS tag and derives darwin markers", () => {
  const t = targetFromPipOptions({ platforms: ["macosx_11_0_arm64"], pythonVersion: "3.12" });
  assert.equal(t.platforms[0], "macosx_11_0_arm64");
  assert.ok(t.platforms.includes("macosx_10_9_universal2"));
  assert.equal(t.markerEnvironment.platform_machine, "arm64");
  assert.equal(t.markerEnvironment.sys_platform, "darwin");
});

Deno.test("targetFromPipOptions() keeps explicit abi3 and none at their canonical positions", () => {
  const t = targetFromPipOptions({
    platforms: ["win_amd64"],
    pythonVersion: "3.11",
    abis: ["none", "abi3", "cp311"],
  });
  assert.deepEqual(t.tags.slice(0, 3), [
    "cp311-cp311-win_amd64",
    "cp311-abi3-win_amd64",
    "cp311-none-win_amd64",
  ]);
});

Deno.test("targets are frozen", () => {
  const t = targetFromPreset("linux", { pythonVersion: "3.12" });
  assert.ok(Object.isFrozen(t) && Object.isFrozen(t.tags) && Object.isFrozen(t.markerEnvironment));
});

Deno.test("tagRanker() returns the best rank among compatible tags and undefined otherwise", () => {
  const t = targetFromPreset("x86_64-manylinux_2_17", { pythonVersion: "3.11" });
  const rank = tagRanker(t);
  assert.equal(rank(["py3-none-any"]), t.tags.indexOf("py3-none-any"));
  assert.equal(
    rank(["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"]),
    t.tags.indexOf("cp311-cp311-manylinux_2_17_x86_64"),
  );
  assert.equal(
    rank(["CP311-CP311-MANYLINUX2014_X86_64"]),
    t.tags.indexOf("cp311-cp311-manylinux2014_x86_64"),
  );
  assert.equal(rank(["cp311-cp311-manylinux_2_28_x86_64"]), undefined);
  assert.equal(rank(["cp311-cp311-win_amd64"]), undefined);
  assert.equal(rank([]), undefined);
});

Deno.test("tagRanker() agrees with indexOf for any subset of a target's tags (law)", () => {
  const targets: Target[] = [
    targetFromPreset("linux", { pythonVersion: "3.12" }),
    targetFromPreset("macos", { pythonVersion: "3.9" }),
    targetFromPipOptions({ platforms: ["win32"], pythonVersion: "3.8", implementation: "pp" }),
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...targets),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.array(
        fc.constantFrom("cp27-cp27mu-linux_x86_64", "py2-none-any", "cp312-cp312-win_arm64"),
      ),
      (t, picks, foreign) => {
        const chosen = picks.map((i) => t.tags[i % t.tags.length] ?? "");
        const expected = chosen.length === 0
          ? undefined
          : Math.min(...chosen.map((c) => t.tags.indexOf(c)));
        assert.equal(tagRanker(t)([...foreign, ...chosen]), expected);
      },
    ),
  );
});

Deno.test("every tag of every preset target is unique for CPython (law)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...PRESETS),
      fc.constantFrom("3.8", "3.11", "3.12", "3.13", "3.14"),
      (preset, py) => {
        const t = targetFromPreset(preset, { pythonVersion: py });
        assert.equal(new Set(t.tags).size, t.tags.length);
        assert.ok(t.tags.every((tag) => parseTag(tag).length === 1));
      },
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Differential tests against packaging.tags (and pip's get_supported for pip-style options).

const ORACLE = String.raw`
import json, sys, platform, sysconfig
import packaging.tags as T, packaging._manylinux as M, packaging._musllinux as U

def linux(arch, glibc=None, musl=None):
    sysconfig.get_platform = lambda: "linux-" + arch
    M._have_compatible_abi = lambda *a: glibc is not None
    M._get_glibc_version = lambda: tuple(glibc) if glibc else (-1, -1)
    U._get_musl_version = lambda exe: U._MuslVersion(*musl) if musl else None
    return list(T._linux_platforms(is_32bit=False))

def plats(p):
    k = p["kind"]
    if k == "manylinux": return linux(p["arch"], glibc=p["glibc"])
    if k == "musllinux": return linux(p["arch"], musl=p["musl"])
    if k == "macos": return list(T.mac_platforms(tuple(p["version"]), p["arch"]))
    if k == "ios": return list(T.ios_platforms(tuple(p["version"]), p["multiarch"]))
    if k == "android": return list(T.android_platforms(p["api"], p["abi"]))
    if k == "windows":
        sysconfig.get_platform = lambda: p["sysconfig"]
        platform.system = lambda: "Windows"
        return list(T.platform_tags())
    raise ValueError(k)

def sys_tags(case):
    py = tuple(case["python"]); nodot = "%d%d" % py
    ps = plats(case["platform"])
    if case["impl"] == "cp":
        abi = "cp" + nodot + case.get("flags", "")
        out = list(T.cpython_tags(py, [abi], ps)) + list(T.compatible_tags(py, "cp" + nodot, ps))
    else:
        out = list(T.generic_tags("pp" + nodot, ["pypy%s_pp73" % nodot], ps)) + list(T.compatible_tags(py, "pp3", ps))
    return [str(t) for t in out]

def pip_tags(case):
    from pip._internal.utils.compatibility_tags import get_supported
    return [str(t) for t in get_supported(version=case["version"], platforms=case["platforms"],
                                          impl=case["impl"], abis=case.get("abis"))]

cases = json.load(sys.stdin)
json.dump([sys_tags(c) if c["mode"] == "sys" else pip_tags(c) for c in cases], sys.stdout)
`;

const HAVE_PYTHON = await pythonImports([
  "packaging.tags",
  "packaging._musllinux",
  "pip._internal.utils.compatibility_tags",
]);
if (!HAVE_PYTHON) {
  console.warn(
    "SKIPPING differential tag tests: python3 with `packaging` and pip is not available on this machine",
  );
}

// The platform each preset stands for, written out independently of tags.ts from uv's
// target_triple.rs, in the oracle's vocabulary.
function presetPlatform(preset: string): Record<string, unknown> {
  const fixed: Record<string, Record<string, unknown>> = {
    "linux": { kind: "manylinux", arch: "x86_64", glibc: [2, 28] },
    "windows": { kind: "windows", sysconfig: "win-amd64" },
    "macos": { kind: "macos", arch: "arm64", version: [13, 0] },
    "x86_64-pc-windows-msvc": { kind: "windows", sysconfig: "win-amd64" },
    "i686-pc-windows-msvc": { kind: "windows", sysconfig: "win32" },
    "aarch64-pc-windows-msvc": { kind: "windows", sysconfig: "win-arm64" },
    "x86_64-unknown-linux-gnu": { kind: "manylinux", arch: "x86_64", glibc: [2, 28] },
    "aarch64-unknown-linux-gnu": { kind: "manylinux", arch: "aarch64", glibc: [2, 28] },
    "s390x-unknown-linux-gnu": { kind: "manylinux", arch: "s390x", glibc: [2, 28] },
    "powerpc64le-unknown-linux-gnu": { kind: "manylinux", arch: "ppc64le", glibc: [2, 28] },
    "loongarch64-unknown-linux-gnu": { kind: "manylinux", arch: "loongarch64", glibc: [2, 36] },
    "riscv64-unknown-linux": { kind: "manylinux", arch: "riscv64", glibc: [2, 39] },
    "x86_64-unknown-linux-musl": { kind: "musllinux", arch: "x86_64", musl: [1, 2] },
    "aarch64-unknown-linux-musl": { kind: "musllinux", arch: "aarch64", musl: [1, 2] },
    "aarch64-apple-darwin": { kind: "macos", arch: "arm64", version: [13, 0] },
    "x86_64-apple-darwin": { kind: "macos", arch: "x86_64", version: [13, 0] },
    "aarch64-linux-android": { kind: "android", abi: "arm64_v8a", api: 24 },
    "x86_64-linux-android": { kind: "android", abi: "x86_64", api: 24 },
    "arm64-apple-ios": { kind: "ios", multiarch: "arm64_iphoneos", version: [13, 0] },
    "arm64-apple-ios-simulator": {
      kind: "ios",
      multiarch: "arm64_iphonesimulator",
      version: [13, 0],
    },
    "x86_64-apple-ios-simulator": {
      kind: "ios",
      multiarch: "x86_64_iphonesimulator",
      version: [13, 0],
    },
  };
  const found = fixed[preset];
  if (found !== undefined) return found;
  const m = /^([a-z0-9_]+)-manylinux(?:2014|_2_(\d+))$/.exec(preset);
  if (m === null) throw new Error(`no oracle description for preset ${preset}`);
  return { kind: "manylinux", arch: m[1], glibc: [2, m[2] === undefined ? 17 : Number(m[2])] };
}

Deno.test({
  name: "every preset lists exactly the tags packaging.tags yields on that platform",
  ignore: !HAVE_PYTHON,
  fn: async () => {
    const cases: { preset: string; py: string; impl: string; oracle: Record<string, unknown> }[] =
      [];
    for (const preset of PRESETS) {
      for (const py of ["3.7", "3.9", "3.12", "3.13t"]) {
        const [major, minor] = py.replace("t", "").split(".").map(Number);
        cases.push({
          preset,
          py,
          impl: "cp",
          oracle: {
            mode: "sys",
            impl: "cp",
            python: [major, minor],
            flags: py.endsWith("t") ? "t" : minor !== undefined && minor < 8 ? "m" : "",
            platform: presetPlatform(preset),
          },
        });
      }
      cases.push({
        preset,
        py: "3.10",
        impl: "pp",
        oracle: { mode: "sys", impl: "pp", python: [3, 10], platform: presetPlatform(preset) },
      });
    }
    const expected = await runPythonJson<string[][]>(ORACLE, cases.map((c) => c.oracle));
    cases.forEach((c, i) => {
      const t = targetFromPreset(c.preset, { pythonVersion: c.py, implementation: c.impl });
      assert.deepEqual(t.tags, expected[i], `${c.preset} ${c.impl} ${c.py}`);
    });
  },
});

Deno.test({
  name: "pip-style options list exactly the tags pip's get_supported() computes",
  ignore: !HAVE_PYTHON,
  fn: async () => {
    const platformSets: string[][] = [
      ["manylinux2014_x86_64"],
      ["manylinux2010_i686"],
      ["manylinux2014_aarch64"],
      ["manylinux_2_28_x86_64"],
      ["manylinux2014_x86_64", "manylinux_2_17_x86_64"],
      ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux2014_x86_64"],
      ["musllinux_1_1_aarch64", "linux_aarch64"],
      ["linux_armv7l"],
      ["macosx_10_9_x86_64"],
      ["macosx_10_5_ppc64"],
      // Not ["macosx_10_3_i386"]: no binary format exists before 10.4, the expansion is empty, and
      // pip then silently falls back to the *running* machine's platforms (`platforms or
      // platform_tags()`); we keep an empty platform list instead (pure wheels only).
      ["macosx_11_0_arm64"],
      ["macosx_14_0_x86_64", "macosx_12_0_universal2"],
      ["win_amd64"],
      ["win32", "win_amd64"],
      ["win_arm64"],
    ];
    const cases: {
      platforms: string[];
      version: string;
      impl: string;
      abis?: string[];
    }[] = [];
    for (const platforms of platformSets) {
      for (const version of ["37", "38", "311", "313"]) {
        cases.push({ platforms, version, impl: "cp" });
      }
      cases.push({ platforms, version: "312", impl: "cp", abis: ["abi3", "none", "cp312"] });
      cases.push({ platforms, version: "39", impl: "pp", abis: ["pypy39_pp73"] });
      cases.push({ platforms, version: "310", impl: "py", abis: ["none"] });
    }
    const expected = await runPythonJson<string[][]>(
      ORACLE,
      cases.map((c) => ({ mode: "pip", ...c })),
    );
    cases.forEach((c, i) => {
      const t = targetFromPipOptions({
        platforms: c.platforms,
        pythonVersion: c.version,
        implementation: c.impl,
        ...(c.abis === undefined ? {} : { abis: c.abis }),
      });
      assert.deepEqual(t.tags, expected[i], JSON.stringify(c));
    });
  },
});

Deno.test("a pip platform that expands to nothing leaves only pure-Python tags", () => {
  const t = targetFromPipOptions({ platforms: ["macosx_10_3_i386"], pythonVersion: "3.7" });
  assert.deepEqual(t.platforms, []);
  assert.ok(t.tags.length > 0 && t.tags.every((tag) => tag.endsWith("-any")));
});
