/**
 * Compatibility tags (PEP 425), platform tags (PEP 600, 656, macOS, Windows, iOS, Android) and
 * install targets: what a wheel must be tagged with to be installable on a given platform.
 *
 * Tag lists are produced in exactly the order `packaging.tags.sys_tags()` yields them on the
 * described platform (best first), so ranking wheels by their best tag matches pip and uv.
 *
 * @module
 */
import type { MarkerEnvironment } from "./marker.ts";
import { compatibleTags, cpythonTags, genericTags, type PythonPair } from "./_tags_generate.ts";
import {
  androidPlatforms,
  iosPlatforms,
  macPlatforms,
  manylinuxPlatforms,
  musllinuxPlatforms,
  type VersionPair,
} from "./_tags_platforms.ts";

/** One compatibility tag triple, e.g. `cp311-cp311-manylinux_2_28_x86_64`. */
export interface Tag {
  /** Interpreter tag, e.g. `cp311`, `py3`, `pp310`. */
  readonly interpreter: string;
  /** ABI tag, e.g. `cp311`, `abi3`, `none`. */
  readonly abi: string;
  /** Platform tag, e.g. `manylinux_2_28_x86_64`, `win_amd64`, `any`. */
  readonly platform: string;
}

/**
 * Formats a tag triple as `interpreter-abi-platform`.
 *
 * @param t The tag.
 * @returns The tag string.
 * @example
 * ```ts
 * import { formatTag } from "./tags.ts";
 * const s = formatTag({ interpreter: "cp311", abi: "cp311", platform: "win_amd64" });
 * if (s !== "cp311-cp311-win_amd64") throw new Error(s);
 * ```
 */
export function formatTag(t: Tag): string {
  return `${t.interpreter}-${t.abi}-${t.platform}`;
}

/** Error raised by {@linkcode parseTag} for text that is not a (compressed) tag triple. */
export class InvalidTagError extends SyntaxError {
  /** Always `"invalid-tag"`. */
  readonly code: "invalid-tag" = "invalid-tag";
  /** The text that failed to parse. */
  readonly tag: string;
  /**
   * Builds the error; the message quotes the tag.
   *
   * @param tag The offending text.
   * @param reason Why it was rejected.
   */
  constructor(tag: string, reason: string) {
    super(`Invalid compatibility tag ${JSON.stringify(tag)}: ${reason}`);
    this.name = "InvalidTagError";
    this.tag = tag;
  }
}

/**
 * Parses a tag, expanding a compressed tag set (`py2.py3-none-any`) into its triples, lowercased
 * as packaging's `Tag` does, duplicates removed, in interpreter × abi × platform order.
 *
 * @param text A tag such as `cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64`.
 * @returns The tags, in written order.
 * @throws {InvalidTagError} If the text does not have three non-empty `-`-separated parts.
 * @example
 * ```ts
 * import { formatTag, parseTag } from "./tags.ts";
 * const tags = parseTag("py2.py3-none-any").map(formatTag);
 * if (tags.join(" ") !== "py2-none-any py3-none-any") throw new Error(tags.join(" "));
 * ```
 */
export function parseTag(text: string): Tag[] {
  const parts = text.split("-");
  if (parts.length !== 3) throw new InvalidTagError(text, "expected interpreter-abi-platform");
  const [interpreters, abis, platforms] = parts.map((p) => p.toLowerCase().split("."));
  const out: Tag[] = [];
  const seen = new Set<string>();
  for (const interpreter of interpreters ?? []) {
    for (const abi of abis ?? []) {
      for (const platform of platforms ?? []) {
        if (interpreter === "" || abi === "" || platform === "") {
          throw new InvalidTagError(text, "empty tag component");
        }
        const key = `${interpreter}-${abi}-${platform}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ interpreter, abi, platform });
      }
    }
  }
  return out;
}

/** What went wrong when building a {@linkcode Target}. */
export type InvalidTargetCode =
  | "unknown-preset"
  | "bad-platform"
  | "bad-python-version"
  | "bad-implementation"
  | "bad-abi";

/** Error raised when a target cannot be built from a preset or pip-style options. */
export class InvalidTargetError extends Error {
  /** Which input was rejected. */
  readonly code: InvalidTargetCode;
  /**
   * Builds the error for a target that cannot be built from the given preset or options.
   *
   * @param code Which input was rejected.
   * @param message What failed and why.
   * @param options Standard error options (`cause`).
   */
  constructor(code: InvalidTargetCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidTargetError";
    this.code = code;
  }
}

/** An install target: one Python on one platform, with its compatible tags and marker values. */
export interface Target {
  /** E.g. `cp311-x86_64-unknown-linux-gnu` or `cp311-manylinux_2_28_x86_64`. */
  readonly name: string;
  /** Compatible tags, best first, as `packaging.tags` lists them for that platform. */
  readonly tags: readonly string[];
  /** The PEP 508 marker values of that target. */
  readonly markerEnvironment: MarkerEnvironment;
  /** `major.minor`, e.g. `"3.11"`. */
  readonly pythonVersion: string;
  /** `major.minor.micro`, `"3.11.0"` unless given. */
  readonly pythonFullVersion: string;
  /** Interpreter short name: `cp`, `pp`, `py`, … */
  readonly implementation: "cp" | "pp" | "py" | string;
  /** Platform tags, best first. */
  readonly platforms: readonly string[];
  /**
   * The target stands for every `X.Y.z` release of its Python (it was given as `3.11`), not
   * for `pythonFullVersion` alone (`X.Y.0`, its lowest): resolution covers them all, and what
   * only some patch releases install is kept with its marker.
   */
  readonly anyPatch?: boolean;
}

type PlatformSpec =
  | { readonly kind: "manylinux"; readonly arch: string; readonly glibc: VersionPair }
  | { readonly kind: "musllinux"; readonly arch: string; readonly musl: VersionPair }
  | { readonly kind: "macos"; readonly arch: string; readonly version: VersionPair }
  | { readonly kind: "windows"; readonly tag: string }
  | { readonly kind: "ios"; readonly multiarch: string; readonly version: VersionPair }
  | { readonly kind: "android"; readonly abi: string; readonly api: number };

interface PlatformMarkers {
  readonly os_name: string;
  readonly sys_platform: string;
  readonly platform_system: string;
  readonly platform_machine: string;
}

interface Preset {
  readonly spec: PlatformSpec;
  readonly markers: PlatformMarkers;
}

function linuxMarkers(machine: string): PlatformMarkers {
  return {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_machine: machine,
  };
}
function darwinMarkers(machine: string): PlatformMarkers {
  return {
    os_name: "posix",
    sys_platform: "darwin",
    platform_system: "Darwin",
    platform_machine: machine,
  };
}
// CPython on Windows reports platform.machine() as AMD64 / ARM64 / x86, which is what markers such
// as `platform_machine == "AMD64"` in real metadata test against.
function windowsMarkers(machine: string): PlatformMarkers {
  return {
    os_name: "nt",
    sys_platform: "win32",
    platform_system: "Windows",
    platform_machine: machine,
  };
}
function iosMarkers(machine: string): PlatformMarkers {
  return {
    os_name: "posix",
    sys_platform: "ios",
    platform_system: "iOS",
    platform_machine: machine,
  };
}
function androidMarkers(machine: string): PlatformMarkers {
  return {
    os_name: "posix",
    sys_platform: "android",
    platform_system: "Android",
    platform_machine: machine,
  };
}

// uv's defaults (crates/uv-configuration/src/target_triple.rs): plain `*-linux-gnu` triples mean
// manylinux_2_28 (2_36 on loongarch64, 2_39 on riscv64), musl triples musl 1.2, Apple triples
// macOS 13.0 (the oldest non-EOL release), iOS 13.0, Android API level 24.
const DEFAULT_MACOS: VersionPair = [13, 0];
const DEFAULT_IOS: VersionPair = [13, 0];
const DEFAULT_ANDROID_API = 24;

const LINUX_ARCHES: ReadonlyArray<readonly [prefix: string, arch: string, minGlibc: number]> = [
  ["x86_64", "x86_64", 17],
  ["aarch64", "aarch64", 17],
  ["s390x", "s390x", 17],
  ["ppc64le", "ppc64le", 17],
  ["loongarch64", "loongarch64", 36],
];

function buildPresets(): Map<string, Preset> {
  const presets = new Map<string, Preset>();
  const manylinux = (arch: string, minor: number): Preset => ({
    spec: { kind: "manylinux", arch, glibc: [2, minor] },
    markers: linuxMarkers(arch),
  });
  const win = (tag: string, machine: string): Preset => ({
    spec: { kind: "windows", tag },
    markers: windowsMarkers(machine),
  });
  const mac = (arch: string): Preset => ({
    spec: { kind: "macos", arch, version: DEFAULT_MACOS },
    markers: darwinMarkers(arch),
  });
  presets.set("linux", manylinux("x86_64", 28));
  presets.set("windows", win("win_amd64", "AMD64"));
  presets.set("macos", mac("arm64"));
  presets.set("x86_64-pc-windows-msvc", win("win_amd64", "AMD64"));
  presets.set("i686-pc-windows-msvc", win("win32", "x86"));
  presets.set("aarch64-pc-windows-msvc", win("win_arm64", "ARM64"));
  presets.set("x86_64-unknown-linux-gnu", manylinux("x86_64", 28));
  presets.set("aarch64-unknown-linux-gnu", manylinux("aarch64", 28));
  presets.set("s390x-unknown-linux-gnu", manylinux("s390x", 28));
  presets.set("powerpc64le-unknown-linux-gnu", manylinux("ppc64le", 28));
  presets.set("loongarch64-unknown-linux-gnu", manylinux("loongarch64", 36));
  presets.set("riscv64-unknown-linux", manylinux("riscv64", 39));
  for (const arch of ["x86_64", "aarch64"]) {
    presets.set(`${arch}-unknown-linux-musl`, {
      spec: { kind: "musllinux", arch, musl: [1, 2] },
      markers: linuxMarkers(arch),
    });
  }
  presets.set("aarch64-apple-darwin", mac("arm64"));
  presets.set("x86_64-apple-darwin", mac("x86_64"));
  for (const [prefix, arch, minGlibc] of LINUX_ARCHES) {
    if (minGlibc === 17) {
      presets.set(`${prefix}-manylinux2014`, manylinux(arch, 17));
      presets.set(`${prefix}-manylinux_2_17`, manylinux(arch, 17));
      presets.set(`${prefix}-manylinux_2_28`, manylinux(arch, 28));
    }
    for (let minor = Math.max(31, minGlibc); minor <= 40; minor++) {
      presets.set(`${prefix}-manylinux_2_${minor}`, manylinux(arch, minor));
    }
  }
  presets.set("aarch64-linux-android", {
    spec: { kind: "android", abi: "arm64_v8a", api: DEFAULT_ANDROID_API },
    markers: androidMarkers("aarch64"),
  });
  presets.set("x86_64-linux-android", {
    spec: { kind: "android", abi: "x86_64", api: DEFAULT_ANDROID_API },
    markers: androidMarkers("x86_64"),
  });
  presets.set("arm64-apple-ios", {
    spec: { kind: "ios", multiarch: "arm64_iphoneos", version: DEFAULT_IOS },
    markers: iosMarkers("arm64"),
  });
  presets.set("arm64-apple-ios-simulator", {
    spec: { kind: "ios", multiarch: "arm64_iphonesimulator", version: DEFAULT_IOS },
    markers: iosMarkers("arm64"),
  });
  presets.set("x86_64-apple-ios-simulator", {
    spec: { kind: "ios", multiarch: "x86_64_iphonesimulator", version: DEFAULT_IOS },
    markers: iosMarkers("x86_64"),
  });
  return presets;
}

const PRESET_TABLE: ReadonlyMap<string, Preset> = buildPresets();

/**
 * The preset target names, as uv's `--python-platform` spells them (`linux`, `windows`, `macos`,
 * `x86_64-unknown-linux-gnu`, `aarch64-apple-darwin`, `x86_64-manylinux_2_28`, …).
 *
 * @example
 * ```ts
 * import { PRESETS } from "./tags.ts";
 * if (!PRESETS.includes("x86_64-unknown-linux-gnu")) throw new Error("missing preset");
 * ```
 */
export const PRESETS: readonly string[] = Object.freeze([...PRESET_TABLE.keys()]);

function platformsOf(spec: PlatformSpec): string[] {
  switch (spec.kind) {
    case "manylinux":
      // A glibc interpreter lists manylinux tags, then the bare linux_<arch> tag.
      return [...manylinuxPlatforms(spec.arch, spec.glibc), `linux_${spec.arch}`];
    case "musllinux":
      return [...musllinuxPlatforms(spec.arch, spec.musl), `linux_${spec.arch}`];
    case "macos":
      return macPlatforms(spec.version, spec.arch);
    case "windows":
      return [spec.tag];
    case "ios":
      return iosPlatforms(spec.version, spec.multiarch);
    case "android":
      return androidPlatforms(spec.api, spec.abi);
  }
}

interface ParsedPython {
  readonly pair: PythonPair;
  readonly full: string;
  readonly threaded: boolean;
}

function parsePythonVersion(text: string): ParsedPython {
  const trimmed = text.trim();
  // "3.11", "3.11.4", "3.13t" (free-threaded, PEP 703), or pip's "311".
  const dotted = /^(\d+)\.(\d+)(?:\.(\d+))?(t?)$/.exec(trimmed);
  const nodotted = /^(\d)(\d{1,2})(t?)$/.exec(trimmed);
  let major: number;
  let minor: number;
  let micro: number | undefined;
  let threaded: boolean;
  if (dotted !== null) {
    major = Number(dotted[1]);
    minor = Number(dotted[2]);
    micro = dotted[3] === undefined ? undefined : Number(dotted[3]);
    threaded = dotted[4] === "t";
  } else if (nodotted !== null) {
    major = Number(nodotted[1]);
    minor = Number(nodotted[2]);
    threaded = nodotted[3] === "t";
  } else {
    throw new InvalidTargetError(
      "bad-python-version",
      `Invalid Python version ${JSON.stringify(text)}: expected major.minor such as "3.11"`,
    );
  }
  if (major < 2 || minor > 99) {
    throw new InvalidTargetError(
      "bad-python-version",
      `Invalid Python version ${JSON.stringify(text)}: no such Python`,
    );
  }
  return {
    pair: [major, minor],
    full: `${major}.${minor}.${micro ?? 0}`,
    threaded,
  };
}

interface Implementation {
  readonly short: string;
  readonly name: string;
  readonly pretty: string;
}

const IMPLEMENTATIONS: ReadonlyMap<string, Implementation> = new Map([
  ["cp", { short: "cp", name: "cpython", pretty: "CPython" }],
  ["pp", { short: "pp", name: "pypy", pretty: "PyPy" }],
  // A generic "py" target carries no interpreter of its own; CPython's markers are the useful
  // default for evaluating dependencies.
  ["py", { short: "py", name: "cpython", pretty: "CPython" }],
  ["ip", { short: "ip", name: "ironpython", pretty: "IronPython" }],
  ["jy", { short: "jy", name: "jython", pretty: "Jython" }],
]);

function parseImplementation(text: string | undefined): Implementation {
  const key = (text ?? "cp").trim().toLowerCase();
  const aliases: Record<string, string> = { cpython: "cp", pypy: "pp", python: "py" };
  const impl = IMPLEMENTATIONS.get(aliases[key] ?? key);
  if (impl === undefined) {
    throw new InvalidTargetError(
      "bad-implementation",
      `Unknown Python implementation ${JSON.stringify(text)}: expected one of cp, pp, py, ip, jy`,
    );
  }
  return impl;
}

function defaultCpythonAbi(python: ParsedPython): string {
  const [major, minor] = python.pair;
  const base = `cp${major}${minor}${python.threaded ? "t" : ""}`;
  // Before 3.8 CPython builds used pymalloc ("m"); before 3.3 wide-unicode builds added "u".
  if (major < 3 || (major === 3 && minor < 3)) return `${base}mu`;
  if (major === 3 && minor < 8) return `${base}m`;
  return base;
}

function markerEnvironment(
  platform: PlatformMarkers,
  impl: Implementation,
  python: ParsedPython,
): MarkerEnvironment {
  return {
    implementation_name: impl.name,
    // PyPy reports its own version here; pp73 wheels come from the PyPy 7.3 series.
    implementation_version: impl.short === "pp" ? "7.3.0" : python.full,
    os_name: platform.os_name,
    platform_machine: platform.platform_machine,
    platform_python_implementation: impl.pretty,
    platform_release: "",
    platform_system: platform.platform_system,
    platform_version: "",
    python_full_version: python.full,
    python_version: `${python.pair[0]}.${python.pair[1]}`,
    sys_platform: platform.sys_platform,
  };
}

function checkThreaded(python: ParsedPython, impl: Implementation): void {
  if (python.threaded && impl.short !== "cp") {
    throw new InvalidTargetError(
      "bad-python-version",
      `Free-threaded Python version with implementation "${impl.short}": only CPython has free-threaded builds`,
    );
  }
}

/**
 * Builds the target for one of uv's `--python-platform` names, with the tags
 * `packaging.tags.sys_tags()` would list on that platform and its marker values.
 *
 * Also accepts tag-style aliases such as `manylinux_2_28_x86_64` (uv accepts these too).
 *
 * @param name A preset from {@linkcode PRESETS}.
 * @param options `pythonVersion` ("3.11", "3.11.4", "3.13t"); `implementation` (`cp` default,
 *   `pp`, `py`); `macosVersion` overrides the default macOS 13.0 of Apple presets (as uv's
 *   `MACOSX_DEPLOYMENT_TARGET`).
 * @returns The target.
 * @throws {InvalidTargetError} `unknown-preset`, `bad-python-version` or `bad-implementation`.
 * @example
 * ```ts
 * import { targetFromPreset } from "./tags.ts";
 * const t = targetFromPreset("x86_64-unknown-linux-gnu", { pythonVersion: "3.11" });
 * if (t.tags[0] !== "cp311-cp311-manylinux_2_28_x86_64") throw new Error(t.tags[0]);
 * if (t.markerEnvironment.sys_platform !== "linux") throw new Error("markers");
 * if (!t.tags.includes("py3-none-any")) throw new Error("pure wheels");
 * ```
 */
export function targetFromPreset(
  name: string,
  options: { pythonVersion: string; implementation?: string; macosVersion?: string },
): Target {
  const key = name.trim().toLowerCase();
  const preset = PRESET_TABLE.get(key) ?? presetFromTagAlias(key);
  if (preset === undefined) {
    throw new InvalidTargetError(
      "unknown-preset",
      `Unknown target platform ${JSON.stringify(name)}: expected one of ${PRESETS.join(", ")}`,
    );
  }
  const python = parsePythonVersion(options.pythonVersion);
  const impl = parseImplementation(options.implementation);
  checkThreaded(python, impl);
  let spec = preset.spec;
  if (options.macosVersion !== undefined && spec.kind === "macos") {
    spec = { ...spec, version: parseMacosVersion(options.macosVersion) };
  }
  const platforms = platformsOf(spec);
  const [major, minor] = python.pair;
  const nodot = `${major}${minor}`;
  let tags: string[];
  if (impl.short === "cp") {
    tags = [
      ...cpythonTags(python.pair, [defaultCpythonAbi(python)], platforms),
      ...compatibleTags(python.pair, `cp${nodot}`, platforms),
    ];
  } else if (impl.short === "pp") {
    // sys_tags() on PyPy: generic tags with the pypyXY_pp73 ABI, then pure tags with pp3-none-any.
    tags = [
      ...genericTags(`pp${nodot}`, [`pypy${nodot}_pp73`], platforms),
      ...compatibleTags(python.pair, `pp${major}`, platforms),
    ];
  } else {
    tags = [
      ...genericTags(`${impl.short}${nodot}`, [], platforms),
      ...compatibleTags(python.pair, undefined, platforms),
    ];
  }
  return freezeTarget({
    name: `${impl.short}${nodot}${python.threaded ? "t" : ""}-${key}`,
    tags,
    markerEnvironment: markerEnvironment(preset.markers, impl, python),
    pythonVersion: `${major}.${minor}`,
    pythonFullVersion: python.full,
    implementation: impl.short,
    platforms,
  });
}

function parseMacosVersion(text: string): VersionPair {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (m === null || Number(m[1]) < 10) {
    throw new InvalidTargetError(
      "bad-platform",
      `Invalid macOS version ${JSON.stringify(text)}: expected major.minor such as "13.0"`,
    );
  }
  return [Number(m[1]), Number(m[2] ?? 0)];
}

function presetFromTagAlias(tag: string): Preset | undefined {
  const m = /^(manylinux2014|manylinux_2_\d+)_(.+)$/.exec(tag);
  if (m === null) return undefined;
  const arch = m[2] ?? "";
  return PRESET_TABLE.get(`${arch}-${m[1]}`);
}

function freezeTarget(t: Target): Target {
  Object.freeze(t.tags);
  Object.freeze(t.platforms);
  Object.freeze(t.markerEnvironment);
  return Object.freeze(t);
}

const PLATFORM_TAG = /^[a-z0-9_]+$/;

// pip's `_get_custom_platforms` (pip/_internal/utils/compatibility_tags.py): a macOS tag expands to
// every older macOS it is compatible with, manylinux2014/2010 add the older legacy aliases, and
// every other tag (PEP 600 manylinux_x_y included) stands for itself.
function expandPipPlatform(platform: string): string[] {
  if (platform.startsWith("macosx")) {
    const m = /^(.+)_(\d+)_(\d+)_(.+)$/.exec(platform);
    if (m === null) return [platform];
    const prefix = m[1] ?? "macosx";
    return macPlatforms([Number(m[2]), Number(m[3])], m[4] ?? "")
      .map((p) => `${prefix}_${p.slice("macosx_".length)}`);
  }
  const sep = platform.indexOf("_");
  const prefix = sep === -1 ? platform : platform.slice(0, sep);
  const suffix = sep === -1 ? "" : platform.slice(sep + 1);
  const glue = sep === -1 ? "" : "_";
  if (prefix === "manylinux2014") {
    return suffix === "i686" || suffix === "x86_64"
      ? [platform, `manylinux2010${glue}${suffix}`, `manylinux1${glue}${suffix}`]
      : [platform];
  }
  if (prefix === "manylinux2010") return [platform, `manylinux1${glue}${suffix}`];
  return [platform];
}

function markersFromPlatformTag(platform: string): PlatformMarkers | undefined {
  const linux =
    /^(?:manylinux_\d+_\d+|manylinux1|manylinux2010|manylinux2014|musllinux_\d+_\d+|linux)_(.+)$/
      .exec(platform);
  if (linux !== null) return linuxMarkers(linux[1] ?? "");
  const mac = /^macosx_\d+_\d+_(.+)$/.exec(platform);
  if (mac !== null) {
    const arch = mac[1] ?? "";
    // A fat binary names no single machine; universal2 targets are Apple-silicon-era builds.
    const machine = arch === "arm64" || arch === "universal2"
      ? "arm64"
      : ["ppc", "ppc64", "i386"].includes(arch)
      ? arch
      : "x86_64";
    return darwinMarkers(machine);
  }
  if (platform === "win_amd64") return windowsMarkers("AMD64");
  if (platform === "win32") return windowsMarkers("x86");
  if (platform === "win_arm64") return windowsMarkers("ARM64");
  const ios = /^ios_\d+_\d+_(arm64|x86_64)_iphone(?:os|simulator)$/.exec(platform);
  if (ios !== null) return iosMarkers(ios[1] ?? "");
  const android = /^android_\d+_(.+)$/.exec(platform);
  if (android !== null) {
    const abi = android[1] ?? "";
    const machine: Record<string, string> = {
      arm64_v8a: "aarch64",
      armeabi_v7a: "armv7l",
      x86: "i686",
      x86_64: "x86_64",
    };
    return androidMarkers(machine[abi] ?? abi);
  }
  return undefined;
}

/**
 * Builds a target from pip-style options (`--platform`, `--python-version`, `--implementation`,
 * `--abi`), with the tags pip's `get_supported()` computes for them: macOS and legacy manylinux
 * platforms expand to their older compatible tags as pip does; PEP 600 `manylinux_x_y` tags do not
 * (pass several platforms for that). Marker values come from the first platform.
 *
 * @param options `platforms` (at least one platform tag), `pythonVersion` ("3.11" or "311"),
 *   `implementation` (`cp` default), `abis` (default: the implementation's own ABI).
 * @returns The target.
 * @throws {InvalidTargetError} `bad-platform`, `bad-python-version`, `bad-implementation` or `bad-abi`.
 * @example
 * ```ts
 * import { targetFromPipOptions } from "./tags.ts";
 * const t = targetFromPipOptions({ platforms: ["manylinux2014_x86_64"], pythonVersion: "3.12" });
 * if (t.platforms.join() !== "manylinux2014_x86_64,manylinux2010_x86_64,manylinux1_x86_64") {
 *   throw new Error(t.platforms.join());
 * }
 * if (t.markerEnvironment.platform_machine !== "x86_64") throw new Error("markers");
 * ```
 */
export function targetFromPipOptions(
  options: {
    platforms: readonly string[];
    pythonVersion: string;
    implementation?: string;
    abis?: readonly string[];
  },
): Target {
  const given = options.platforms.map((p) => p.trim().toLowerCase());
  if (given.length === 0) {
    throw new InvalidTargetError(
      "bad-platform",
      "No platform given: pass at least one platform tag",
    );
  }
  for (const p of given) {
    if (!PLATFORM_TAG.test(p)) {
      throw new InvalidTargetError(
        "bad-platform",
        `Invalid platform tag ${
          JSON.stringify(p)
        }: expected letters, digits and underscores such as "manylinux_2_28_x86_64"`,
      );
    }
  }
  const first = given[0] ?? "";
  const platformMarkers = markersFromPlatformTag(first);
  if (platformMarkers === undefined) {
    throw new InvalidTargetError(
      "bad-platform",
      `Cannot derive marker values from platform ${
        JSON.stringify(first)
      }: expected a manylinux, musllinux, linux, macosx, win, ios or android tag`,
    );
  }
  const platforms: string[] = [];
  const seen = new Set<string>();
  for (const p of given) {
    if (seen.has(p)) continue;
    for (const q of expandPipPlatform(p)) {
      if (seen.has(q)) continue;
      seen.add(q);
      platforms.push(q);
    }
  }
  const python = parsePythonVersion(options.pythonVersion);
  const impl = parseImplementation(options.implementation);
  checkThreaded(python, impl);
  const abis = options.abis?.map((a) => a.trim().toLowerCase());
  for (const a of abis ?? []) {
    if (!PLATFORM_TAG.test(a)) {
      throw new InvalidTargetError("bad-abi", `Invalid ABI tag ${JSON.stringify(a)}`);
    }
  }
  const [major, minor] = python.pair;
  const nodot = `${major}${minor}`;
  const interpreter = `${impl.short}${nodot}`;
  let tags: string[];
  if (impl.short === "cp") {
    tags = cpythonTags(python.pair, abis ?? [defaultCpythonAbi(python)], platforms);
  } else {
    const defaultAbis = impl.short === "pp" ? [`pypy${nodot}_pp73`] : [];
    tags = genericTags(interpreter, abis ?? defaultAbis, platforms);
  }
  // pip passes its own interpreter (cp311, pp311, py311) to compatible_tags.
  tags.push(...compatibleTags(python.pair, interpreter, platforms));
  return freezeTarget({
    name: `${interpreter}${python.threaded ? "t" : ""}-${given.join(".")}`,
    tags,
    markerEnvironment: markerEnvironment(platformMarkers, impl, python),
    pythonVersion: `${major}.${minor}`,
    pythonFullVersion: python.full,
    implementation: impl.short,
    platforms,
  });
}

const RANKS = new WeakMap<Target, ReadonlyMap<string, number>>();

function ranksOf(target: Target): ReadonlyMap<string, number> {
  let ranks = RANKS.get(target);
  if (ranks === undefined) {
    const map = new Map<string, number>();
    target.tags.forEach((tag, i) => {
      // A tag listed twice keeps its better (first) rank.
      if (!map.has(tag)) map.set(tag, i);
    });
    ranks = map;
    RANKS.set(target, ranks);
  }
  return ranks;
}

/**
 * Returns a function that ranks a wheel's tags against a target: the best (lowest) index of any of
 * the tags in `target.tags`, or `undefined` when none is compatible. Lookups are O(1) per tag.
 *
 * @param target The target.
 * @returns A ranking function over expanded tag strings (as `WheelFilename.tags`).
 * @example
 * ```ts
 * import { tagRanker, targetFromPreset } from "./tags.ts";
 * const rank = tagRanker(targetFromPreset("windows", { pythonVersion: "3.12" }));
 * const native = rank(["cp312-cp312-win_amd64"]);
 * const pure = rank(["py3-none-any"]);
 * if (native === undefined || pure === undefined || native >= pure) throw new Error("order");
 * if (rank(["cp312-cp312-manylinux_2_17_x86_64"]) !== undefined) throw new Error("linux wheel");
 * ```
 */
export function tagRanker(target: Target): (tags: readonly string[]) => number | undefined {
  const ranks = ranksOf(target);
  return (tags: readonly string[]): number | undefined => {
    let best: number | undefined;
    for (const tag of tags) {
      const rank = ranks.get(tag) ?? ranks.get(tag.toLowerCase());
      if (rank !== undefined && (best === undefined || rank < best)) best = rank;
    }
    return best;
  };
}
