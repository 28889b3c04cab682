/**
 * The PEP 517 build front end: {@linkcode BuildFrontend} builds wheels, sdists and wheel metadata
 * from sdists, source folders and git repositories, running the project's build backend with a
 * Python interpreter in an isolated environment, and caches every result. It knows no resolver
 * and no HTTP: isolated environments are made of the wheels a {@linkcode BuildEnvironmentProvider}
 * returns (the caller's resolver and cache). The pieces are usable alone:
 * {@linkcode inspectInterpreter}, {@linkcode readBuildSystem} / {@linkcode parseBuildSystem},
 * {@linkcode unpackSdist}, {@linkcode cloneGit} / {@linkcode parseGitUrl}. Failures are one
 * {@linkcode BuildError} with a `code`.
 *
 * @example
 * ```ts
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { BuildError, BuildFrontend, parseBuildSystem, parseGitUrl } from "./mod.ts";
 * const bs = parseBuildSystem('[build-system]\nrequires = ["flit_core>=3.2"]\nbuild-backend = "flit_core.buildapi"\n');
 * if (bs.backend !== "flit_core.buildapi") throw new Error();
 * if (parseGitUrl("git+file:///srv/repo@v1#subdirectory=lib").rev !== "v1") throw new Error();
 * const frontend = new BuildFrontend({
 *   cacheDir: join(tmpdir(), "wheelhouse-doc-build"),
 *   python: "python-that-is-not-there",
 *   environments: { installRequirements: () => Promise.resolve([]) },
 * });
 * const failed = await frontend.buildWheel({ kind: "directory", path: "." }).catch((e) => e);
 * if (!(failed instanceof BuildError) || failed.code !== "interpreter-missing") throw failed;
 * ```
 *
 * @module
 */

export {
  type BuildCallOptions,
  BuildFrontend,
  type BuildFrontendOptions,
  type BuildRequirements,
} from "./build_frontend.ts";
export {
  DEFAULT_BUILD_SYSTEM,
  parseBuildSystem,
  type ParseBuildSystemOptions,
  readBuildSystem,
} from "./build_system.ts";
export { cloneGit, type CloneGitOptions, type GitUrl, parseGitUrl } from "./clone_git.ts";
export { inspectInterpreter, type InspectInterpreterOptions } from "./inspect_interpreter.ts";
export { runProcess } from "./run_process.ts";
export { unpackSdist } from "./unpack_sdist.ts";
// Part of InterpreterInfo; re-exported so the build API documents itself whole.
export type { MarkerEnvironment } from "../pep/marker.ts";
export {
  type BuildEnvironmentProvider,
  BuildError,
  type BuildErrorCode,
  type BuildErrorOptions,
  type BuildEvent,
  type BuildReporter,
  type BuildSource,
  type BuildSystem,
  type BuiltSdist,
  type BuiltWheel,
  type ConfigSettings,
  type GitCheckout,
  type HookName,
  type InstallRequirementsOptions,
  type InterpreterInfo,
  type PreparedMetadata,
  type ProcessOutcome,
  type RunProcess,
  type RunProcessOptions,
  type SourceInfo,
} from "./types.ts";
