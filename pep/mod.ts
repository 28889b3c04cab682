/**
 * The Python packaging standards, exactly and without I/O: project names (PEP 503), versions and
 * specifiers (PEP 440), requirements and markers (PEP 508), compatibility tags and targets (PEP
 * 425, 600, 656, macOS, Windows; uv-style presets and pip-style options), wheel and sdist file
 * names (PEP 427, 625), core metadata (1.0–2.4), pip requirement files, pyproject.toml (PEP 621,
 * 735), and lock files (PEP 751 pylock.toml, uv.lock).
 *
 * @example
 * ```ts
 * import { Requirement, targetFromPreset, Version } from "./mod.ts";
 * const req = Requirement.parse('numpy>=1.26; python_version >= "3.10"');
 * const target = targetFromPreset("x86_64-manylinux_2_28", { pythonVersion: "3.12" });
 * if (!req.marker?.evaluate(target.markerEnvironment)) throw new Error("marker");
 * if (!req.specifier.contains(Version.parse("2.1.0"))) throw new Error("specifier");
 * ```
 *
 * @module
 */

export * from "./name.ts";
export * from "./version.ts";
export * from "./specifier.ts";
export * from "./marker.ts";
export * from "./marker_set.ts";
export * from "./tag_markers.ts";
export * from "./requirement.ts";
export * from "./tags.ts";
export * from "./filename.ts";
export * from "./metadata.ts";
export * from "./requirements_file.ts";
export * from "./pyproject.ts";
export * from "./pylock.ts";
export * from "./uv_lock.ts";
// The shared base of PyprojectError, PylockError and UvLockError, so callers can catch all three.
export * from "./toml_file_error.ts";
