/**
 * Where a wheel installs, as a set of environments: the PEP 425 tags of a file name turned into
 * a {@link MarkerSet} over `python_full_version`, `implementation_name`, `sys_platform` and
 * `platform_machine`, and a `Requires-Python` specifier as the set of its Python versions. A
 * universal resolution uses these to tell which files serve which part of its environments.
 *
 * The sets are what the tags promise at most: `cp311-cp311-manylinux_2_17_x86_64` is CPython
 * 3.11 on Linux x86_64 (the glibc a machine has is no marker variable, so it is not in the set).
 * A tag this module does not know (an unknown platform or interpreter) imposes nothing, so no
 * file is ever left out because of a tag read too narrowly.
 *
 * @module
 */

import { MarkerSet } from "./marker_set.ts";
import type { SpecifierSet } from "./specifier.ts";
import { parseTag } from "./tags.ts";

const memo = new Map<string, MarkerSet>();

function cached(key: string, make: () => MarkerSet): MarkerSet {
  let set = memo.get(key);
  if (set === undefined) {
    set = make();
    if (memo.size > 10_000) memo.clear();
    memo.set(key, set);
  }
  return set;
}

const IMPLEMENTATIONS: Record<string, string> = {
  cp: "cpython",
  pp: "pypy",
  ip: "ironpython",
  jy: "jython",
  gp: "graalpy",
};

/** `3.11` as the set `python_full_version >= "3.11" and < "3.12"`; `3` as the whole major. */
function pythonOf(digits: string, orLater: boolean): MarkerSet {
  if (digits === "") return MarkerSet.ALWAYS;
  const major = Number(digits[0]);
  const minor = digits.length > 1 ? Number(digits.slice(1)) : undefined;
  if (minor === undefined) {
    return MarkerSet.parse(
      `python_full_version >= "${major}" and python_full_version < "${major + 1}"`,
    );
  }
  const low = `python_full_version >= "${major}.${minor}"`;
  // Later minors of the same major only: py39 and cp39-abi3 do not promise Python 4.
  const high = orLater
    ? `python_full_version < "${major + 1}"`
    : `python_full_version < "${major}.${minor + 1}"`;
  return MarkerSet.parse(`${low} and ${high}`);
}

function interpreterSet(interpreter: string, abi: string): MarkerSet {
  const m = /^([a-z]+)(\d*)$/.exec(interpreter);
  if (!m) return MarkerSet.ALWAYS;
  const [, kind, digits] = m as unknown as [string, string, string];
  if (kind === "py") return pythonOf(digits, true);
  const implementation = IMPLEMENTATIONS[kind];
  if (implementation === undefined) return MarkerSet.ALWAYS;
  // abi3 (and `none` with a CPython interpreter, which pip also offers for later minors only
  // as py tags) : cp39-abi3 serves 3.9 and every later 3.x CPython.
  const python = pythonOf(digits, abi === "abi3");
  return python.intersect(MarkerSet.parse(`implementation_name == "${implementation}"`));
}

const MACHINES: Record<string, string[]> = {
  x86_64: ["x86_64"],
  amd64: ["AMD64"],
  i686: ["i686"],
  i386: ["i386"],
  aarch64: ["aarch64"],
  arm64: ["arm64"],
  armv7l: ["armv7l"],
  armv6l: ["armv6l"],
  ppc64le: ["ppc64le"],
  ppc64: ["ppc64"],
  s390x: ["s390x"],
  riscv64: ["riscv64"],
  universal2: ["x86_64", "arm64"],
  universal: ["x86_64", "arm64", "i386", "ppc"],
  intel: ["x86_64", "i386"],
  fat64: ["x86_64", "ppc64"],
  fat32: ["i386", "ppc"],
  fat: ["i386", "ppc"],
};

function machineSet(arch: string, windows = false): MarkerSet {
  const machines = windows && arch === "arm64" ? ["ARM64"] : MACHINES[arch];
  if (machines === undefined) return MarkerSet.ALWAYS;
  return MarkerSet.parse(machines.map((m) => `platform_machine == "${m}"`).join(" or "));
}

function platformSet(platform: string): MarkerSet {
  if (platform === "any") return MarkerSet.ALWAYS;
  const on = (sys: string) => MarkerSet.parse(`sys_platform == "${sys}"`);
  let m = /^(?:manylinux\d*(?:_\d+_\d+)?|musllinux_\d+_\d+|linux)_(.+)$/.exec(platform);
  if (m) return on("linux").intersect(machineSet(m[1]!));
  m = /^macosx_\d+_\d+_(.+)$/.exec(platform);
  if (m) return on("darwin").intersect(machineSet(m[1]!));
  if (platform === "win32") {
    return on("win32").intersect(MarkerSet.parse('platform_machine == "x86"'));
  }
  m = /^win_(.+)$/.exec(platform);
  if (m) return on("win32").intersect(machineSet(m[1]!, true));
  m = /^(freebsd|openbsd|netbsd)_(\d+)/.exec(platform);
  if (m) return on(`${m[1]}${m[2]}`);
  if (platform.startsWith("ios_")) return on("ios");
  if (platform.startsWith("android_")) return on("android");
  if (platform.startsWith("emscripten_") || platform.startsWith("pyodide_")) {
    return on("emscripten");
  }
  return MarkerSet.ALWAYS;
}

/**
 * The environments a wheel with these tags installs in: the union over its tag triples.
 *
 * @param tags Tags as in a wheel's file name, compressed sets allowed
 *   (`py2.py3-none-any`, `cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`).
 * @returns The set; {@link MarkerSet.ALWAYS} for `py3-none-any` on Python 3.
 * @throws {InvalidTagError} When a tag is malformed.
 * @example
 * ```ts
 * import { wheelEnvironments } from "./tag_markers.ts";
 * import { MarkerSet } from "./marker_set.ts";
 * const set = wheelEnvironments(["cp311-cp311-win_amd64"]);
 * const windows = MarkerSet.parse("sys_platform == 'win32' and python_version == '3.11'");
 * if (set.isDisjoint(windows)) throw new Error();
 * if (!set.isDisjoint(MarkerSet.parse("sys_platform == 'linux'"))) throw new Error();
 * ```
 */
export function wheelEnvironments(tags: readonly string[]): MarkerSet {
  let set = MarkerSet.NEVER;
  for (const text of tags) {
    set = set.union(cached(`t:${text}`, () => {
      let one = MarkerSet.NEVER;
      for (const t of parseTag(text)) {
        one = one.union(interpreterSet(t.interpreter, t.abi).intersect(platformSet(t.platform)));
      }
      return one;
    }));
  }
  return set;
}

/**
 * The Python versions a `Requires-Python` admits, as a set over `python_full_version`.
 *
 * @param spec The specifier (`>=3.9`, `~=3.10`, `!=3.0.*`); an empty one is every version.
 * @returns The set.
 * @throws Never for a specifier that parsed.
 * @example
 * ```ts
 * import { pythonEnvironments } from "./tag_markers.ts";
 * import { MarkerSet } from "./marker_set.ts";
 * import { SpecifierSet } from "./specifier.ts";
 * const set = pythonEnvironments(SpecifierSet.parse(">=3.10.1"));
 * if (set.isDisjoint(MarkerSet.parse("python_version == '3.10'"))) throw new Error();
 * ```
 */
export function pythonEnvironments(spec: SpecifierSet): MarkerSet {
  const text = spec.toString();
  return cached(`p:${text}`, () => {
    let set = MarkerSet.ALWAYS;
    for (const s of spec.specifiers) {
      // `===` compares strings: no marker for a version range can say it exactly.
      if (s.operator === "===") continue;
      set = set.intersect(MarkerSet.parse(`python_full_version ${s.operator} "${s.version}"`));
    }
    return set;
  });
}
