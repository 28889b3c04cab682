// Platform-tag generators that mirror `packaging.tags` (packaging 26.x) for a *described* platform
// rather than the running one: the glibc, musl, macOS, iOS or Android version is a parameter.
// Private helper of pep/tags.ts; not re-exported.

/** A `[major, minor]` pair (glibc, musl, macOS, iOS versions). */
export type VersionPair = readonly [number, number];

// PEP 600: the legacy aliases sit right after the manylinux_x_y tag they stand for.
const LEGACY_MANYLINUX = new Map<string, string>([
  ["2_17", "manylinux2014"],
  ["2_12", "manylinux2010"],
  ["2_5", "manylinux1"],
]);

// packaging assumes at most 50 minor glibc releases per major version (`_LAST_GLIBC_MINOR`).
const LAST_GLIBC_MINOR = 50;

/**
 * Manylinux platform tags for a glibc `glibc` on `arch`, best first: every glibc from the given
 * one down to 2.5 on x86_64/i686 and 2.17 elsewhere, each legacy alias right after its version.
 */
export function manylinuxPlatforms(arch: string, glibc: VersionPair): string[] {
  const [major, minor] = glibc;
  // The oldest glibc is 2.17 in general (PEP 599), 2.5 on x86 (PEP 513).
  const tooOld: VersionPair = arch === "x86_64" || arch === "i686" ? [2, 4] : [2, 16];
  const maxima: VersionPair[] = [[major, minor]];
  for (let m = major - 1; m > 1; m--) maxima.push([m, LAST_GLIBC_MINOR]);
  const out: string[] = [];
  for (const [maxMajor, maxMinor] of maxima) {
    const minMinor = maxMajor === tooOld[0] ? tooOld[1] : -1;
    for (let m = maxMinor; m > minMinor; m--) {
      const key = `${maxMajor}_${m}`;
      out.push(`manylinux_${key}_${arch}`);
      const legacy = LEGACY_MANYLINUX.get(key);
      if (legacy !== undefined) out.push(`${legacy}_${arch}`);
    }
  }
  return out;
}

/** Musllinux platform tags (PEP 656) for musl `musl` on `arch`, from `musl` down to `x.0`. */
export function musllinuxPlatforms(arch: string, musl: VersionPair): string[] {
  const out: string[] = [];
  for (let m = musl[1]; m >= 0; m--) out.push(`musllinux_${musl[0]}_${m}_${arch}`);
  return out;
}

function compare(a: VersionPair, b: VersionPair): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

/** The binary formats a macOS `version` on `cpuArch` can load, as packaging's `_mac_binary_formats`. */
export function macBinaryFormats(version: VersionPair, cpuArch: string): string[] {
  const formats = [cpuArch];
  if (cpuArch === "x86_64") {
    if (compare(version, [10, 4]) < 0) return [];
    formats.push("intel", "fat64", "fat32");
  } else if (cpuArch === "i386") {
    if (compare(version, [10, 4]) < 0) return [];
    formats.push("intel", "fat32", "fat");
  } else if (cpuArch === "ppc64") {
    if (compare(version, [10, 5]) > 0 || compare(version, [10, 4]) < 0) return [];
    formats.push("fat64");
  } else if (cpuArch === "ppc") {
    if (compare(version, [10, 6]) > 0) return [];
    formats.push("fat32", "fat");
  }
  if (cpuArch === "arm64" || cpuArch === "x86_64") formats.push("universal2");
  if (["x86_64", "i386", "ppc64", "ppc", "intel"].includes(cpuArch)) formats.push("universal");
  return formats;
}

/** macOS platform tags for `version` on `arch`, best first, as packaging's `mac_platforms`. */
export function macPlatforms(version: VersionPair, arch: string): string[] {
  const out: string[] = [];
  const push = (major: number, minor: number, formats: readonly string[]): void => {
    for (const f of formats) out.push(`macosx_${major}_${minor}_${f}`);
  };
  if (compare(version, [10, 0]) >= 0 && compare(version, [11, 0]) < 0) {
    // Before macOS 11 every yearly release bumped the minor version.
    for (let minor = version[1]; minor >= 0; minor--) {
      push(10, minor, macBinaryFormats([10, minor], arch));
    }
  }
  if (compare(version, [11, 0]) >= 0) {
    // From macOS 11 on, yearly releases bump the major version; minor versions are mid-year.
    for (let major = version[0]; major > 10; major--) {
      push(major, 0, macBinaryFormats([major, 0], arch));
    }
    // x86_64 keeps running 10.x binaries; arm64 only exists from 11.0, but universal2 wheels may
    // declare an older version because their x86_64 half supports it.
    for (let minor = 16; minor > 3; minor--) {
      push(10, minor, arch === "x86_64" ? macBinaryFormats([10, minor], arch) : ["universal2"]);
    }
  }
  return out;
}

/** iOS platform tags (`ios_13_0_arm64_iphoneos`, …) as packaging's `ios_platforms`. */
export function iosPlatforms(version: VersionPair, multiarch: string): string[] {
  const [major, minor] = version;
  if (major < 12) return [];
  const out: string[] = [];
  for (let m = minor; m >= 0; m--) out.push(`ios_${major}_${m}_${multiarch}`);
  for (let M = major - 1; M > 11; M--) {
    for (let m = 9; m >= 0; m--) out.push(`ios_${M}_${m}_${multiarch}`);
  }
  return out;
}

/** Android platform tags from API level `apiLevel` down to 16, as packaging's `android_platforms`. */
export function androidPlatforms(apiLevel: number, abi: string): string[] {
  const out: string[] = [];
  for (let level = apiLevel; level >= 16; level--) out.push(`android_${level}_${abi}`);
  return out;
}
