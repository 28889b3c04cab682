// Turns the target options of a command into targets: uv-style presets (`--python-platform`),
// pip-style tags (`--platform`/`--abi`/`--implementation`), or the host. Every Python version given
// multiplies the targets, so one run covers e.g. 3.11 and 3.13 on three platforms.
import { type Target, targetFromPipOptions, targetFromPreset } from "../pep/tags.ts";
import { type HostFacts, hostTarget } from "./_host.ts";

/** The target options shared by `download` and lock-file downloads. */
export interface TargetOptions {
  platforms: readonly string[];
  pythonVersions: readonly string[];
  implementation: string | undefined;
  abis: readonly string[];
  pythonPlatforms: readonly string[];
  /** macOS version of Apple presets (uv reads `MACOSX_DEPLOYMENT_TARGET`); default 13.0. */
  macosVersion?: string | undefined;
}

/**
 * Builds the targets of a run, without duplicates, in the order given.
 *
 * @throws {InvalidTargetError} for unknown presets or malformed tags and versions.
 */
export function buildTargets(options: TargetOptions, host: HostFacts): Target[] {
  const versions: (string | undefined)[] = options.pythonVersions.length > 0
    ? [...options.pythonVersions]
    : [undefined];
  const defaultVersion = host.pythonFullVersion ?? "3.12";
  const out = new Map<string, Target>();
  for (const version of versions) {
    if (options.pythonPlatforms.length > 0) {
      for (const preset of options.pythonPlatforms) {
        const t = targetFromPreset(preset, {
          pythonVersion: version ?? defaultVersion,
          ...(options.macosVersion !== undefined ? { macosVersion: options.macosVersion } : {}),
          ...(options.implementation !== undefined
            ? { implementation: options.implementation }
            : {}),
        });
        out.set(t.name, t);
      }
    } else if (options.platforms.length > 0) {
      // pip combines every --platform of one run into a single target's tag list.
      const t = targetFromPipOptions({
        platforms: options.platforms,
        pythonVersion: version ?? defaultVersion,
        ...(options.implementation !== undefined ? { implementation: options.implementation } : {}),
        ...(options.abis.length > 0 ? { abis: options.abis } : {}),
      });
      out.set(t.name, t);
    } else if (options.implementation !== undefined || options.abis.length > 0) {
      // pip: --implementation/--abi without --platform keep this machine's platforms.
      const t = targetFromPipOptions({
        platforms: hostTarget(host, version).platforms,
        pythonVersion: version ?? defaultVersion,
        ...(options.implementation !== undefined ? { implementation: options.implementation } : {}),
        ...(options.abis.length > 0 ? { abis: options.abis } : {}),
      });
      out.set(t.name, t);
    } else {
      const t = hostTarget(host, version);
      out.set(t.name, t);
    }
  }
  // A version given as X.Y stands for every X.Y.z release (resolved as a range); X.Y.Z, and the
  // host's own version, are one release.
  return [...out.values()].map((t) =>
    versions.some((v) => v !== undefined && /^\d+\.\d+t?$/.test(v) && samePython(v, t))
      ? { ...t, anyPatch: true }
      : t
  );
}

/** Whether a target was built from this `--python-version` value. */
function samePython(version: string, t: Target): boolean {
  return t.pythonVersion === version.replace(/t$/, "") &&
    t.pythonFullVersion === `${t.pythonVersion}.0`;
}
