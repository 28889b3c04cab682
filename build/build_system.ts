/**
 * A project's PEP 518 `[build-system]`: `requires`, `build-backend` and `backend-path`, with pip's
 * defaults where the project names none.
 *
 * @module
 */

import * as fsp from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { Requirement } from "../pep/requirement.ts";
import { errnoOf, isInside } from "./_util.ts";
import { BuildError, type BuildSystem } from "./types.ts";

/**
 * What pip assumes of a project without `[build-system]` (pip's `load_pyproject_toml`): setuptools,
 * run through the backend that emulates `setup.py` (`__legacy__` puts the project's folder on
 * `sys.path`, as running `setup.py` did).
 *
 * @example
 * ```ts
 * import { DEFAULT_BUILD_SYSTEM } from "./build_system.ts";
 * if (DEFAULT_BUILD_SYSTEM.backend !== "setuptools.build_meta:__legacy__") throw new Error();
 * ```
 */
export const DEFAULT_BUILD_SYSTEM: BuildSystem = Object.freeze({
  // pip's default for a project without a build-system table (pip 23: setuptools and wheel).
  requires: Object.freeze(["setuptools>=40.8.0", "wheel"]),
  backend: "setuptools.build_meta:__legacy__",
  backendPath: Object.freeze([]),
  defaulted: true,
  projectName: undefined,
});

/** Options of {@linkcode parseBuildSystem}. */
export interface ParseBuildSystemOptions {
  /** The project as named in messages; default `"the project"`. */
  project?: string;
  /** Whether the tree has a `setup.py` (a tree with neither file is not a project). */
  hasSetupPy?: boolean;
}

// `module.path` or `module.path:object.path` (PEP 517's `build-backend`).
const BACKEND_RE =
  /^\s*[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*\s*(:\s*[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*\s*)?$/;

function invalid(project: string, why: string, cause?: unknown): BuildError {
  return new BuildError(
    "invalid-project",
    `Cannot build "${project}": pyproject.toml ${why}`,
    cause === undefined ? { project } : { project, cause },
  );
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function stringList(
  value: unknown,
  key: string,
  project: string,
): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw invalid(project, `[build-system] ${key} must be a list of strings`);
  }
  return value as string[];
}

/**
 * Reads `[build-system]` from a pyproject.toml text (or its absence).
 *
 * @param pyproject The file's text, or undefined when the project has none.
 * @param options The project's name for messages; whether it has a `setup.py`.
 * @returns The build system; pip's default (setuptools, `__legacy__`) when there is no file, no
 * table, or (keeping the table's `requires`) no `build-backend`.
 * @throws {BuildError} `invalid-project`: bad TOML, a table without `requires`, values of the wrong
 * type, an invalid requirement or backend name, a `backend-path` that is absolute or leaves the
 * tree, or neither pyproject.toml nor setup.py.
 * @example
 * ```ts
 * import { parseBuildSystem } from "./build_system.ts";
 * const bs = parseBuildSystem(`
 * [build-system]
 * requires = ["hatchling"]
 * build-backend = "hatchling.build"
 * `);
 * if (bs.backend !== "hatchling.build" || bs.requires[0] !== "hatchling") throw new Error();
 * const legacy = parseBuildSystem(undefined, { hasSetupPy: true });
 * if (legacy.backend !== "setuptools.build_meta:__legacy__") throw new Error();
 * ```
 */
export function parseBuildSystem(
  pyproject: string | undefined,
  options: ParseBuildSystemOptions = {},
): BuildSystem {
  const project = options.project ?? "the project";
  if (pyproject === undefined) {
    if (options.hasSetupPy === false) {
      throw new BuildError(
        "invalid-project",
        `Cannot build "${project}": neither pyproject.toml nor setup.py found`,
        { project },
      );
    }
    return DEFAULT_BUILD_SYSTEM;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(pyproject) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : "";
    const first = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw invalid(project, `is not valid TOML${where}: ${first}`, e);
  }
  const projectTable = doc["project"];
  const projectName = isTable(projectTable) && typeof projectTable["name"] === "string"
    ? projectTable["name"]
    : undefined;
  const table = doc["build-system"];
  if (table === undefined) return { ...DEFAULT_BUILD_SYSTEM, projectName };
  if (!isTable(table)) throw invalid(project, "[build-system] must be a table");
  // PEP 518: the table, when present, must say what the build needs.
  if (!("requires" in table)) throw invalid(project, "[build-system] has no `requires`");
  const requires = stringList(table["requires"], "requires", project);
  for (const r of requires) {
    try {
      Requirement.parse(r);
    } catch (e) {
      throw invalid(project, `[build-system] requires has an invalid requirement "${r}"`, e);
    }
  }
  const backend = table["build-backend"];
  if (backend !== undefined && (typeof backend !== "string" || !BACKEND_RE.test(backend))) {
    throw invalid(project, `[build-system] build-backend ${JSON.stringify(backend)} is invalid`);
  }
  const backendPath = table["backend-path"] === undefined
    ? []
    : stringList(table["backend-path"], "backend-path", project);
  for (const p of backendPath) {
    const normal = posix.normalize(p.replaceAll("\\", "/"));
    if (posix.isAbsolute(normal) || /^[A-Za-z]:/.test(normal) || normal.split("/")[0] === "..") {
      throw invalid(project, `[build-system] backend-path "${p}" is outside the project`);
    }
  }
  if (backend === undefined) {
    return { ...DEFAULT_BUILD_SYSTEM, requires, backendPath, defaulted: true, projectName };
  }
  return { requires, backend: backend.trim(), backendPath, defaulted: false, projectName };
}

/**
 * Reads a source tree's build system: its pyproject.toml (if any) and whether it has a setup.py;
 * `backend-path` entries are checked, through symbolic links, to stay inside the tree.
 *
 * @param dir The project folder.
 * @param options The project's name for messages.
 * @returns The build system.
 * @throws {BuildError} `invalid-project`, as {@linkcode parseBuildSystem}, and when a
 * `backend-path` entry leaves the tree through a link.
 * @example
 * ```ts
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { readBuildSystem } from "./build_system.ts";
 * const dir = await mkdtemp(join(tmpdir(), "bs-"));
 * await writeFile(join(dir, "setup.py"), "from setuptools import setup\nsetup()\n");
 * const bs = await readBuildSystem(dir);
 * if (!bs.defaulted || bs.requires[0] !== "setuptools>=40.8.0") throw new Error();
 * await rm(dir, { recursive: true });
 * ```
 */
export async function readBuildSystem(
  dir: string,
  options: { project?: string } = {},
): Promise<BuildSystem> {
  let text: string | undefined;
  try {
    text = await fsp.readFile(join(dir, "pyproject.toml"), "utf8");
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw e;
  }
  let hasSetupPy = true;
  if (text === undefined) {
    hasSetupPy = await fsp.stat(join(dir, "setup.py")).then(() => true, () => false);
  }
  const bs = parseBuildSystem(text, { ...options, hasSetupPy });
  await checkBackendPath(dir, bs, options.project ?? bs.projectName ?? "the project");
  return bs;
}

// Each `backend-path` folder, after resolving links, must be inside `dir` (PEP 517: "Project
// trees including an in-tree backend ... MUST NOT point outside the source tree").
async function checkBackendPath(
  dir: string,
  bs: BuildSystem,
  project: string,
): Promise<void> {
  if (bs.backendPath.length === 0) return;
  const root = await fsp.realpath(dir);
  for (const p of bs.backendPath) {
    const abs = resolve(root, p);
    let real = abs;
    try {
      real = await fsp.realpath(abs);
    } catch {
      // A missing folder cannot hold the backend; the import will say so.
    }
    if (!isInside(root, real)) {
      throw invalid(project, `[build-system] backend-path "${p}" is outside the project`);
    }
  }
}
